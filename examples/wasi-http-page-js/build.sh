#!/usr/bin/env bash
# Builds the JavaScript wasi:http page into target/wasm32-wasip2/release/wasi_http_page_js.wasm
# with componentize-js (installed once, pinned, into target/tools/). Its WIT
# (wit/) is the wasi:http/proxy world at the version componentize-js's
# engine exports (0.2.10).
set -euo pipefail
. "$(dirname "$0")/../../scripts/lib/tools.sh"
here=$ROOT/examples/wasi-http-page-js
out=$OUT_DIR/wasi_http_page_js.wasm
mkdir -p "$OUT_DIR"
if up_to_date "$out" "$here/app.js" "$here/wit" "$ROOT/scripts/tools"; then
  exit 0
fi
PUSH_HOST_JS_TOOLS=$(ensure_componentize_js) \
  node "$ROOT/scripts/tools/componentize.mjs" "$here/app.js" "$here/wit" page "$out"
