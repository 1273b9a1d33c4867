import numpy as np
import pytest

from utils.vote_predictor import metrics


def test_hand_computed_values():
    p = np.array([0.9, 0.8, 0.3, 0.6])
    y = np.array([1, 0, 0, 0])
    # predictions A, A, B, A -> correct, wrong, correct, wrong
    assert metrics.accuracy(p, y) == 0.5
    assert metrics.brier(p, y) == pytest.approx((0.01 + 0.64 + 0.09 + 0.36) / 4)
    assert metrics.nll(p, y) == pytest.approx(-(np.log(0.9) + np.log(0.2) + np.log(0.7) + np.log(0.4)) / 4)
    # 2 bins over [0.5, 1]: conf 0.9, 0.8 -> bin 1 (acc .5, conf .85); 0.7, 0.6 -> bin 0 (acc .5, conf .65)
    assert metrics.ece(p, y, n_bins=2) == pytest.approx(0.5 * 0.35 + 0.5 * 0.15)
    assert metrics.mce(p, y, n_bins=2) == pytest.approx(0.35)


def test_perfectly_calibrated_has_small_ece():
    rng = np.random.default_rng(0)
    p = rng.uniform(0, 1, 200_000)
    y = (rng.uniform(0, 1, p.size) < p).astype(int)
    assert metrics.ece(p, y) < 0.01


def test_plot_reliability_draws(tmp_path):
    ax = metrics.plot_reliability([0.9, 0.2, 0.7], [1, 0, 0])
    ax.figure.savefig(tmp_path / "r.png")
    assert (tmp_path / "r.png").stat().st_size > 1000
