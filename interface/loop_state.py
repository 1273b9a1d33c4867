"""Resume state of the RLHF loop: models/loop_state.json, replaced atomically after each step.

The file holds two things:

* the current cycle: its number, the steps already finished, and what earlier steps
  decided (the cycle's prompt and pair ids, the routes, the training decision), so a
  rerun after Ctrl-C, a crash or ``kill -9`` continues with the first unfinished step
  and never redoes a finished one;
* counters that outlive a cycle (human votes seen at the last training).

Every step's own writes are idempotent on top of this (content ids, "skip what is
already in the file"), so an interrupt *inside* a step loses nothing either.
"""
from __future__ import annotations

from pathlib import Path

from utils.paths import Paths
from utils.store import new_id, read_json, read_records, utc_now, write_json_atomic

STATE_VERSION = 1


def state_path(paths: Paths) -> Path:
    return paths.models_dir / "loop_state.json"


class LoopState:
    """Dict-backed state; :meth:`save` writes it atomically (readers see old or new)."""

    def __init__(self, paths: Paths, data: dict | None = None):
        self.paths = paths
        self.data = data or {"version": STATE_VERSION, "cycle": None, "persist": {}}

    @classmethod
    def load(cls, paths: Paths) -> "LoopState":
        data = read_json(state_path(paths), None)
        if data is not None and data.get("version") != STATE_VERSION:
            data = None  # a state from an incompatible version: start a fresh cycle
        return cls(paths, data)

    def save(self) -> None:
        self.data["updated_at"] = utc_now()
        write_json_atomic(state_path(self.paths), self.data)

    # -- the current cycle ---------------------------------------------------------------
    @property
    def cycle(self) -> dict | None:
        return self.data.get("cycle")

    def begin_cycle(self, number: int, config: dict) -> dict:
        self.data["cycle"] = {"number": number, "id": new_id("loop"), "started_at": utc_now(),
                              "done": [], "config": config, "notes": []}
        self.save()
        return self.data["cycle"]

    def is_done(self, step: str) -> bool:
        return bool(self.cycle) and step in self.cycle["done"]

    def mark_done(self, step: str, **updates) -> None:
        """Record a step's results and that it finished, in one atomic write."""
        self.cycle.update(updates)
        if step not in self.cycle["done"]:
            self.cycle["done"].append(step)
        self.save()

    def put(self, **updates) -> None:
        """Save a decision made inside a step before acting on it (plan, then apply)."""
        self.cycle.update(updates)
        self.save()

    def note(self, text: str) -> None:
        self.cycle.setdefault("notes", []).append(text)
        self.save()

    def end_cycle(self) -> None:
        self.data["cycle"] = None
        self.save()

    # -- counters that outlive a cycle ---------------------------------------------------
    @property
    def persist(self) -> dict:
        return self.data.setdefault("persist", {})

    def set_persist(self, **updates) -> None:
        self.persist.update(updates)
        self.save()


def read_history(paths: Paths) -> list[dict]:
    return read_records(paths.loop_history, warn=False) if paths.loop_history.exists() else []


def next_cycle_number(paths: Paths) -> int:
    return max((int(r.get("cycle", 0)) for r in read_history(paths)), default=0) + 1


HISTORY_FIELDS = ("id", "created_at", "cycle", "pairs", "to_human", "auto_labelled", "audit_accuracy",
                  "est_auto_accuracy", "retrained", "model_version", "drift_alerts")


def history_record(cycle: dict) -> dict:
    """The models/loop_history.jsonl record of a finished cycle (required keys first)."""
    m = cycle.get("metrics", {})
    rec = {"id": cycle["id"], "created_at": utc_now(), "cycle": cycle["number"],
           "pairs": m.get("pairs", 0), "to_human": m.get("to_human", 0), "auto_labelled": m.get("auto_labelled", 0),
           "audit_accuracy": m.get("audit_accuracy"), "est_auto_accuracy": m.get("est_auto_accuracy"),
           "retrained": bool(cycle.get("retrained")), "model_version": cycle.get("model_version"),
           "drift_alerts": cycle.get("drift_alerts")}
    rec.update({"audit": m.get("audit", 0), "audit_n": m.get("audit_n", 0),
                "human_votes": m.get("human_votes", 0), "model_votes": m.get("model_votes", 0),
                "human_accuracy_low_conf": m.get("human_accuracy_low_conf"),
                "drift_messages": cycle.get("drift_messages", []), "started_at": cycle.get("started_at"),
                "predicted_with": cycle.get("predicted_with"), "notes": cycle.get("notes", []),
                "config": cycle.get("config", {})})
    return rec
