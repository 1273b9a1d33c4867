#!/usr/bin/env python3
"""Predictions + the human votes that came after them -> data/vote_predictor_retrain_data.jsonl.

    python utils/vote_predictor/retrain_data_prep.py
    python utils/vote_predictor/retrain_data_prep.py --replay-ratio 2 --error-weight 3
"""
from __future__ import annotations

import argparse
import logging
import math
import random
import sys
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

if __package__ in (None, ""):  # run as `python path/to/script.py`: make the repo root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from utils.cli import UserError, config_from_args, field, run_cli, script_parser, setup_logging
from utils.paths import Paths

log = logging.getLogger("rlhf_loop.vote_predictor.retrain_data_prep")


@dataclass
class RetrainDataConfig:
    model_version: str | None = field(None, help="only predictions of this version (default: all)")
    include_judge: bool = field(False, help="also count LLM-judge votes as ground truth")
    margin: float = field(0.65, help="correct predictions with confidence below this are 'low margin'")
    high_loss: float = field(0.9, help="correct predictions whose loss -log p(human choice) exceeds this (nats)")
    error_weight: float = field(2.0, help="weight of pairs the model got wrong")
    hard_weight: float = field(1.5, help="weight of high-loss / low-margin pairs")
    keep_easy: bool = field(False, help="also keep confident correct predictions (weight 1)")
    replay_ratio: float = field(1.0, help="replayed old training examples per selected example")
    replay_weight: float = field(1.0, help="weight of replayed examples")
    seed: int = field(0, help="seed of the replay sample")


def _p_human(pred: dict, vote: dict) -> float | None:
    """Predicted probability of the side the human chose, in the prediction's orientation."""
    a, b = pred.get("completion_a_id"), pred.get("completion_b_id")
    if a is None or b is None or (a, b) == (vote["completion_a_id"], vote["completion_b_id"]):
        same = True
    elif (a, b) == (vote["completion_b_id"], vote["completion_a_id"]):
        same = False
    else:
        return None
    chose_pred_a = (vote["choice"] == "A") == same
    return pred["prob_a"] if chose_pred_a else 1.0 - pred["prob_a"]


def select_examples(preds: list[dict], votes: list[dict], cfg: RetrainDataConfig) -> list[tuple[dict, dict, str, float, float]]:
    """(vote, prediction, reason, weight, loss) for each vote cast after a prediction of its pair."""
    by_pair: dict[str, list[dict]] = {}
    for p in preds:
        if cfg.model_version is None or p["model_version"] == cfg.model_version:
            by_pair.setdefault(p["pair_id"], []).append(p)
    out = []
    for v in votes:
        if v["choice"] not in ("A", "B"):
            continue
        earlier = [p for p in by_pair.get(v["pair_id"], []) if p["created_at"] <= v["created_at"]]
        if not earlier:
            continue
        pred = max(earlier, key=lambda p: p["created_at"])
        ph = _p_human(pred, v)
        if ph is None:
            continue
        loss = -math.log(max(ph, 1e-9))
        if ph < 0.5:
            reason, w = "error", cfg.error_weight
        elif loss > cfg.high_loss:
            reason, w = "high_loss", cfg.hard_weight
        elif max(ph, 1 - ph) < cfg.margin:
            reason, w = "low_margin", cfg.hard_weight
        elif cfg.keep_easy:
            reason, w = "easy", 1.0
        else:
            continue
        out.append((v, pred, reason, w, loss))
    return out


def prepare_retrain_data(cfg: RetrainDataConfig, paths: Paths) -> dict:
    """Write data/vote_predictor_retrain_data.jsonl atomically; return the summary."""
    from utils.pairs import load_pairs
    from utils.store import content_id, file_sha256, read_records, utc_now, write_jsonl_atomic
    from utils.vote_predictor.data_prep import effective, previous_splits, read_votes_with_lines, resolve_texts

    preds = read_records(paths.predictions, "prediction")
    if not preds:
        raise UserError(f"no predictions in {paths.predictions}; run python utils/vote_predictor/predict.py first")
    kinds = {"human"} | ({"judge"} if cfg.include_judge else set())
    votes = [v for _, v in effective(read_votes_with_lines(paths.votes)) if v["annotator_type"] in kinds]
    # Votes on validation/calibration prompts stay out of fine-tuning, so the next
    # checkpoint is still early-stopped and calibrated on prompts it never trained on.
    held_out = {pid for pid, split in previous_splits(paths.training_data).items() if split != "train"}
    n_held = sum(v["prompt_id"] in held_out for v in votes)
    votes = [v for v in votes if v["prompt_id"] not in held_out]
    chosen = select_examples(preds, votes, cfg)
    pairs_by_id = load_pairs(paths)
    now = utc_now()
    records, missing = [], 0
    for v, pred, reason, w, loss in chosen:
        texts = resolve_texts(v, pairs_by_id)
        if texts is None:
            log.warning("%s: vote %s refers to pair %s, missing from %s; skipped", paths.votes, v["id"],
                        v["pair_id"], paths.pairs)
            missing += 1
            continue
        prompt, ra, rb = texts
        records.append({"id": content_id("rt", v["id"], pred["id"]), "vote_id": v["id"], "prompt_id": v["prompt_id"],
                        "pair_id": v["pair_id"], "prompt": prompt, "response_a": ra, "response_b": rb,
                        "label": v["choice"], "split": "train", "model": "retrain_data_prep", "created_at": now,
                        "weight": float(w), "annotator": v["annotator"], "source": v.get("source") or "human",
                        "reason": reason, "prediction_id": pred["id"], "prediction_version": pred["model_version"],
                        "loss": loss})
    if not records:
        raise UserError(f"no human vote in {paths.votes} came after a prediction it disagrees with or was unsure "
                        f"about ({len(votes)} votes, {len(preds)} predictions); vote on predicted pairs first, "
                        "or use --keep-easy")
    old = [e for e in read_records(paths.training_data, "training_example") if e["split"] == "train"]
    n_replay = min(len(old), int(round(cfg.replay_ratio * len(records))))
    for e in random.Random(cfg.seed).sample(old, n_replay):
        records.append(dict(e, id=content_id("rt", e["id"], "replay"), model="retrain_data_prep", created_at=now,
                            weight=cfg.replay_weight, reason="replay", split="train"))
    write_jsonl_atomic(paths.retrain_data, records, "training_example")
    return {"path": str(paths.retrain_data), "sha256": file_sha256(paths.retrain_data), "n": len(records),
            "reasons": dict(Counter(r["reason"] for r in records)), "votes_considered": len(votes),
            "predictions": len(preds), "missing_pairs": missing, "held_out_votes": n_held, "config": asdict(cfg)}


def build_parser() -> argparse.ArgumentParser:
    return script_parser(__doc__, RetrainDataConfig)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    setup_logging(args)

    def body() -> int:
        cfg = config_from_args(RetrainDataConfig, args)
        s = prepare_retrain_data(cfg, Paths.from_args(args))
        print(f"wrote {s['n']} examples to {s['path']}: " + ", ".join(f"{k} {v}" for k, v in sorted(s["reasons"].items())))
        print("next: python utils/vote_predictor/train.py --retrain")
        return 0

    return run_cli(body)


if __name__ == "__main__":
    sys.exit(main())
