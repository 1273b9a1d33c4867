"""Statistics for drift monitoring: windows, intervals, two-sample tests, temperature.

Pure numeric functions over numpy arrays (no file I/O, no plots). Times are float
seconds since the Unix epoch. Every test returns ``(statistic, p_value)`` and
``(nan, nan)`` when there is too little data to test, so the caller can skip it.
"""
from __future__ import annotations

import math
import re

import numpy as np

_UNITS = {"s": 1, "m": 60, "min": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
NAN2 = (float("nan"), float("nan"))


def parse_duration(spec: str) -> float:
    """'30m', '6h', '1d', '2w' -> seconds. Raises ValueError naming the accepted forms."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(s|min|m|h|d|w)\s*", str(spec))
    if not m or float(m.group(1)) <= 0:
        raise ValueError(f"window {spec!r} is not a duration; use a positive number and a unit, e.g. 30m, 6h, 1d, 1w")
    return float(m.group(1)) * _UNITS[m.group(2)]


def time_windows(t: np.ndarray, seconds: float) -> np.ndarray:
    """Window index (n,) for sorted times ``t``: consecutive calendar buckets of ``seconds``
    aligned to the epoch (so 1d windows are UTC days), renumbered 0.. over non-empty ones."""
    bucket = np.floor(np.asarray(t, dtype=float) / seconds).astype(np.int64)
    _, idx = np.unique(bucket, return_inverse=True)
    return idx.astype(np.int64)


def count_windows(n: int, size: int) -> np.ndarray:
    """Window index (n,) for ``n`` time-sorted records in blocks of ``size``; a last block
    smaller than half a window joins the one before it."""
    idx = np.arange(n, dtype=np.int64) // max(int(size), 1)
    n_full = n // size if size else 0
    if n_full >= 1 and n % size and n % size < size / 2:
        idx[idx == n_full] = n_full - 1
    return idx


def wilson_interval(k: float, n: float, z: float = 1.959964) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion k/n (95% by default)."""
    if n <= 0:
        return (float("nan"), float("nan"))
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def proportion_drop_test(k_ref: float, n_ref: float, k: float, n: float, min_n: int = 20) -> tuple[float, float]:
    """One-sided two-proportion z-test of H1: p_window < p_ref. Returns (z, p)."""
    if n_ref < min_n or n < min_n:
        return NAN2
    from scipy.stats import norm

    pooled = (k_ref + k) / (n_ref + n)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n_ref + 1 / n))
    if se == 0:
        return (0.0, 1.0)
    z = (k / n - k_ref / n_ref) / se
    return (float(z), float(norm.cdf(z)))


def ks_test(ref: np.ndarray, cur: np.ndarray, min_n: int = 20) -> tuple[float, float]:
    """Two-sample Kolmogorov-Smirnov test (asymptotic p-value, fast for large samples)."""
    ref = np.asarray(ref, dtype=float)
    cur = np.asarray(cur, dtype=float)
    ref, cur = ref[np.isfinite(ref)], cur[np.isfinite(cur)]
    if ref.size < min_n or cur.size < min_n:
        return NAN2
    from scipy.stats import ks_2samp

    res = ks_2samp(ref, cur, method="asymp")
    return (float(res.statistic), float(res.pvalue))


def chi_square_test(ref_counts, cur_counts, min_n: int = 20) -> tuple[float, float]:
    """Chi-square test of homogeneity for two count vectors over the same categories.
    Categories empty in both are dropped; fewer than two left means nothing to test."""
    table = np.vstack([np.asarray(ref_counts, dtype=float), np.asarray(cur_counts, dtype=float)])
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2 or table[0].sum() < min_n or table[1].sum() < min_n:
        return NAN2
    # categories with an expected count under 5 are pooled, where the chi-square
    # approximation (and so a tiny Bonferroni threshold) would not hold
    expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / table.sum()
    sparse = expected.min(axis=0) < 5
    if sparse.any():
        table = np.column_stack([table[:, ~sparse], table[:, sparse].sum(axis=1)])
        if table.shape[1] < 2:
            return NAN2
    from scipy.stats import chi2_contingency

    res = chi2_contingency(table, correction=False)
    return (float(res.statistic), float(res.pvalue))


def calibration_gap_test(correct_ref, conf_ref, correct, conf, min_n: int = 20) -> tuple[float, float]:
    """Two-sided z-test that the gap (accuracy - mean confidence) changed from the reference.

    Each labelled prediction contributes d = correct - confidence; the gap is mean(d).
    """
    d_ref = np.asarray(correct_ref, dtype=float) - np.asarray(conf_ref, dtype=float)
    d = np.asarray(correct, dtype=float) - np.asarray(conf, dtype=float)
    if d_ref.size < min_n or d.size < min_n:
        return NAN2
    from scipy.stats import norm

    se = math.sqrt(d_ref.var(ddof=1) / d_ref.size + d.var(ddof=1) / d.size)
    if se == 0:
        return (0.0, 1.0)
    z = (d.mean() - d_ref.mean()) / se
    return (float(z), float(2 * norm.sf(abs(z))))


def psi(ref: np.ndarray, cur: np.ndarray, n_bins: int = 10, eps: float = 1e-4) -> float:
    """Population stability index with bins at the reference's quantiles (0.1 small, 0.25 large)."""
    ref = np.asarray(ref, dtype=float)
    cur = np.asarray(cur, dtype=float)
    if ref.size == 0 or cur.size == 0:
        return float("nan")
    edges = np.unique(np.quantile(ref, np.linspace(0, 1, n_bins + 1)[1:-1]))
    r = np.bincount(np.searchsorted(edges, ref, side="right"), minlength=edges.size + 1) / ref.size
    c = np.bincount(np.searchsorted(edges, cur, side="right"), minlength=edges.size + 1) / cur.size
    r, c = np.maximum(r, eps), np.maximum(c, eps)
    return float(np.sum((c - r) * np.log(c / r)))


def logit(p: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=float), eps, 1 - eps)
    return np.log(p) - np.log1p(-p)


def fit_temperature(prob_a, label_a, bounds: tuple[float, float] = (0.05, 20.0)) -> float:
    """Temperature T minimising the NLL of sigmoid(logit(prob_a) / T) on (prob_a, label_a).

    T > 1 means the probabilities were over-confident, T < 1 under-confident.
    """
    z = logit(prob_a)
    y = np.asarray(label_a, dtype=float)
    if z.size < 2 or np.all(z == 0):
        return float("nan")
    from scipy.optimize import minimize_scalar

    def nll(log_t: float) -> float:
        s = z / math.exp(log_t)
        # log(1 + e^-s) for y=1, log(1 + e^s) for y=0, stable
        return float(np.mean(np.logaddexp(0.0, -s) * y + np.logaddexp(0.0, s) * (1 - y)))

    res = minimize_scalar(nll, bounds=(math.log(bounds[0]), math.log(bounds[1])), method="bounded",
                          options={"xatol": 1e-4})
    return float(math.exp(res.x))


def bonferroni_threshold(p_values, alpha: float) -> float:
    """Per-test threshold keeping the family-wise false-alarm probability at most ``alpha``."""
    m = int(np.sum(np.isfinite(np.asarray(p_values, dtype=float))))
    return alpha / max(m, 1)
