"""Drift statistics checked against hand-computed values and seeded properties."""
import math

import numpy as np
import pytest

from utils.vote_predictor import drift_stats as st
from utils.vote_predictor.drift_monitor import _latest_per_pair


def test_parse_duration():
    assert st.parse_duration("1d") == 86400
    assert st.parse_duration("30m") == 1800
    assert st.parse_duration("6h") == 6 * 3600
    assert st.parse_duration("1w") == 7 * 86400
    for bad in ("", "3x", "-1d", "0h", "d"):
        with pytest.raises(ValueError, match="e.g. 30m"):
            st.parse_duration(bad)


def test_count_windows_merges_small_tail():
    assert st.count_windows(10, 4).tolist() == [0, 0, 0, 0, 1, 1, 1, 1, 2, 2]
    assert st.count_windows(9, 4).tolist() == [0, 0, 0, 0, 1, 1, 1, 1, 1]
    assert st.count_windows(3, 4).tolist() == [0, 0, 0]


def test_time_windows_are_utc_days_renumbered():
    day = 86400.0
    t = np.array([0.5, 0.9, 2.1, 2.5, 5.0]) * day
    assert st.time_windows(t, day).tolist() == [0, 0, 1, 1, 2]  # empty days are skipped


def test_wilson_interval_hand_computed():
    lo, hi = st.wilson_interval(8, 10)
    assert lo == pytest.approx(0.4902, abs=1e-4)
    assert hi == pytest.approx(0.9433, abs=1e-4)
    assert all(math.isnan(x) for x in st.wilson_interval(0, 0))


def test_proportion_drop_test_hand_computed():
    z, p = st.proportion_drop_test(80, 100, 60, 100)
    se = math.sqrt(0.7 * 0.3 * 0.02)
    assert z == pytest.approx(-0.2 / se)
    assert p == pytest.approx(0.5 * math.erfc(0.2 / se / math.sqrt(2)))
    assert st.proportion_drop_test(80, 100, 90, 100)[1] > 0.9  # a rise is not a drop
    assert all(math.isnan(x) for x in st.proportion_drop_test(8, 10, 6, 10))  # too few


def test_chi_square_hand_computed():
    stat, p = st.chi_square_test([50, 50], [30, 70])
    assert stat == pytest.approx(2 * (100 / 40 + 100 / 60))
    assert p == pytest.approx(math.erfc(math.sqrt(stat / 2)))  # survival of chi2 with 1 dof
    # categories empty on both sides are dropped; a brand-new category is a huge shift
    assert st.chi_square_test([50, 50, 0], [50, 50, 0])[1] == pytest.approx(1.0)
    assert st.chi_square_test([50, 50, 0], [40, 40, 20])[1] < 1e-4


def test_ks_and_psi():
    rng = np.random.default_rng(0)
    a, b = rng.normal(0, 1, 2000), rng.normal(0, 1, 2000)
    assert st.ks_test(a, b)[1] > 0.01
    assert st.ks_test(a, b + 0.5)[1] < 1e-10
    assert st.psi(a, a) == pytest.approx(0.0, abs=1e-9)
    assert st.psi(a, b) < 0.05 < 0.25 < st.psi(a, b + 1.0)


def test_calibration_gap_test():
    correct = np.array([1, 0, 1, 1] * 10, dtype=float)
    conf = np.full(40, 0.75)
    z, p = st.calibration_gap_test(correct, conf, correct, conf)
    assert z == 0 and p == pytest.approx(1.0)
    z, p = st.calibration_gap_test(correct, conf, correct * 0, conf)
    assert z < -5 and p < 1e-6


def test_fit_temperature_recovers_sharpening():
    rng = np.random.default_rng(1)
    logits = rng.normal(0, 1.5, 20000)
    y = (rng.uniform(size=logits.size) < 1 / (1 + np.exp(-logits))).astype(float)
    assert st.fit_temperature(1 / (1 + np.exp(-logits)), y) == pytest.approx(1.0, abs=0.08)
    assert st.fit_temperature(1 / (1 + np.exp(-2 * logits)), y) == pytest.approx(2.0, abs=0.15)


def test_bonferroni_counts_only_run_tests():
    assert st.bonferroni_threshold([0.1, float("nan"), 0.2], 0.05) == pytest.approx(0.025)


def test_latest_per_pair_keeps_last_occurrence():
    key = np.array([5, 3, 5, 7, 3])
    assert _latest_per_pair(key).tolist() == [2, 3, 4]


def test_chi_square_pools_sparse_categories():
    # the two rare categories (expected count < 5) are pooled into one column: a 2 x 3 table
    stat, p = st.chi_square_test([50, 50, 1, 0], [50, 50, 0, 2])
    pooled, _ = st.chi_square_test([50, 50, 1], [50, 50, 2])
    assert stat == pytest.approx(pooled)
