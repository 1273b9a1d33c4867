"""The dashboard's numbers, as pure functions over DataFrames (no Streamlit, no files).

Column conventions: votes have ``pair_id, choice, annotator, annotator_type, ts``;
predictions ``pair_id, prob_a, model_version, ts``. "Reference" votes are the human
ones (``human`` and imported ``import`` votes) with a clear A/B choice.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from utils.vote_predictor import metrics

REFERENCE_TYPES = ("human", "import")


def wilson(k, n, z: float = 1.959964):
    """Vectorised Wilson score interval for k successes out of n; returns (lo, hi)."""
    k = np.asarray(k, dtype=float)
    n = np.asarray(n, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        den = 1 + z * z / n
        mid = (p + z * z / (2 * n)) / den
        half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return mid - half, mid + half


def filter_votes(votes: pd.DataFrame, start=None, end=None, annotators=None) -> pd.DataFrame:
    """Votes in [start, end] (dates, inclusive) by the given annotators (None/empty = all)."""
    mask = np.ones(len(votes), dtype=bool)
    if start is not None:
        mask &= (votes["ts"] >= pd.Timestamp(start, tz="UTC")).to_numpy()
    if end is not None:
        mask &= (votes["ts"] < pd.Timestamp(end, tz="UTC") + pd.Timedelta(days=1)).to_numpy()
    if annotators:
        mask &= votes["annotator"].isin(list(annotators)).to_numpy()
    return votes[mask] if not mask.all() else votes


def reference_votes(votes: pd.DataFrame, columns: list[str] | None = None) -> pd.DataFrame:
    """Human (and imported human) votes with an A or B choice: the ground truth.

    ``columns`` picks the columns first: filtering 100,000 rows of every column costs more.
    """
    m = (votes["annotator_type"].isin(REFERENCE_TYPES) & votes["choice"].isin(("A", "B"))).to_numpy()
    return (votes[columns] if columns else votes)[m]


def latest_predictions(preds: pd.DataFrame) -> pd.DataFrame:
    """One prediction per (pair, model version): the most recent."""
    if preds.empty:
        return preds
    return preds.sort_values("ts", kind="stable").drop_duplicates(["pair_id", "model_version"], keep="last")


def join_votes_predictions(votes: pd.DataFrame, preds_latest: pd.DataFrame) -> pd.DataFrame:
    """Reference votes x latest predictions on pair_id: one row per (vote, model version).

    Adds ``label_a`` (1 when the human chose A), ``correct`` and ``conf``.
    """
    ref = reference_votes(votes, ["id", "pair_id", "prompt_id", "annotator", "ts", "choice"])
    cols = ["pair_id", "prob_a", "raw_prob_a", "model_version"]
    if ref.empty or preds_latest.empty:
        return pd.DataFrame(columns=["id", "pair_id", "prompt_id", "annotator", "ts", "choice",
                                     *cols[1:], "label_a", "correct", "conf"])
    j = ref.merge(preds_latest[cols], on="pair_id", how="inner")
    j["label_a"] = (j["choice"] == "A").astype(int)
    p = j["prob_a"].astype(float).to_numpy()
    j["correct"] = ((p >= 0.5) == (j["label_a"].to_numpy() == 1))
    j["conf"] = np.maximum(p, 1 - p)
    return j


def trend_freq(ts: pd.Series) -> str:
    """Day bins for up to ~4 months of data, weeks beyond."""
    if ts.empty:
        return "D"
    span = (ts.max() - ts.min()).days
    return "D" if span <= 120 else "W"


def accuracy_trend(joined: pd.DataFrame, freq: str = "D") -> pd.DataFrame:
    """Accuracy per period and model version with a 95% Wilson interval."""
    if joined.empty:
        return pd.DataFrame(columns=["period", "model_version", "n", "accuracy", "lo", "hi"])
    period = joined["ts"].dt.tz_localize(None).dt.to_period(freq).dt.start_time
    g = joined.assign(period=period).groupby(["period", "model_version"], observed=True)["correct"].agg(["sum", "count"])
    g = g.reset_index().rename(columns={"count": "n"})
    g["accuracy"] = g["sum"] / g["n"]
    g["lo"], g["hi"] = wilson(g["sum"], g["n"])
    return g.drop(columns="sum")


def cohen_kappa(a, b) -> float:
    """Cohen's kappa of two label arrays (any hashable labels); nan when undefined."""
    a, b = np.asarray(a), np.asarray(b)
    if a.size == 0:
        return float("nan")
    codes, uniq = pd.factorize(np.concatenate([a, b]))  # hashing, not sorting, of string labels
    ca, cb = codes[: a.size], codes[a.size:]
    po = float(np.mean(ca == cb))
    pa = np.bincount(ca, minlength=len(uniq)) / a.size
    pb = np.bincount(cb, minlength=len(uniq)) / b.size
    pe = float(np.dot(pa, pb))
    return float("nan") if pe >= 1 else (po - pe) / (1 - pe)


def _one_per_pair(votes: pd.DataFrame) -> pd.DataFrame:
    """The last vote per pair (files are append-only: file order is time order)."""
    return votes.drop_duplicates("pair_id", keep="last")


CHOICE_CODES = {"A": 0, "B": 1, "tie": 2, "both_bad": 3}


def human_agreement(humans: pd.DataFrame) -> tuple[float, int]:
    """Inter-annotator agreement: share of agreeing annotator pairs, over pairs voted by 2+ humans.

    One vote per (pair, annotator), the last. Per pair with counts n_c per choice and n
    votes, agreeing annotator pairs are sum n_c (n_c - 1) out of n (n - 1).
    Returns (agreement, number of pairs used); (nan, 0) when no pair has 2 humans.
    """
    per = humans.drop_duplicates(["pair_id", "annotator"], keep="last")
    if per.empty:
        return float("nan"), 0
    pair_code, uniq = pd.factorize(per["pair_id"])
    choice_code = per["choice"].map(CHOICE_CODES).fillna(0).astype(int).to_numpy()
    counts = np.bincount(pair_code * 4 + choice_code, minlength=len(uniq) * 4).reshape(-1, 4).astype(float)
    n = counts.sum(axis=1)
    multi = n >= 2
    if not multi.any():
        return float("nan"), 0
    c, nn = counts[multi], n[multi]
    return float((c * (c - 1)).sum() / (nn * (nn - 1)).sum()), int(multi.sum())


def agreement_table(votes: pd.DataFrame, joined_version: pd.DataFrame, version: str | None) -> pd.DataFrame:
    """Who agrees with the humans, and how much the humans agree with each other."""
    rows = []
    votes = votes[[c for c in ("pair_id", "annotator", "annotator_type", "choice", "repeat_of") if c in votes]]
    if not joined_version.empty:
        pred_choice = np.where(joined_version["prob_a"].astype(float) >= 0.5, "A", "B")
        rows.append({"comparison": f"predictor {version} vs humans", "n": len(joined_version),
                     "agreement": float(joined_version["correct"].mean()),
                     "kappa": cohen_kappa(pred_choice, joined_version["choice"].to_numpy())})
    humans = votes[votes["annotator_type"].isin(REFERENCE_TYPES)]
    if "repeat_of" in humans:
        humans = humans[humans["repeat_of"].isna()]
    human_last = _one_per_pair(humans)[["pair_id", "choice"]]
    for typ, label in (("model", "auto-labels (model votes) vs humans"), ("judge", "LLM judge vs humans")):
        other = _one_per_pair(votes[votes["annotator_type"] == typ])[["pair_id", "choice"]]
        m = other.merge(human_last, on="pair_id", suffixes=("_o", "_h"))
        if len(m):
            rows.append({"comparison": label, "n": len(m), "agreement": float((m["choice_o"] == m["choice_h"]).mean()),
                         "kappa": cohen_kappa(m["choice_o"].to_numpy(), m["choice_h"].to_numpy())})
    agree, n_pairs = human_agreement(humans)
    if n_pairs:
        rows.append({"comparison": "human vs human (pairs with 2+ annotators)", "n": n_pairs,
                     "agreement": agree, "kappa": float("nan")})
    return pd.DataFrame(rows, columns=["comparison", "n", "agreement", "kappa"])


def attach_prompt_info(df: pd.DataFrame, prompts: pd.DataFrame) -> pd.DataFrame:
    """Add ``domain`` / ``task_type`` / ``prompt_text`` by prompt_id ("unknown" when absent)."""
    if prompts is None or prompts.empty or "prompt_id" not in df:
        out = df.copy()
        out["domain"], out["task_type"], out["prompt_text"] = "unknown", "unknown", ""
        return out
    info = prompts.drop_duplicates("id", keep="last").set_index("id")[["domain", "task_type", "text"]]
    out = df.join(info, on="prompt_id").rename(columns={"text": "prompt_text"})
    out["domain"] = out["domain"].fillna("unknown")
    out["task_type"] = out["task_type"].fillna("unknown")
    out["prompt_text"] = out["prompt_text"].fillna("")
    return out


def errors_by(joined: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Error rate (with Wilson interval) per group, worst first."""
    if joined.empty:
        return pd.DataFrame(columns=[*keys, "n", "errors", "error_rate", "lo", "hi"])
    g = joined.assign(err=~joined["correct"].astype(bool)).groupby(keys, observed=True)["err"].agg(["sum", "count"])
    g = g.reset_index().rename(columns={"sum": "errors", "count": "n"})
    g["error_rate"] = g["errors"] / g["n"]
    g["lo"], g["hi"] = wilson(g["errors"], g["n"])
    return g.sort_values(["error_rate", "n"], ascending=[False, False]).reset_index(drop=True)


def calibration_frame(prob_a, label_a, n_bins: int = 10) -> pd.DataFrame:
    """Per-bin mean confidence, accuracy and count (the shared metrics' binning)."""
    b = metrics.calibration_bins(np.asarray(prob_a, dtype=float), np.asarray(label_a, dtype=float), n_bins)
    return pd.DataFrame({"bin_lo": b.edges[:-1], "bin_hi": b.edges[1:], "confidence": b.confidence,
                         "accuracy": b.accuracy, "count": b.counts})


def self_consistency(votes: pd.DataFrame) -> pd.DataFrame:
    """Per annotator: gold repeats answered the same as the vote they re-ask."""
    if "repeat_of" not in votes or votes["repeat_of"].isna().all():
        return pd.DataFrame(columns=["annotator", "repeats", "consistent", "consistency"])
    rep = votes[votes["repeat_of"].notna()][["annotator", "repeat_of", "choice"]]
    orig = votes[["id", "choice"]].rename(columns={"id": "repeat_of", "choice": "first"})
    m = rep.merge(orig, on="repeat_of")
    if m.empty:
        return pd.DataFrame(columns=["annotator", "repeats", "consistent", "consistency"])
    g = m.assign(same=m["choice"] == m["first"]).groupby("annotator")["same"].agg(["count", "sum"]).reset_index()
    g = g.rename(columns={"count": "repeats", "sum": "consistent"})
    g["consistency"] = g["consistent"] / g["repeats"]
    return g


def choice_shares(votes: pd.DataFrame) -> pd.DataFrame:
    """Share of A / B / tie / both_bad per annotator (rows sum to 1) plus the vote count."""
    if votes.empty:
        return pd.DataFrame()
    ct = pd.crosstab(votes["annotator"].astype(str), votes["choice"].astype(str))
    shares = ct.div(ct.sum(axis=1), axis=0)
    shares["votes"] = ct.sum(axis=1)
    return shares.sort_values("votes", ascending=False)


def time_per_vote(votes: pd.DataFrame) -> pd.DataFrame:
    """Seconds per vote per annotator: median, mean, 90th percentile."""
    if "seconds" not in votes or votes["seconds"].isna().all():
        return pd.DataFrame(columns=["annotator", "votes_timed", "median_s", "mean_s", "p90_s"])
    v = votes[votes["seconds"].notna()]
    g = v.groupby("annotator")["seconds"]
    out = pd.DataFrame({"votes_timed": g.count(), "median_s": g.median(), "mean_s": g.mean(), "p90_s": g.quantile(0.9)})
    return out.reset_index().sort_values("votes_timed", ascending=False)


def votes_over_time(votes: pd.DataFrame, top: int = 8, freq: str = "D") -> pd.DataFrame:
    """Vote counts per period and annotator; annotators beyond the ``top`` busiest -> "other"."""
    if votes.empty:
        return pd.DataFrame(columns=["period", "annotator", "votes"])
    busiest = votes["annotator"].value_counts().index[:top]
    who = votes["annotator"].where(votes["annotator"].isin(busiest), "other").astype(str)
    period = votes["ts"].dt.tz_localize(None).dt.to_period(freq).dt.start_time
    g = pd.DataFrame({"period": period, "annotator": who}).groupby(["period", "annotator"]).size()
    return g.rename("votes").reset_index()


def scalar_frame(items, drop: tuple[str, ...] = ()) -> pd.DataFrame:
    """List of dicts of unknown shape -> a displayable table.

    Scalars stay, lists of scalars become "a, b, c", nested dicts are dropped; anything
    that is not a list of dicts gives an empty frame.
    """
    if not isinstance(items, list):
        return pd.DataFrame()
    rows = []
    for it in items:
        if not isinstance(it, dict):
            continue
        row = {}
        for k, v in it.items():
            if k in drop or isinstance(v, dict):
                continue
            if isinstance(v, list):
                if all(not isinstance(x, (dict, list)) for x in v):
                    row[k] = ", ".join(f"{x:.3g}" if isinstance(x, float) else str(x) for x in v)
                continue
            row[k] = v
        rows.append(row)
    return pd.DataFrame(rows)


def error_zones(joined: pd.DataFrame, prompts: pd.DataFrame, min_n: int = 10, top: int = 5,
                examples: int = 3) -> list[dict]:
    """Worst (domain, task type) groups with example prompts the predictor got wrong."""
    info = attach_prompt_info(joined, prompts)
    groups = errors_by(info, ["domain", "task_type"])
    groups = groups[groups["n"] >= min_n].head(top)
    wrong = info[~info["correct"].astype(bool)]
    out = []
    for _, g in groups.iterrows():
        w = wrong[(wrong["domain"] == g["domain"]) & (wrong["task_type"] == g["task_type"])]
        ex = [t for t in w["prompt_text"].drop_duplicates().head(examples).tolist() if t]
        out.append({"domain": g["domain"], "task_type": g["task_type"], "n": int(g["n"]),
                    "error_rate": float(g["error_rate"]), "lo": float(g["lo"]), "hi": float(g["hi"]), "examples": ex})
    return out
