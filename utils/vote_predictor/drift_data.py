"""Columnar inputs of the drift monitor: predictions joined with votes, pairs and prompts.

Prediction files can hold millions of lines, so they are streamed into numpy columns (no
per-record dicts are kept); pairs keep only their prompt text, domain and response length.
"""
from __future__ import annotations

import datetime as _dt
import itertools
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
        out = np.full(len(stamps), np.nan)  # nan: unparseable, dropped by the caller
        for i, s in enumerate(stamps):
            try:
                d = _dt.datetime.fromisoformat(s.replace("Z", "+00:00"))
            except ValueError:
                continue
            if d.tzinfo is None:
                d = d.replace(tzinfo=_dt.timezone.utc)
            out[i] = d.timestamp()
        return out


class _Columns:
    """Accumulates prediction columns chunk by chunk while streaming."""

    def __init__(self):
        self.t: list[str] = []
        self.p, self.raw, self.ra, self.rb, self.pair, self.ver, self.ref = ([] for _ in range(7))
        self.pair_index: dict[str, int] = {}
        self.version_index: dict[str, int] = {}
        self.bad = 0

    def __len__(self) -> int:
        return len(self.t)

    def add_chunk(self, recs: list, is_ref: bool) -> bool:
        """Add records whose used fields are all present and sane; False (nothing added) otherwise."""
        try:
            p = np.array([r["prob_a"] for r in recs], dtype=float)
            raw = np.array([r.get("raw_prob_a") for r in recs], dtype=float)  # None -> nan
            ra = np.array([r["reward_a"] for r in recs], dtype=float)
            rb = np.array([r["reward_b"] for r in recs], dtype=float)
            t = [r["created_at"] for r in recs]
            pids = [r["pair_id"] for r in recs]
            vers = [r["model_version"] for r in recs]
        except (KeyError, TypeError, ValueError, AttributeError):
            return False
        ok_num = (np.all((p >= 0) & (p <= 1)) and np.all(np.isnan(raw) | ((raw >= 0) & (raw <= 1)))
                  and np.all(np.isfinite(ra)) and np.all(np.isfinite(rb)))
        if not ok_num or {type(x) for x in t + pids + vers} != {str}:
            return False
        pi, vi = self.pair_index, self.version_index
        self.pair.append(np.array([pi.setdefault(x, len(pi)) for x in pids], dtype=np.int64))
        self.ver.append(np.array([vi.setdefault(x, len(vi)) for x in vers], dtype=np.int64))
        self.t.extend(t)
        self.p.append(p)
        self.raw.append(raw)
        self.ra.append(ra)
        self.rb.append(rb)
        self.ref.append(np.full(len(recs), is_ref))
        return True

    def column(self, name: str, dtype=float) -> np.ndarray:
        parts = getattr(self, name)
        return np.concatenate(parts).astype(dtype, copy=False) if parts else np.zeros(0, dtype=dtype)


_CHUNK = 20000


def _careful(path: Path, lines: list[str], first_lineno: int, cols: _Columns, is_ref: bool) -> None:
    """Line-by-line path for a chunk holding at least one bad line: report it, keep the rest."""
    for k, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
            validate("prediction", rec)  # raises naming the field, the value and what is allowed
            if not cols.add_chunk([rec], is_ref):
                raise ValueError("prob_a, raw_prob_a or a reward is not a finite number in range")
        except (ValueError, RecordError, TypeError) as exc:
            cols.bad += 1
            if cols.bad <= _MAX_WARNINGS:
                log.warning("%s line %d: %s; line skipped", path, first_lineno + k, exc)


def stream_predictions(path: Path, cols: _Columns, is_ref: bool = False) -> int:
    """Append valid prediction lines of ``path`` to ``cols``; bad lines warned and skipped.

    Lines are parsed 20,000 at a time as one JSON array (one C call instead of one per
    line); a chunk that fails anywhere is redone line by line.
    """
    n0 = len(cols)
    if not path.exists():
        return 0
    with open(path, "r", encoding="utf-8", errors="replace", newline="\n") as fh:
        lineno = 1
        while True:
            lines = list(itertools.islice(fh, _CHUNK))
            if not lines:
                break
            body = [ln for ln in lines if ln.strip()]
            try:
                recs = json.loads("[" + ",".join(body) + "]")
                fast = len(recs) == len(body) and all(type(r) is dict for r in recs) and cols.add_chunk(recs, is_ref)
            except ValueError:
                fast = False
            if not fast:
                _careful(path, lines, lineno, cols, is_ref)
            lineno += len(lines)
    return len(cols) - n0


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
        j = cols.pair_index.get(p.get("id")) if isinstance(p.get("id"), str) else None
        if j is not None:
            _set_texts(j, p, prompt_text, pair_text, resp_len)
            prompt_ids[j] = p.get("prompt_id") if isinstance(p.get("prompt_id"), str) else None

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
    cols.t = []  # the strings are the biggest column; free them early
    is_ref = cols.column("ref", bool)
    bad_t = ~np.isfinite(t)
    if bad_t.any():
        log.warning("%d predictions with an unreadable created_at skipped", int(bad_t.sum()))
        cols.bad += int(bad_t.sum())
    order = np.lexsort((t, ~is_ref))  # reference first, then by time
    order = order[~bad_t[order]]
    arr = lambda name, dt=float: cols.column(name, dt)[order]  # noqa: E731
    return DriftData(
        t=t[order], prob_a=arr("p"), raw_prob_a=arr("raw"), reward_a=arr("ra"), reward_b=arr("rb"),
        pair=arr("pair", np.int64), version=arr("ver", np.int64), is_ref=is_ref[order],
        versions=list(cols.version_index), pair_ids=list(cols.pair_index), prompt_text=prompt_text,
        pair_text=pair_text, resp_len=resp_len, pair_label=pair_label, pair_votes=pair_votes,
        domain=domain, domains=domains, bad_lines=cols.bad)


def _set_texts(j: int, rec: dict, prompt_text: list, pair_text: list, resp_len: np.ndarray) -> None:
    prompt, ra, rb = (v if isinstance(v := rec.get(k), str) else "" for k in ("prompt", "response_a", "response_b"))
    prompt_text[j] = prompt
    pair_text[j] = f"{prompt}\n{ra}\n{rb}"
    resp_len[j] = (len(ra) + len(rb)) / 2


def data_from_records(predictions: Iterable[dict], votes: Iterable[dict] = (), pairs: Iterable[dict] = (),
                      prompts: Iterable[dict] = (), reference: Iterable[dict] = ()) -> DriftData:
    """In-memory entry point (tests, the loop): the same join as :func:`load_drift_data`."""
    cols = _Columns()
    for recs, is_ref in ((list(reference), True), (list(predictions), False)):
        if recs and not cols.add_chunk(recs, is_ref):
            for rec in recs:
                if not cols.add_chunk([rec], is_ref):
                    raise RecordError(f"prediction {rec.get('id')!r}: prob_a, rewards, pair_id, model_version "
                                      "or created_at missing or out of range")
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
    # pairs and prompts are only looked up (id -> texts / domain), so they skip the full
    # schema check that would double the load time of a big pairs file; votes are checked
    domains = {p.get("id"): p["domain"] for p in iter_records(paths.prompts) if isinstance(p.get("domain"), str)}
    votes = iter_records(paths.votes, "vote")
    pairs = iter_records(paths.pairs)
    data = build_data(cols, votes, pairs, domains)
    for key, p in (("votes", paths.votes), ("pairs", paths.pairs), ("prompts", paths.prompts)):
        inputs[key] = {"path": str(p), "sha256": file_sha256(p) if p.exists() else None}
    data.inputs = inputs
    if cols.bad > _MAX_WARNINGS:
        log.warning("%d bad prediction lines skipped in total", cols.bad)
    return data
