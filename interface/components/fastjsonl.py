"""Fast JSONL -> DataFrame reader with the same skip-and-report semantics as the store.

``utils.store.read_records`` parses and validates line by line in Python, about 40 µs a
record here: 100,000 votes plus 100,000 predictions take ~4 s, more than the dashboard's
whole first-render budget. This reader parses with pyarrow's C++ JSON reader instead
(only the schema's columns, typed from ``utils.schema.SCHEMAS``) and checks the schema's
rules column-wise. Any chunk pyarrow rejects (a malformed or truncated line, a wrong
type) is re-read line by line, and every row a vectorised check flags is re-checked with
``utils.schema.validate`` itself, so the records kept and the :class:`BadLine` reasons are
the store's. Small files go straight to ``read_records``.
"""
from __future__ import annotations

import io
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd

from utils import schema as S
from utils.store import BadLine, read_records

FAST_MIN_BYTES = 1 << 20  # below this the plain store reader is fast enough
CHUNK_LINES = 10_000
SLOW_LINES = 64  # refused pieces this small are read line by line
# Extra (schema-free) fields the dashboard needs, per record type.
EXTRA_COLUMNS = {"vote": {"retracts": str}, "prompt": {}, "pair": {}, "prediction": {}}


def _arrow_type(types):
    import pyarrow as pa

    names = types if isinstance(types, tuple) else (types,)
    names = tuple(t for t in names if t is not type(None))
    if names == (str,):
        return pa.string()
    if names == (int,):
        return pa.int64()
    if names == (bool,):
        return pa.bool_()
    if set(names) <= {int, float}:
        return pa.float64()
    return None  # dicts and anything else: not read by the dashboard


def _columns(record_type: str) -> dict:
    cols = {name: spec.types for name, spec in S.SCHEMAS[record_type].items()}
    cols.update(EXTRA_COLUMNS.get(record_type, {}))
    return cols


def fast_supported(record_type: str) -> bool:
    """The fast path skips dict columns, so a type with a required dict field is read slowly."""
    return not any(spec.required and _arrow_type(spec.types) is None
                   for spec in S.SCHEMAS[record_type].values())


def read_frame(path: str | Path, record_type: str, errors: list[BadLine] | None = None,
               fast: bool | None = None) -> pd.DataFrame:
    """Valid records of a JSONL file as a DataFrame (schema columns plus dashboard extras).

    Bad lines are skipped and appended to ``errors``; a missing file gives an empty frame
    with the expected columns. ``fast`` forces (True) or forbids (False) the arrow path.
    """
    path = Path(path)
    cols = list(_columns(record_type))
    if not path.exists():
        return pd.DataFrame(columns=cols)
    if fast is None:
        fast = path.stat().st_size >= FAST_MIN_BYTES
    if not fast or not fast_supported(record_type):
        recs = read_records(path, record_type, errors=errors, warn=False)
        return _frame_from_records(recs, cols)
    found: list[BadLine] = []
    df = _read_fast(path, record_type, found)
    if errors is not None:
        errors.extend(sorted(found, key=lambda b: b.lineno))
    return df


def _frame_from_records(recs: list[dict], cols: list[str]) -> pd.DataFrame:
    return pd.DataFrame.from_records(recs, columns=cols) if recs else pd.DataFrame(columns=cols)


def _read_fast(path: Path, record_type: str, errors: list[BadLine]) -> pd.DataFrame:
    import pyarrow as pa
    import pyarrow.json as pj

    raw = path.read_bytes()
    col_types = _columns(record_type)
    names = list(col_types)
    fields = [(n, _arrow_type(t)) for n, t in col_types.items() if _arrow_type(t) is not None]
    popts = pj.ParseOptions(explicit_schema=pa.schema(fields), unexpected_field_behavior="ignore")

    def parse(data: bytes, longest: int) -> pd.DataFrame:
        ropts = pj.ReadOptions(block_size=max(1 << 20, 2 * longest + 2), use_threads=True)
        return pj.read_json(io.BytesIO(data), read_options=ropts, parse_options=popts).to_pandas()

    lines = raw.split(b"\n")
    df, linenos = _read_chunked(lines, record_type, str(path), errors, parse, names,
                                truncated_last=bool(lines) and lines[-1].strip() != b"")
    del raw
    df = df.reindex(columns=names)
    bad = ~_valid_mask(df, record_type)
    if bad.any():
        ok = np.ones(len(df), dtype=bool)
        for pos in np.flatnonzero(bad):
            lineno = int(linenos[pos])
            try:
                S.validate(record_type, json.loads(lines[lineno - 1]))
            except (S.RecordError, ValueError) as exc:
                errors.append(BadLine(str(path), lineno, str(exc)))
                ok[pos] = False
        df = df[ok].reset_index(drop=True)
    return df


def _read_chunked(lines, record_type, where, errors, parse, names, truncated_last):
    keep = [i for i, ln in enumerate(lines) if ln.strip()]
    linenos = np.asarray(keep, dtype=np.int64) + 1
    body = [lines[i] for i in keep]
    longest = max((len(b) for b in body), default=0)
    frames, frame_lines = [], []

    def take(lo: int, hi: int) -> None:
        """Parse body[lo:hi]; on refusal halve it, down to the exact per-line reader."""
        chunk, nos = body[lo:hi], linenos[lo:hi]
        has_torn_end = truncated_last and hi == len(body)
        if hi - lo > SLOW_LINES and not (has_torn_end and hi - lo == 1):
            try:
                if has_torn_end:
                    raise ValueError("last line has no newline")
                part = parse(b"\n".join(chunk) + b"\n", longest)
                if len(part) != len(chunk):
                    raise ValueError("row count mismatch")
                frames.append(part)
                frame_lines.append(nos)
                return
            except Exception:  # noqa: BLE001 - any refusal: narrow it down
                mid = (lo + hi) // 2
                take(lo, mid)
                take(mid, hi)
                return
        recs, kept = _slow_chunk(chunk, nos, record_type, where, errors, last_truncated=has_torn_end)
        if recs:
            frames.append(pd.DataFrame.from_records(recs, columns=names))
            frame_lines.append(np.asarray(kept, dtype=np.int64))

    for start in range(0, len(body), CHUNK_LINES):
        take(start, min(len(body), start + CHUNK_LINES))
    if not frames:
        return pd.DataFrame(columns=names), np.zeros(0, dtype=np.int64)
    frames = [f.reindex(columns=names) for f in frames]
    df = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    return df, np.concatenate(frame_lines)


def _slow_chunk(chunk, nos, record_type, where, errors, last_truncated=False):
    recs, kept = [], []
    for j, (ln, no) in enumerate(zip(chunk, nos)):
        text = ln.decode("utf-8", errors="replace")
        try:
            rec = json.loads(text)
            if not isinstance(rec, dict):
                raise ValueError(f"expected a JSON object, got {type(rec).__name__}")
            S.validate(record_type, rec)
        except json.JSONDecodeError as exc:
            is_trunc = last_truncated and j == len(chunk) - 1
            errors.append(BadLine(where, int(no), ("truncated line" if is_trunc else "malformed JSON") + f" ({exc.msg})"))
            continue
        except (ValueError, S.RecordError) as exc:
            errors.append(BadLine(where, int(no), str(exc)))
            continue
        recs.append(rec)
        kept.append(int(no))
    return recs, kept


_RANGE = re.compile(r"(?:in \[|from )\s*(-?[\d.]+)\s*(?:,| to)\s*(-?[\d.]+)")


def _valid_mask(df: pd.DataFrame, record_type: str) -> np.ndarray:
    """True where a row surely passes ``validate``; False rows get the exact check.

    May flag good rows (they are re-checked), must never pass a bad one.
    """
    ok = np.ones(len(df), dtype=bool)
    for name, spec in S.SCHEMAS[record_type].items():
        if name not in df.columns:
            continue
        col = df[name]
        present = col.notna().to_numpy()
        if spec.required:
            ok &= present
        if not present.any():
            continue
        vals = col[present]
        good = np.ones(len(vals), dtype=bool)
        if spec.allowed is not None:
            good &= vals.isin(spec.allowed).to_numpy()
        if spec.check is not None:
            good &= _check_vectorised(spec, vals)
        ok[np.flatnonzero(present)[~good]] = False
    return ok


def _check_vectorised(spec: S.Spec, vals: pd.Series) -> np.ndarray:
    if spec.check is S._nonempty:
        return (vals.astype(str).str.strip().str.len() > 0).to_numpy()
    if spec is S.CREATED or spec.check is S.CREATED.check:
        s = vals.astype(str)
        return (s.str.contains("T", regex=False) & (s.str.endswith("Z") | s.str.contains("+", regex=False))).to_numpy()
    if spec.check is S._prob:
        v = vals.astype(float).to_numpy()
        return (v >= 0.0) & (v <= 1.0)
    m = _RANGE.search(spec.what or "")
    if m and spec.types in (int, S.NUM, float):
        lo, hi = float(m.group(1)), float(m.group(2))
        v = vals.astype(float).to_numpy()
        return (v >= lo) & (v <= hi)
    uniq = pd.unique(vals)  # unknown rule: run it, once per distinct value
    verdict = {u: _safe(spec.check, u) for u in uniq}
    return vals.map(verdict).fillna(False).astype(bool).to_numpy()


def _safe(check, value) -> bool:
    try:
        return bool(check(value))
    except (TypeError, ValueError):
        return False
