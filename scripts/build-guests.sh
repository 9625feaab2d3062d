#!/usr/bin/env bash
# Builds every guest component (examples and test guests) for wasm32-wasip2.
set -euo pipefail
cd "$(dirname "$0")/.."
rustup target add wasm32-wasip2 >/dev/null 2>&1 || rustup target add wasm32-wasip2
cargo build --release --target wasm32-wasip2 -p hello -p http2-service -p test-guests "$@"
