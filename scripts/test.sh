#!/usr/bin/env bash
# Runs every test: builds the guest components, then the whole workspace's
# tests (unit, integration against the real push-host binary, nghttp/nghttpd
# interop, doc tests). Needs nghttp2-client and nghttp2-server (.ci/run
# installs them).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build-guests.sh
cargo build --workspace --bins
cargo test --workspace "$@"
