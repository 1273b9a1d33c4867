"""Files of a batch run: the prompt list it reads, the run folder it writes.

Input (JSON or JSONL, see ``prompts/sample_batch.json``)::

    {"system_prompt": "...", "prompts": [{"id": "q01", "prompt": "..."},
                                          {"id": "q02", "prompt": "...", "temperature": 0.2}]}

A bare list of such entries (or of plain strings) works too, and so does JSONL with one
entry per line (``prompts/generated_prompts.jsonl`` records, whose text is in ``text``).

Run folder (``data/batch_results/<timestamp>-<input>/``): ``run.json`` (what was asked),
``results.jsonl`` (one line per finished prompt, appended as results arrive),
and at the end ``results.json``, ``results.csv`` and ``summary.json``.
"""
from __future__ import annotations

import csv
import datetime as _dt
import json
from dataclasses import dataclass, field
from pathlib import Path

from utils.cli import UserError
from utils.records import prompt_id_for
from utils.store import atomic_path, read_json, read_records, write_json_atomic

# Per-prompt overrides an entry may carry, with their checks.
OVERRIDES = {
    "temperature": (lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and 0 <= v <= 2, "a number 0-2"),
    "top_p": (lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and 0 < v <= 1, "a number in (0, 1]"),
    "max_tokens": (lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 1, "an integer >= 1"),
    "seed": (lambda v: v is None or (isinstance(v, int) and not isinstance(v, bool)), "an integer"),
    "model": (lambda v: isinstance(v, str) and v.strip() != "", "a non-empty string"),
}
TEXT_KEYS = ("prompt", "text")
CSV_COLUMNS = ("id", "status", "prompt", "system_prompt", "text", "error", "model", "finish_reason",
               "prompt_tokens", "completion_tokens", "latency_s", "attempts", "temperature", "top_p",
               "max_tokens", "seed", "created_at")


@dataclass
class BatchItem:
    id: str
    prompt: str
    system_prompt: str | None = None
    overrides: dict = field(default_factory=dict)  # temperature/top_p/max_tokens/seed/model
    metadata: dict = field(default_factory=dict)   # any other keys of the entry, kept in the result

    def messages(self) -> list[dict]:
        msgs = [{"role": "system", "content": self.system_prompt}] if self.system_prompt else []
        return msgs + [{"role": "user", "content": self.prompt}]


def _item(entry, where: str, system_prompt: str | None) -> BatchItem:
    if isinstance(entry, str):
        entry = {"prompt": entry}
    if not isinstance(entry, dict):
        raise UserError(f"{where}: expected an object with 'id' and 'prompt' (or a string), got {type(entry).__name__}")
    text = next((entry[k] for k in TEXT_KEYS if k in entry), None)
    if not isinstance(text, str) or not text.strip():
        raise UserError(f"{where}: needs a non-empty 'prompt' string (got {text!r})")
    pid = entry.get("id", prompt_id_for(text))
    if not isinstance(pid, (str, int)) or isinstance(pid, bool) or not str(pid).strip():
        raise UserError(f"{where}: 'id' must be a non-empty string, got {pid!r}")
    sys_prompt = entry.get("system_prompt", system_prompt)
    if sys_prompt is not None and not isinstance(sys_prompt, str):
        raise UserError(f"{where}: 'system_prompt' must be a string, got {sys_prompt!r}")
    overrides = {}
    for key, (ok, what) in OVERRIDES.items():
        if key in entry:
            if not ok(entry[key]):
                raise UserError(f"{where}: '{key}' must be {what}, got {entry[key]!r}")
            overrides[key] = entry[key]
    skip = {"id", "system_prompt", *TEXT_KEYS, *OVERRIDES}
    metadata = {k: v for k, v in entry.items() if k not in skip}
    return BatchItem(str(pid), text, sys_prompt or None, overrides, metadata)


def load_batch(path: str | Path) -> list[BatchItem]:
    """Parse a batch input file; any malformed entry raises UserError naming the entry."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"input file not found: {path}")
    raw = path.read_text(encoding="utf-8-sig")
    entries: list[tuple[str, object]] = []
    system_prompt = None
    if path.suffix == ".jsonl":
        for n, line in enumerate(raw.splitlines(), 1):
            if line.strip():
                try:
                    entries.append((f"{path} line {n}", json.loads(line)))
                except json.JSONDecodeError as exc:
                    raise UserError(f"{path} line {n}: not valid JSON ({exc.msg}); fix the line") from exc
    else:
        try:
            doc = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise UserError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})") from exc
        if isinstance(doc, dict):
            system_prompt = doc.get("system_prompt")
            if system_prompt is not None and not isinstance(system_prompt, str):
                raise UserError(f"{path}: 'system_prompt' must be a string")
            doc = doc.get("prompts")
        if not isinstance(doc, list):
            raise UserError(f"{path}: expected a list of prompts or an object with a 'prompts' list")
        entries = [(f"{path} entry {i} (0-based)", e) for i, e in enumerate(doc)]
    items, seen = [], {}
    for where, entry in entries:
        item = _item(entry, where, system_prompt)
        if item.id in seen:
            raise UserError(f"{where}: duplicate id {item.id!r} (also {seen[item.id]}); ids must be unique")
        seen[item.id] = where
        items.append(item)
    if not items:
        raise UserError(f"{path}: no prompts in the file")
    return items


# -- run folders -----------------------------------------------------------------------
def new_run_dir(output_dir: str | Path, input_path: str | Path) -> Path:
    stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%d-%H%M%S")
    base = Path(output_dir) / f"{stamp}-{Path(input_path).stem}"
    run, k = base, 1
    while run.exists():
        k += 1
        run = base.with_name(f"{base.name}-{k}")
    run.mkdir(parents=True)
    return run


def latest_run(output_dir: str | Path) -> Path:
    runs = [p.parent for p in Path(output_dir).glob("*/run.json")]
    if not runs:
        raise UserError(f"--resume: no run folder with a run.json under {output_dir}; give --resume RUN_DIR")
    return max(runs, key=lambda p: ((read_json(p / "run.json") or {}).get("created_at", ""), p.name))


def load_results(run_dir: Path) -> dict[str, dict]:
    """Latest result per id from results.jsonl (a rerun's success replaces an earlier failure)."""
    latest: dict[str, dict] = {}
    for rec in read_records(run_dir / "results.jsonl"):
        if "id" in rec and (rec.get("status") == "ok" or latest.get(rec["id"], {}).get("status") != "ok"):
            latest[rec["id"]] = rec
    return latest


# -- whole-file outputs ----------------------------------------------------------------
def csv_row(rec: dict) -> list:
    usage, params = rec.get("usage") or {}, rec.get("params") or {}
    flat = {**rec, **usage, **params}
    return ["" if flat.get(c) is None else flat[c] for c in CSV_COLUMNS]


def write_results_csv(path: str | Path, results: list[dict]) -> Path:
    """Every field quoted, UTF-8 with BOM: spreadsheets open it with multi-line text intact."""
    with atomic_path(path) as tmp:
        with open(tmp, "w", encoding="utf-8-sig", newline="") as fh:
            w = csv.writer(fh, quoting=csv.QUOTE_ALL)
            w.writerow(CSV_COLUMNS)
            w.writerows(csv_row(r) for r in results)
    return Path(path)


def read_results_csv(path: str | Path) -> list[dict]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def write_outputs(run_dir: Path, results: list[dict], summary: dict) -> None:
    write_json_atomic(run_dir / "results.json", results)
    write_results_csv(run_dir / "results.csv", results)
    write_json_atomic(run_dir / "summary.json", summary)
