#!/usr/bin/env python3
"""Benchmark the RLHF loop on real human votes: confidence routing vs random routing.

    python tests/benchmarks/bench_loop.py --data ../shared/data/hh_harmless_dev.jsonl.gz --out results.json
    python tests/benchmarks/bench_loop.py --data FILE --cycles 2 --pairs-per-cycle 60 --bootstrap-rows 200 --epochs 1

The loop (interface/rlhf_loop.py, unchanged) bootstraps the vote predictor on the file's
first --bootstrap-rows rows, then runs --cycles cycles over fresh pairs of the same file
with --annotator replay: the recorded human choice is revealed only for the pairs the loop
sends to a human. The file's last --test-rows pairs are held out as a test set.

Per cycle it reports the human votes used, the auto-labelled share, the accuracy of the
auto-labels against the recorded human choices, the accuracy the calibrated confidence
promised, and the random-routing baseline: the same model and the same number of human
votes, but the pairs for humans drawn at random, so each pair is auto-labelled with equal
chance and the expected auto-label accuracy is the model's accuracy over all the cycle's
pairs. After each cycle the newest checkpoint is scored on the held-out test pairs.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from interface import loop_routing as rt  # noqa: E402


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True, help="HH-RLHF or TRL preference file (.jsonl/.jsonl.gz)")
    p.add_argument("--out", default=None, help="write the results JSON here")
    p.add_argument("--cycles", type=int, default=3)
    p.add_argument("--pairs-per-cycle", type=int, default=150)
    p.add_argument("--bootstrap-rows", type=int, default=400)
    p.add_argument("--test-rows", type=int, default=200)
    p.add_argument("--threshold", type=float, default=0.8)
    p.add_argument("--ratio", type=float, default=0.1, help="--human-feedback-ratio (audit share)")
    p.add_argument("--retrain-min-votes", type=int, default=20)
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--max-length", type=int, default=256)
    p.add_argument("--base-model", default="", help="encoder folder (default: the shipped MiniLM)")
    p.add_argument("--freeze-layers", type=int, default=4,
                   help="freeze the embeddings and this many bottom layers (4 = the loop's own default)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--root", default=None, help="work folder (default: a fresh temp folder)")
    return p


def hold_out_test_pairs(data: Path, paths, n: int, seed: int) -> list[dict]:
    """Put the file's last n pairs into pairs.jsonl (choice hidden) so the loop never picks them."""
    from interface.loop_annotators import preference_pairs
    from utils.store import append_records
    test = preference_pairs(data, seed=seed)[-n:] if n else []
    append_records(paths.pairs, [{k: v for k, v in p.items() if k != "human_choice"} for p in test], "pair")
    return test


def test_accuracy(test: list[dict], paths) -> float | None:
    from utils.vote_predictor.predict import predict_pairs
    if not test or not paths.checkpoint.exists():
        return None
    preds = predict_pairs([{k: v for k, v in p.items() if k != "human_choice"} for p in test], paths=paths)
    return sum(pr["choice"] == p["human_choice"] for pr, p in zip(preds, test)) / len(test)


def cycle_stats(rec: dict, new_pairs: list[str], paths, truth_of) -> dict:
    """Numbers of one cycle from its history record and the files the loop wrote."""
    from utils.store import read_records
    version = rec.get("predicted_with")
    preds = {p["pair_id"]: p for p in read_records(paths.predictions, "prediction")
             if p["pair_id"] in set(new_pairs) and p["model_version"] == version}
    model_votes = [v for v in read_records(paths.votes, "vote")
                   if v["annotator_type"] == "model" and v["pair_id"] in set(new_pairs)]
    truth = {pid: truth_of(pid) for pid in new_pairs}
    auto_hits = [v["choice"] == truth[v["pair_id"]] for v in model_votes]
    return {"cycle": rec["cycle"], "pairs": rec["pairs"], "human_votes": rec["to_human"],
            "audit_votes": rec.get("audit", 0), "auto_labelled": rec["auto_labelled"],
            "auto_label_share": rec["auto_labelled"] / rec["pairs"] if rec["pairs"] else 0.0,
            "auto_label_accuracy": sum(auto_hits) / len(auto_hits) if auto_hits else None,
            "auto_label_hits": sum(auto_hits), "est_auto_accuracy": rec["est_auto_accuracy"],
            "audit_accuracy": rec["audit_accuracy"], "predicted_with": version,
            "random_routing_auto_label_accuracy": rt.random_routing_accuracy(new_pairs, preds, truth),
            "model_accuracy_all_pairs": rt.label_accuracy(new_pairs, preds, truth)[0],
            "retrained": rec["retrained"], "model_version_after": rec["model_version"]}


def run(args) -> dict:
    from interface.loop_annotators import ReplayAnnotator
    from interface.rlhf_loop import LoopConfig, build_parser as loop_parser, run_loop
    from utils.cli import config_from_args
    from utils.pairs import load_pairs
    from utils.paths import Paths

    root = Path(args.root or tempfile.mkdtemp(prefix="bench_loop_"))
    paths = Paths.resolve(root)
    data = Path(args.data).resolve()
    test = hold_out_test_pairs(data, paths, args.test_rows, args.seed)
    argv = ["--source", "dataset", str(data), "--annotator", "replay", "--bootstrap", str(data),
            "--bootstrap-limit", str(args.bootstrap_rows), "--num-prompts", str(args.pairs_per_cycle),
            "--confidence-threshold", str(args.threshold), "--human-feedback-ratio", str(args.ratio),
            "--retrain-min-votes", str(args.retrain_min_votes), "--epochs", str(args.epochs),
            "--max-length", str(args.max_length), "--freeze-layers", str(args.freeze_layers), "--seed", str(args.seed), "--root", str(root)]
    if args.base_model:
        argv += ["--base-model", args.base_model]
    largs = loop_parser().parse_args(argv)
    cfg = config_from_args(LoopConfig, largs)
    judge = ReplayAnnotator(data, seed=args.seed)
    cycles, t0 = [], time.perf_counter()
    for _ in range(args.cycles):
        before = set(load_pairs(paths))
        t = time.perf_counter()
        recs = run_loop(cfg, largs, paths, out=sys.stderr)
        if not recs:
            break
        pairs_now = load_pairs(paths)
        new = [pid for pid in pairs_now if pid not in before]
        stats = cycle_stats(recs[0], new, paths, lambda pid: judge.choice_for(pairs_now[pid]))
        stats["test_accuracy_after"] = test_accuracy(test, paths)
        stats["seconds"] = round(time.perf_counter() - t, 1)
        cycles.append(stats)
        print(f"cycle {stats['cycle']} done in {stats['seconds']}s", file=sys.stderr)
    hits = sum(c["auto_label_hits"] for c in cycles)
    n_auto = sum(c["auto_labelled"] for c in cycles)
    n_pairs = sum(c["pairs"] for c in cycles)
    est = [(c["est_auto_accuracy"], c["auto_labelled"]) for c in cycles if c["est_auto_accuracy"] is not None]
    rand = [(c["random_routing_auto_label_accuracy"], n_pairs_c) for c, n_pairs_c in
            ((c, c["pairs"] - c["human_votes"]) for c in cycles) if c["random_routing_auto_label_accuracy"] is not None]
    res = {"data": str(data), "config": vars(args), "cycles": cycles,
           "human_votes": sum(c["human_votes"] for c in cycles),
           "auto_label_share": n_auto / n_pairs if n_pairs else 0.0,
           "auto_label_accuracy": hits / n_auto if n_auto else None,
           "est_auto_accuracy": sum(e * n for e, n in est) / sum(n for _, n in est) if est and sum(n for _, n in est) else None,
           "random_routing": {"auto_label_accuracy": (sum(a * n for a, n in rand) / sum(n for _, n in rand))
                              if rand and sum(n for _, n in rand) else None},
           "final_test_accuracy": cycles[-1]["test_accuracy_after"] if cycles else None,
           "test_pairs": len(test), "seconds": round(time.perf_counter() - t0, 1), "root": str(root)}
    a, e, r = res["auto_label_accuracy"], res["est_auto_accuracy"], res["random_routing"]["auto_label_accuracy"]
    res["targets"] = {"calibration_honest_within_3pt": None if a is None or e is None else a >= e - 0.03,
                      "beats_random_routing": None if a is None or r is None else a > r}
    return res


def print_table(res: dict) -> None:
    f = rt.fmt
    head = f"{'cycle':>5} {'pairs':>5} {'human':>5} {'auto%':>6} {'auto acc':>8} {'promised':>8} {'random':>7} {'audit':>6} {'test acc':>8} {'secs':>6}"
    print(head)
    for c in res["cycles"]:
        print(f"{c['cycle']:>5} {c['pairs']:>5} {c['human_votes']:>5} {f(c['auto_label_share']):>6} "
              f"{f(c['auto_label_accuracy']):>8} {f(c['est_auto_accuracy']):>8} "
              f"{f(c['random_routing_auto_label_accuracy']):>7} {f(c['audit_accuracy']):>6} "
              f"{f(c['test_accuracy_after']):>8} {c['seconds']:>6}")
    print(f"total: {res['human_votes']} human votes, auto-labelled {f(res['auto_label_share'])}, auto-label accuracy "
          f"{f(res['auto_label_accuracy'])} (calibration promised {f(res['est_auto_accuracy'])}), random routing "
          f"{f(res['random_routing']['auto_label_accuracy'])}, final test accuracy {f(res['final_test_accuracy'])} "
          f"on {res['test_pairs']} pairs; targets {res['targets']}")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    import logging
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    res = run(args)
    print_table(res)
    if args.out:
        from utils.store import write_json_atomic
        write_json_atomic(args.out, res)
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
