#!/usr/bin/env python3
"""Benchmark: the drift analysis of 1,000,000 prediction records (target < 60 s, < 2 GB, 2 cores).

Writes a synthetic data tree (predictions re-scored across model versions, human votes,
pairs with texts, prompts with domains), then runs interface/run_drift_analysis.py on it in a
child process and reports wall seconds and the child's peak resident memory.

    python tests/benchmarks/bench_drift.py --out bench_drift.json
    python tests/benchmarks/bench_drift.py --predictions 200000 --embedding tfidf minilm
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
WORDS = ("atom energy quantum photon gravity vitamin sleep exercise diet heart python function compiler "
         "variable database empire revolution ancient dynasty treaty recipe oven flour butter garlic "
         "the a of and it is this that which very some more can will good answer because").split()
DOMAINS = ("science", "health", "programming", "history", "cooking")


def _iso(ts: np.ndarray) -> list[str]:
    return [s + "Z" for s in np.datetime_as_string(ts.astype("datetime64[us]"), unit="us")]


def generate(root: Path, n_pred: int, n_pairs: int, n_votes: int, days: int = 30, seed: int = 0) -> dict:
    """Write the synthetic tree under ``root``; returns file sizes."""
    rng = np.random.default_rng(seed)
    data, prompts_dir = root / "data", root / "prompts"
    data.mkdir(parents=True, exist_ok=True)
    prompts_dir.mkdir(parents=True, exist_ok=True)
    start = np.datetime64("2026-01-01T00:00:00", "us").astype(np.int64)
    n_prompts = max(n_pairs // 5, 1)
    dom = rng.integers(0, len(DOMAINS), n_prompts)
    word_idx = rng.integers(0, 25, (n_prompts, 4))
    with open(prompts_dir / "generated_prompts.jsonl", "w") as fh:
        for i in range(n_prompts):
            text = "Explain " + " ".join(WORDS[j + 5 * (dom[i] % 5) if j + 5 * (dom[i] % 5) < 25 else j] for j in word_idx[i])
            fh.write(json.dumps({"id": f"p_{i}", "text": text, "domain": DOMAINS[dom[i]], "task_type": "explanation",
                                 "source": "template", "model": "bench", "created_at": "2026-01-01T00:00:00Z"}) + "\n")
    pair_prompt = rng.integers(0, n_prompts, n_pairs)
    lens = rng.integers(5, 60, (n_pairs, 2))
    with open(data / "pairs.jsonl", "w") as fh:
        for j in range(n_pairs):
            ra, rb = (" ".join(WORDS[k] for k in rng.integers(0, len(WORDS), m)) for m in lens[j])
            p = pair_prompt[j]
            text = "Explain " + " ".join(WORDS[x + 5 * (dom[p] % 5) if x + 5 * (dom[p] % 5) < 25 else x] for x in word_idx[p])
            fh.write(json.dumps({"id": f"pr_{j}", "prompt_id": f"p_{p}", "prompt": text, "completion_a_id": f"c_{j}a",
                                 "completion_b_id": f"c_{j}b", "response_a": ra, "response_b": rb, "model": "bench",
                                 "created_at": "2026-01-01T00:00:00Z"}) + "\n")
    margin = rng.normal(0, 1.5, n_pairs)
    label = rng.uniform(size=n_pairs) < 1 / (1 + np.exp(-margin))
    voted = rng.choice(n_pairs, min(n_votes, n_pairs), replace=False)
    with open(data / "votes.jsonl", "w") as fh:
        for j in voted:
            fh.write(json.dumps({"id": f"v_{j}", "pair_id": f"pr_{j}", "prompt_id": f"p_{pair_prompt[j]}",
                                 "completion_a_id": f"c_{j}a", "completion_b_id": f"c_{j}b",
                                 "choice": "A" if label[j] else "B", "annotator": "h", "annotator_type": "human",
                                 "created_at": "2026-01-02T00:00:00Z"}) + "\n")
    t = np.sort(start + rng.integers(0, days * 86400 * 10**6, n_pred))
    stamps = _iso(t)
    pair = rng.integers(0, n_pairs, n_pred)
    noise = rng.normal(0, 0.3, n_pred)
    m = margin[pair] + noise
    prob = 1 / (1 + np.exp(-m))
    base = rng.normal(0, 1, n_pred)
    version = (np.arange(n_pred) * 5 // n_pred)
    with open(data / "predictions.jsonl", "w") as fh:
        for i in range(n_pred):
            p = float(prob[i])
            fh.write(f'{{"id":"pred_{i}","pair_id":"pr_{pair[i]}","prob_a":{p:.6f},"choice":"{"A" if p >= 0.5 else "B"}",'
                     f'"confidence":{max(p, 1 - p):.6f},"reward_a":{base[i] + m[i] / 2:.5f},"reward_b":{base[i] - m[i] / 2:.5f},'
                     f'"raw_prob_a":{p:.6f},"model_version":"v{version[i]}","model":"bench","created_at":"{stamps[i]}"}}\n')
    return {f.name: f.stat().st_size for f in (data / "predictions.jsonl", data / "votes.jsonl", data / "pairs.jsonl")}


def run_once(root: Path, embedding: str, window: str) -> dict:
    """Run the CLI in a child process; wall seconds and the child's peak RSS."""
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    before = ru0.ru_maxrss
    env = dict(os.environ, OMP_NUM_THREADS="2", OPENBLAS_NUM_THREADS="2", MKL_NUM_THREADS="2")
    cmd = [sys.executable, str(REPO / "interface" / "run_drift_analysis.py"), "--root", str(root), "--window", window,
           "--embedding", embedding, "--visualization-mode", "detailed", "-q"]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    peak_kb = ru.ru_maxrss  # max over children so far: rows after the first are upper bounds
    cpu = (ru.ru_utime + ru.ru_stime) - (ru0.ru_utime + ru0.ru_stime)
    if proc.returncode not in (0, 3):
        raise SystemExit(f"run failed ({proc.returncode}): {proc.stderr[-2000:]}")
    report = json.loads((root / "models" / "drift_analysis" / "drift_report.json").read_text())
    return {"embedding": embedding, "window": window, "wall_s": round(wall, 2), "cpu_s": round(cpu, 2),
            "inside_s": report["seconds"], "peak_rss_mb": round(max(peak_kb, before) / 1024, 1),
            "n_predictions": report["n_predictions"], "n_windows": report["n_windows"],
            "n_alerts": len(report["alerts"]), "clusters": report["clusters"]["k"]}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--predictions", type=int, default=1_000_000)
    ap.add_argument("--pairs", type=int, default=100_000)
    ap.add_argument("--votes", type=int, default=50_000)
    ap.add_argument("--window", default="1d")
    ap.add_argument("--embedding", nargs="+", default=["tfidf"], choices=("tfidf", "minilm", "auto"))
    ap.add_argument("--workdir", default=None, help="keep the generated tree here (default: a temp folder)")
    ap.add_argument("--reuse", action="store_true", help="reuse the tree already in --workdir (skip generating)")
    ap.add_argument("--out", default=None, help="write the results as JSON here")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench_drift_") as tmp:
        root = Path(args.workdir or tmp)
        t0 = time.perf_counter()
        if args.reuse and args.workdir and (root / "data" / "predictions.jsonl").exists():
            sizes = {f.name: f.stat().st_size for f in (root / "data").glob("*.jsonl")}
        else:
            sizes = generate(root, args.predictions, args.pairs, args.votes)
        print(f"generated {args.predictions} predictions in {time.perf_counter() - t0:.1f}s "
              f"({sizes['predictions.jsonl'] / 2**20:.0f} MiB)", file=sys.stderr)
        rows = [run_once(root, emb, args.window) for emb in args.embedding]
    hdr = f"{'embedding':<10} {'window':<7} {'predictions':>11} {'windows':>7} {'wall s':>7} {'cpu s':>6} {'inside s':>8} {'peak MB':>8} {'alerts':>6}"
    print(hdr)
    for r in rows:
        print(f"{r['embedding']:<10} {r['window']:<7} {r['n_predictions']:>11} {r['n_windows']:>7} {r['wall_s']:>7} {r['cpu_s']:>6} "
              f"{r['inside_s']:>8} {r['peak_rss_mb']:>8} {r['n_alerts']:>6}")
    ok = all(r["wall_s"] < 60 and r["peak_rss_mb"] < 2048 for r in rows)
    print("target (< 60 s, < 2048 MB):", "met" if ok else "NOT met")
    if args.out:
        Path(args.out).write_text(json.dumps({"rows": rows, "files": sizes, "cpu_count": os.cpu_count(),
                                              "target_met": ok}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
