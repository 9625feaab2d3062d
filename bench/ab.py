"""bench/ab: before/after of two or more push-host builds (or any servers),
run alternately in one sitting, the way every request-path change in
bench/results/changes.md was measured.

    python3 bench/ab.py [--rounds 5] [--duration 5] [--native] [--module M] [--h2load PATH [--h1]]
                        [--host-args 'ARGS'] BIN_A BIN_B ...

Each BIN is a push-host binary (copy the "before" build aside first, e.g.
`cp target/release/push-host /tmp/push-host.before`). Each round starts every
binary in turn, pinned to core 0, serving the wasm seed (or `--native-seed`
with --native), and loads it from core 1 with `push-bench -c 8 -m 8 --pushes 3`
(the same settings as bench/run). Prints, per binary, the median and the
minimum of CPU per request and the median requests/s and p99. On a noisy VM
the minimum is the steadier of the two: interference only ever adds.
With --h2load PATH (e.g. a `wasi:http` module, which has no seed to push),
each round loads `PATH` with `h2load -n N -c 8 -m 8` instead (no pushes,
no p99), as bench/run's no-push rows do; with --h1 over HTTP/1.1 with
64 connections (`h2load --h1 -c 64 -m 1`, bench/run's HTTP/1.1 rows).
--host-args adds flags to every push-host, e.g. '--instance-reuse 128'.
"""

import argparse
import statistics
import sys

from run import GUESTS, PUSH_HOST_BENCH_FLAGS, Server, free_port, h2load, push_bench


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("binaries", nargs="+", help="push-host binaries to compare")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--duration", type=int, default=5)
    ap.add_argument("--native", action="store_true", help="serve --native-seed instead of the wasm seed")
    ap.add_argument("--module", default=str(GUESTS / "http2_service.wasm"), help="the wasm seed to serve")
    ap.add_argument("--h2load", metavar="PATH", help="load PATH with h2load instead of the seed with push-bench")
    ap.add_argument("--h2load-requests", type=int, default=60000)
    ap.add_argument("--h1", action="store_true", help="with --h2load: HTTP/1.1, 64 connections")
    ap.add_argument("--host-args", default="", help="extra push-host flags, one string")
    args = ap.parse_args()
    args.connections, args.streams, args.warmup = 8, 8, 1

    results = {b: [] for b in args.binaries}
    for r in range(1, args.rounds + 1):
        for binary in args.binaries:
            port = free_port()
            handler = ["--native-seed"] if args.native else ["--module", args.module]
            argv = [binary, *handler, "--listen", f"127.0.0.1:{port}", *PUSH_HOST_BENCH_FLAGS,
                    *args.host_args.split()]
            with Server(argv, port) as server:
                if args.h2load:
                    url = f"http://127.0.0.1:{port}{args.h2load}"
                    load = ["--h1", "-c", "64", "-m", "1"] if args.h1 else ["-c", "8", "-m", "8"]
                    out, _ = h2load(url, server.proc.pid, load, args)
                    out["p99_ms"] = 0.0
                else:
                    out, _ = push_bench(port, server.proc.pid, args)
            if out["errors"]:
                sys.exit(f"{binary}: {out['errors']} errors in round {r}: {out.get('errors_by_kind', '')}")
            results[binary].append(out)
            print(
                f"round {r} {binary}: {out['requests_per_sec']:.0f} req/s, "
                f"{out['server_cpu_us_per_request']:.1f} us/req, p99 {out['p99_ms']:.2f} ms",
                flush=True,
            )
    print()
    for binary, runs in results.items():
        cpu = [o["server_cpu_us_per_request"] for o in runs]
        print(
            f"{binary}: CPU/request median {statistics.median(cpu):.2f} us (min {min(cpu):.2f}), "
            f"{statistics.median(o['requests_per_sec'] for o in runs):.0f} req/s, "
            f"p99 {statistics.median(o['p99_ms'] for o in runs):.2f} ms; rounds: "
            + " ".join(f"{c:.1f}" for c in cpu)
        )


if __name__ == "__main__":
    main()
