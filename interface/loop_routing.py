"""Routing maths of the RLHF loop: who labels which pair, and how good the auto-labels are.

Pure functions over lists of dicts and numbers: no file access, no model, no printing.

* :func:`route_pairs` sends a pair to a human when the calibrated confidence is below the
  threshold (or there is no prediction), auto-labels the rest, and still sends a seeded
  random *audit* share of the confident pairs to a human so the auto-labels keep being
  checked against people.
* :func:`audit_accuracy` / :func:`estimated_auto_accuracy` / :func:`random_routing_accuracy`
  turn routes, predictions and human choices into the per-cycle numbers.
"""
from __future__ import annotations

import math
import random
from typing import Iterable

HUMAN, AUDIT, AUTO = "human", "audit", "auto"
TO_PEOPLE = (HUMAN, AUDIT)


def route_pairs(pair_ids: list[str], predictions: dict[str, dict], threshold: float, audit_ratio: float,
                seed: int | str = 0) -> dict[str, str]:
    """pair id -> ``human`` | ``audit`` | ``auto``.

    ``predictions`` maps pair id -> prediction record (``confidence`` = calibrated
    max(p, 1-p)). Pairs with no prediction or confidence < ``threshold`` go to a human.
    Of the confident pairs, ``round(audit_ratio * n)`` (at least one when the ratio is > 0)
    are drawn with a seeded RNG as the audit sample; the draw depends only on the seed
    and the sorted pair ids, so a resumed cycle routes exactly as before.
    """
    if not 0.0 <= audit_ratio <= 1.0:
        raise ValueError(f"audit ratio must be in [0, 1], got {audit_ratio}")
    routes = {}
    confident = []
    for pid in pair_ids:
        pred = predictions.get(pid)
        if pred is None or float(pred["confidence"]) < threshold:
            routes[pid] = HUMAN
        else:
            routes[pid] = AUTO
            confident.append(pid)
    n_audit = audit_count(len(confident), audit_ratio)
    for pid in random.Random(f"route:{seed}").sample(sorted(confident), n_audit):
        routes[pid] = AUDIT
    return routes


def audit_count(n_confident: int, ratio: float) -> int:
    """How many confident pairs are audited: round(ratio * n), at least 1 when ratio > 0."""
    if n_confident == 0 or ratio <= 0:
        return 0
    return min(n_confident, max(1, int(math.floor(ratio * n_confident + 0.5))))


def random_routes(pair_ids: list[str], n_people: int, seed: int | str = 0) -> dict[str, str]:
    """The random-routing baseline: ``n_people`` pairs drawn at random go to people."""
    chosen = set(random.Random(f"random:{seed}").sample(sorted(pair_ids), min(n_people, len(pair_ids))))
    return {pid: (HUMAN if pid in chosen else AUTO) for pid in pair_ids}


def _agrees(pred: dict, choice: str) -> bool:
    return pred["choice"] == choice


def audit_accuracy(routes: dict[str, str], predictions: dict[str, dict],
                   human_choice: dict[str, str]) -> tuple[float | None, int]:
    """(share of audited pairs where the model's pick equals the human's, audited A/B votes).

    Only ``audit`` pairs count: they are the confident ones, exactly those that would
    otherwise have been auto-labelled. Ties and both-bad votes are left out.
    """
    hits = [_agrees(predictions[p], human_choice[p]) for p, r in routes.items()
            if r == AUDIT and p in predictions and human_choice.get(p) in ("A", "B")]
    return (sum(hits) / len(hits) if hits else None), len(hits)


def estimated_auto_accuracy(routes: dict[str, str], predictions: dict[str, dict]) -> float | None:
    """Mean calibrated confidence of the auto-labelled pairs = their expected accuracy."""
    conf = [float(predictions[p]["confidence"]) for p, r in routes.items() if r == AUTO and p in predictions]
    return sum(conf) / len(conf) if conf else None


def label_accuracy(pair_ids: Iterable[str], predictions: dict[str, dict],
                   truth: dict[str, str]) -> tuple[float | None, int]:
    """(accuracy of the model's picks on ``pair_ids`` against ``truth``, pairs scored)."""
    hits = [_agrees(predictions[p], truth[p]) for p in pair_ids if p in predictions and truth.get(p) in ("A", "B")]
    return (sum(hits) / len(hits) if hits else None), len(hits)


def random_routing_accuracy(pair_ids: list[str], predictions: dict[str, dict], truth: dict[str, str]) -> float | None:
    """Expected auto-label accuracy when the same number of pairs goes to people at random.

    Under random routing every pair is equally likely to be auto-labelled, so the
    expectation is exactly the model's accuracy over all the cycle's pairs.
    """
    return label_accuracy(pair_ids, predictions, truth)[0]


def cycle_counts(routes: dict[str, str]) -> dict[str, int]:
    return {"pairs": len(routes), "to_human": sum(r in TO_PEOPLE for r in routes.values()),
            "audit": sum(r == AUDIT for r in routes.values()), "auto_labelled": sum(r == AUTO for r in routes.values())}


def fmt(x, pct: bool = True) -> str:
    if x is None:
        return "-"
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, float):
        return f"{100 * x:.1f}%" if pct else f"{x:.3f}"
    return str(x)


def summary_table(rec: dict) -> str:
    """The per-cycle summary printed after each cycle (one history record)."""
    rows = [("pairs", fmt(rec["pairs"])),
            ("sent to humans", f"{rec['to_human']} ({rec.get('audit', 0)} audit)"),
            ("auto-labelled", fmt(rec["auto_labelled"])),
            ("audit accuracy (measured)",
             fmt(rec["audit_accuracy"]) + (f" on {rec['audit_n']} votes" if rec.get("audit_n") else "")),
            ("auto-label accuracy (estimated)", fmt(rec["est_auto_accuracy"])),
            ("retrained", fmt(rec["retrained"])),
            ("model version", rec.get("model_version") or "none yet"),
            ("drift alerts", fmt(rec["drift_alerts"]))]
    width = max(len(k) for k, _ in rows)
    title = f"cycle {rec['cycle']} summary"
    line = "-" * (width + 26)
    return "\n".join([title, line] + [f"{k.ljust(width)}  {v}" for k, v in rows] + [line])
