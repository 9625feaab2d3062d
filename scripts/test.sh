#!/usr/bin/env bash
# Runs every test: installs the Debian packages the tests use if missing
# (scripts/install-test-deps.sh: nghttp2, curl, chromium), builds the guest
# components and tools (mdbook for the book's test), then the whole
# workspace's tests (unit, integration against the real push-host binary,
# nghttp/nghttpd/curl/chromium interop, doc tests, the book in docs/). Ends
# with one line: "tests: N passed, M failed".
#
# Every test binary runs (--no-fail-fast). M counts failed tests, plus one
# for each test binary that crashed or stopped without its summary line, plus
# one for a build that failed or a run that passed the time limit
# (PUSH_HOST_TEST_TIMEOUT seconds, default 2700): M is never 0 when anything
# failed. Extra arguments go to `cargo test`.
set -uo pipefail
cd "$(dirname "$0")/.."
# The toolchain rust-toolchain.toml pins (rustup does not install it on use).
rustup toolchain install >/dev/null 2>&1 || rustup toolchain install
limit=${PUSH_HOST_TEST_TIMEOUT:-2700}
log=$(mktemp)
trap 'rm -f "$log"' EXIT

summary() { # passed failed
  echo "tests: $1 passed, $2 failed"
}

# tests/deploy.rs validates deploy/kubernetes.yaml with kubernetes-validate;
# tests/docs.rs builds the book in docs/ with mdbook.
if ! scripts/install-test-deps.sh || ! scripts/build-guests.sh || ! cargo build --workspace --bins ||
  ! (. scripts/lib/tools.sh && ensure_kubernetes_validate >/dev/null && ensure_mdbook >/dev/null); then
  echo "the build failed" >&2
  summary 0 1
  exit 1
fi

# tests/upgrade.rs: a --reuse-port upgrade refuses no connection only if
# the kernel moves the connections queued at the old process's socket to
# the new one (docs/src/fleet.md, "Upgrading one machine").
if [ "$(cat /proc/sys/net/ipv4/tcp_migrate_req 2>/dev/null)" != 1 ]; then
  echo 1 2>/dev/null >/proc/sys/net/ipv4/tcp_migrate_req ||
    echo "cannot set net.ipv4.tcp_migrate_req = 1 (needs root): tests/upgrade.rs will fail" >&2
fi

# Compile every guest once into the compile cache (~/.cache/push-host), so
# the tests' hosts load them instead of compiling them all at once: on a
# fresh machine, a dozen hosts compiling the same components in parallel
# starved the timing-sensitive tests of CPU.
host_bin=${CARGO_TARGET_DIR:-target}/debug/push-host
for wasm in "${CARGO_TARGET_DIR:-target}"/wasm32-wasip2/release/*.wasm; do
  "$host_bin" --module "$wasm" --check >/dev/null 2>&1 || echo "warning: $wasm did not load" >&2
done

# Invariant (ARCHITECTURE.md): the guest SDK and the client never depend on
# wasmtime. Each is one check, counted with the tests.
dep_passed=0
dep_failed=0
for pkg in push-guest push-client; do
  deps=$(cargo tree -p "$pkg" -e normal --prefix none --target all 2>&1) || deps="cargo tree failed: $deps"
  if grep -qiE '^(wasmtime|cargo tree failed)' <<<"$deps"; then
    echo "invariant broken: $pkg depends on wasmtime (or cargo tree failed):" >&2
    grep -iE '^(wasmtime|cargo tree failed)' <<<"$deps" | head -5 >&2
    dep_failed=$((dep_failed + 1))
  else
    echo "dependency check: $pkg does not depend on wasmtime ... ok"
    dep_passed=$((dep_passed + 1))
  fi
done

status=0
timeout --kill-after=30 "$limit" cargo test --workspace --no-fail-fast "$@" 2>&1 | tee "$log" || status=$?

results=$(grep -E '^test result: ' "$log" || true)
passed=$(sed -n 's/^test result: .*\. \([0-9]*\) passed; \([0-9]*\) failed.*/\1/p' <<<"$results" | awk '{s+=$1} END {print s+0}')
failed=$(sed -n 's/^test result: .*\. \([0-9]*\) passed; \([0-9]*\) failed.*/\2/p' <<<"$results" | awk '{s+=$1} END {print s+0}')
failed_results=$(grep -c '^test result: FAILED' <<<"$results" || true)
# cargo names each binary that failed: "error: test failed, to rerun pass `...`"
# once per binary (with --no-fail-fast, also listed after "error: N targets failed:").
failed_binaries=$(grep -cE '^error: test failed, to rerun pass' "$log" || true)
listed=$(sed -n 's/^error: \([0-9]*\) targets failed:$/\1/p' "$log" | tail -1)
if [ -n "$listed" ] && [ "$listed" -gt "$failed_binaries" ]; then
  failed_binaries=$listed
fi
# A binary that failed without a "test result: FAILED" line crashed.
crashed=$((failed_binaries > failed_results ? failed_binaries - failed_results : 0))
if [ "$crashed" -gt 0 ]; then
  echo "$crashed test binaries crashed or stopped before their summary" >&2
fi
failed=$((failed + crashed + dep_failed))
passed=$((passed + dep_passed))
if grep -qE '^error(\[E[0-9]+\])?: could not compile' "$log"; then
  echo "a test target failed to build" >&2
  failed=$((failed + 1))
fi
if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
  echo "the tests ran past ${limit} s and were stopped" >&2
  failed=$((failed + 1))
fi
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  echo "cargo test exited $status" >&2
  failed=1
fi
if [ "$passed" -eq "$dep_passed" ] && [ "$failed" -eq 0 ]; then
  echo "no test ran" >&2
  failed=1
fi
if [ "$failed" -gt 0 ] && [ "$status" -eq 0 ]; then
  status=1
fi
summary "$passed" "$failed"
exit "$status"
