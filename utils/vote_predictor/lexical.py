"""TF-IDF + logistic regression as a lexical reward: r_lex(response) = w . tfidf(response).

Fitted on feature differences tfidf(A) - tfidf(B) with both orientations of every pair
and no intercept, so, like the transformer, P(A>B) = sigmoid(r_A - r_B) is antisymmetric.
Used twice: as the benchmark baseline and as the second member of the ensemble
(stacked with the transformer's reward difference on the validation split).
Persisted as JSON (vocabulary, idf, weights), never pickled.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

LEXICAL_FILE = "lexical.json"


@dataclass
class LexicalReward:
    ngram_max: int = 2
    min_df: int = 2
    max_features: int = 50000
    C: float = 1.0
    vocabulary_: dict = field(default_factory=dict, repr=False)
    idf_: np.ndarray | None = field(default=None, repr=False)
    coef_: np.ndarray | None = field(default=None, repr=False)

    def _counts(self, texts: list[str]):
        from sklearn.feature_extraction.text import CountVectorizer
        return CountVectorizer(vocabulary=self.vocabulary_, ngram_range=(1, self.ngram_max)).transform(texts)

    def features(self, texts: list[str]):
        """Sublinear-tf x idf, L2-normalised rows (sparse, (n, vocab))."""
        from sklearn.preprocessing import normalize
        X = self._counts(texts).astype(np.float64)
        X.data = 1.0 + np.log(X.data)
        X = X.multiply(self.idf_).tocsr()
        return normalize(X)

    def fit(self, responses_a: list[str], responses_b: list[str], label_a, sample_weight=None) -> "LexicalReward":
        """label_a: 1 (A preferred), 0 (B) or 0.5 (tie: counted half each way)."""
        import scipy.sparse as sp
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        vec = TfidfVectorizer(ngram_range=(1, self.ngram_max), min_df=self.min_df,
                              max_features=self.max_features, sublinear_tf=True)
        vec.fit(list(responses_a) + list(responses_b))
        self.vocabulary_ = {k: int(v) for k, v in vec.vocabulary_.items()}
        self.idf_ = vec.idf_.astype(np.float64)
        D = self.features(responses_a) - self.features(responses_b)
        y = np.asarray(label_a, dtype=float)
        w = np.ones_like(y) if sample_weight is None else np.asarray(sample_weight, dtype=float)
        # Both orientations; a tie becomes one "A" and one "B" example at half weight each way.
        X = sp.vstack([D, -D, D, -D]).tocsr()
        yy = np.concatenate([np.ones_like(y), np.zeros_like(y), np.zeros_like(y), np.ones_like(y)])
        ww = np.concatenate([w * y, w * y, w * (1 - y), w * (1 - y)])
        keep = ww > 0
        lr = LogisticRegression(C=self.C, fit_intercept=False, max_iter=2000)
        lr.fit(X[keep], yy[keep], sample_weight=ww[keep])
        self.coef_ = lr.coef_.ravel().astype(np.float64)
        return self

    def reward(self, responses: list[str]) -> np.ndarray:
        if self.coef_ is None:
            raise RuntimeError("LexicalReward is not fitted; call fit() first")
        return np.asarray(self.features(list(responses)) @ self.coef_).ravel()

    def save(self, folder: str | Path) -> None:
        obj = {"ngram_max": self.ngram_max, "min_df": self.min_df, "max_features": self.max_features,
               "C": self.C, "vocabulary": self.vocabulary_, "idf": self.idf_.tolist(), "coef": self.coef_.tolist()}
        (Path(folder) / LEXICAL_FILE).write_text(json.dumps(obj), encoding="utf-8")

    @classmethod
    def load(cls, folder: str | Path) -> "LexicalReward | None":
        f = Path(folder) / LEXICAL_FILE
        if not f.exists():
            return None
        obj = json.loads(f.read_text(encoding="utf-8"))
        return cls(ngram_max=obj["ngram_max"], min_df=obj["min_df"], max_features=obj["max_features"], C=obj["C"],
                   vocabulary_=obj["vocabulary"], idf_=np.asarray(obj["idf"]), coef_=np.asarray(obj["coef"]))
