"""Semantic clusters of prompts for the drift monitor ("error zones" and topic shift).

Texts are embedded with MiniLM (mean pooling, inference mode) or TF-IDF + SVD, clustered
with k-means (k chosen by silhouette on a sample unless given), and every distinct text
gets a cluster id (-1 = empty text or not embedded).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

log = logging.getLogger("rlhf_loop.drift")


@dataclass
class ClusterResult:
    labels: np.ndarray          # (n_texts,) cluster id per input text, -1 unassigned
    k: int
    method: str                 # "tfidf" or "minilm"
    silhouette: dict            # k -> silhouette score on the fit sample
    top_terms: list[list[str]]  # (k,) most characteristic TF-IDF terms per cluster


def minilm_available() -> bool:
    try:
        from utils.model_files import minilm_path
        minilm_path()
        return True
    except Exception:  # noqa: BLE001 - any failure means "use TF-IDF"
        return False


def embed_minilm(texts: list[str], batch_size: int = 32, max_length: int = 128) -> np.ndarray:
    """L2-normalised mean-pooled all-MiniLM-L6-v2 embeddings, shape (n, 384)."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    from utils.model_files import minilm_path

    torch.set_num_threads(min(2, torch.get_num_threads()))
    folder = minilm_path()
    tok = AutoTokenizer.from_pretrained(folder)
    model = AutoModel.from_pretrained(folder).eval()
    out = []
    with torch.inference_mode():
        for i in range(0, len(texts), batch_size):
            enc = tok(texts[i:i + batch_size], padding=True, truncation=True, max_length=max_length,
                      return_tensors="pt")
            hidden = model(**enc).last_hidden_state
            mask = enc["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            emb = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            out.append(torch.nn.functional.normalize(emb, dim=1).numpy())
    return np.concatenate(out) if out else np.zeros((0, 384), dtype=np.float32)


def _tfidf(texts: list[str], max_features: int = 5000):
    from sklearn.feature_extraction.text import TfidfVectorizer

    vec = TfidfVectorizer(max_features=max_features, stop_words="english", sublinear_tf=True,
                          token_pattern=r"(?u)\b[a-zA-Z][a-zA-Z]+\b")
    return vec, vec.fit_transform(texts)


def embed_tfidf(texts: list[str], fit_idx: np.ndarray, dims: int = 50, seed: int = 0) -> np.ndarray:
    """TF-IDF (fitted on ``fit_idx``) reduced by truncated SVD and L2-normalised, (n, <=dims)."""
    from sklearn.decomposition import TruncatedSVD
    from sklearn.preprocessing import normalize

    vec, xf = _tfidf([texts[i] for i in fit_idx])
    x = vec.transform(texts)
    n_comp = max(1, min(dims, xf.shape[1] - 1, xf.shape[0] - 1))
    if n_comp < 2:
        return normalize(x.toarray())
    svd = TruncatedSVD(n_components=n_comp, random_state=seed).fit(xf)
    return normalize(svd.transform(x))


def choose_k(x: np.ndarray, k_max: int = 8, seed: int = 0, sample: int = 1000) -> tuple[int, dict]:
    """k in 2..k_max with the best silhouette (cosine) on up to ``sample`` rows of ``x``;
    returns (k, scores)."""
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    if x.shape[0] > sample:  # silhouette is quadratic in the rows
        x = x[np.sort(np.random.default_rng(seed).choice(x.shape[0], sample, replace=False))]
    scores = {}
    for k in range(2, min(k_max, x.shape[0] - 1) + 1):
        labels = KMeans(n_clusters=k, n_init=3, random_state=seed).fit_predict(x)
        if len(set(labels)) > 1:
            scores[k] = float(silhouette_score(x, labels, metric="cosine"))
    if not scores:
        return 1, scores
    return max(scores, key=scores.get), scores


def cluster_texts(texts: list[str], method: str = "tfidf", k: int = 0, k_max: int = 8,
                  max_fit: int = 2000, max_embed: int = 2000, seed: int = 0) -> ClusterResult:
    from threadpoolctl import threadpool_limits

    # k-means on a few thousand rows is fastest single-threaded; BLAS threads fighting over
    # two shared cores made it 20x slower
    with threadpool_limits(limits=1):
        return _cluster_texts(texts, method, k, k_max, max_fit, max_embed, seed)


def _cluster_texts(texts, method, k, k_max, max_fit, max_embed, seed) -> ClusterResult:
    """Cluster distinct texts. ``k=0`` chooses k by silhouette on up to ``max_fit`` texts.

    TF-IDF assigns every text; MiniLM embeds at most ``max_embed`` texts (seeded sample,
    the rest stay -1) because the encoder is the slow part on CPU.
    """
    n = len(texts)
    labels = np.full(n, -1, dtype=np.int64)
    usable = np.array([i for i, s in enumerate(texts) if s.strip()], dtype=np.int64)
    if usable.size < 4:
        return ClusterResult(labels, 0, method, {}, [])
    rng = np.random.default_rng(seed)
    if method == "minilm":
        embed_idx = usable if usable.size <= max_embed else np.sort(rng.choice(usable, max_embed, replace=False))
        x = embed_minilm([texts[i] for i in embed_idx])
        fit_rows = np.arange(embed_idx.size) if embed_idx.size <= max_fit else np.sort(
            rng.choice(embed_idx.size, max_fit, replace=False))
    else:
        embed_idx = usable
        fit_rows = np.arange(usable.size) if usable.size <= max_fit else np.sort(
            rng.choice(usable.size, max_fit, replace=False))
        x = embed_tfidf([texts[i] for i in usable], fit_rows, seed=seed)
    from sklearn.cluster import KMeans

    scores: dict = {}
    if k <= 0:
        k, scores = choose_k(x[fit_rows], k_max, seed)
    k = max(1, min(k, fit_rows.size))
    km = KMeans(n_clusters=k, n_init=3, random_state=seed).fit(x[fit_rows])
    labels[embed_idx] = km.predict(x)
    return ClusterResult(labels, k, method, scores, top_terms(texts, labels, k))


def top_terms(texts: list[str], labels: np.ndarray, k: int, n_terms: int = 6, max_texts: int = 20000) -> list[list[str]]:
    """Terms with the highest mean TF-IDF in each cluster relative to all texts."""
    idx = np.flatnonzero(labels >= 0)[:max_texts]
    if idx.size == 0:
        return [[] for _ in range(k)]
    try:
        vec, x = _tfidf([texts[i] for i in idx], max_features=3000)
    except ValueError:  # empty vocabulary (only stop words)
        return [[] for _ in range(k)]
    names = np.asarray(vec.get_feature_names_out())
    overall = np.asarray(x.mean(axis=0)).ravel()
    out = []
    for c in range(k):
        rows = labels[idx] == c
        if not rows.any():
            out.append([])
            continue
        score = np.asarray(x[rows].mean(axis=0)).ravel() - overall
        out.append(names[np.argsort(-score)[:n_terms]].tolist())
    return out
