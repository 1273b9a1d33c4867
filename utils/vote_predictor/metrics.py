"""Calibration and accuracy metrics for pairwise preference predictions.

Conventions: ``prob_a`` is P(A preferred), shape (n,), in [0, 1]; ``label_a`` is 1 when the
human chose A and 0 when they chose B (ties are filtered out by the caller).
Confidence-based metrics (ECE, MCE, reliability) use the top-label view:
confidence = max(p, 1 - p), correct = (p >= 0.5) == label.
No file I/O here; the plot function draws on a given ``ax``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

EPS = 1e-7


def _arrays(prob_a, label_a):
    p = np.clip(np.asarray(prob_a, dtype=float), 0.0, 1.0)
    y = np.asarray(label_a, dtype=float)
    if p.shape != y.shape:
        raise ValueError(f"prob_a and label_a must have the same shape, got {p.shape} and {y.shape}")
    return p, y


def accuracy(prob_a, label_a) -> float:
    p, y = _arrays(prob_a, label_a)
    return float(np.mean((p >= 0.5) == (y == 1))) if p.size else float("nan")


def nll(prob_a, label_a) -> float:
    """Mean binary negative log-likelihood (nats)."""
    p, y = _arrays(prob_a, label_a)
    p = np.clip(p, EPS, 1 - EPS)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))) if p.size else float("nan")


def brier(prob_a, label_a) -> float:
    p, y = _arrays(prob_a, label_a)
    return float(np.mean((p - y) ** 2)) if p.size else float("nan")


@dataclass
class CalibrationBins:
    edges: np.ndarray       # (n_bins + 1,) over confidence in [0.5, 1]
    counts: np.ndarray      # (n_bins,)
    confidence: np.ndarray  # (n_bins,) mean confidence per bin (nan when empty)
    accuracy: np.ndarray    # (n_bins,) accuracy per bin (nan when empty)


def calibration_bins(prob_a, label_a, n_bins: int = 15) -> CalibrationBins:
    """Equal-width bins of top-label confidence over [0.5, 1]."""
    p, y = _arrays(prob_a, label_a)
    conf = np.maximum(p, 1 - p)
    correct = ((p >= 0.5) == (y == 1)).astype(float)
    edges = np.linspace(0.5, 1.0, n_bins + 1)
    idx = np.clip(np.searchsorted(edges, conf, side="right") - 1, 0, n_bins - 1)
    counts = np.bincount(idx, minlength=n_bins).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_conf = np.bincount(idx, weights=conf, minlength=n_bins) / counts
        mean_acc = np.bincount(idx, weights=correct, minlength=n_bins) / counts
    return CalibrationBins(edges, counts.astype(int), mean_conf, mean_acc)


def ece(prob_a, label_a, n_bins: int = 15) -> float:
    """Expected calibration error: count-weighted mean |accuracy - confidence| over bins."""
    b = calibration_bins(prob_a, label_a, n_bins)
    n = b.counts.sum()
    if n == 0:
        return float("nan")
    full = b.counts > 0
    return float(np.sum(b.counts[full] * np.abs(b.accuracy[full] - b.confidence[full])) / n)


def mce(prob_a, label_a, n_bins: int = 15) -> float:
    """Maximum calibration error over non-empty bins."""
    b = calibration_bins(prob_a, label_a, n_bins)
    full = b.counts > 0
    return float(np.max(np.abs(b.accuracy[full] - b.confidence[full]))) if full.any() else float("nan")


def ece_noise_floor(prob_a, n_bins: int = 15, draws: int = 1000, seed: int = 0) -> dict:
    """ECE that a *perfectly calibrated* model with these probabilities would still show.

    Labels are drawn from the probabilities themselves (y ~ Bernoulli(p)) ``draws`` times;
    the binned ECE of each draw is pure sampling noise. On a few hundred pairs it is not
    small: compare a measured ECE with ``mean`` and ``p90`` before calling it miscalibrated.
    """
    p = np.asarray(prob_a, dtype=float)
    rng = np.random.default_rng(seed)
    vals = np.array([ece(p, (rng.random(len(p)) < p).astype(float), n_bins) for _ in range(draws)])
    return {"mean": float(vals.mean()), "p10": float(np.percentile(vals, 10)),
            "p90": float(np.percentile(vals, 90)), "draws": draws, "n": int(len(p))}


def summary(prob_a, label_a, n_bins: int = 15) -> dict:
    """All metrics in one JSON-ready dict."""
    p, y = _arrays(prob_a, label_a)
    return {"n": int(p.size), "accuracy": accuracy(p, y), "ece": ece(p, y, n_bins), "mce": mce(p, y, n_bins),
            "brier": brier(p, y), "nll": nll(p, y),
            "mean_confidence": float(np.mean(np.maximum(p, 1 - p))) if p.size else float("nan")}


def plot_reliability(prob_a, label_a, n_bins: int = 15, ax=None, label: str | None = None, title: str | None = None):
    """Reliability diagram (accuracy vs confidence per bin) on ``ax``; returns ax."""
    import matplotlib
    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(5, 5))
    b = calibration_bins(prob_a, label_a, n_bins)
    full = b.counts > 0
    ax.plot([0.5, 1], [0.5, 1], "--", color="grey", lw=1, label="perfect calibration")
    ax.plot(b.confidence[full], b.accuracy[full], "o-",
            label=f"{label or 'model'} (ECE {ece(prob_a, label_a, n_bins):.3f})")
    ax.set_xlim(0.5, 1.0)
    ax.set_ylim(0.0, 1.0)
    ax.set_xlabel("confidence")
    ax.set_ylabel("accuracy")
    if title:
        ax.set_title(title)
    ax.legend(loc="lower right", fontsize=8)
    return ax
