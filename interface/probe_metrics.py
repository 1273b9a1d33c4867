"""The numbers of the evaluation probe, computed from plain lists (no files, no plots).

A *row* is one human vote on a pair that also has a model prediction:
``{"pair_id", "annotator", "prob_a" (model P(A)), "label_a" (1 = human chose A, 0 = B),
"domain", "len_diff" (chars of A minus chars of B), "human_confidence" (1-5 or None)}``.
Ties and "both bad" have no A/B label and are left out of the accuracy rows.
"""
from __future__ import annotations

import math
import warnings
from collections import defaultdict
from typing import Callable, Iterable

import numpy as np

from utils.vote_predictor import metrics as M

CONF_EDGES = (0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
LENGTH_EDGES = (0, 50, 200, 500)  # |chars of A - chars of B|
CATEGORIES = ("A", "B", "tie", "both_bad")


def finite(obj):
    """JSON-safe copy: NaN/inf -> None, numpy scalars -> Python numbers."""
    if isinstance(obj, dict):
        return {str(k): finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [finite(v) for v in obj]
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return float(obj) if math.isfinite(obj) else None
    return obj


def _arrays(rows: list[dict]) -> tuple[np.ndarray, np.ndarray]:
    return (np.array([r["prob_a"] for r in rows], dtype=float),
            np.array([r["label_a"] for r in rows], dtype=float))


def overall(rows: list[dict], n_bins: int = 10) -> dict:
    """accuracy, ece, mce, brier, nll, mean_confidence of the model against the humans."""
    p, y = _arrays(rows)
    return finite(M.summary(p, y, n_bins))


def group_accuracy(rows: Iterable[dict], key: Callable[[dict], str | None]) -> dict[str, dict]:
    """key value -> {n, accuracy, mean_confidence}; rows whose key is None are left out."""
    groups: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        k = key(r)
        if k is not None:
            groups[str(k)].append(r)
    out = {}
    for k in sorted(groups):
        p, y = _arrays(groups[k])
        out[k] = finite({"n": int(p.size), "accuracy": M.accuracy(p, y),
                         "mean_confidence": float(np.mean(np.maximum(p, 1 - p)))})
    return out


def confidence_bucket(prob_a: float) -> str:
    """Model top-label confidence bucket, e.g. '0.7-0.8' (1.0 goes into '0.9-1.0')."""
    conf = max(prob_a, 1 - prob_a)
    for lo, hi in zip(CONF_EDGES, CONF_EDGES[1:]):
        if conf < hi or hi == CONF_EDGES[-1]:
            return f"{lo:.1f}-{hi:.1f}"
    raise AssertionError("unreachable")


def length_bucket(len_diff: float | None) -> str | None:
    """Bucket of |len(A) - len(B)| in characters: '0-50', '50-200', '200-500', '>=500'."""
    if len_diff is None:
        return None
    for lo, hi in zip(LENGTH_EDGES, LENGTH_EDGES[1:]):
        if abs(len_diff) < hi:
            return f"{lo}-{hi}"
    return f">={LENGTH_EDGES[-1]}"


def length_bias(rows: list[dict]) -> dict:
    """How often humans and model prefer the longer response (pairs of unequal length)."""
    rows = [r for r in rows if r.get("len_diff")]
    if not rows:
        return {"n": 0, "human_prefers_longer": None, "model_prefers_longer": None}
    a_longer = np.array([r["len_diff"] > 0 for r in rows])
    human_a = np.array([r["label_a"] == 1 for r in rows])
    model_a = np.array([r["prob_a"] >= 0.5 for r in rows])
    return finite({"n": len(rows), "human_prefers_longer": float(np.mean(human_a == a_longer)),
                   "model_prefers_longer": float(np.mean(model_a == a_longer))})


def self_consistency(votes: list[dict]) -> dict:
    """Agreement of each annotator with their own earlier vote on gold repeats.

    ``votes``: effective votes (retractions applied). A repeat counts when the vote it
    repeats (``repeat_of``) is still there; agreement = same choice (in pair terms, so
    the swapped display does not matter).
    """
    by_id = {v["id"]: v for v in votes}
    per: dict[str, list[bool]] = defaultdict(list)
    for v in votes:
        orig = by_id.get(v.get("repeat_of") or "")
        if orig is not None:
            per[v["annotator"]].append(v["choice"] == orig["choice"])
    allv = [x for xs in per.values() for x in xs]
    return finite({"n_repeats": len(allv), "agreement": float(np.mean(allv)) if allv else None,
                   "by_annotator": {a: {"n": len(xs), "agreement": float(np.mean(xs))} for a, xs in sorted(per.items())}})


def label_matrix(votes: list[dict]) -> tuple[list[str], list[str], np.ndarray]:
    """(annotators, pair ids, matrix annotators x pairs of category codes, nan = no vote).

    One label per (annotator, pair): the annotator's latest non-repeat vote. Only pairs
    voted by at least two annotators are kept.
    """
    last: dict[tuple[str, str], str] = {}
    for v in votes:
        if not v.get("repeat_of") and v.get("choice") in CATEGORIES:
            last[(v["annotator"], v["pair_id"])] = v["choice"]
    per_pair: dict[str, set] = defaultdict(set)
    for (a, pid) in last:
        per_pair[pid].add(a)
    pair_ids = sorted(pid for pid, anns in per_pair.items() if len(anns) >= 2)
    annotators = sorted({a for pid in pair_ids for a in per_pair[pid]})
    mat = np.full((len(annotators), len(pair_ids)), np.nan)
    for i, a in enumerate(annotators):
        for j, pid in enumerate(pair_ids):
            if (a, pid) in last:
                mat[i, j] = CATEGORIES.index(last[(a, pid)])
    return annotators, pair_ids, mat


def inter_annotator(votes: list[dict]) -> dict:
    """Cohen's kappa (exactly two annotators) and Krippendorff's alpha (two or more, nominal)."""
    annotators, pair_ids, mat = label_matrix(votes)
    out = {"n_pairs": len(pair_ids), "annotators": annotators, "method": None,
           "cohen_kappa": None, "krippendorff_alpha": None, "raw_agreement": None, "note": None}
    if not pair_ids:
        out["note"] = "no pair was voted by two or more annotators"
        return out
    both = ~np.isnan(mat)
    agree = [len(set(mat[both[:, j], j])) == 1 for j in range(mat.shape[1])]
    out["raw_agreement"] = float(np.mean(agree))
    if len(set(mat[both].tolist())) < 2:
        out["note"] = "every overlapping vote has the same label: chance-corrected agreement is undefined"
        return out
    import krippendorff

    out["krippendorff_alpha"] = float(krippendorff.alpha(reliability_data=mat, level_of_measurement="nominal"))
    out["method"] = "krippendorff_alpha"
    if len(annotators) == 2:
        from sklearn.metrics import cohen_kappa_score

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            k = cohen_kappa_score(mat[0].astype(int), mat[1].astype(int))
        out["cohen_kappa"] = float(k)
        out["method"] = "cohen_kappa"
    return finite(out)


def swap_deviation(p_ab: Iterable[float], p_ba: Iterable[float]) -> dict:
    """Order-consistency: P(A>B) scored as (A, B) plus P(B>A) scored as (B, A) should be 1."""
    dev = np.abs(np.asarray(list(p_ab), float) + np.asarray(list(p_ba), float) - 1.0)
    if dev.size == 0:
        return {"n": 0, "max_abs_dev": None, "mean_abs_dev": None}
    return finite({"n": int(dev.size), "max_abs_dev": float(dev.max()), "mean_abs_dev": float(dev.mean())})
