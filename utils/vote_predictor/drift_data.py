"""Columnar inputs of the drift monitor: predictions joined with votes, pairs and prompts.

Prediction files can hold millions of lines, so they are streamed into numpy columns (no
per-record dicts are kept); pairs keep only their prompt text, domain and response length.
"""
from __future__ import annotations

import datetime as _dt
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

import numpy as np

from utils.schema import RecordError, validate
from utils.store import file_sha256, iter_records

log = logging.getLogger("rlhf_loop.drift")

VOTE_CHOICES = ("A", "B", "tie", "both_bad")
LABEL_SOURCES = ("human", "import")  # model auto-labels never count as ground truth
_MAX_WARNINGS = 10


@dataclass
class DriftData:
    """Prediction columns (n,) sorted by time, plus pair-level columns (n_pairs,)."""
    t: np.ndarray              # (n,) created_at, seconds since epoch
    prob_a: np.ndarray         # (n,) calibrated P(A preferred)
    raw_prob_a: np.ndarray     # (n,) before calibration, nan when absent
    reward_a: np.ndarray       # (n,)
    reward_b: np.ndarray       # (n,)
    pair: np.ndarray           # (n,) index into the pair columns
    version: np.ndarray        # (n,) index into ``versions``
    is_ref: np.ndarray         # (n,) True for records of the --reference file
    versions: list[str]
    pair_ids: list[str]
    prompt_text: list[str]     # (n_pairs,) "" when unknown
    pair_text: list[str]       # (n_pairs,) prompt + both responses (for --cluster-text pair)
    resp_len: np.ndarray       # (n_pairs,) mean response length in characters, nan when unknown
    pair_label: np.ndarray     # (n_pairs,) 1.0 A / 0.0 B by human+import majority, nan otherwise
    pair_votes: np.ndarray     # (n_pairs, 4) human+import vote counts for A, B, tie, both_bad
    domain: np.ndarray         # (n_pairs,) index into ``domains``, -1 unknown
    domains: list[str]
    inputs: dict = field(default_factory=dict)
    bad_lines: int = 0

    @property
    def n(self) -> int:
        return int(self.t.size)

    @property
    def label_a(self) -> np.ndarray:
        return self.pair_label[self.pair]


def parse_times(stamps: list[str]) -> np.ndarray:
    """ISO-8601 strings -> float seconds since epoch; fast path for the store's 'Z' format."""
    try:
        arr = np.array([s[:-1] if s.endswith("Z") else s for s in stamps], dtype="datetime64[us]")
        return arr.astype(np.int64) / 1e6
    except ValueError:
        out = np.empty(len(stamps))
        for i, s in enumerate(stamps):
            d = _dt.datetime.fromisoformat(s.replace("Z", "+00:00"))
            if d.tzinfo is None:
                d = d.replace(tzinfo=_dt.timezone.utc)
            out[i] = d.timestamp()
        return out


class _Columns:
    """Accumulates prediction columns while streaming."""

    def __init__(self):
        self.t, self.p, self.raw, self.ra, self.rb, self.pair, self.ver, self.ref = ([] for _ in range(8))
        self.pair_index: dict[str, int] = {}
        self.version_index: dict[str, int] = {}
        self.bad = 0

    def add(self, rec: dict, is_ref: bool) -> None:
        self.t.append(rec["created_at"])
        self.p.append(float(rec["prob_a"]))
        self.raw.append(float(rec.get("raw_prob_a", np.nan) if rec.get("raw_prob_a") is not None else np.nan))
        self.ra.append(float(rec["reward_a"]))
        self.rb.append(float(rec["reward_b"]))
        self.pair.append(self.pair_index.setdefault(rec["pair_id"], len(self.pair_index)))
        self.ver.append(self.version_index.setdefault(rec["model_version"], len(self.version_index)))
        self.ref.append(is_ref)


def _quick_ok(r) -> bool:
    """Cheap check of the fields the monitor uses; anything odd goes through the full schema."""
    try:
        p, c = r["prob_a"], r["created_at"]
        return (isinstance(r["pair_id"], str) and isinstance(c, str) and c != "" and 0.0 <= p <= 1.0
                and isinstance(r["reward_a"], (int, float)) and isinstance(r["reward_b"], (int, float))
                and isinstance(r["model_version"], str) and not isinstance(p, bool))
    except (KeyError, TypeError):
        return False


def stream_predictions(path: Path, cols: _Columns, is_ref: bool = False) -> int:
    """Append valid prediction lines of ``path`` to ``cols``; bad lines warned and skipped."""
    n0 = len(cols.t)
    if not path.exists():
        return 0
    with open(path, "r", encoding="utf-8", errors="replace", newline="\n") as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
                if not _quick_ok(rec):
                    validate("prediction", rec)  # raises with the field, value and what is allowed
                    if not _quick_ok(rec):
                        raise ValueError("created_at or prob_a unusable")
            except (ValueError, RecordError, TypeError) as exc:
                cols.bad += 1
                if cols.bad <= _MAX_WARNINGS:
                    log.warning("%s line %d: %s; line skipped", path, lineno, exc)
                continue
            cols.add(rec, is_ref)
    return len(cols.t) - n0


def build_data(cols: _Columns, votes: Iterable[dict], pairs: Iterable[dict],
               prompt_domains: dict[str, str] | None = None) -> DriftData:
    """Join streamed prediction columns with votes (labels) and pairs (texts, lengths)."""
    n_pairs = len(cols.pair_index)
    pair_votes = np.zeros((n_pairs, len(VOTE_CHOICES)), dtype=np.int64)
    inline: dict[int, dict] = {}
    choice_idx = {c: i for i, c in enumerate(VOTE_CHOICES)}
    for v in votes:
        j = cols.pair_index.get(v.get("pair_id"))
        if j is None or v.get("annotator_type") not in LABEL_SOURCES or v.get("choice") not in choice_idx:
            continue
        pair_votes[j, choice_idx[v["choice"]]] += 1
        if v.get("prompt"):
            inline.setdefault(j, v)
    a, b = pair_votes[:, 0], pair_votes[:, 1]
    pair_label = np.where(a > b, 1.0, np.where(b > a, 0.0, np.nan))

    prompt_text = [""] * n_pairs
    pair_text = [""] * n_pairs
    resp_len = np.full(n_pairs, np.nan)
    prompt_ids: list[str | None] = [None] * n_pairs
    for j, v in inline.items():  # imported votes carry their texts inline
        _set_texts(j, v, prompt_text, pair_text, resp_len)
        prompt_ids[j] = v.get("prompt_id")
    for p in pairs:
        j = cols.pair_index.get(p.get("id"))
        if j is not None:
            _set_texts(j, p, prompt_text, pair_text, resp_len)
            prompt_ids[j] = p.get("prompt_id")

    domains: list[str] = []
    domain = np.full(n_pairs, -1, dtype=np.int64)
    if prompt_domains:
        didx: dict[str, int] = {}
        for j, pid in enumerate(prompt_ids):
            d = prompt_domains.get(pid) if pid else None
            if d is not None:
                domain[j] = didx.setdefault(d, len(didx))
        domains = list(didx)

    t = parse_times(cols.t)
    order = np.lexsort((t, ~np.asarray(cols.ref, dtype=bool)))  # reference first, then by time
    arr = lambda xs, dt=float: np.asarray(xs, dtype=dt)[order]  # noqa: E731
    return DriftData(
        t=t[order], prob_a=arr(cols.p), raw_prob_a=arr(cols.raw), reward_a=arr(cols.ra), reward_b=arr(cols.rb),
        pair=arr(cols.pair, np.int64), version=arr(cols.ver, np.int64), is_ref=arr(cols.ref, bool),
        versions=list(cols.version_index), pair_ids=list(cols.pair_index), prompt_text=prompt_text,
        pair_text=pair_text, resp_len=resp_len, pair_label=pair_label, pair_votes=pair_votes,
        domain=domain, domains=domains, bad_lines=cols.bad)


def _set_texts(j: int, rec: dict, prompt_text: list, pair_text: list, resp_len: np.ndarray) -> None:
    prompt, ra, rb = rec.get("prompt") or "", rec.get("response_a") or "", rec.get("response_b") or ""
    prompt_text[j] = prompt
    pair_text[j] = f"{prompt}\n{ra}\n{rb}"
    resp_len[j] = (len(ra) + len(rb)) / 2


def data_from_records(predictions: Iterable[dict], votes: Iterable[dict] = (), pairs: Iterable[dict] = (),
                      prompts: Iterable[dict] = (), reference: Iterable[dict] = ()) -> DriftData:
    """In-memory entry point (tests, the loop): the same join as :func:`load_drift_data`."""
    cols = _Columns()
    for rec in reference:
        cols.add(rec, True)
    for rec in predictions:
        cols.add(rec, False)
    domains = {p["id"]: p["domain"] for p in prompts if "domain" in p}
    return build_data(cols, votes, pairs, domains)


def load_drift_data(paths, reference: str | Path | None = None) -> DriftData:
    """Read data/predictions.jsonl (+ an optional reference predictions file), votes, pairs
    and prompt domains from ``paths``."""
    cols = _Columns()
    inputs = {}
    if reference:
        ref = Path(reference)
        if not ref.exists():
            raise FileNotFoundError(2, "no such file", str(ref))
        inputs["reference"] = {"path": str(ref), "records": stream_predictions(ref, cols, True), "sha256": file_sha256(ref)}
    n = stream_predictions(paths.predictions, cols)
    inputs["predictions"] = {"path": str(paths.predictions), "records": n,
                             "sha256": file_sha256(paths.predictions) if paths.predictions.exists() else None}
    domains = {p["id"]: p["domain"] for p in iter_records(paths.prompts, "prompt")}
    votes = iter_records(paths.votes, "vote")
    pairs = iter_records(paths.pairs, "pair")
    data = build_data(cols, votes, pairs, domains)
    for key, p in (("votes", paths.votes), ("pairs", paths.pairs), ("prompts", paths.prompts)):
        inputs[key] = {"path": str(p), "sha256": file_sha256(p) if p.exists() else None}
    data.inputs = inputs
    if cols.bad > _MAX_WARNINGS:
        log.warning("%d bad prediction lines skipped in total", cols.bad)
    return data
