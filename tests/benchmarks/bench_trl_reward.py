#!/usr/bin/env python3
"""TRL's RewardTrainer on the vote predictor benchmark's data: the speed and accuracy to beat.

    pip install --no-deps trl==1.16.0 datasets==5.2.0 dill==0.4.1 multiprocess==0.70.19 xxhash==4.1.0   # this script only
    python tests/benchmarks/bench_trl_reward.py --train ../shared/data/hh_harmless_dev.jsonl.gz --out trl.json

Same split as ``bench_vote_predictor.py`` (same seeds: test half by prompt, then train /
validation / calibration), same encoder (the shipped all-MiniLM-L6-v2 with a 1-logit
classification head), and the very same token sequences: each (prompt, response) is cut
by the vote predictor's truncation (prompt tail + response, ``--max-length``) and handed
to TRL pre-tokenised, so TRL drops no over-long pair and both trainers see equal inputs.
TRL fine-tunes every layer and drops dropout (its defaults); its default gradient
checkpointing is turned off unless ``--gradient-checkpointing`` (it saves memory, not time).
Time per pair is wall-clock on this machine.
Prints a table and writes JSON (train/predict pairs/s, test accuracy, ECE).
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

from tests.benchmarks.bench_vote_predictor import add_shared_args, load_split  # noqa: E402
from utils.cli import UserError, run_cli, setup_logging  # noqa: E402


EVAL_BATCH = 64  # pairs per predict batch


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__.split("\n", 2)[2])
    add_shared_args(p)
    p.add_argument("--gradient-checkpointing", action="store_true",
                   help="keep RewardConfig's default gradient checkpointing (off here: it only saves memory, "
                        "and costs a second forward pass per step)")
    return p


def run(args) -> dict:
    try:
        from datasets import Dataset
        from trl import RewardConfig, RewardTrainer
    except ImportError as exc:
        raise UserError(f"this benchmark needs TRL ({exc}); pip install --no-deps trl==1.16.0 datasets==5.2.0 "
                        "dill==0.4.1 multiprocess==0.70.19 xxhash==4.1.0") from None
    import numpy as np
    import torch
    from transformers import AutoModelForSequenceClassification

    from utils.model_files import minilm_path
    from utils.vote_predictor import metrics as M
    from utils.vote_predictor.model import RewardModel

    torch.set_num_threads(args.threads)
    pool, split, test = load_split(args)
    train = [p for p in pool if split[p["prompt_id"]] == "train"]
    # Trainer.predict trims a short last batch to its *row* count, but each row here is a
    # pair that yields two rewards: the last batch's rejected side would be lost. Keep whole
    # batches only (576 test pairs = 9 x 64: nothing dropped on the shared file).
    test = test[:len(test) - len(test) % EVAL_BATCH] or test
    cutter = RewardModel.from_base(minilm_path(), args.max_length, args.max_prompt_tokens)

    def rows(pairs):
        chosen = [p["response_a"] if p["human_choice"] == "A" else p["response_b"] for p in pairs]
        rejected = [p["response_b"] if p["human_choice"] == "A" else p["response_a"] for p in pairs]
        prompts = [p["prompt"] for p in pairs]
        return Dataset.from_dict({"chosen_ids": cutter.encode(prompts, chosen),
                                  "rejected_ids": cutter.encode(prompts, rejected)})

    train_ds, test_ds = rows(train), rows(test)
    model = AutoModelForSequenceClassification.from_pretrained(minilm_path(), num_labels=1)
    tok = cutter.tokenizer
    model.config.pad_token_id = tok.pad_token_id
    with tempfile.TemporaryDirectory(prefix="bench_trl_") as out:
        cfg = RewardConfig(output_dir=out, num_train_epochs=args.epochs, learning_rate=args.lr,
                           per_device_train_batch_size=args.batch_size, per_device_eval_batch_size=EVAL_BATCH,
                           max_length=args.max_length, save_strategy="no", eval_strategy="no", report_to=[],
                           logging_steps=10_000, use_cpu=True, bf16=False, seed=args.seed,
                           disable_tqdm=args.quiet, dataloader_num_workers=0,
                           gradient_checkpointing=args.gradient_checkpointing)
        trainer = RewardTrainer(model=model, args=cfg, train_dataset=train_ds, processing_class=tok)
        t = time.perf_counter()
        tr = trainer.train()
        train_s = time.perf_counter() - t
        t = time.perf_counter()
        pred = trainer.predict(test_ds)
        predict_s = time.perf_counter() - t
    # Its collator stacks each batch as [chosen x b, rejected x b]; predict concatenates the batches.
    r = np.asarray(pred.predictions, dtype=float).reshape(-1)
    if len(r) != 2 * len(test):
        raise RuntimeError(f"TRL predict returned {len(r)} rewards for {len(test)} pairs")
    b = min(EVAL_BATCH, len(test))
    z = np.concatenate([r[pos:pos + b] - r[pos + b:pos + 2 * b] for pos in range(0, len(r), 2 * b)])
    p_chosen = 1 / (1 + np.exp(-z))
    y = np.ones(len(z))
    return {"trainer": "trl.RewardTrainer", "trl_version": __import__("trl").__version__,
            "train_pairs": len(train), "test_pairs": len(test), "epochs": args.epochs,
            "train_seconds": train_s, "train_pairs_per_s": len(train) * args.epochs / train_s,
            "trl_train_samples_per_second": tr.metrics.get("train_samples_per_second"),
            "predict_seconds": predict_s, "predict_pairs_per_s": len(test) / predict_s,
            "accuracy": M.accuracy(p_chosen, y), "ece_raw": M.ece(np.concatenate([p_chosen, 1 - p_chosen]),
                                                                 np.concatenate([y, 1 - y])),
            "load_average_1m": os.getloadavg()[0], "config": vars(args)}


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    setup_logging(args)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    def body() -> int:
        r = run(args)
        print(f"TRL {r['trl_version']} RewardTrainer, MiniLM, {r['train_pairs']} train / {r['test_pairs']} test pairs, "
              f"{r['epochs']} epochs, load average {r['load_average_1m']:.1f}")
        print(f"  train {r['train_seconds']:.0f}s = {r['train_pairs_per_s']:.1f} pairs/s; "
              f"predict {r['predict_pairs_per_s']:.1f} pairs/s; test accuracy {r['accuracy']:.3f}, "
              f"ECE (raw) {r['ece_raw']:.3f}")
        if args.out:
            Path(args.out).write_text(json.dumps(r, indent=2, default=str) + "\n", encoding="utf-8")
            print(f"wrote {args.out}")
        return 0

    return run_cli(body, prog="bench_trl_reward.py")


if __name__ == "__main__":
    sys.exit(main())
