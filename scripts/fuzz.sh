#!/usr/bin/env bash
# Fuzzes the host's parsers and validators with cargo-fuzz (libFuzzer), each
# target for SECONDS (default 600), one after the other:
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]
#
# Targets (fuzz/fuzz_targets/, each says what it checks): tap (the byte tap
# below h2), validate (what guests ask the host to send), preload (`link:
# rel=preload` headers), route (routes and matching), hosting (the hosting
# file). fuzz/ is a crate and workspace of its own, not in the main one.
#
# Not part of CI (.ci/run): it needs the nightly toolchain (cargo-fuzz is
# installed with it on first use), builds the host and wasmtime instrumented
# (many minutes on 2 cores, once), then takes SECONDS per target.
#
# The seed corpus under fuzz/corpus/TARGET is committed. libFuzzer adds the
# inputs it finds to that directory: look at `git status fuzz/corpus`, and
# shrink it with `cargo +nightly fuzz cmin TARGET` before committing any.
# A crash goes to fuzz/artifacts/TARGET/crash-* (git-ignored); replay it with
# `cargo +nightly fuzz run TARGET fuzz/artifacts/TARGET/crash-...`. Each
# target's output is in fuzz/artifacts/TARGET.log.
#
# Ends with a table: target, runs (libFuzzer's executions), seconds, crashes
# (crash-* files this run wrote), status. Exits 1 if any target crashed or
# did not finish cleanly (out of memory, timeout, build failure).
# PUSH_HOST_FUZZ_FLAGS adds options to `cargo fuzz build` and `run`, e.g.
# "-s none" (no AddressSanitizer: a faster build and run; the code fuzzed is
# safe Rust).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-600}
if ! [[ $seconds =~ ^[1-9][0-9]*$ ]]; then
  echo "usage: $0 [SECONDS] [TARGET...]" >&2
  exit 2
fi
shift $(($# > 0 ? 1 : 0))
if (($# > 0)); then
  targets=("$@")
else
  targets=(tap validate preload route hosting)
fi
read -r -a flags <<<"${PUSH_HOST_FUZZ_FLAGS:-}"

if ! cargo +nightly --version >/dev/null 2>&1; then
  echo "the nightly toolchain is missing: rustup toolchain install nightly" >&2
  exit 1
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
  echo "installing cargo-fuzz" >&2
  cargo +nightly install cargo-fuzz --version 0.13.2 --locked
fi

# Build every target once, so that each run's time is fuzzing only.
if ! cargo +nightly fuzz build ${flags[@]+"${flags[@]}"}; then
  echo "fuzz: the fuzz targets did not build" >&2
  exit 1
fi

marker=$(mktemp)
trap 'rm -f "$marker"' EXIT

# Artifacts of KIND (crash, oom, timeout, leak) TARGET's run wrote.
new_artifacts() { # target kind
  find "fuzz/artifacts/$1" -maxdepth 1 -type f -name "$2-*" -newer "$marker" | wc -l
}

rows=()
failed=0
for target in "${targets[@]}"; do
  mkdir -p "fuzz/artifacts/$target" "fuzz/corpus/$target"
  log="fuzz/artifacts/$target.log"
  echo "fuzz: $target for ${seconds}s (log: $log)" >&2
  touch "$marker"
  sleep 1 # artifacts written this run are strictly newer than the marker
  start=$SECONDS
  if cargo +nightly fuzz run ${flags[@]+"${flags[@]}"} "$target" "fuzz/corpus/$target" -- \
    -max_total_time="$seconds" -print_final_stats=1 >"$log" 2>&1; then
    rc=0
  else
    rc=$?
  fi
  elapsed=$((SECONDS - start))

  # "Done N runs in S second(s)" when the time ran out; after a crash only
  # the final stats have the count, and the time is the run's.
  done_line=$(grep -aEo 'Done [0-9]+ runs in [0-9]+ second' "$log" | tail -n 1 || true)
  if [[ -n $done_line ]]; then
    read -r _ runs _ _ secs _ <<<"$done_line"
  else
    runs=$(grep -aEo 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -Eo '[0-9]+$' | tail -n 1 || true)
    runs=${runs:--}
    secs=$elapsed
  fi

  crashes=$(new_artifacts "$target" crash)
  if ((crashes > 0)); then
    status=crash
  elif ((rc == 0)); then
    status=ok
  elif (($(new_artifacts "$target" oom) > 0)); then
    status=oom
  elif (($(new_artifacts "$target" timeout) > 0)); then
    status=timeout
  elif (($(new_artifacts "$target" leak) > 0)); then
    status=leak
  else
    status="failed (exit $rc)"
  fi
  if [[ $status != ok ]]; then
    failed=1
    echo "fuzz: $target: $status; the end of $log:" >&2
    tail -n 40 "$log" >&2
  fi
  rows+=("$(printf '%-10s %12s %8s %8s  %s' "$target" "$runs" "$secs" "$crashes" "$status")")
done

printf '%-10s %12s %8s %8s  %s\n' target runs seconds crashes status
printf '%s\n' "${rows[@]}"
exit "$failed"
