#!/usr/bin/env bash
# Builds the Python seed service into target/wasm32-wasip2/release/http2_service_py.wasm
# with componentize-py (installed once, pinned, into target/tools/); the
# second -p puts push_guest (guest-sdk/python) on the module path.
set -euo pipefail
. "$(dirname "$0")/../../scripts/lib/tools.sh"
here=$ROOT/examples/http2-service-py
sdk=$ROOT/guest-sdk/python
needs_build http2_service_py "$here/app.py" "$sdk/push_guest/__init__.py" "$ROOT/wit" "$ROOT/scripts/lib/tools.sh" || exit 0
"$(ensure_componentize_py)" -d "$ROOT/wit" -w service componentize -p "$here" -p "$sdk" app -o "$OUT" >&2
echo "built $OUT" >&2
