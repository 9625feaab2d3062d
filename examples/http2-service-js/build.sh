#!/usr/bin/env bash
# Builds the JavaScript seed service into target/wasm32-wasip2/release/http2_service_js.wasm
# with componentize-js (installed once, pinned, into target/tools/), from a
# copy of app.js with guest-sdk/js/push-guest.js beside it (`--with`).
set -euo pipefail
. "$(dirname "$0")/../../scripts/lib/tools.sh"
here=$ROOT/examples/http2-service-js
sdk=$ROOT/guest-sdk/js/push-guest.js
needs_build http2_service_js "$here/app.js" "$sdk" "$ROOT/wit" "$ROOT/scripts/tools" || exit 0
componentize_js "$here/app.js" "$ROOT/wit" service "$OUT" --disable-http --with "$sdk"
