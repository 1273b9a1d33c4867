#!/usr/bin/env python3
"""Benchmark the vote predictor against the length and TF-IDF baselines on real preferences.

    python tests/benchmarks/bench_vote_predictor.py --train ../shared/data/hh_harmless_dev.jsonl.gz --out results.json
    python tests/benchmarks/bench_vote_predictor.py --train train.jsonl --test test.jsonl --epochs 2

Without ``--test`` the ``--train`` file is split by prompt into halves (train / test).
The train half is split again by prompt into train / validation / calibration.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from utils.cli import run_cli, setup_logging  # noqa: E402


def add_shared_args(p: argparse.ArgumentParser) -> None:
    """Data, split and model flags shared with bench_trl_reward.py, so both benches train and
    test on the same pairs; model defaults are the trainer's own (TrainConfig)."""
    from utils.vote_predictor.train import TrainConfig
    d = TrainConfig()
    p.add_argument("--train", required=True, help="HH-RLHF or TRL preference file")
    p.add_argument("--out", default=None, help="write the results JSON here")
    p.add_argument("--limit", type=int, default=None, help="use at most this many rows of each file")
    p.add_argument("--val-frac", type=float, default=0.15, help="share of the train half for validation")
    p.add_argument("--cal-frac", type=float, default=0.2, help="share of the train half for calibration")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--epochs", type=int, default=d.epochs)
    p.add_argument("--lr", type=float, default=d.lr)
    p.add_argument("--batch-size", type=int, default=d.batch_size)
    p.add_argument("--max-length", type=int, default=d.max_length)
    p.add_argument("--max-prompt-tokens", type=int, default=d.max_prompt_tokens)
    p.add_argument("--threads", type=int, default=d.threads)
    p.add_argument("-q", "--quiet", action="store_true")


def build_parser() -> argparse.ArgumentParser:
    from utils.vote_predictor.train import TrainConfig
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_shared_args(p)
    p.add_argument("--test", default=None, help="test file (default: the other half of --train)")
    p.add_argument("--base-model", default="")
    p.add_argument("--freeze-layers", type=int, default=TrainConfig().freeze_layers)
    p.add_argument("--no-lexical", action="store_true", help="train without the TF-IDF stacking")
    p.add_argument("--dropout", action="store_true", help="keep dropout while training (off by default)")
    return p


def load_split(args) -> tuple[list[dict], dict[str, str], list[dict]]:
    """(train-half pairs, their prompt id -> train/validation/calibration, test pairs).

    Without ``--test`` the ``--train`` file is split by prompt into halves first.
    """
    from utils.vote_predictor.data_prep import split_by_prompt
    from utils.vote_predictor.importers import load_preference_pairs
    pool = load_preference_pairs(args.train, limit=args.limit, seed=args.seed)
    if getattr(args, "test", None):
        test = load_preference_pairs(args.test, limit=args.limit, seed=args.seed + 1)
    else:
        half = split_by_prompt([p["prompt_id"] for p in pool], 0.0, 0.5, args.seed + 7)
        test = [p for p in pool if half[p["prompt_id"]] == "calibration"]
        pool = [p for p in pool if half[p["prompt_id"]] == "train"]
    return pool, split_by_prompt([p["prompt_id"] for p in pool], args.val_frac, args.cal_frac, args.seed), test


def selective(p, y, thresholds=(0.7, 0.8, 0.9)) -> dict:
    import numpy as np
    conf = np.maximum(p, 1 - p)
    out = {}
    for t in thresholds:
        m = conf >= t
        out[f"{t:.1f}"] = {"coverage": float(m.mean()),
                           "accuracy": float(np.mean((p[m] >= 0.5) == (y[m] == 1))) if m.any() else None}
    return out


def run(args) -> dict:
    import numpy as np

    from utils.paths import Paths
    from utils.store import utc_now, write_jsonl_atomic
    from utils.vote_predictor import metrics as M
    from utils.vote_predictor.calibrate import CalibrateConfig, calibrate_checkpoint
    from utils.vote_predictor.calibrators import TemperatureScaler
    from utils.vote_predictor.lexical import LexicalReward
    from utils.vote_predictor.predict import load_predictor, predict_pairs
    from utils.vote_predictor.train import TrainConfig, train_vote_predictor

    pool, split, test = load_split(args)
    now = utc_now()
    examples = [{"id": f"te_{i}", "vote_id": f"v_{i}", "prompt_id": p["prompt_id"], "pair_id": p["id"],
                 "prompt": p["prompt"], "response_a": p["response_a"], "response_b": p["response_b"],
                 "label": p["human_choice"], "split": split[p["prompt_id"]], "model": "bench", "created_at": now}
                for i, p in enumerate(pool)]
    counts = {s: sum(e["split"] == s for e in examples) for s in ("train", "validation", "calibration")}
    home = Path(tempfile.mkdtemp(prefix="bench_vp_"))
    paths = Paths.resolve(home)
    write_jsonl_atomic(paths.training_data, examples, "training_example")
    y_test = np.array([p["human_choice"] == "A" for p in test], dtype=float)

    cfg = TrainConfig(base_model=args.base_model, epochs=args.epochs, lr=args.lr, batch_size=args.batch_size,
                      max_length=args.max_length, max_prompt_tokens=args.max_prompt_tokens,
                      freeze_layers=args.freeze_layers, lexical=not args.no_lexical, dropout=args.dropout, seed=args.seed,
                      threads=args.threads, progress=not args.quiet)
    folder = train_vote_predictor(cfg, paths)
    meta = json.loads((folder / "training_meta.json").read_text())
    cal_entry = calibrate_checkpoint(CalibrateConfig(), paths)

    pred = load_predictor(folder, paths)
    pred._cache.clear()  # time real scoring, not the cache
    t0, c0 = time.perf_counter(), time.process_time()
    recs = predict_pairs([{k: v for k, v in p.items() if k != "human_choice"} for p in test], folder, paths=paths,
                         batch_size=64, progress=not args.quiet)
    predict_s, predict_cpu = time.perf_counter() - t0, time.process_time() - c0
    p_cal = np.array([r["prob_a"] for r in recs])
    p_raw = np.array([r["raw_prob_a"] for r in recs])
    res = {"accuracy": M.accuracy(p_cal, y_test), "ece_before": M.ece(p_raw, y_test), "ece_after": M.ece(p_cal, y_test),
           "nll": M.nll(p_cal, y_test), "nll_before": M.nll(p_raw, y_test), "brier": M.brier(p_cal, y_test),
           "mce_after": M.mce(p_cal, y_test),
           # sampling noise of a 15-bin ECE on this many pairs, for a perfectly calibrated model
           "ece_noise_floor": M.ece_noise_floor(p_cal),
           "train_seconds": meta["metrics"]["train_seconds"], "train_pairs_per_s": meta["metrics"]["train_pairs_per_s"],
           "predict_seconds": predict_s, "predict_pairs_per_s": len(test) / predict_s,
           # CPU seconds of this process: on a shared machine, wall-clock rates depend on the neighbours
           "train_cpu_seconds": meta["metrics"].get("train_cpu_seconds"),
           "train_pairs_per_cpu_s": (meta["metrics"].get("pairs_trained") or 0) / max(meta["metrics"].get("train_cpu_seconds") or 1e-9, 1e-9),
           "predict_cpu_seconds": predict_cpu, "predict_pairs_per_cpu_s": len(test) / max(predict_cpu, 1e-9),
           "load_average_1m": os.getloadavg()[0],
           "selective": selective(p_cal, y_test), "calibration": {k: cal_entry[k] for k in ("method", "params")},
           "ensemble_weights": meta["ensemble"], "epochs_run": meta["metrics"]["epochs_run"],
           "val_accuracy": meta["metrics"]["val_accuracy"], "val_accuracy_ensemble": meta["metrics"].get("val_accuracy_ensemble"),
           "n": {"train": counts["train"], "validation": counts["validation"], "calibration": counts["calibration"],
                 "test": len(test)}}

    # Ablation from the same run: the transformer alone, temperature-calibrated on the calibration split.
    cal_ex = [e for e in examples if e["split"] == "calibration"]
    y_cal = np.array([e["label"] == "A" for e in cal_ex], dtype=float)

    def tf_z(items):
        pr = [e["prompt"] for e in items]
        r = pred.model.score(pr + pr, [e["response_a"] for e in items] + [e["response_b"] for e in items],
                             batch_size=64)
        return r[:len(items)] - r[len(items):]
    if pred.weights.get("lexical"):
        z_test_tf = tf_z(test)
        ts = TemperatureScaler().fit(tf_z(cal_ex), y_cal)
        res["transformer_only"] = {"accuracy": M.accuracy(1 / (1 + np.exp(-z_test_tf)), y_test),
                                   "ece_after": M.ece(ts.predict_prob_a(z_test_tf), y_test)}

    # Baselines in the same run.
    la = np.array([len(p["response_a"]) for p in test])
    lb = np.array([len(p["response_b"]) for p in test])
    p_len = np.where(la > lb, 1.0, np.where(la < lb, 0.0, 0.5))
    train_ex = [e for e in examples if e["split"] in ("train", "validation")]
    t1 = time.perf_counter()
    lex = LexicalReward().fit([e["response_a"] for e in train_ex], [e["response_b"] for e in train_ex],
                              [1.0 if e["label"] == "A" else 0.0 for e in train_ex])
    lex_fit_s = time.perf_counter() - t1
    z_cal = lex.reward([e["response_a"] for e in cal_ex]) - lex.reward([e["response_b"] for e in cal_ex])
    t2 = time.perf_counter()
    z_lex = lex.reward([p["response_a"] for p in test]) - lex.reward([p["response_b"] for p in test])
    lex_pred_s = time.perf_counter() - t2
    p_lex_raw = 1 / (1 + np.exp(-z_lex))
    p_lex = TemperatureScaler().fit(z_cal, y_cal).predict_prob_a(z_lex)
    res["baselines"] = {
        "length": {"accuracy": M.accuracy(p_len, y_test), "ece": M.ece(p_len, y_test)},
        "tfidf": {"accuracy": M.accuracy(p_lex, y_test), "ece_before": M.ece(p_lex_raw, y_test),
                  "ece_after": M.ece(p_lex, y_test), "nll": M.nll(p_lex, y_test), "train_seconds": lex_fit_s,
                  "predict_pairs_per_s": len(test) / max(lex_pred_s, 1e-9)}}
    res["config"] = {k: v for k, v in vars(args).items()}
    res["checkpoint"] = str(folder)
    return res


def table(r: dict) -> str:
    f = lambda v, d=3: "-" if v is None else f"{v:.{d}f}"  # noqa: E731
    b = r["baselines"]
    rows = [("method", "test acc", "ECE before", "ECE after", "NLL", "train pairs/s", "predict pairs/s"),
            ("longer response wins", f(b["length"]["accuracy"]), f(b["length"]["ece"]), "-", "-", "-", "-"),
            ("TF-IDF + LR", f(b["tfidf"]["accuracy"]), f(b["tfidf"]["ece_before"]), f(b["tfidf"]["ece_after"]),
             f(b["tfidf"]["nll"]), "-", f(b["tfidf"]["predict_pairs_per_s"], 0))]
    if "transformer_only" in r:
        rows.append(("transformer alone (same run)", f(r["transformer_only"]["accuracy"]), "-",
                     f(r["transformer_only"]["ece_after"]), "-", "-", "-"))
    rows.append(("vote predictor", f(r["accuracy"]), f(r["ece_before"]), f(r["ece_after"]), f(r["nll"]),
                 f(r["train_pairs_per_s"], 1), f(r["predict_pairs_per_s"], 1)))
    w = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [" | ".join(c.ljust(w[i]) for i, c in enumerate(row)) for row in rows]
    lines.insert(1, "-+-".join("-" * x for x in w))
    sel = ", ".join(f"conf>={k}: coverage {f(v['coverage'])} acc {f(v['accuracy'])}" for k, v in r["selective"].items())
    fl = r["ece_noise_floor"]
    lines += ["", f"selective: {sel}",
              f"ECE noise floor on {fl['n']} pairs (a perfectly calibrated model with these probabilities): "
              f"mean {f(fl['mean'])}, 10-90% {f(fl['p10'])}-{f(fl['p90'])}",
              f"per CPU-second of this process: train {f(r['train_pairs_per_cpu_s'], 1)} pairs, predict "
              f"{f(r['predict_pairs_per_cpu_s'], 1)} pairs (load average {r['load_average_1m']:.1f} on {os.cpu_count()} cores)",
              f"Brier {f(r['brier'])}, train {r['train_seconds']:.0f}s, "
              f"n={r['n']}, calibration {r['calibration']}, ensemble {r['ensemble_weights']}"]
    return "\n".join(lines)


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    setup_logging(args)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    def body() -> int:
        res = run(args)
        print(table(res))
        if args.out:
            Path(args.out).write_text(json.dumps(res, indent=2, default=str) + "\n", encoding="utf-8")
            print(f"wrote {args.out}")
        return 0

    return run_cli(body, prog="bench_vote_predictor.py")


if __name__ == "__main__":
    sys.exit(main())
