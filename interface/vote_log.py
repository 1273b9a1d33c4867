"""Reading data/votes.jsonl as it is meant: undone votes removed.

The votes file is append-only, so *undo* cannot delete a line. Instead the voting UI
appends a **retraction**: a valid vote record (same pair, annotator and choice as the
vote it cancels, so every schema check passes) with the extra field
``"retracts": "<id of the undone vote>"``. :func:`effective_votes` drops both the
retraction and the vote it names. Every consumer that counts votes (data_prep, the
probe, the dashboard) should read votes through it.

Pure functions over lists of dicts: no file access, no project imports.
"""
from __future__ import annotations

from typing import Iterable


def retracted_ids(votes: Iterable[dict]) -> set[str]:
    """Ids of the votes that some later retraction record cancels."""
    return {v["retracts"] for v in votes if v.get("retracts")}


def effective_votes(votes: list[dict], drop_repeats: bool = False) -> list[dict]:
    """The votes that still count, in file order.

    Drops retraction records (``retracts`` set) and the votes they retract. With
    ``drop_repeats`` also drops gold repeats (``repeat_of`` set), which re-ask a pair the
    same annotator already voted on: keep them to measure self-consistency, drop them
    when each (annotator, pair) should count once.
    """
    gone = retracted_ids(votes)
    return [v for v in votes
            if not v.get("retracts") and v.get("id") not in gone
            and not (drop_repeats and v.get("repeat_of"))]


def make_retraction(vote: dict, created_at: str, new_id: str) -> dict:
    """The record that undoes ``vote`` (caller appends it to the votes file)."""
    keep = ("pair_id", "prompt_id", "completion_a_id", "completion_b_id", "choice",
            "annotator", "annotator_type")
    rec = {k: vote[k] for k in keep}
    rec.update({"id": new_id, "created_at": created_at, "retracts": vote["id"]})
    return rec


def voted_pair_ids(votes: list[dict], annotator: str | None = None,
                   human_only: bool = True) -> set[str]:
    """Pairs with at least one effective vote (by ``annotator`` when given)."""
    out = set()
    for v in effective_votes(votes):
        if human_only and v.get("annotator_type") not in ("human", "import"):
            continue
        if annotator is not None and v.get("annotator") != annotator:
            continue
        out.add(v["pair_id"])
    return out
