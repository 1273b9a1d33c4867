"""Versioned checkpoint folders: ``models/vote_predictor_checkpoint/{v0001,v0002,...,latest,history.jsonl}``.

A version folder is complete before it gets its name (written under a temp name, then
renamed), and ``latest`` is replaced atomically afterwards, so a reader never sees a
half-written version and a failed run never loses the previous one.
"""
from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

from utils.cli import UserError
from utils.paths import Paths
from utils.store import append_records, read_json, write_text_atomic

VERSION_RE = re.compile(r"^v(\d{4,})$")
REWARD_CONFIG = "reward_config.json"


def is_version_dir(folder: Path) -> bool:
    return (folder / REWARD_CONFIG).exists() and (folder / "config.json").exists()


def versions(root: Path) -> list[str]:
    if not root.is_dir():
        return []
    names = [p.name for p in root.iterdir() if p.is_dir() and VERSION_RE.match(p.name) and is_version_dir(p)]
    return sorted(names, key=lambda n: int(n[1:]))


def latest_version(root: Path) -> str | None:
    f = root / "latest"
    if f.exists():
        name = f.read_text(encoding="utf-8").strip()
        if name and is_version_dir(root / name):
            return name
    found = versions(root)
    return found[-1] if found else None


def resolve_version_dir(checkpoint: str | Path | None = None, paths: Paths | None = None) -> Path:
    """A version folder from: None (latest under paths.checkpoint), the checkpoint root, or a version folder."""
    paths = paths or Paths.resolve()
    folder = Path(checkpoint) if checkpoint is not None else paths.checkpoint
    if is_version_dir(folder):
        return folder
    if folder.is_dir():
        name = latest_version(folder)
        if name:
            return folder / name
    if not folder.exists():
        raise UserError(f"no vote predictor checkpoint at {folder}; train one first: "
                        "python utils/vote_predictor/train.py")
    raise UserError(f"{folder} is not a vote predictor checkpoint (no {REWARD_CONFIG} and no version folders); "
                    "give models/vote_predictor_checkpoint or one of its vNNNN folders, "
                    "or train one first: python utils/vote_predictor/train.py")


def next_version_name(root: Path) -> str:
    nums = [int(VERSION_RE.match(p.name).group(1)) for p in root.iterdir()
            if p.is_dir() and VERSION_RE.match(p.name)] if root.is_dir() else []
    return f"v{(max(nums) + 1 if nums else 1):04d}"


def staging_dir(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    tmp = root / f".staging-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    return tmp


def publish(root: Path, staged: Path, history_record: dict) -> Path:
    """Rename the staged folder to the next version, move ``latest``, append history."""
    for _ in range(5):  # another trainer may take the same name between listing and rename
        name = next_version_name(root)
        final = root / name
        try:
            os.rename(staged, final)
            break
        except OSError:
            if not final.exists():
                raise
    else:
        raise UserError(f"could not publish a new version under {root}; another trainer keeps racing, retry")
    meta = read_json(final / "training_meta.json", {})
    meta["version"] = name
    from utils.store import write_json_atomic
    write_json_atomic(final / "training_meta.json", meta)
    write_text_atomic(root / "latest", name + "\n")
    append_records(root / "history.jsonl", [dict(history_record, version=name)])
    return final


def read_history(root: Path) -> list[dict]:
    from utils.store import read_records
    return read_records(root / "history.jsonl")
