"""Shared builders for the voting UI and eval probe tests (hand-made pairs, votes, predictions)."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from utils.records import make_pair

REPO = Path(__file__).resolve().parents[1]
VOTING_UI = str(REPO / "interface" / "voting_ui.py")


def make_pairs(n: int, long: bool = False) -> list[dict]:
    pairs = []
    for i in range(n):
        a = {"id": f"c_a{i:03d}", "text": f"Answer A{i}. " + ("Many words here. " * 60 if long else "Short."), "model": "m"}
        b = {"id": f"c_b{i:03d}", "text": f"Answer B{i}. Another take.", "model": "m"}
        pairs.append(make_pair(f"p_{i:03d}", f"Question {i}: what is it?", a, b))
    return pairs


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def prediction(pair_id: str, prob_a: float, version: str = "v1", created_at: str = "2026-01-01T00:00:00Z") -> dict:
    return {"id": f"pred_{pair_id}_{version}", "pair_id": pair_id, "prob_a": prob_a,
            "choice": "A" if prob_a >= 0.5 else "B", "confidence": max(prob_a, 1 - prob_a),
            "reward_a": 0.0, "reward_b": 0.0, "model_version": version, "model": "tiny",
            "created_at": created_at}


def ui_cmd(*args: str) -> list[str]:
    return [sys.executable, VOTING_UI, *args]
