#!/usr/bin/env bash
# Builds the Python seed service into target/wasm32-wasip2/release/http2_service_py.wasm
# with componentize-py (installed once, pinned, into target/tools/).
set -euo pipefail
. "$(dirname "$0")/../../scripts/lib/tools.sh"
here=$ROOT/examples/http2-service-py
needs_build http2_service_py "$here/app.py" "$ROOT/wit" "$ROOT/scripts/lib/tools.sh" || exit 0
"$(ensure_componentize_py)" -d "$ROOT/wit" -w service componentize -p "$here" app -o "$OUT" >&2
echo "built $OUT" >&2
