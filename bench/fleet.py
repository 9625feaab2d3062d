#!/usr/bin/env python3
"""Replicas behind HAProxy, rolling restarts under load, for longer than the
test (tests/fleet.rs) runs: three push-host replicas of the seed sharing one
--cache-dir, HAProxy in TCP mode with health checks on /readyz, push-bench
through HAProxy for DURATION seconds, and meanwhile the replicas restarted
one at a time, again and again (SIGTERM, wait for the exit, start again,
wait for /readyz). Prints push-bench's summary (requests, pushes, retried,
errors) and the number of restarts, also into bench/results/fleet.md; exits
1 on any error.

Needs the release binaries (cargo build --release -p push-host -p push-bench),
the seed guest (scripts/build-guests.sh) and haproxy (Debian).

Usage: bench/fleet.py [--duration S] [--interval S] [--host PATH] [-c CONNS] [-m STREAMS]
"""

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GUEST = ROOT / "target" / "wasm32-wasip2" / "release" / "http2_service.wasm"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ready(admin):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{admin}/readyz", timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


def start(host, port, admin, cache, log):
    proc = subprocess.Popen(
        [host, "--module", str(GUEST), "--listen", f"127.0.0.1:{port}", "--admin-listen", f"127.0.0.1:{admin}",
         "--cache-dir", str(cache), "--push-diary", "0"],
        stdout=subprocess.DEVNULL, stderr=log)
    deadline = time.monotonic() + 60
    while not ready(admin):
        if time.monotonic() > deadline or proc.poll() is not None:
            sys.exit(f"replica on {port} did not get ready")
        time.sleep(0.02)
    return proc


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--duration", type=int, default=60)
    ap.add_argument("--host", default=str(ROOT / "target" / "release" / "push-host"))
    ap.add_argument("-c", type=int, default=8)
    ap.add_argument("-m", type=int, default=8)
    ap.add_argument("--interval", type=float, default=2.0, help="seconds between one replica ready and the next restart")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="push-host-fleet-"))
    cache = tmp / "cache"
    ports = [(free_port(), free_port()) for _ in range(3)]
    logs = [open(tmp / f"replica{i}.log", "ab") for i in range(3)]
    procs = [start(args.host, p, a, cache, logs[i]) for i, (p, a) in enumerate(ports)]
    front = free_port()
    servers = "".join(f"  server r{i} 127.0.0.1:{p} check port {a}\n" for i, (p, a) in enumerate(ports))
    (tmp / "haproxy.cfg").write_text(
        "global\n  maxconn 4096\n"
        "defaults\n  mode tcp\n  timeout connect 2s\n  timeout client 60s\n  timeout server 60s\n"
        "  retries 3\n  option redispatch 1\n"
        f"frontend push\n  bind 127.0.0.1:{front}\n  default_backend replicas\n"
        "backend replicas\n  balance roundrobin\n  option httpchk GET /readyz\n  http-check expect status 200\n"
        f"  default-server inter 100ms fall 1 rise 1\n{servers}")
    haproxy = subprocess.Popen(["haproxy", "-f", str(tmp / "haproxy.cfg"), "-db"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{front}/http2Service"
    for _ in range(500):
        if subprocess.run(["curl", "-s", "-o", "/dev/null", "--http2-prior-knowledge", "-f", url]).returncode == 0:
            break
        time.sleep(0.02)
    bench = subprocess.Popen(
        [str(ROOT / "target" / "release" / "push-bench"), url, "-c", str(args.c), "-m", str(args.m),
         "-d", str(args.duration), "-w", "0", "--pushes", "3", "--json"],
        stdout=subprocess.PIPE, text=True)
    restarts = 0
    try:
        end = time.monotonic() + args.duration - 2
        while time.monotonic() < end:
            i = restarts % 3
            procs[i].send_signal(signal.SIGTERM)
            procs[i].wait(timeout=60)
            procs[i] = start(args.host, *ports[i], cache, logs[i])
            restarts += 1
            time.sleep(args.interval)
        out, _ = bench.communicate(timeout=args.duration + 60)
    finally:
        for p in procs:
            p.kill()
        haproxy.kill()
    summary = json.loads(out)
    line = (f"{args.duration} s through HAProxy, {restarts} rolling restarts (3 replicas): "
            f"{summary['requests']:,} requests, {summary['pushes']:,} pushes, {summary['retried']} retried, "
            f"{summary['errors']} errors {summary['errors_by_kind'] if summary['errors'] else ''}")
    if summary["errors"]:
        line += " first errors: " + "; ".join(summary["error_messages"][:5])
    print(line)
    (ROOT / "bench" / "results" / "fleet.md").write_text(
        "# Rolling restarts behind HAProxy (bench/fleet.py)\n\n"
        f"Date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}. push-host "
        f"({'PGO' if 'pgo' in args.host else 'release'} build), the seed, `--push-diary 0`, three replicas on one "
        f"`--cache-dir`; HAProxy (TCP mode, health checks on `/readyz` every 100 ms) in front; push-bench "
        f"-c {args.c} -m {args.m} --pushes 3 through it while the replicas restart one at a time, again and again "
        f"(SIGTERM, wait for the exit, start, wait for `/readyz`, {args.interval} s, the next).\n\n"
        f"{line}\n\n"
        "`retried`: requests a draining replica did not process, sent again on a new connection by push-bench; "
        "not errors. push-host drains with h2's two-step GOAWAY (last-stream-id 2^31-1, then the last it "
        "processed after a PING), so streams in flight are processed: these are almost all requests submitted "
        "after the GOAWAY reached push-bench (h2 refuses them before sending).\n")
    sys.exit(1 if summary["errors"] else 0)


if __name__ == "__main__":
    main()
