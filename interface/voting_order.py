"""Which pairs the voting UI shows, and in what order.

Unvoted pairs come first (pairs nobody has voted on, then pairs only others voted on,
which feed inter-annotator agreement); pairs this annotator already voted on are left
out unless asked for, so a rerun resumes where the last session stopped. Within each
group the order is the file order, a seeded shuffle, or -- for ``uncertainty`` -- the
pairs the vote predictor is least sure about first.
"""
from __future__ import annotations

import logging
import random
from typing import Callable

from interface.vote_log import voted_pair_ids
from utils.paths import Paths
from utils.store import read_records

log = logging.getLogger("rlhf_loop.voting")

ORDERS = ("file", "random", "uncertainty")


def latest_predictions(paths: Paths) -> dict[str, dict]:
    """pair id -> its newest prediction record from data/predictions.jsonl."""
    out: dict[str, dict] = {}
    for rec in read_records(paths.predictions, "prediction"):
        old = out.get(rec["pair_id"])
        if old is None or rec["created_at"] >= old["created_at"]:
            out[rec["pair_id"]] = rec
    return out


def _predict_missing(pairs: list[dict], paths: Paths, notice: Callable[[str], None]) -> dict[str, float]:
    """P(A) from the checkpoint for pairs without a stored prediction (empty on failure)."""
    if not pairs:
        return {}
    if not paths.checkpoint.exists():
        notice(f"{len(pairs)} pair(s) have no prediction and there is no checkpoint at "
               f"{paths.checkpoint}; they come after the predicted ones, in file order")
        return {}
    from utils.cli import UserError

    try:
        from utils.vote_predictor.predict import predict_pairs

        preds = predict_pairs(pairs, paths=paths)
    except (UserError, ImportError) as exc:
        notice(f"cannot score pairs for --order uncertainty ({exc}); using file order for "
               f"{len(pairs)} unpredicted pair(s)")
        return {}
    if isinstance(preds, dict):
        preds = list(preds.values())
    probs = {}
    for pred, pair in zip(preds or [], pairs):
        if isinstance(pred, dict) and "prob_a" in pred:
            probs[pred.get("pair_id", pair["id"])] = float(pred["prob_a"])
        elif isinstance(pred, (int, float)):
            probs[pair["id"]] = float(pred)
    return probs


def uncertainty_scores(pairs: list[dict], paths: Paths, notice: Callable[[str], None]) -> dict[str, float]:
    """pair id -> P(A): stored predictions first, the checkpoint for the rest when there is one."""
    stored = latest_predictions(paths)
    probs = {pid: float(rec["prob_a"]) for pid, rec in stored.items()}
    missing = [p for p in pairs if p["id"] not in probs]
    if missing and stored:
        log.debug("%d pair(s) lack a stored prediction", len(missing))
    probs.update(_predict_missing(missing, paths, notice))
    if not probs:
        notice("no predictions available: showing pairs in file order")
    return probs


def uncertainty_order(pairs: list[dict], probs: dict[str, float]) -> list[dict]:
    """Least certain first (|P(A) - 0.5| ascending); unscored pairs keep file order, last."""
    scored = sorted((p for p in pairs if p["id"] in probs), key=lambda p: abs(probs[p["id"]] - 0.5))
    return scored + [p for p in pairs if p["id"] not in probs]


def order_pairs(pairs: list[dict], votes: list[dict], annotator: str, order: str, paths: Paths,
                seed: int | None = None, include_voted: bool = False, limit: int = 0,
                notice: Callable[[str], None] = log.info) -> list[dict]:
    """The queue of pairs to show (``limit`` > 0 caps it)."""
    if order not in ORDERS:
        from utils.cli import UserError

        raise UserError(f"--order {order!r} is not known; use one of: {', '.join(ORDERS)}")
    seen, mine, anyone = set(), voted_pair_ids(votes, annotator), voted_pair_ids(votes)
    unique = []
    for p in pairs:  # the same pair listed twice is voted once
        if p["id"] not in seen:
            seen.add(p["id"])
            unique.append(p)
    groups = [[p for p in unique if p["id"] not in anyone],
              [p for p in unique if p["id"] in anyone and p["id"] not in mine]]
    if include_voted:
        groups.append([p for p in unique if p["id"] in mine])
    if order == "random":
        rng = random.Random(seed)
        for g in groups:
            rng.shuffle(g)
    elif order == "uncertainty":
        probs = uncertainty_scores([p for g in groups for p in g], paths, notice)
        groups = [uncertainty_order(g, probs) for g in groups]
    queue = [p for g in groups for p in g]
    return queue[:limit] if limit and limit > 0 else queue
