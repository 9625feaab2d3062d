#!/usr/bin/env bash
# Builds push-host with profile-guided optimisation (rustc's -Cprofile-generate
# / -Cprofile-use, as the rustc book describes), for deployments and for
# bench/run (which measures this build unless given --no-pgo):
#   1. an instrumented release build (target/pgo-gen),
#   2. a training run: the wasm seed, the native seed, hello (HTTP/2 and
#      HTTP/1.1) and the wasi:http page, each loaded by push-bench or h2load,
#   3. llvm-profdata merges the profiles,
#   4. the optimised build: target/pgo/<host triple>/release/push-host
#      (printed last).
# Each build compiles every crate with fat LTO: ~7-9 minutes each on 2 cores.
# Its own target dirs (target/pgo-gen, target/pgo): other RUSTFLAGS would
# otherwise make the main target dir rebuild everything each time.
# Nothing is rebuilt while the host's sources, the lock file, the toolchain and
# this script are unchanged (target/pgo/stamp).
# Needs the guests (scripts/build-guests.sh), push-bench and h2load; installs
# rustup's llvm-tools component for llvm-profdata.
set -euo pipefail
cd "$(dirname "$0")/.."
# The toolchain rust-toolchain.toml pins (rustup does not install it on use).
rustup toolchain install >/dev/null 2>&1 || rustup toolchain install
root=$PWD
triple=$(rustc -vV | sed -n 's/^host: //p')

out=$root/target/pgo/$triple/release/push-host
stamp=$( (rustc -vV; cat scripts/build-pgo.sh Cargo.toml Cargo.lock;
  find host wit -type f -not -name '*.profraw' | LC_ALL=C sort | xargs cat) | sha256sum | cut -d' ' -f1)
if [ -x "$out" ] && [ "$(cat target/pgo/stamp 2>/dev/null)" = "$stamp" ]; then
  echo "build-pgo: up to date" >&2
  echo "$out"
  exit 0
fi

rustup component add llvm-tools >/dev/null 2>&1 || rustup component add llvm-tools
profdata=$(find "$(rustc --print sysroot)" -name llvm-profdata -type f | head -1)
[ -x "$profdata" ] || { echo "build-pgo: llvm-profdata not found (rustup component add llvm-tools)" >&2; exit 1; }
command -v h2load >/dev/null || { echo "build-pgo: needs h2load (Debian nghttp2-client)" >&2; exit 1; }

scripts/build-guests.sh
cargo build --release -p push-bench
guests=$root/target/wasm32-wasip2/release
bench=$root/target/release/push-bench

data=$root/target/pgo-data
rm -rf "$data"
mkdir -p "$data"
# --target: the flags then reach only the host's code, not build scripts.
RUSTFLAGS="-Cprofile-generate=$data" cargo build --release -p push-host \
  --target "$triple" --target-dir target/pgo-gen
gen=$root/target/pgo-gen/$triple/release/push-host

# train NAME LOAD HOST_ARGS... : serves with the instrumented host, runs the
# function LOAD against its port, and stops it with SIGTERM (the profile is
# written at a clean exit).
train() {
  local log=$data/$1.log port
  shift
  "$gen" --listen 127.0.0.1:0 --push-diary 0 "${@:2}" >"$log" 2>&1 &
  local pid=$!
  for _ in $(seq 600); do
    port=$(sed -n 's|^Serving HTTP/2 on http://127\.0\.0\.1:\([0-9]*\)/.*|\1|p' "$log" | head -1)
    [ -n "$port" ] && break
    sleep 0.1
  done
  [ -n "$port" ] || { echo "build-pgo: the host did not start" >&2; cat "$log" >&2; exit 1; }
  $1 "$port"
  kill -TERM "$pid"
  wait "$pid" || true
}
seed() { "$bench" "http://127.0.0.1:$1/http2Service" -c 8 -m 8 -d 6 -w 0 --pushes 3 >/dev/null; }
hello() {
  h2load -n 40000 -c 8 -m 8 "http://127.0.0.1:$1/" >/dev/null
  h2load --h1 -n 10000 -c 8 "http://127.0.0.1:$1/" >/dev/null
}
page() { "$bench" "http://127.0.0.1:$1/" -c 8 -m 8 -d 3 -w 0 --pushes 2 >/dev/null; }

train wasm seed --module "$guests/http2_service.wasm"
train native seed --native-seed
train hello hello --module "$guests/hello.wasm"
train page page --module "$guests/wasi_http_page.wasm"

# The profile's name changes with the sources: cargo fingerprints RUSTFLAGS,
# not the profile's contents, so a new name is what makes every crate (the
# dependencies too) build with the new profile.
"$profdata" merge -o "$data/merged-$stamp.profdata" "$data"/*.profraw
RUSTFLAGS="-Cprofile-use=$data/merged-$stamp.profdata -Cllvm-args=-pgo-warn-missing-function=false" \
  cargo build --release -p push-host --target "$triple" --target-dir target/pgo
echo "$stamp" >target/pgo/stamp
echo "$out"
