#!/usr/bin/env bash
# Builds {{name}}.wasm (a WebAssembly component) from app.py with
# componentize-py 0.25.1 (`pip install componentize-py==0.25.1`, or set
# COMPONENTIZE_PY to its path).
set -euo pipefail
cd "$(dirname "$0")"
componentize=${COMPONENTIZE_PY:-componentize-py}
if ! command -v "$componentize" >/dev/null; then
  echo "componentize-py not found: pip install componentize-py==0.25.1 (or set COMPONENTIZE_PY)" >&2
  exit 1
fi
"$componentize" -d wit -w service componentize -p . app -o {{name}}.wasm
echo "built {{name}}.wasm"
