#!/usr/bin/env bash
# Builds {{name}}.wasm (a WebAssembly component) from app.js with
# componentize-js 0.23.0 (installed here by `npm ci` on the first build, or
# taken from PUSH_HOST_JS_TOOLS, a directory with it in node_modules/).
set -euo pipefail
cd "$(dirname "$0")"
tools=${PUSH_HOST_JS_TOOLS:-$PWD}
if [ ! -f "$tools/node_modules/@bytecodealliance/componentize-js/package.json" ]; then
  npm ci --no-audit --no-fund --loglevel=error
  tools=$PWD
fi
PUSH_HOST_JS_TOOLS=$tools node componentize.mjs app.js wit service {{name}}.wasm --disable-http --with push-guest.js
echo "built {{name}}.wasm"
