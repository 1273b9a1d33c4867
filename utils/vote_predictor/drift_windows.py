"""Per-window metrics and the window-vs-reference tests of the drift monitor.

A :class:`Group` holds the (deduplicated) predictions of one window or of the reference;
:func:`window_metrics` summarises it and :func:`window_tests` compares it with the
reference, returning one ``(statistic, p_value)`` per metric.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from utils.vote_predictor import drift_stats as st
from utils.vote_predictor import metrics
from utils.vote_predictor.drift_data import VOTE_CHOICES

# metric name -> alert kind; the order is the order of the report's tests
TESTED_METRICS = {
    "accuracy": "accuracy",                  # one-sided two-proportion z-test (drop)
    "accuracy_2w": "accuracy",               # the same on this window pooled with the one before
    "calibration_gap": "calibration",        # z-test on (correct - confidence)
    "confidence": "prediction",              # two-sample KS
    "reward": "prediction",                  # two-sample KS on (reward_a + reward_b) / 2
    "predicted_choice_share": "prediction",  # chi-square A/B
    "vote_choice_share": "data",             # chi-square A/B/tie/both_bad of human votes
    "response_length": "data",               # two-sample KS
    "cluster_share": "data",                 # chi-square over semantic clusters
    "domain_share": "data",                  # chi-square over prompt domains
}


@dataclass
class Group:
    """Predictions of one window (or of the reference), one per pair, all arrays (n,)."""
    t: np.ndarray
    prob_a: np.ndarray
    raw_prob_a: np.ndarray
    reward: np.ndarray
    label_a: np.ndarray     # nan when no human/import label
    resp_len: np.ndarray
    cluster: np.ndarray     # -1 unassigned
    domain: np.ndarray      # -1 unknown
    votes: np.ndarray       # (n, 4) human/import vote counts
    version: np.ndarray
    n_raw: int              # predictions before per-pair deduplication

    @property
    def conf(self) -> np.ndarray:
        return np.maximum(self.prob_a, 1 - self.prob_a)

    @property
    def labelled(self) -> np.ndarray:
        return np.isfinite(self.label_a)

    @property
    def correct(self) -> np.ndarray:
        """(n_labelled,) 1.0 where the predicted side matches the human majority."""
        m = self.labelled
        return ((self.prob_a[m] >= 0.5) == (self.label_a[m] == 1)).astype(float)


def _nan(x) -> float | None:
    """JSON-friendly float: nan -> None."""
    x = float(x)
    return None if not np.isfinite(x) else x


def _counts(codes: np.ndarray, k: int) -> np.ndarray:
    codes = codes[codes >= 0]
    return np.bincount(codes, minlength=k)[:k] if k else np.zeros(0, dtype=np.int64)


def window_metrics(g: Group, n_clusters: int, domains: list[str], versions: list[str], ref: Group | None,
                   n_bins: int = 15) -> dict:
    """Every per-window number of the report (JSON-ready)."""
    m = g.labelled
    n_lab = int(m.sum())
    correct = g.correct
    k = float(correct.sum())
    conf = g.conf
    lo, hi = st.wilson_interval(k, n_lab)
    acc = k / n_lab if n_lab else float("nan")
    use_raw = n_lab > 0 and np.all(np.isfinite(g.raw_prob_a[m]))
    votes = g.votes.sum(axis=0)
    n_votes = int(votes.sum())
    vc = np.bincount(g.version, minlength=len(versions))
    return {
        "n_predictions": int(g.n_raw),
        "n_pairs": int(g.t.size),
        "n_labelled": n_lab,
        "accuracy": _nan(acc),
        "accuracy_ci": [_nan(lo), _nan(hi)],
        "mean_confidence": _nan(conf.mean()) if conf.size else None,
        # label-free estimate: what a calibrated model expects on pairs nobody voted on
        "expected_accuracy_unlabelled": _nan(conf[~m].mean()) if (~m).any() else None,
        "n_unlabelled": int((~m).sum()),
        "expected_accuracy_labelled": _nan(conf[m].mean()) if n_lab else None,
        "calibration_gap": _nan(acc - conf[m].mean()) if n_lab else None,
        "ece": _nan(metrics.ece(g.prob_a[m], g.label_a[m], n_bins)) if n_lab else None,
        "temperature": _nan(st.fit_temperature((g.raw_prob_a if use_raw else g.prob_a)[m], g.label_a[m])) if n_lab >= 2 else None,
        "temperature_source": "raw_prob_a" if use_raw else "prob_a",
        "predicted_share_a": _nan((g.prob_a >= 0.5).mean()) if g.t.size else None,
        "n_votes": n_votes,
        "vote_counts": {c: int(v) for c, v in zip(VOTE_CHOICES, votes)},
        "vote_shares": {c: (_nan(v / n_votes) if n_votes else None) for c, v in zip(VOTE_CHOICES, votes)},
        "mean_reward": _nan(np.mean(g.reward)) if g.t.size else None,
        "mean_response_length": _nan(np.nanmean(g.resp_len)) if np.isfinite(g.resp_len).any() else None,
        "psi_confidence": _nan(st.psi(ref.conf, conf)) if ref is not None else None,
        "cluster_counts": _counts(g.cluster, n_clusters).tolist(),
        "domain_counts": {d: int(c) for d, c in zip(domains, _counts(g.domain, len(domains)))},
        "model_versions": {versions[i]: int(c) for i, c in enumerate(vc) if c},
    }


def window_tests(ref: Group, g: Group, n_clusters: int, n_domains: int, min_n: int = 20,
                 prev: Group | None = None) -> dict:
    """metric -> (statistic, p_value) for ``g`` against ``ref``; (nan, nan) = not testable.

    ``prev`` (the window before, when it is not the reference) adds a pooled two-window
    accuracy test: a drop too small to prove in one window is caught in the next.
    """
    out = {}
    cr, c = ref.correct, g.correct
    out["accuracy"] = st.proportion_drop_test(cr.sum(), cr.size, c.sum(), c.size, min_n)
    if prev is not None:
        c2 = np.concatenate([prev.correct, c])
        out["accuracy_2w"] = st.proportion_drop_test(cr.sum(), cr.size, c2.sum(), c2.size, min_n)
    else:
        out["accuracy_2w"] = st.NAN2
    out["calibration_gap"] = st.calibration_gap_test(cr, ref.conf[ref.labelled], c, g.conf[g.labelled], min_n)
    out["confidence"] = st.ks_test(ref.conf, g.conf, min_n)
    out["reward"] = st.ks_test(ref.reward, g.reward, min_n)
    pa_ref, pa = (ref.prob_a >= 0.5), (g.prob_a >= 0.5)
    out["predicted_choice_share"] = st.chi_square_test([pa_ref.sum(), (~pa_ref).sum()], [pa.sum(), (~pa).sum()], min_n)
    out["vote_choice_share"] = st.chi_square_test(ref.votes.sum(axis=0), g.votes.sum(axis=0), min_n)
    out["response_length"] = st.ks_test(ref.resp_len, g.resp_len, min_n)
    out["cluster_share"] = (st.chi_square_test(_counts(ref.cluster, n_clusters), _counts(g.cluster, n_clusters), min_n)
                            if n_clusters > 1 else st.NAN2)
    out["domain_share"] = (st.chi_square_test(_counts(ref.domain, n_domains), _counts(g.domain, n_domains), min_n)
                           if n_domains > 1 else st.NAN2)
    return out


def new_domains(ref: Group, g: Group, domains: list[str], min_share: float, min_count: int) -> list[tuple[str, int, float]]:
    """Domains absent from the reference that make up at least ``min_share`` of window ``g``."""
    rc, wc = _counts(ref.domain, len(domains)), _counts(g.domain, len(domains))
    total = max(int((g.domain >= 0).sum()), 1)
    return [(domains[i], int(wc[i]), wc[i] / total) for i in range(len(domains))
            if rc[i] == 0 and wc[i] >= min_count and wc[i] / total >= min_share]
