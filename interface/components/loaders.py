"""Cached, defensive loaders for every file the dashboard reads.

Each loader returns a :class:`Loaded` (data + what went wrong), never raises on a missing
or malformed file: sections turn that into "nothing here yet" or a visible warning.
Loads are cached keyed on path + mtime + size, so an append to a log (new votes, a new
checkpoint) is picked up on the next rerun and nothing else is re-read. Small JSON and
JSONL files use ``st.cache_data``. The two big tables (votes, predictions: 100,000+ rows)
use ``st.cache_resource`` instead: ``cache_data`` pickles the frame on store and unpickles
it on every rerun, ~0.8 s per 100,000 votes here, more than the rest of a render. The
cached frames are shared, so sections treat them as read-only (filters make new frames).
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from interface.components.fastjsonl import read_frame
from utils.store import read_records

MAX_BAD_SHOWN = 20
# Columns the dashboard uses; the rest are validated, then dropped (every filter copies them).
KEEP = {
    "vote": ["id", "pair_id", "prompt_id", "choice", "annotator", "annotator_type", "ts", "seconds", "confidence",
             "model_confidence", "rationale", "repeat_of", "model", "prompt", "response_a", "response_b"],
    "prediction": ["id", "pair_id", "prompt_id", "prob_a", "raw_prob_a", "choice", "confidence", "model_version", "ts"],
}


@dataclass
class Loaded:
    """Result of one load: ``data`` (DataFrame, list or dict) plus its problems."""

    data: Any
    path: str
    exists: bool = True
    n_bad: int = 0
    bad: list[str] = field(default_factory=list)  # first MAX_BAD_SHOWN reasons, file + line
    error: str | None = None                     # the whole file could not be used
    extra: dict = field(default_factory=dict)    # loader-specific side results

    @property
    def empty(self) -> bool:
        d = self.data
        return d is None or (len(d) == 0 if hasattr(d, "__len__") else False)


def file_key(path: str | Path) -> tuple[str, int, int]:
    """(path, mtime_ns, size); (path, -1, -1) for a missing file. The cache key of a load."""
    try:
        st_ = os.stat(path)
        return str(path), st_.st_mtime_ns, st_.st_size
    except OSError:
        return str(path), -1, -1


def parse_times(col: pd.Series) -> pd.Series:
    """ISO-8601 strings -> tz-aware UTC timestamps (unparseable -> NaT)."""
    if len(col) == 0:
        return pd.Series(pd.DatetimeIndex([], tz="UTC"), index=col.index)
    return pd.to_datetime(col, utc=True, format="ISO8601", errors="coerce")


def _frame(path: str, record_type: str) -> Loaded:
    errors: list = []
    df = read_frame(path, record_type, errors)
    return Loaded(df, path, exists=Path(path).exists(), n_bad=len(errors),
                  bad=[str(e) for e in errors[:MAX_BAD_SHOWN]])


@st.cache_resource(show_spinner=False, max_entries=8)
def _votes_cached(path: str, mtime_ns: int, size: int) -> Loaded:
    res = _frame(path, "vote")
    df = res.data
    # Undo in the voting UI appends a retraction; both it and the vote it names stop counting.
    gone = set(df["retracts"].dropna().tolist()) if "retracts" in df else set()
    if gone or ("retracts" in df and df["retracts"].notna().any()):
        df = df[df["retracts"].isna() & ~df["id"].isin(gone)].reset_index(drop=True)
    df["ts"] = parse_times(df["created_at"])
    res.data = df[KEEP["vote"]]
    return res


@st.cache_resource(show_spinner=False, max_entries=16)
def _table_cached(path: str, mtime_ns: int, size: int, record_type: str) -> Loaded:
    res = _frame(path, record_type)
    res.data["ts"] = parse_times(res.data["created_at"])
    if record_type in KEEP:
        res.data = res.data[KEEP[record_type]]
    if record_type == "prediction":
        # The file is append-only, so the last line per (pair, version) is the latest prediction.
        res.extra["latest"] = res.data.drop_duplicates(["pair_id", "model_version"], keep="last")
    return res


def load_votes(path: str | Path) -> Loaded:
    """Effective votes (retractions applied) with a parsed ``ts`` column."""
    return _votes_cached(*file_key(path))


def load_table(path: str | Path, record_type: str) -> Loaded:
    """predictions / pairs / prompts as a DataFrame with a parsed ``ts`` column."""
    return _table_cached(*file_key(path), record_type)


@st.cache_data(show_spinner=False, max_entries=64)
def _json_cached(path: str, mtime_ns: int, size: int) -> Loaded:
    if mtime_ns < 0:
        return Loaded(None, path, exists=False)
    try:
        return Loaded(json.loads(Path(path).read_text(encoding="utf-8")), path)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        return Loaded(None, path, error=f"{path}: not readable JSON ({exc}); fix or delete the file")


def load_json(path: str | Path) -> Loaded:
    """A whole-file JSON document; ``error`` set when it exists but cannot be parsed."""
    return _json_cached(*file_key(path))


@st.cache_data(show_spinner=False, max_entries=64)
def _records_cached(path: str, mtime_ns: int, size: int) -> Loaded:
    errors: list = []
    recs = read_records(path, None, errors=errors, warn=False) if mtime_ns >= 0 else []
    return Loaded(recs, path, exists=mtime_ns >= 0, n_bad=len(errors), bad=[str(e) for e in errors[:MAX_BAD_SHOWN]])


def load_records(path: str | Path) -> Loaded:
    """A small schema-free JSONL log (eval probes, loop history) as a list of dicts."""
    return _records_cached(*file_key(path))


def _version_key(name: str) -> tuple:
    digits = "".join(ch for ch in name if ch.isdigit())
    return (int(digits) if digits else -1, name)


def load_checkpoints(folder: str | Path) -> Loaded:
    """Every version folder of the vote predictor checkpoint, oldest first.

    ``data`` is a list of {"version", "path", "meta", "calibration", "is_latest"}; folders
    without a ``training_meta.json`` are skipped, unreadable JSON is reported in ``bad``.
    """
    folder = Path(folder)
    if not folder.is_dir():
        return Loaded([], str(folder), exists=False)
    latest = None
    latest_file = folder / "latest"
    if latest_file.is_file():
        try:
            latest = latest_file.read_text(encoding="utf-8").strip() or None
        except OSError:
            latest = None
    out, bad = [], []
    for sub in sorted((p for p in folder.iterdir() if p.is_dir()), key=lambda p: _version_key(p.name)):
        meta = load_json(sub / "training_meta.json")
        if meta.error:
            bad.append(meta.error)
        if not isinstance(meta.data, dict):
            continue
        cal = load_json(sub / "calibration.json")
        if cal.error:
            bad.append(cal.error)
        version = str(meta.data.get("version") or sub.name)
        out.append({"version": version, "path": str(sub), "meta": meta.data,
                    "calibration": cal.data if isinstance(cal.data, dict) else None,
                    "is_latest": version == latest or sub.name == latest})
    history = load_records(folder / "history.jsonl")
    return Loaded(out, str(folder), n_bad=len(bad) + history.n_bad, bad=(bad + history.bad)[:MAX_BAD_SHOWN],
                  extra={"latest": latest, "history": history.data})


def calibration_entries(doc: Any) -> list[dict]:
    """The ``calibrations`` list of models/calibration_log.json, tolerating older shapes."""
    if isinstance(doc, dict):
        items = doc.get("calibrations", doc.get("entries", []))
    elif isinstance(doc, list):
        items = doc
    else:
        items = []
    return [c for c in items if isinstance(c, dict)]
