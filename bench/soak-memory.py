#!/usr/bin/env python3
"""Memory an operator can size a container by: a soak of push-host with two
tenants under `memory_budget_mb`, then idle.

For DURATION seconds: push load on the seed tenant (push-bench), HTTP/1.1
load on the test-guests tenant (h2load --h1), a reload of the hosting file
every 3 s, and every 5 s a burst of runaway (`/spin`) and memory-hungry
(`/hold?mb=48`) requests. RSS is sampled every 0.25 s. Then no requests
until the host logs that it gave the pool's warm pages back, and RSS again;
then what that release costs the next request (curl's time for the first
request after it against the median of the next ten).

Writes bench/results/memory.md. Needs the release or PGO binary, the guests
(scripts/build-guests.sh), push-bench, h2load and curl.

Usage: bench/soak-memory.py [--host PATH] [--duration S] [--budget-mb MB] [--reuse N]
"""

import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GUESTS = ROOT / "target" / "wasm32-wasip2" / "release"
RESULTS = ROOT / "bench" / "results"

HOSTING = """
[defaults]
memory_budget_mb = {budget}
max_concurrent = 100
push_diary = 0
instance_reuse = {reuse}
# reload {generation}

[[tenant]]
name = "seed"
module = "http2_service.wasm"
routes = ["127.0.0.1"]

[[tenant]]
name = "guests"
module = "test_guests.wasm"
routes = ["localhost"]
[tenant.limits]
timeout_ms = 200
"""


def rss_kib(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Log:
    """push-host's stderr, collected by a thread; waits for a line."""

    def __init__(self, stream):
        self.lines = []
        self.cond = threading.Condition()
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream):
        for line in stream:
            with self.cond:
                self.lines.append(line)
                self.cond.notify_all()

    def wait(self, needle, timeout, start=0):
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for line in self.lines[start:]:
                    if needle in line:
                        return line
                left = deadline - time.monotonic()
                if left <= 0:
                    raise RuntimeError(f"no log line with {needle!r} within {timeout} s")
                self.cond.wait(left)

    def count(self, needle):
        with self.cond:
            return sum(needle in line for line in self.lines)


def largest_mappings(pid, n=8):
    """The `n` mappings holding the most resident memory: (RSS KiB, size KiB, what)."""
    maps, current = [], None
    for line in Path(f"/proc/{pid}/smaps").read_text().splitlines():
        head = line.split()
        if re.match(r"^[0-9a-f]+-[0-9a-f]+ ", line):
            start, end = (int(x, 16) for x in head[0].split("-"))
            name = head[5] if len(head) > 5 else "[anon]"
            current = [0, (end - start) // 1024, Path(name).name if name.startswith("/") else name, head[1]]
            maps.append(current)
        elif head[0] == "Rss:":
            current[0] = int(head[1])
    return sorted(maps, reverse=True)[:n]


def curl(url, extra=()):
    out = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code} %{time_total}", *extra, url],
                         capture_output=True, text=True, timeout=60)
    code, seconds = out.stdout.split()
    return int(code), float(seconds)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--host", default=str(ROOT / "target" / "release" / "push-host"))
    p.add_argument("--duration", type=int, default=120)
    p.add_argument("--budget-mb", type=int, default=512)
    p.add_argument("--reuse", type=int, default=1)
    p.add_argument("--out", default="memory")
    args = p.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="push-host-soak-"))
    for g in ("http2_service", "test_guests"):
        shutil.copy(GUESTS / f"{g}.wasm", tmp / f"{g}.wasm")
    hosting = tmp / "hosting.toml"
    generation = 0

    def write_hosting():
        hosting.write_text(HOSTING.format(budget=args.budget_mb, reuse=args.reuse, generation=generation))

    write_hosting()
    port = free_port()
    proc = subprocess.Popen([args.host, "--config", str(hosting), "--listen", f"127.0.0.1:{port}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "RUST_LOG": "info"}, start_new_session=True)
    log = Log(proc.stderr)
    try:
        log.wait("Serving HTTP/2 on", 60)
        start_rss = rss_kib(proc.pid)
        samples = []
        stop = threading.Event()

        def sample():
            while not stop.is_set():
                samples.append(rss_kib(proc.pid))
                time.sleep(0.25)

        bursts = {"ok": 0, "failed": 0, "statuses": {}}

        def burst_loop():
            while not stop.wait(5):
                threads = []
                for path in ["/spin"] * 8 + ["/hold?mb=48"] * 8:
                    def one(path=path):
                        code, _ = curl(f"http://localhost:{port}{path}")
                        bursts["statuses"][code] = bursts["statuses"].get(code, 0) + 1
                    threads.append(threading.Thread(target=one))
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()

        reloads = 0

        def reload_loop():
            nonlocal generation, reloads
            while not stop.wait(3):
                generation += 1
                write_hosting()
                reloads += 1

        workers = [threading.Thread(target=f, daemon=True) for f in (sample, burst_loop, reload_loop)]
        for w in workers:
            w.start()
        push = subprocess.Popen([str(ROOT / "target" / "release" / "push-bench"), f"http://127.0.0.1:{port}/http2Service",
                                 "-c", "8", "-m", "8", "-d", str(args.duration), "-w", "1", "--pushes", "3", "--json"],
                                stdout=subprocess.PIPE, text=True)
        h1 = subprocess.Popen(["h2load", "--h1", "-c", "32", "-D", str(args.duration),
                               f"http://localhost:{port}/hello"], stdout=subprocess.PIPE, text=True)
        push_out, _ = push.communicate(timeout=args.duration + 120)
        h1_out, _ = h1.communicate(timeout=args.duration + 120)
        stop.set()
        for w in workers:
            w.join()
        pushed = json.loads(push_out)
        ok = re.search(r"requests: \d+ total, \d+ started, \d+ done, (\d+) succeeded, (\d+) failed, (\d+) errored",
                       h1_out)
        h1_ok, h1_failed, h1_errored = (int(x) for x in ok.groups())
        busy_end = rss_kib(proc.pid)

        # Idle: the kept instances (with reuse) and the warm pages go back.
        mark = len(log.lines)
        released_at = time.monotonic()
        line = log.wait("of the instance pool's warm pages given back", 60, start=mark)
        idle_wait = time.monotonic() - released_at
        idle_rss = rss_kib(proc.pid)
        idle_maps = largest_mappings(proc.pid)

        # What the release costs the next request: the first request after
        # it against the next ten (new connections each: curl per request).
        first = curl(f"http://127.0.0.1:{port}/http2Service")
        after = [curl(f"http://127.0.0.1:{port}/http2Service") for _ in range(10)]
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        shutil.rmtree(tmp, ignore_errors=True)

    peak = max(samples)
    lines = [
        "# Memory soak (bench/soak-memory.py)",
        "",
        f"Date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}. Binary: {Path(args.host).name} "
        f"({'PGO' if 'pgo' in args.host else 'release'} build). Two tenants (the seed; test-guests with a "
        f"200 ms deadline), `memory_budget_mb = {args.budget_mb}`, `max_concurrent = 100`, "
        f"`instance_reuse = {args.reuse}`; {args.duration} s of push-bench (8×8, 3 pushes) on the seed and "
        "h2load --h1 -c 32 on test-guests' /hello, a reload every 3 s, and every 5 s a burst of 8 `/spin` "
        "(runaway) and 8 `/hold?mb=48` (memory-hungry) requests.",
        "",
        "| | value |",
        "|---|---|",
        f"| RSS at start | {start_rss / 1024:.0f} MiB |",
        f"| RSS peak under load (sampled every 0.25 s) | {peak / 1024:.0f} MiB |",
        f"| RSS at the end of the load | {busy_end / 1024:.0f} MiB |",
        f"| RSS idle, after the warm pages went back ({idle_wait:.1f} s after the load) | {idle_rss / 1024:.0f} MiB |",
        f"| peak − budget (the overhead beyond the budget) | {(peak / 1024) - args.budget_mb:.0f} MiB |",
        f"| push requests: ok / errors, pushes | {pushed['requests']:,} / {pushed['errors']}, {pushed['pushes']:,} |",
        f"| HTTP/1.1 requests: ok / failed / errored | {h1_ok:,} / {h1_failed} / {h1_errored} |",
        f"| burst answers by status | {', '.join(f'{k}: {v}' for k, v in sorted(bursts['statuses'].items()))} |",
        f"| reloads | {reloads} |",
        f"| first request after the release / median of the next 10 (curl, new connection each) | "
        f"{first[1] * 1000:.2f} ms / {statistics.median(s for _, s in after) * 1000:.2f} ms |",
        "",
        f"The release's log line: `{line.strip().split(' INFO ', 1)[-1]}`",
        "",
        "Idle, the mappings holding the most resident memory (`/proc/PID/smaps`):",
        "",
        "| RSS | size | mapping |",
        "|---|---|---|",
        *(f"| {rss / 1024:.1f} MiB | {size / 1024:.0f} MiB | {what} {perms} |" for rss, size, what, perms in idle_maps),
    ]
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{args.out}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
