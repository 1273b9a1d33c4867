"""The JSONL store every script uses.

* :func:`append_records` appends whole lines under an exclusive ``flock`` and fsyncs, so
  two processes appending at once lose nothing and never interleave bytes, and a record
  is on disk the moment the call returns.
* :func:`write_json_atomic` / :func:`write_jsonl_atomic` / :func:`atomic_path` replace
  whole-file outputs via temp file + ``os.replace``: readers see the old or the new file.
* :func:`read_records` skips malformed or truncated lines with a warning naming the file
  and line, and returns every valid record (validated against its schema when a
  record type is given).
"""
from __future__ import annotations

import contextlib
import datetime as _dt
import gzip
import hashlib
import json
import logging
import os
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator

from utils.schema import RecordError, validate  # noqa: F401  (re-exported)

log = logging.getLogger("rlhf_loop.store")

try:  # POSIX
    import fcntl

    def _lock(fh):
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)

    def _unlock(fh):
        fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
except ImportError:  # pragma: no cover - Windows
    import msvcrt

    def _lock(fh):
        fh.seek(0)
        msvcrt.locking(fh.fileno(), msvcrt.LK_LOCK, 1)

    def _unlock(fh):
        fh.seek(0)
        msvcrt.locking(fh.fileno(), msvcrt.LK_UNLCK, 1)


def utc_now() -> str:
    """UTC ISO-8601 timestamp with a trailing Z, e.g. 2026-11-28T20:41:07.123456Z."""
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:16]}"


def content_id(prefix: str, *parts: str) -> str:
    """Deterministic id from content: the same prompt text always gets the same id."""
    h = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:16]
    return f"{prefix}_{h}"


def file_sha256(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _dumps(record: dict) -> str:
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def append_records(path: str | os.PathLike, records: Iterable[dict], record_type: str | None = None) -> int:
    """Validate, then append records as one locked, fsynced write. Returns the count.

    Validation happens before anything is written, so a bad record writes nothing.
    """
    records = list(records)
    if record_type:
        for rec in records:
            validate(record_type, rec, where=str(path))
    if not records:
        return 0
    payload = "".join(_dumps(r) + "\n" for r in records).encode("utf-8")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "ab+") as fh:
        _lock(fh)
        try:
            # A writer killed mid-line leaves no newline; start ours on a fresh line so the
            # damage stays confined to that one (skipped) line.
            fh.seek(0, os.SEEK_END)
            if fh.tell() > 0:
                fh.seek(-1, os.SEEK_END)
                if fh.read(1) != b"\n":
                    payload = b"\n" + payload
            fh.seek(0, os.SEEK_END)
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        finally:
            _unlock(fh)
    return len(records)


def append_record(path: str | os.PathLike, record: dict, record_type: str | None = None) -> dict:
    append_records(path, [record], record_type)
    return record


@dataclass(frozen=True)
class BadLine:
    path: str
    lineno: int
    reason: str

    def __str__(self) -> str:
        return f"{self.path} line {self.lineno}: {self.reason}; line skipped"


def _open_text(path: Path):
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8", errors="replace")
    return open(path, "r", encoding="utf-8", errors="replace", newline="\n")


def iter_records(path: str | os.PathLike, record_type: str | None = None,
                 errors: list[BadLine] | None = None, warn: bool = True) -> Iterator[dict]:
    """Yield valid records; bad lines are logged (and collected into ``errors``)."""
    path = Path(path)
    if not path.exists():
        return
    with _open_text(path) as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            reason = None
            try:
                rec = json.loads(line)
                if not isinstance(rec, dict):
                    raise ValueError(f"expected a JSON object, got {type(rec).__name__}")
                if record_type:
                    validate(record_type, rec)
            except json.JSONDecodeError as exc:
                reason = ("truncated line" if not line.endswith("\n") else "malformed JSON") + f" ({exc.msg})"
            except (ValueError, RecordError) as exc:
                reason = str(exc)
            if reason is not None:
                bad = BadLine(str(path), lineno, reason)
                if errors is not None:
                    errors.append(bad)
                if warn:
                    log.warning("%s", bad)
                continue
            yield rec


def read_records(path: str | os.PathLike, record_type: str | None = None,
                 errors: list[BadLine] | None = None, warn: bool = True) -> list[dict]:
    """All valid records of a JSONL (or .jsonl.gz) file; a missing file gives []."""
    return list(iter_records(path, record_type, errors, warn))


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str | None = None):
    """Yield a temp path in the same folder; on success it replaces ``path`` atomically.

    Usage: ``with atomic_path(png) as tmp: fig.savefig(tmp)``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix or path.suffix or ".tmp", dir=path.parent)
    os.close(fd)
    # mkstemp makes 0600 files; outputs should get the usual permissions (0644 under umask 022)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    try:
        yield Path(tmp)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_text_atomic(path: str | os.PathLike, text: str) -> Path:
    with atomic_path(path) as tmp:
        Path(tmp).write_text(text, encoding="utf-8")
    return Path(path)


def write_json_atomic(path: str | os.PathLike, obj: Any) -> Path:
    return write_text_atomic(path, json.dumps(obj, ensure_ascii=False, indent=2, default=str) + "\n")


def write_jsonl_atomic(path: str | os.PathLike, records: Iterable[dict], record_type: str | None = None) -> Path:
    records = list(records)
    if record_type:
        for rec in records:
            validate(record_type, rec, where=str(path))
    return write_text_atomic(path, "".join(_dumps(r) + "\n" for r in records))


def read_json(path: str | os.PathLike, default: Any = None) -> Any:
    path = Path(path)
    if not path.exists():
        return default
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise RecordError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno}); fix or delete the file") from exc
