#!/usr/bin/env bash
# Throughput of push-host with its sandbox limits on (defaults) and off, side
# by side: h2load against the `hello` example, alternating the two
# configurations ROUNDS times, printing each run's req/s and the medians.
# h2load disables push, so this measures the request path, not pushes.
# Writes bench/results/limits.md (the README quotes no figure of its own).
#
#   scripts/bench-limits.sh [ROUNDS] [REQUESTS]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}
requests=${2:-20000}
command -v h2load >/dev/null || { echo "h2load not found: apt-get install nghttp2-client" >&2; exit 1; }
rustup target add wasm32-wasip2 >/dev/null 2>&1
cargo build --release --target wasm32-wasip2 -p hello -q
cargo build --release -p push-host -q
module=target/wasm32-wasip2/release/hello.wasm

run() { # label, push-host flags...
  local label=$1; shift
  local log; log=$(mktemp)
  target/release/push-host --module "$module" --listen 127.0.0.1:0 "$@" 2>"$log" &
  local pid=$!
  local addr=""
  for _ in $(seq 100); do
    addr=$(sed -n 's|^Serving HTTP/2 on http://\(.*\)/$|\1|p' "$log")
    [ -n "$addr" ] && break
    sleep 0.1
  done
  [ -n "$addr" ] || { cat "$log" >&2; kill "$pid"; exit 1; }
  h2load -n 500 -c 2 -m 10 "http://$addr/" >/dev/null # warm-up
  local rps
  rps=$(h2load -n "$requests" -c 4 -m 10 "http://$addr/" | sed -n 's/^finished in .*, \([0-9.]*\) req\/s.*/\1/p')
  kill "$pid"; wait "$pid" 2>/dev/null || true
  rm -f "$log"
  echo "$label $rps"
}

results=$(mktemp)
for i in $(seq "$rounds"); do
  run on | tee -a "$results"
  run off --timeout-ms 0 --max-concurrent 1000 --memory-mb 4096 --max-pushes 100000 \
    --max-body-bytes 1073741824 --max-streams 1000 | tee -a "$results"
done
median() { grep "^$1 " "$results" | cut -d' ' -f2 | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
on=$(median on); off=$(median off)
ratio=$(awk -v a="$on" -v b="$off" 'BEGIN {printf "%.3f", a/b}')
echo "median req/s: limits on $on, limits off $off, on/off = $ratio"
{
  echo "# scripts/bench-limits.sh results"
  echo
  echo "Date: $(date -u '+%Y-%m-%d %H:%M UTC'). Machine: $(nproc) cores ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)), $(uname -sr)."
  echo "push-host: plain release build. \`hello\` example; $rounds rounds alternated, each \`h2load -n $requests -c 4 -m 10\` after a 500-request warm-up; medians."
  echo
  echo "| limits | median req/s | req/s per round |"
  echo "|---|---|---|"
  echo "| on (defaults) | $on | $(grep '^on ' "$results" | cut -d' ' -f2 | paste -sd, | sed 's/,/, /g') |"
  echo "| off (\`--timeout-ms 0\`, huge limits) | $off | $(grep '^off ' "$results" | cut -d' ' -f2 | paste -sd, | sed 's/,/, /g') |"
  echo
  echo "on/off: $ratio"
} > bench/results/limits.md
echo "wrote bench/results/limits.md"
rm -f "$results"
