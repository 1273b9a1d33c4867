#!/usr/bin/env python3
"""Batch throughput against a local OpenAI-compatible server with a fixed latency per request.

    python tests/benchmarks/bench_batch.py --out results.json
    python tests/benchmarks/bench_batch.py --latency 0.05 --requests 200 --workers 1 4 16 64

With W workers and latency L the best possible throughput is W/L requests per second;
target: >= 0.8 x W/L at 16 workers. A second run at 16 workers has 10% of requests fail
transiently (429 with Retry-After / 500 / dropped connection, in turn): target 0 prompts
lost and every injected failure retried.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.openai_server import ChatServer  # noqa: E402
from utils.backends import BackendConfig, GenParams  # noqa: E402
from utils.batch_io import BatchItem  # noqa: E402
from utils.batch_runner import run_batch, shared_client_backend  # noqa: E402
from utils.batch_stats import attempts_of  # noqa: E402


def _serve(conn, latency: float, fail_rate: float, seed: int) -> None:
    """Child process: run the chat server until told to stop, then report its counters."""
    with ChatServer(latency=latency, fail_rate=fail_rate, seed=seed, retry_after=0.01) as srv:
        conn.send(srv.base_url)
        conn.recv()
        conn.send({"requests": srv.requests, "failures": srv.failures})


class RemoteServer:
    """The server in its own process, like a real endpoint: its CPU does not compete for our GIL."""

    def __init__(self, latency: float, fail_rate: float = 0.0, seed: int = 0):
        import multiprocessing as mp

        ctx = mp.get_context("spawn")
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_serve, args=(child, latency, fail_rate, seed), daemon=True)

    def __enter__(self) -> "RemoteServer":
        self.proc.start()
        self.base_url = self.conn.recv()
        return self

    def stop(self) -> dict:
        self.conn.send("stop")
        counters = self.conn.recv()
        self.proc.join(10)
        return counters

    def __exit__(self, *exc):
        if self.proc.is_alive():
            self.proc.kill()


def measure(workers: int, latency: float, requests: int, fail_rate: float = 0.0, retries: int = 6,
            seed: int = 0) -> tuple[dict, int]:
    """One batch through the real engine; returns (row with the issue's JSON keys, injected failures)."""
    items = [BatchItem(id=f"b{i:05d}", prompt=f"Benchmark prompt {i}") for i in range(requests)]
    with RemoteServer(latency, fail_rate, seed) as srv, tempfile.TemporaryDirectory() as tmp:
        cfg = BackendConfig(backend="openai", base_url=srv.base_url, model="fake-chat", max_workers=workers,
                            retries=retries, timeout=30)
        backend = shared_client_backend(cfg)  # what utils/batch_processor.py uses
        start = time.perf_counter()
        results = run_batch(items, backend, GenParams(max_tokens=32), Path(tmp) / "results.jsonl",
                            max_workers=workers)
        wall = time.perf_counter() - start
        on_disk = {json.loads(ln)["id"] for ln in (Path(tmp) / "results.jsonl").read_text().splitlines()}
        injected = srv.stop()["failures"]
    ok = {r["id"] for r in results if r["status"] == "ok"}
    row = {"workers": workers, "throughput_rps": round(requests / wall, 2), "limit_rps": round(workers / latency, 2),
           "lost": sum(1 for i in items if i.id not in ok or i.id not in on_disk),
           "retried": sum(attempts_of(r) - 1 for r in results)}
    return row, injected


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--latency", type=float, default=0.05, help="server seconds per request (L)")
    p.add_argument("--requests", type=int, default=200, help="prompts per measurement")
    p.add_argument("--workers", type=int, nargs="+", default=[1, 4, 16, 64])
    p.add_argument("--fail-rate", type=float, default=0.10, help="share of requests failing transiently in the failure run")
    p.add_argument("--failure-workers", type=int, default=16)
    p.add_argument("--out", type=Path, default=None, help="write the results as JSON here")
    args = p.parse_args(argv)

    import logging
    logging.basicConfig(level=logging.ERROR)  # failed prompts would warn; counted below instead

    rows = []
    print(f"latency L={args.latency}s, {args.requests} requests per run, {os.cpu_count()} CPUs")
    print(f"{'workers':>7} {'throughput_rps':>15} {'limit_rps (W/L)':>16} {'share':>6} {'lost':>5} {'retried':>8}")
    for w in args.workers:
        row, _ = measure(w, args.latency, args.requests)
        rows.append(row)
        print(f"{w:>7} {row['throughput_rps']:>15.1f} {row['limit_rps']:>16.1f} "
              f"{row['throughput_rps'] / row['limit_rps']:>6.2f} {row['lost']:>5} {row['retried']:>8}")
    frow, injected = measure(args.failure_workers, args.latency, args.requests, fail_rate=args.fail_rate, seed=7)
    print(f"with {args.fail_rate:.0%} transient failures at {args.failure_workers} workers: "
          f"{frow['throughput_rps']:.1f} req/s, lost {frow['lost']}, injected {injected}, retried {frow['retried']}")
    at16 = next((r for r in rows if r["workers"] == 16), None)
    report = {
        "config": {"latency_s": args.latency, "requests": args.requests, "fail_rate": args.fail_rate,
                   "cpus": os.cpu_count(), "python": platform.python_version(), "machine": platform.machine()},
        "results": rows,
        "with_failures": frow,
        "injected_failures": injected,
        "targets": {
            "throughput_at_16_ge_0.8_limit": None if at16 is None else at16["throughput_rps"] >= 0.8 * at16["limit_rps"],
            "zero_lost_with_failures": frow["lost"] == 0,
            "every_failure_retried": frow["retried"] == injected,
        },
    }
    print("targets:", json.dumps(report["targets"]))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=2) + "\n")
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
