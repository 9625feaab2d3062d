#!/usr/bin/env bash
# Builds every guest component (examples and test guests) for wasm32-wasip2:
# the Rust ones with cargo, the Python and JavaScript examples with
# componentize-py and componentize-js (each installed once, at a pinned
# version, into target/tools/; a component is rebuilt only when its sources
# changed; test-guests-polyglot/ holds the Python and JavaScript test guests).
# All land in target/wasm32-wasip2/release/.
set -euo pipefail
cd "$(dirname "$0")/.."
# The toolchain rust-toolchain.toml pins (rustup does not install it on use).
rustup toolchain install >/dev/null 2>&1 || rustup toolchain install
rustup target add wasm32-wasip2 >/dev/null 2>&1 || rustup target add wasm32-wasip2
cargo build --release --target wasm32-wasip2 \
  -p hello -p hello-p2 -p hello-p3 -p http2-service -p http2-service-p3 -p spin-push -p wasi-http-page \
  -p test-guests -p test-guests-http -p test-guests-spin -p test-guests-p3 "$@"
examples/http2-service-py/build.sh
examples/http2-service-p3-py/build.sh
examples/http2-service-js/build.sh
examples/wasi-http-page-js/build.sh
test-guests-polyglot/build.sh
