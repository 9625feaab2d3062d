#!/usr/bin/env bash
# Builds the Python seed service as a wasi:http@0.3 handler with push
# (push:handler/service@0.2.0) into
# target/wasm32-wasip2/release/http2_service_p3_py.wasm with componentize-py
# (installed once, pinned, into target/tools/); the second -p puts
# push_guest (guest-sdk/python) on the module path.
set -euo pipefail
. "$(dirname "$0")/../../scripts/lib/tools.sh"
here=$ROOT/examples/http2-service-p3-py
sdk=$ROOT/guest-sdk/python
needs_build http2_service_p3_py "$here/app.py" "$sdk/push_guest/__init__.py" "$sdk/push_guest/p3.py" \
  "$ROOT/wit/0.2.0" "$ROOT/scripts/lib/tools.sh" || exit 0
"$(ensure_componentize_py)" -d "$ROOT/wit/0.2.0" -w push:handler/service@0.2.0 componentize -p "$here" -p "$sdk" app -o "$OUT" >&2
echo "built $OUT" >&2
