#!/usr/bin/env bash
# Builds the test guests of the Python and JavaScript helper modules
# (guest-sdk/python, guest-sdk/js) into target/wasm32-wasip2/release/
# caught_py.wasm and caught_js.wasm, with componentize-py and
# componentize-js (installed once, pinned, into target/tools/).
set -euo pipefail
. "$(dirname "$0")/../scripts/lib/tools.sh"
here=$ROOT/test-guests-polyglot
if needs_build caught_py "$here/caught.py" "$ROOT/guest-sdk/python/push_guest/__init__.py" "$ROOT/wit" \
  "$ROOT/scripts/lib/tools.sh"; then
  "$(ensure_componentize_py)" -d "$ROOT/wit" -w service componentize -p "$here" -p "$ROOT/guest-sdk/python" caught -o "$OUT" >&2
  echo "built $OUT" >&2
fi
if needs_build caught_js "$here/caught.js" "$ROOT/guest-sdk/js/push-guest.js" "$ROOT/wit" "$ROOT/scripts/tools"; then
  componentize_js "$here/caught.js" "$ROOT/wit" service "$OUT" --disable-http --with "$ROOT/guest-sdk/js/push-guest.js"
fi
