#!/usr/bin/env bash
# Builds the JavaScript seed service into target/wasm32-wasip2/release/http2_service_js.wasm
# with componentize-js (installed once, pinned, into target/tools/).
set -euo pipefail
. "$(dirname "$0")/../../scripts/lib/tools.sh"
here=$ROOT/examples/http2-service-js
out=$OUT_DIR/http2_service_js.wasm
mkdir -p "$OUT_DIR"
if up_to_date "$out" "$here/app.js" "$ROOT/wit" "$ROOT/scripts/tools"; then
  exit 0
fi
PUSH_HOST_JS_TOOLS=$(ensure_componentize_js) \
  node "$ROOT/scripts/tools/componentize.mjs" "$here/app.js" "$ROOT/wit" service "$out" --disable-http
