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
CHUNK_BYTES = 4 << 20  # piece size of the fast path
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

    frames, frame_lines = [], []
    torn = bool(raw) and not raw.endswith(b"\n")
    clean_end = raw.rfind(b"\n") + 1 if torn else len(raw)
    pos, line0 = 0, 1
    while pos < clean_end:  # ~4 MB pieces cut at newlines: no per-line Python work on the happy path
        stop = raw.find(b"\n", min(pos + CHUNK_BYTES, clean_end) - 1) + 1
        piece = raw[pos:stop]
        n_lines = piece.count(b"\n")
        part = None
        try:
            part = parse(piece, 0)
            if len(part) != n_lines:  # blank lines (skipped by pyarrow): number the lines the slow way
                part = None
        except Exception:  # noqa: BLE001 - a refused piece is narrowed down line by line below
            part = None
        if part is not None:
            frames.append(part)
            frame_lines.append(np.arange(line0, line0 + n_lines, dtype=np.int64))
        else:
            _read_lines(piece.split(b"\n")[:n_lines], line0, record_type, str(path), errors, parse, names,
                        False, frames, frame_lines)
        pos, line0 = stop, line0 + n_lines
    if torn:  # a last line without newline: a writer may have died mid-line
        _read_lines([raw[clean_end:]], line0, record_type, str(path), errors, parse, names, True, frames, frame_lines)
    if frames:
        frames = [f.reindex(columns=names) for f in frames]
        df = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
        linenos = np.concatenate(frame_lines)
    else:
        df, linenos = pd.DataFrame(columns=names), np.zeros(0, dtype=np.int64)
    df = df.reindex(columns=names)
    bad = ~_valid_mask(df, record_type)
    if bad.any():
        lines = raw.split(b"\n")
        ok = np.ones(len(df), dtype=bool)
        for pos_ in np.flatnonzero(bad):
            lineno = int(linenos[pos_])
            try:
                S.validate(record_type, json.loads(lines[lineno - 1]))
            except (S.RecordError, ValueError) as exc:
                errors.append(BadLine(str(path), lineno, str(exc)))
                ok[pos_] = False
        df = df[ok].reset_index(drop=True)
    return df


def _read_lines(lines, first_lineno, record_type, where, errors, parse, names, truncated_last, frames, frame_lines):
    """Parse ``lines`` (numbered from ``first_lineno``) in pieces; refused pieces are halved
    down to ``SLOW_LINES`` lines, which the exact per-line reader judges."""
    keep = [i for i, ln in enumerate(lines) if ln.strip()]
    linenos = np.asarray(keep, dtype=np.int64) + first_lineno
    body = [lines[i] for i in keep]
    longest = max((len(b) for b in body), default=0)

    def take(lo: int, hi: int) -> None:
        chunk, nos = body[lo:hi], linenos[lo:hi]
        has_torn_end = truncated_last and hi == len(body)
        if hi - lo > SLOW_LINES and not has_torn_end:
            try:
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
        vals = col if present.all() else col[present]  # no copy in the usual all-present case
        good = np.ones(len(vals), dtype=bool)
        if spec.allowed is not None:
            good &= vals.isin(spec.allowed).to_numpy()
        if spec.check is not None:
            good &= _check_vectorised(spec, vals)
        ok[np.flatnonzero(present)[~good]] = False
    return ok


def _strings(vals: pd.Series) -> pd.Series:
    return vals if pd.api.types.is_string_dtype(vals.dtype) and vals.dtype != object else vals.astype(str)


def _check_vectorised(spec: S.Spec, vals: pd.Series) -> np.ndarray:
    if spec.check is S._nonempty:
        # Surely non-empty after strip(): starts with a printable non-space ASCII character.
        # Anything else (empty, leading space, non-ASCII start) is re-checked exactly.
        return _strings(vals).str.match(r"[!-~]").fillna(False).to_numpy(dtype=bool)
    if spec is S.CREATED or spec.check is S.CREATED.check:
        s = _strings(vals)
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
