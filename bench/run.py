"""bench/run's driver: starts each server pinned to core 0, loads it from
core 1, alternates configurations for several rounds, and writes
bench/results/latest.md (+ .json, .png). Called by bench/run after the build.
"""

import argparse
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RELEASE = ROOT / "target" / "release"
GUESTS = ROOT / "target" / "wasm32-wasip2" / "release"
RESULTS = ROOT / "bench" / "results"
# The push-host binary measured: bench/run passes the PGO build
# (scripts/build-pgo.sh), or with --no-pgo the plain release build.
HOST = RELEASE / "push-host"
# The `wasmtime` CLI measured as a peer (bench/run installs it, pinned).
WASMTIME = "wasmtime"
# Requests one instance serves with reuse on: `wasmtime serve`'s default
# for 0.3 components, and what its users set for 0.2 ones.
REUSE = "128"
SERVER_CORE = "0"
LOAD_CORE = "1"

MAIN = '{"response":{"name":"main resource"}}'
PUSHES = {f"resource{n}": '{"push":{"name":"resource%d"}}' % n for n in (1, 2, 3)}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc, timeout=30.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"server on port {port} did not start")


class Server:
    """A server process pinned to SERVER_CORE; killed on exit."""

    def __init__(self, argv, port, env=None):
        self.port = port
        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            ["taskset", "-c", SERVER_CORE, *argv],
            stdout=subprocess.DEVNULL,
            stderr=self.log,
            env={**os.environ, **(env or {})},
            start_new_session=True,
        )
        wait_port(port, self.proc)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()
        self.log.close()


def seed_files(directory):
    (directory / "http2Service").write_text(MAIN)
    for name, body in PUSHES.items():
        (directory / name).write_text(body)
    (directory / "hello").write_text("hello")


# push-bench requests the same page again and again on each connection; with
# the push diary on (the default) only the first request would get pushes.
# nghttpd and Node push every time, so push-host runs with the diary off.
PUSH_HOST_BENCH_FLAGS = ["--push-diary", "0"]


def servers(tmp):
    """name -> (argv builder, kind) for the push configurations."""
    wasm = str(GUESTS / "http2_service.wasm")
    host = str(HOST)
    return {
        "push-host wasm": lambda port: [host, "--module", wasm, "--listen", f"127.0.0.1:{port}", *PUSH_HOST_BENCH_FLAGS],
        "push-host native": lambda port: [host, "--native-seed", "--listen", f"127.0.0.1:{port}", *PUSH_HOST_BENCH_FLAGS],
        "push-host python": lambda port: [host, "--module", str(GUESTS / "http2_service_py.wasm"),
                                          "--listen", f"127.0.0.1:{port}", *PUSH_HOST_BENCH_FLAGS],
        "push-host js": lambda port: [host, "--module", str(GUESTS / "http2_service_js.wasm"),
                                      "--listen", f"127.0.0.1:{port}", *PUSH_HOST_BENCH_FLAGS],
        # The seed with an instance kept for up to REUSE requests.
        "push-host wasm reuse": lambda port: [host, "--module", wasm, "--listen", f"127.0.0.1:{port}",
                                              "--instance-reuse", REUSE, *PUSH_HOST_BENCH_FLAGS],
        # The seed as a wasi:http@0.3 handler pushing through push:handler@0.2.0.
        "push-host wasm p3": lambda port: [host, "--module", str(GUESTS / "http2_service_p3.wasm"),
                                           "--listen", f"127.0.0.1:{port}", *PUSH_HOST_BENCH_FLAGS],
        "nghttpd": lambda port: [
            "nghttpd", "--no-tls", "-d", str(tmp), "-p/http2Service=/resource1,/resource2,/resource3", str(port),
        ],
        "node http2": lambda port: ["node", str(ROOT / "bench" / "node-push.js"), str(port)],
    }


def make_cert(tmp):
    """A throwaway self-signed certificate for the TLS rows (h2load does not verify)."""
    key, cert = tmp / "key.pem", tmp / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
        check=True, capture_output=True)
    return key, cert


def no_push_servers(tmp):
    """name -> (argv builder, URL builder, h2load options): the h2load rows."""
    hello = str(GUESTS / "hello.wasm")
    host = str(HOST)
    key, cert = make_cert(tmp)
    h2 = ["-c", "8", "-m", "8"]
    # HTTP/1.1 has no streams: as many connections as h2's streams in flight.
    h1 = ["--h1", "-c", "64", "-m", "1"]
    hello_p3 = str(GUESTS / "hello_p3.wasm")
    hello_p2 = str(GUESTS / "hello_p2.wasm")
    reuse = ["--instance-reuse", REUSE]

    def push_host(module, *extra):
        return lambda port: [host, "--module", module, "--listen", f"127.0.0.1:{port}", *extra]

    def wasmtime_serve(module, *extra):
        # As its users run it for a wasi:http component; -S p3 and
        # component-model-async for 0.3. No deadline (push-host's default
        # 10 s one stays on).
        return lambda port: [WASMTIME, "serve", "-S", "cli", "-S", "p3", "-W", "component-model-async",
                             "-O", "pooling-allocator", "--addr", f"127.0.0.1:{port}", *extra, module]

    def hello_url(port):
        return f"http://127.0.0.1:{port}/hello"

    # The same plain wasi:http hello components under push-host and under
    # `wasmtime serve` (HTTP/1.1 only), fresh instances and reused ones.
    peers = {}
    for version, module in (("0.2", hello_p2), ("0.3", hello_p3)):
        peers[f"wasmtime serve hello {version} HTTP/1.1 fresh"] = (
            wasmtime_serve(module, "--max-instance-reuse-count", "1"), hello_url, h1)
        # Its default reuse for 0.3 (128 requests, 16 at once); for 0.2 its
        # default is 1, so the count is set.
        peers[f"wasmtime serve hello {version} HTTP/1.1 reuse"] = (
            wasmtime_serve(module, "--max-instance-reuse-count", REUSE), hello_url, h1)
        peers[f"push-host hello {version} HTTP/1.1 fresh"] = (push_host(module), hello_url, h1)
        peers[f"push-host hello {version} HTTP/1.1 reuse"] = (push_host(module, *reuse), hello_url, h1)
        peers[f"push-host hello {version} h2c fresh"] = (push_host(module), hello_url, h2)
        peers[f"push-host hello {version} h2c reuse"] = (push_host(module, *reuse), hello_url, h2)
    # wasmtime serve's 0.3 default, 16 requests at once per instance, as
    # push-host's opt-in --instance-concurrency.
    concurrent = [*reuse, "--instance-concurrency", "16"]
    peers["push-host hello 0.3 HTTP/1.1 reuse x16"] = (push_host(hello_p3, *concurrent), hello_url, h1)
    peers["push-host hello 0.3 h2c reuse x16"] = (push_host(hello_p3, *concurrent), hello_url, h2)
    return {
        "push-host hello (no push)": (
            lambda port: [host, "--module", hello, "--listen", f"127.0.0.1:{port}"],
            lambda port: f"http://127.0.0.1:{port}/hello", h2),
        # The same answer from a wasi:http@0.3 component (the wasip3 crate).
        "push-host hello p3 (no push)": (
            lambda port: [host, "--module", hello_p3, "--listen", f"127.0.0.1:{port}"],
            lambda port: f"http://127.0.0.1:{port}/hello", h2),
        "nghttpd static (no push)": (
            lambda port: ["nghttpd", "--no-tls", "-d", str(tmp), str(port)],
            lambda port: f"http://127.0.0.1:{port}/hello", h2),
        "push-host hello TLS (no push)": (
            lambda port: [host, "--module", hello, "--listen", f"127.0.0.1:{port}",
                          "--tls-cert", str(cert), "--tls-key", str(key)],
            lambda port: f"https://127.0.0.1:{port}/hello", h2),
        "nghttpd static TLS (no push)": (
            lambda port: ["nghttpd", "-d", str(tmp), str(port), str(key), str(cert)],
            lambda port: f"https://127.0.0.1:{port}/hello", h2),
        "push-host hello HTTP/1.1 (no push)": (
            lambda port: [host, "--module", hello, "--listen", f"127.0.0.1:{port}"],
            lambda port: f"http://127.0.0.1:{port}/hello", h1),
        "push-host hello reuse (no push)": (push_host(hello, *reuse), hello_url, h2),
        **peers,
    }


STARTUP_MODULES = {"rust": "http2_service", "python": "http2_service_py", "js": "http2_service_js"}


def time_to_serving(argv):
    """Seconds from exec to push-host's `Serving HTTP/2 on` line (printed
    once its listener is bound, right before it accepts), read from its
    stderr as it is written: no polling, so no poll interval in the figure."""
    started = time.monotonic()
    proc = subprocess.Popen(["taskset", "-c", SERVER_CORE, *argv], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        for line in proc.stderr:
            if "Serving HTTP/2 on " in line:
                return time.monotonic() - started
        raise RuntimeError(f"{argv[0]} exited with {proc.wait()} before serving")
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def startup(rounds):
    """Seconds from exec to accepting connections (the `Serving` line), per
    seed module: cold (an empty compile cache: the component is compiled)
    and warm (the cache filled by the cold start)."""
    host = str(HOST)
    times = {}
    for r in range(rounds):
        for lang, module in STARTUP_MODULES.items():
            cache = Path(tempfile.mkdtemp(prefix="push-host-cache-"))
            for kind in ("cold", "warm"):
                argv = [host, "--module", str(GUESTS / f"{module}.wasm"), "--listen", "127.0.0.1:0",
                        "--cache-dir", str(cache)]
                times.setdefault((lang, kind), []).append(time_to_serving(argv))
            shutil.rmtree(cache, ignore_errors=True)
    size = {lang: (GUESTS / f"{m}.wasm").stat().st_size for lang, m in STARTUP_MODULES.items()}
    return {k: median(v) for k, v in times.items()}, size


def push_bench(port, pid, args):
    argv = [
        "taskset", "-c", LOAD_CORE, str(RELEASE / "push-bench"),
        f"http://127.0.0.1:{port}/http2Service",
        "-c", str(args.connections), "-m", str(args.streams),
        "-d", str(args.duration), "-w", str(args.warmup),
        "--pushes", "3", "--server-pid", str(pid), "--json",
    ]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=args.duration + args.warmup + 60)
    if out.returncode != 0:
        raise RuntimeError(f"push-bench failed ({out.returncode}): {out.stdout}\n{out.stderr}")
    return json.loads(out.stdout), " ".join(argv[3:])


def cpu_ticks(pid):
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime (fields 14, 15)


def h2load(url, pid, options, args):
    argv = ["taskset", "-c", LOAD_CORE, "h2load", "-n", str(args.h2load_requests), *options, url]
    # Warm-up, then the measured run.
    subprocess.run(argv[:4] + ["5000"] + argv[5:], capture_output=True, text=True, timeout=120)
    before = cpu_ticks(pid)
    out = subprocess.run(argv, capture_output=True, text=True, timeout=300)
    after = cpu_ticks(pid)
    m = re.search(r"finished in ([\d.]+)(m?s), ([\d.]+) req/s", out.stdout)
    ok = re.search(r"requests: \d+ total, \d+ started, \d+ done, (\d+) succeeded, (\d+) failed, (\d+) errored", out.stdout)
    if not m or not ok:
        raise RuntimeError(f"h2load output not understood:\n{out.stdout}\n{out.stderr}")
    succeeded, failed, errored = (int(x) for x in ok.groups())
    tick_us = 1e6 / os.sysconf("SC_CLK_TCK")
    p99 = None
    return {
        "requests_per_sec": float(m.group(3)),
        "pushes_per_sec": 0.0,
        "p50_ms": None,
        "p99_ms": p99,
        "errors": failed + errored,
        "server_cpu_us_per_request": (after - before) * tick_us / max(succeeded, 1),
    }, " ".join(argv[3:])


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt(v, digits=1):
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:,.{digits}f}"
    return f"{v:,}"


def main():
    global HOST, WASMTIME
    p = argparse.ArgumentParser()
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--duration", type=int, default=5)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("-c", "--connections", type=int, default=8)
    p.add_argument("-m", "--streams", type=int, default=8)
    p.add_argument("--h2load-requests", type=int, default=60000)
    p.add_argument("--only", default="", help="comma-separated configuration names")
    p.add_argument("--out", default="latest")
    p.add_argument("--host", default=str(HOST), help="the push-host binary to measure")
    p.add_argument("--build", default="plain release build (`cargo build --release`)",
                   help="how --host was built, for the report")
    p.add_argument("--wasmtime", default=WASMTIME, help="the wasmtime CLI (bench/run installs it)")
    args = p.parse_args()
    HOST = Path(args.host)
    WASMTIME = args.wasmtime
    only = [s for s in args.only.split(",") if s]

    RESULTS.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="push-bench-"))
    seed_files(tmp)
    push = {k: v for k, v in servers(tmp).items() if not only or k in only}
    plain = {k: v for k, v in no_push_servers(tmp).items() if not only or k in only}
    runs = {name: [] for name in [*push, *plain]}
    commands = {}
    for r in range(args.rounds):
        for name, argv in push.items():
            port = free_port()
            with Server(argv(port), port) as server:
                result, cmd = push_bench(port, server.proc.pid, args)
            commands[name] = (" ".join(argv(port)), cmd)
            runs[name].append(result)
            print(f"round {r + 1} {name}: {result['requests_per_sec']:.0f} req/s, "
                  f"p99 {result['p99_ms']} ms, {fmt(result['server_cpu_us_per_request'])} us/req, "
                  f"errors {result['errors']}", flush=True)
        for name, (argv, url, options) in plain.items():
            port = free_port()
            with Server(argv(port), port) as server:
                result, cmd = h2load(url(port), server.proc.pid, options, args)
            commands[name] = (" ".join(argv(port)), cmd)
            runs[name].append(result)
            print(f"round {r + 1} {name}: {result['requests_per_sec']:.0f} req/s, "
                  f"{fmt(result['server_cpu_us_per_request'])} us/req", flush=True)
    shutil.rmtree(tmp, ignore_errors=True)
    starts = startup(args.rounds) if not only else ({}, {})
    for (lang, kind), seconds in sorted(starts[0].items()):
        print(f"start-up {lang} {kind}: {seconds * 1000:.0f} ms", flush=True)

    summary = {}
    for name, results in runs.items():
        summary[name] = {
            key: median([r.get(key) for r in results])
            for key in ("requests_per_sec", "pushes_per_sec", "p50_ms", "p99_ms", "server_cpu_us_per_request")
        }
        summary[name]["errors"] = sum(r.get("errors", 0) for r in results)
        summary[name]["rounds"] = len(results)
        summary[name]["all_requests_per_sec"] = [round(r["requests_per_sec"]) for r in results]

    ratios = ratio_lines(summary)
    write_report(args, summary, ratios, commands, starts)
    chart(summary, args.out)
    print()
    for line in ratios:
        print(line)


def verdict(value, target):
    """'met' or 'not met', from the unrounded value (0.497 is not >= 0.5,
    though it prints as 0.50 at two decimals)."""
    if value is None:
        return "not measured"
    op, bound = target.split()
    ok = value <= float(bound) if op == "<=" else value >= float(bound)
    return "met" if ok else "not met"


def ratio_lines(s):
    def get(name, key):
        return s.get(name, {}).get(key)

    def ratio(a, b):
        return None if a is None or b in (None, 0) else a / b

    lines = []
    pairs = [
        ("CPU/request push-host wasm / nghttpd", ratio(get("push-host wasm", "server_cpu_us_per_request"),
                                                      get("nghttpd", "server_cpu_us_per_request")), "<= 3"),
        ("CPU/request push-host native / nghttpd", ratio(get("push-host native", "server_cpu_us_per_request"),
                                                        get("nghttpd", "server_cpu_us_per_request")), "<= 1.5"),
        ("req/s push-host wasm / node http2", ratio(get("push-host wasm", "requests_per_sec"),
                                                   get("node http2", "requests_per_sec")), ">= 3"),
        ("req/s push-host wasm / native", ratio(get("push-host wasm", "requests_per_sec"),
                                               get("push-host native", "requests_per_sec")), ">= 0.5"),
        ("req/s no push: push-host hello / nghttpd static", ratio(get("push-host hello (no push)", "requests_per_sec"),
                                                                get("nghttpd static (no push)", "requests_per_sec")),
         ">= 0.25"),
        # Against the other component host, on the same wasi:http@0.2 hello
        # over HTTP/1.1 (all `wasmtime serve` speaks).
        ("CPU/request hello 0.2 HTTP/1.1: push-host fresh / wasmtime serve fresh",
         ratio(get("push-host hello 0.2 HTTP/1.1 fresh", "server_cpu_us_per_request"),
               get("wasmtime serve hello 0.2 HTTP/1.1 fresh", "server_cpu_us_per_request")), "<= 0.3"),
        ("CPU/request hello 0.2 HTTP/1.1: push-host reuse / wasmtime serve reuse",
         ratio(get("push-host hello 0.2 HTTP/1.1 reuse", "server_cpu_us_per_request"),
               get("wasmtime serve hello 0.2 HTTP/1.1 reuse", "server_cpu_us_per_request")), "<= 0.6"),
        ("req/s no push, reuse: push-host hello / nghttpd static",
         ratio(get("push-host hello reuse (no push)", "requests_per_sec"),
               get("nghttpd static (no push)", "requests_per_sec")), ">= 0.5"),
        ("CPU/request push-host wasm reuse / nghttpd", ratio(get("push-host wasm reuse", "server_cpu_us_per_request"),
                                                            get("nghttpd", "server_cpu_us_per_request")), "<= 1.5"),
    ]
    for label, value, target in pairs:
        lines.append(f"{label}: {fmt(value, 3)} (target {target}: {verdict(value, target)})")
    for lang in ("python", "js"):
        cpu = get(f"push-host {lang}", "server_cpu_us_per_request")
        lines.append(f"CPU/request push-host {lang} seed: {fmt(cpu, 0)} us (target <= 1000: {verdict(cpu, '<= 1000')}); "
                     f"/ Rust wasm seed: {fmt(ratio(cpu, get('push-host wasm', 'server_cpu_us_per_request')), 1)}")
    p99 = get("push-host wasm", "p99_ms")
    lines.append(f"p99 push-host wasm: {fmt(p99, 2)} ms (target <= 2 ms: {verdict(p99, '<= 2')})")
    # What TLS and HTTP/1.1 cost (no targets): CPU per request against h2c.
    for label, name, base in [
        # The 0.3 hello against wasmtime serve (no target: the issue's
        # targets name the 0.2 component).
        ("CPU/request hello 0.3 HTTP/1.1: push-host fresh / wasmtime serve fresh", "push-host hello 0.3 HTTP/1.1 fresh",
         "wasmtime serve hello 0.3 HTTP/1.1 fresh"),
        ("CPU/request hello 0.3 HTTP/1.1: push-host reuse / wasmtime serve reuse", "push-host hello 0.3 HTTP/1.1 reuse",
         "wasmtime serve hello 0.3 HTTP/1.1 reuse"),
        ("CPU/request hello 0.3 HTTP/1.1: push-host reuse x16 at once / wasmtime serve reuse (16 at once)",
         "push-host hello 0.3 HTTP/1.1 reuse x16", "wasmtime serve hello 0.3 HTTP/1.1 reuse"),
        ("CPU/request hello 0.3 h2c: push-host reuse x16 at once / one at a time",
         "push-host hello 0.3 h2c reuse x16", "push-host hello 0.3 h2c reuse"),
        ("Reuse gain, seed: CPU/request reuse / fresh", "push-host wasm reuse", "push-host wasm"),
        ("Reuse gain, hello 0.1 h2c: CPU/request reuse / fresh", "push-host hello reuse (no push)",
         "push-host hello (no push)"),
        ("TLS cost, push-host hello: CPU/request TLS / h2c", "push-host hello TLS (no push)", "push-host hello (no push)"),
        ("TLS cost, nghttpd static: CPU/request TLS / h2c", "nghttpd static TLS (no push)", "nghttpd static (no push)"),
        ("HTTP/1.1 cost, push-host hello: CPU/request HTTP/1.1 / h2c", "push-host hello HTTP/1.1 (no push)",
         "push-host hello (no push)"),
        # What WASI 0.3 (component-model async, streams) costs over 0.1's
        # whole-body calls, for the same exchange.
        ("WASI 0.3 cost, seed: CPU/request p3 (push:handler@0.2.0) / 0.1", "push-host wasm p3", "push-host wasm"),
        ("WASI 0.3 cost, hello: CPU/request p3 / 0.1", "push-host hello p3 (no push)", "push-host hello (no push)"),
    ]:
        value = ratio(get(name, "server_cpu_us_per_request"), get(base, "server_cpu_us_per_request"))
        lines.append(f"{label}: {fmt(value, 2)}")
    return lines


def portable(command):
    """`command` with no path of this machine: the repository's own paths
    relative to it, the temporary directory as `$BENCH_TMP`."""
    command = command.replace(WASMTIME, "wasmtime").replace(f"{ROOT}/", "")
    return re.sub(r"/tmp/push-bench-[^/ ]+", "$BENCH_TMP", command)


def write_report(args, summary, ratios, commands, starts):
    cpu = ""
    try:
        cpu = next(l.split(":", 1)[1].strip() for l in Path("/proc/cpuinfo").read_text().splitlines()
                   if l.startswith("model name"))
    except (StopIteration, OSError):
        pass
    lines = [
        "# bench/run results",
        "",
        f"Date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}. Machine: {os.cpu_count()} cores ({cpu}), "
        f"{platform.system()} {platform.release()}. Servers pinned to core {SERVER_CORE}, load generator to core "
        f"{LOAD_CORE}; {args.rounds} rounds alternated; medians. push-host: {args.build}.",
        "",
        f"Seed scenario (1 response + 3 pushes per request), `push-bench -c {args.connections} -m {args.streams} "
        f"-d {args.duration} -w {args.warmup} --pushes 3`; without push, `h2load -n {args.h2load_requests} -c 8 -m 8`.",
        "",
        "| server | requests/s | pushes/s | p50 ms | p99 ms | server CPU µs/request | errors | req/s per round |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, s in summary.items():
        lines.append(
            f"| {name} | {fmt(s['requests_per_sec'], 0)} | {fmt(s['pushes_per_sec'], 0)} | {fmt(s['p50_ms'], 2)} | "
            f"{fmt(s['p99_ms'], 2)} | {fmt(s['server_cpu_us_per_request'], 1)} | {s['errors']} | "
            f"{', '.join(str(v) for v in s['all_requests_per_sec'])} |"
        )
    lines += ["", "## Ratios", ""] + [f"- {l}" for l in ratios]
    times, size = starts
    if times:
        lines += ["", "## Start-up (exec to accepting connections; medians)", "",
                  "| seed | component | cold: compiled | warm: compile cache |", "|---|---|---|---|"]
        for lang in STARTUP_MODULES:
            lines.append(f"| {lang} | {size[lang] / 1e6:.1f} MB | {times[(lang, 'cold')] * 1000:.0f} ms | "
                         f"{times[(lang, 'warm')] * 1000:.0f} ms |")
    lines += ["", "## Commands", "",
              "Paths are relative to the repository; `$BENCH_TMP` is the run's temporary directory "
              "(the seed's files, a throwaway certificate).", ""]
    for name, (server, load) in commands.items():
        lines.append(f"- {name}: `taskset -c {SERVER_CORE} {portable(server)}`; "
                     f"`taskset -c {LOAD_CORE} {portable(load)}`")
    (RESULTS / f"{args.out}.md").write_text("\n".join(lines) + "\n")
    (RESULTS / f"{args.out}.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(f"wrote {RESULTS / (args.out + '.md')}")


def chart(summary, out):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib missing: no chart", file=sys.stderr)
        return
    names = list(summary)
    rps = [summary[n]["requests_per_sec"] or 0 for n in names]
    cpu = [summary[n]["server_cpu_us_per_request"] or 0 for n in names]
    fig, (a, b) = plt.subplots(1, 2, figsize=(12, 4.5))
    a.barh(names, rps, color="#4c72b0")
    a.set_xlabel("requests/s (median)")
    a.invert_yaxis()
    b.barh(names, cpu, color="#dd8452")
    b.set_xlabel("server CPU µs per request (median)")
    b.invert_yaxis()
    b.set_yticklabels([])
    fig.suptitle("push-host vs nghttpd vs Node http2 (seed: 1 response + 3 pushes; no-push rows: h2load)")
    fig.tight_layout()
    fig.savefig(RESULTS / f"{out}.png", dpi=110)


if __name__ == "__main__":
    main()
