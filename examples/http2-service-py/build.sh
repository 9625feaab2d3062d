#!/usr/bin/env bash
# Builds the Python seed service into target/wasm32-wasip2/release/http2_service_py.wasm
# with componentize-py (installed once, pinned, into target/tools/).
set -euo pipefail
. "$(dirname "$0")/../../scripts/lib/tools.sh"
here=$ROOT/examples/http2-service-py
out=$OUT_DIR/http2_service_py.wasm
mkdir -p "$OUT_DIR"
if up_to_date "$out" "$here/app.py" "$ROOT/wit" "$ROOT/scripts/lib/tools.sh"; then
  exit 0
fi
componentize_py=$(ensure_componentize_py)
"$componentize_py" -d "$ROOT/wit" -w service componentize -p "$here" app -o "$out" >&2
echo "built $out" >&2
