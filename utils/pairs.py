"""data/pairs.jsonl: the comparison pairs built from the completions log.

Pairs are content-addressed (``pr_`` + hash of the two completion ids), so syncing is
idempotent: rerunning never duplicates a pair.
"""
from __future__ import annotations

from utils.paths import Paths
from utils.records import pairs_from_completions
from utils.store import append_records, read_records


def sync_pairs(paths: Paths, seed: int = 0) -> list[dict]:
    """Append pairs for completions that have none yet; return every pair in the file."""
    existing = read_records(paths.pairs, "pair")
    known = {p["id"] for p in existing}
    new = [p for p in pairs_from_completions(read_records(paths.completions, "completion"), seed=seed)
           if p["id"] not in known]
    append_records(paths.pairs, new, "pair")
    return existing + new


def load_pairs(paths: Paths) -> dict[str, dict]:
    """pair id -> pair record (later lines win)."""
    return {p["id"]: p for p in read_records(paths.pairs, "pair")}
