#!/usr/bin/env bash
# Builds the book in docs/ into target/book/ (open target/book/index.html),
# installing mdbook (crates.io, the version scripts/lib/tools.sh pins) once
# into target/tools/ if it is missing. Extra arguments go to `mdbook build`.
set -euo pipefail
. "$(dirname "$0")/lib/tools.sh"
mdbook=$(ensure_mdbook)
"$mdbook" build "$ROOT/docs" "$@"
