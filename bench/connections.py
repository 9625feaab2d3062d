#!/usr/bin/env python3
"""Connections at scale (a benchmark, not a test): 10,000 concurrent h2c
connections against one push-host, with the limits raised as an operator
would (`--max-connections 20000`, the open-file limit raised for both
sides, `--idle-timeout-s 0` so idle connections stay).

1. Busy: push-bench with -c N -m 1 on the seed (each connection has a
   request in flight at all times, with its three pushes): every request
   served?, requests/s, p50/p99, server CPU per request, RSS peak.
2. Idle: N connections opened (client preface + SETTINGS, then nothing;
   an asyncio client) and held for IDLE seconds: RSS, and the server's CPU
   per connection per second while they sit idle.

Writes bench/results/connections.md. Needs the release binaries
(cargo build --release -p push-host -p push-bench) and the seed guest.

Usage: bench/connections.py [--connections N] [--duration S] [--idle S] [--host PATH]
"""

import argparse
import asyncio
import json
import os
import resource
import socket
import subprocess
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GUEST = ROOT / "target" / "wasm32-wasip2" / "release" / "http2_service.wasm"
PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
EMPTY_SETTINGS = b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"
SETTINGS_ACK = b"\x00\x00\x00\x04\x01\x00\x00\x00\x00"


def raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = max(hard, 65536)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, want))
    except (ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mib(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pid):
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def hold_idle(port, n, idle, pid):
    """Opens n connections, completes the h2 handshake on each, holds them."""
    conns = []
    sem = asyncio.Semaphore(500)

    async def one():
        async with sem:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(PREFACE + EMPTY_SETTINGS + SETTINGS_ACK)
            await writer.drain()
            await reader.read(9)  # the server's SETTINGS frame header
            conns.append((reader, writer))

    await asyncio.gather(*(one() for _ in range(n)))
    before_rss = rss_mib(pid)
    cpu0, t0 = cpu_seconds(pid), time.monotonic()
    await asyncio.sleep(idle)
    cpu = cpu_seconds(pid) - cpu0
    seconds = time.monotonic() - t0
    rss = rss_mib(pid)
    open_now = sum(1 for r, _ in conns if not r.at_eof())
    for _, w in conns:
        w.close()
    return {"opened": len(conns), "still_open": open_now, "rss_mib": max(rss, before_rss),
            "cpu_us_per_conn_per_s": cpu * 1e6 / len(conns) / seconds, "cpu_percent": 100 * cpu / seconds}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--connections", type=int, default=10000)
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--idle", type=int, default=10)
    ap.add_argument("--host", default=str(ROOT / "target" / "release" / "push-host"))
    args = ap.parse_args()
    raise_nofile()
    port = free_port()
    host = subprocess.Popen(
        [args.host, "--module", str(GUEST), "--listen", f"127.0.0.1:{port}", "--push-diary", "0",
         "--max-connections", str(2 * args.connections), "--idle-timeout-s", "0",
         "--max-concurrent", "1000"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    for line in host.stderr:
        if "Serving HTTP/2 on" in line:
            break
    threading.Thread(target=lambda: [None for _ in host.stderr], daemon=True).start()
    start_rss = rss_mib(host.pid)
    peak = [start_rss]
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            peak[0] = max(peak[0], rss_mib(host.pid))
            time.sleep(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        busy = json.loads(subprocess.run(
            [str(ROOT / "target" / "release" / "push-bench"), f"http://127.0.0.1:{port}/http2Service",
             "-c", str(args.connections), "-m", "1", "-d", str(args.duration), "-w", "2", "--pushes", "3",
             "--server-pid", str(host.pid), "--json"],
            capture_output=True, text=True, timeout=args.duration + 300).stdout)
        busy_peak = peak[0]
        idle = asyncio.run(hold_idle(port, args.connections, args.idle, host.pid))
    finally:
        stop.set()
        host.kill()
    lines = [
        "# Connections at scale (bench/connections.py)",
        "",
        f"Date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}. {os.cpu_count()} cores, server and "
        f"client unpinned on the same machine. push-host ({'PGO' if 'pgo' in args.host else 'release'} build) serving the seed "
        f"with `--max-connections {2 * args.connections} --idle-timeout-s 0 --max-concurrent 1000 --push-diary 0`; "
        "open-file limit raised to 65536 for both.",
        "",
        "| | value |",
        "|---|---|",
        f"| RSS at start | {start_rss:.0f} MiB |",
        f"| busy: {args.connections:,} connections × 1 request in flight, {args.duration} s (push-bench, 3 pushes each) | "
        f"{busy['requests']:,} requests, {busy['requests_per_sec']:,.0f} req/s, errors {busy['errors']} |",
        f"| busy: latency p50 / p99 | {busy['p50_ms']:.1f} / {busy['p99_ms']:.1f} ms |",
        f"| busy: server CPU per request | {busy['server_cpu_us_per_request'] or 0:.1f} µs |",
        f"| busy: RSS peak | {busy_peak:.0f} MiB |",
        f"| idle: connections opened / still open after {args.idle} s | {idle['opened']:,} / {idle['still_open']:,} |",
        f"| idle: RSS | {idle['rss_mib']:.0f} MiB ({(idle['rss_mib'] - start_rss) * 1024 / max(idle['opened'], 1):.1f} KiB per connection above the start) |",
        f"| idle: server CPU | {idle['cpu_percent']:.2f}% of a core, {idle['cpu_us_per_conn_per_s']:.3f} µs per connection per second |",
    ]
    out = ROOT / "bench" / "results" / "connections.md"
    out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
