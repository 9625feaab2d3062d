#!/usr/bin/env bash
# Builds the JavaScript wasi:http page into target/wasm32-wasip2/release/wasi_http_page_js.wasm
# with componentize-js (installed once, pinned, into target/tools/). Its WIT
# (wit/) is the wasi:http/proxy world at the version componentize-js's
# engine exports (0.2.10).
set -euo pipefail
. "$(dirname "$0")/../../scripts/lib/tools.sh"
here=$ROOT/examples/wasi-http-page-js
needs_build wasi_http_page_js "$here/app.js" "$here/wit" "$ROOT/scripts/tools" || exit 0
componentize_js "$here/app.js" "$here/wit" page "$OUT"
