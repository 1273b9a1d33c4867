"""Post-hoc calibrators for the reward difference z = r_A - r_B (scikit-learn shape).

* :class:`TemperatureScaler`: p = sigmoid(z / T), one parameter.
* :class:`PlattScaler`: p = sigmoid(a z + b). An intercept alone would make
  P(A>B) + P(B>A) != 1, so predictions are symmetrised: p(z) = (f(z) + 1 - f(-z)) / 2,
  which is exact for temperature scaling and keeps Platt monotone and antisymmetric.

``fit(z, y)`` returns self, fitted state ends in ``_``, predicting before fitting raises.
``to_dict`` / ``from_dict`` give the JSON form stored in ``calibration.json``.
"""
from __future__ import annotations

import numpy as np

from utils.vote_predictor.metrics import nll


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-np.clip(x, -500, 500)))


class _Base:
    method = ""

    def _check(self):
        if not all(hasattr(self, a) for a in self._fitted):
            raise RuntimeError(f"{type(self).__name__} is not fitted yet; call fit(logits, labels) first")

    def predict_prob_a(self, z) -> np.ndarray:
        """Calibrated P(A preferred), shape (n,)."""
        self._check()
        z = np.asarray(z, dtype=float)
        return 0.5 * (self._raw(z) + 1.0 - self._raw(-z))

    def predict_proba(self, z) -> np.ndarray:
        """scikit-learn convention: columns [P(B), P(A)], shape (n, 2)."""
        p = self.predict_prob_a(z)
        return np.stack([1 - p, p], axis=1)

    def predict(self, z) -> np.ndarray:
        return np.where(self.predict_prob_a(z) >= 0.5, "A", "B")


class TemperatureScaler(_Base):
    method = "temperature"
    _fitted = ("temperature_",)

    def __init__(self, bounds: tuple[float, float] = (0.05, 20.0)):
        self.bounds = bounds

    def fit(self, z, y, sample_weight=None) -> "TemperatureScaler":
        from scipy.optimize import minimize_scalar
        z, y = np.asarray(z, dtype=float), np.asarray(y, dtype=float)
        w = None if sample_weight is None else np.asarray(sample_weight, dtype=float)

        def loss(log_t):
            p = np.clip(_sigmoid(z / np.exp(log_t)), 1e-12, 1 - 1e-12)
            ll = y * np.log(p) + (1 - y) * np.log(1 - p)
            return -np.average(ll, weights=w)

        res = minimize_scalar(loss, bounds=tuple(np.log(self.bounds)), method="bounded",
                              options={"xatol": 1e-6})
        self.temperature_ = float(np.exp(res.x))
        return self

    def _raw(self, z):
        return _sigmoid(z / self.temperature_)

    def params(self) -> dict:
        self._check()
        return {"temperature": self.temperature_}


class PlattScaler(_Base):
    method = "platt"
    _fitted = ("a_", "b_")

    def __init__(self, C: float = 1e6):
        self.C = C

    def fit(self, z, y, sample_weight=None) -> "PlattScaler":
        from sklearn.linear_model import LogisticRegression
        z, y = np.asarray(z, dtype=float), np.asarray(y, dtype=float)
        # ties (y=0.5) enter as half an A and half a B
        X = np.concatenate([z, z])[:, None]
        yy = np.concatenate([np.ones_like(y), np.zeros_like(y)])
        w = np.ones_like(y) if sample_weight is None else np.asarray(sample_weight, dtype=float)
        ww = np.concatenate([w * y, w * (1 - y)])
        keep = ww > 0
        lr = LogisticRegression(C=self.C, max_iter=1000).fit(X[keep], yy[keep], sample_weight=ww[keep])
        self.a_, self.b_ = float(lr.coef_[0, 0]), float(lr.intercept_[0])
        return self

    def _raw(self, z):
        return _sigmoid(self.a_ * z + self.b_)

    def params(self) -> dict:
        self._check()
        return {"a": self.a_, "b": self.b_}


CALIBRATORS = {"temperature": TemperatureScaler, "platt": PlattScaler}


def to_dict(cal) -> dict:
    return {"method": cal.method, "params": cal.params()}


def from_dict(d: dict):
    """Rebuild a fitted calibrator from its JSON form."""
    if d.get("method") == "temperature":
        cal = TemperatureScaler()
        cal.temperature_ = float(d["params"]["temperature"])
    elif d.get("method") == "platt":
        cal = PlattScaler()
        cal.a_, cal.b_ = float(d["params"]["a"]), float(d["params"]["b"])
    else:
        raise ValueError(f"unknown calibration method {d.get('method')!r}; expected 'temperature' or 'platt'")
    return cal


def heldout_nll(cls, z, y, n_folds: int = 5, seed: int = 0) -> float:
    """Mean NLL of ``cls`` fitted on k-1 folds and scored on the k-th (y in {0, 1})."""
    z, y = np.asarray(z, dtype=float), np.asarray(y, dtype=float)
    n_folds = max(2, min(n_folds, len(z)))
    folds = np.random.default_rng(seed).permutation(len(z)) % n_folds
    losses, counts = [], []
    for k in range(n_folds):
        test = folds == k
        if test.sum() == 0 or (~test).sum() == 0:
            continue
        cal = cls().fit(z[~test], y[~test])
        losses.append(nll(cal.predict_prob_a(z[test]), y[test]))
        counts.append(test.sum())
    return float(np.average(losses, weights=counts))
