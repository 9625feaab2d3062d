#!/usr/bin/env bash
# Runs the seed's HTTP/2 service on push-host: builds the wasm32-wasip2
# component and the host, then serves on 127.0.0.1:7090 (override with
# --listen ADDR; any push-host flag may follow).
set -euo pipefail
cd "$(dirname "$0")/.."
# The toolchain rust-toolchain.toml pins (rustup does not install it on use).
rustup toolchain install >/dev/null 2>&1 || rustup toolchain install
rustup target add wasm32-wasip2 >/dev/null 2>&1 || rustup target add wasm32-wasip2
cargo build --release --target wasm32-wasip2 -p http2-service
exec cargo run --release -p push-host -- --module target/wasm32-wasip2/release/http2_service.wasm "$@"
