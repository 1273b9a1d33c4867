"""Record types of the data flow and their validation.

Each record type maps field -> :class:`Spec`. :func:`validate` raises :class:`RecordError`
naming the field, the bad value and what is allowed. ``docs/data_formats.md`` documents
the same tables for people; keep the two in step.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable


class RecordError(ValueError):
    """A record that does not match its schema (or a file that cannot be used)."""


NUM = (int, float)


@dataclass(frozen=True)
class Spec:
    types: type | tuple = str
    required: bool = True
    allowed: tuple | None = None
    check: Callable[[Any], bool] | None = None
    what: str = ""  # how ``check`` reads, for the error message

    def describe(self) -> str:
        if self.allowed:
            return " or ".join(repr(a) for a in self.allowed)
        names = self.types if isinstance(self.types, tuple) else (self.types,)
        kind = "/".join(t.__name__ for t in names)
        return f"{kind} {self.what}".strip()


def _nonempty(v):
    return bool(str(v).strip())


def _prob(v):
    return 0.0 <= float(v) <= 1.0


ID = Spec(str, check=_nonempty, what="(non-empty)")
TEXT = Spec(str, check=_nonempty, what="(non-empty)")
OPT_STR = Spec(str, required=False)
OPT_NUM = Spec(NUM, required=False)
OPT_DICT = Spec(dict, required=False)
CREATED = Spec(str, check=lambda v: "T" in v and (v.endswith("Z") or "+" in v), what="(UTC ISO-8601, e.g. 2026-11-28T20:41:07Z)")

CHOICES = ("A", "B", "tie", "both_bad")
ANNOTATOR_TYPES = ("human", "model", "judge", "import")
SPLITS = ("train", "validation", "calibration", "test")

SCHEMAS: dict[str, dict[str, Spec]] = {
    "prompt": {
        "id": ID, "text": TEXT, "domain": TEXT, "task_type": TEXT, "created_at": CREATED,
        "source": Spec(str, allowed=("template", "llm", "dataset", "sample", "user")),
        "model": TEXT, "seed": Spec(int, required=False), "metadata": OPT_DICT,
    },
    "completion": {
        "id": ID, "prompt_id": ID, "prompt": TEXT, "text": Spec(str), "index": Spec(int),
        "model": TEXT, "backend": Spec(str, allowed=("local", "openai", "dataset")),
        "params": Spec(dict), "created_at": CREATED, "usage": OPT_DICT, "latency_s": OPT_NUM,
        "finish_reason": OPT_STR, "system_prompt": OPT_STR,
    },
    "pair": {
        "id": ID, "prompt_id": ID, "prompt": TEXT, "completion_a_id": ID, "completion_b_id": ID,
        "response_a": Spec(str), "response_b": Spec(str), "created_at": CREATED, "model": TEXT,
        "source": OPT_STR, "metadata": OPT_DICT,
    },
    "vote": {
        "id": ID, "pair_id": ID, "prompt_id": ID, "completion_a_id": ID, "completion_b_id": ID,
        "choice": Spec(str, allowed=CHOICES), "annotator": TEXT,
        "annotator_type": Spec(str, allowed=ANNOTATOR_TYPES), "created_at": CREATED,
        "model": OPT_STR, "confidence": Spec(int, required=False, check=lambda v: 1 <= v <= 5, what="from 1 to 5"),
        "model_confidence": Spec(NUM, required=False, check=_prob, what="in [0, 1]"),
        "rationale": OPT_STR, "seconds": OPT_NUM, "source": OPT_STR, "swapped": Spec(bool, required=False),
        "repeat_of": OPT_STR, "retracts": OPT_STR, "prompt": OPT_STR, "response_a": OPT_STR, "response_b": OPT_STR,
        "metadata": OPT_DICT,
    },
    "prediction": {
        "id": ID, "pair_id": ID, "prob_a": Spec(NUM, check=_prob, what="in [0, 1]"),
        "choice": Spec(str, allowed=("A", "B")),
        "confidence": Spec(NUM, check=lambda v: 0.5 <= v <= 1.0, what="in [0.5, 1]"),
        "reward_a": Spec(NUM), "reward_b": Spec(NUM), "model_version": TEXT, "model": TEXT,
        "created_at": CREATED, "raw_prob_a": Spec(NUM, required=False, check=_prob, what="in [0, 1]"),
        "calibration_id": Spec((str, type(None)), required=False), "prompt_id": OPT_STR,
        "completion_a_id": OPT_STR, "completion_b_id": OPT_STR, "metadata": OPT_DICT,
    },
    "training_example": {
        "id": ID, "vote_id": ID, "prompt_id": ID, "prompt": TEXT, "response_a": Spec(str),
        "response_b": Spec(str), "label": Spec(str, allowed=("A", "B", "tie")),
        "split": Spec(str, allowed=SPLITS), "created_at": CREATED, "model": TEXT,
        "pair_id": OPT_STR, "weight": OPT_NUM, "annotator": OPT_STR, "source": OPT_STR,
        "reason": OPT_STR,
    },
}


def validate(record_type: str, rec: Any, where: str | None = None) -> dict:
    """Check one record; returns it unchanged or raises :class:`RecordError`.

    Unknown extra fields are allowed (forward compatibility); missing required fields,
    wrong types and values outside the allowed set are not.
    """
    if record_type not in SCHEMAS:
        raise KeyError(f"unknown record type {record_type!r}; known: {', '.join(SCHEMAS)}")
    prefix = f"{where}: " if where else ""
    if not isinstance(rec, dict):
        raise RecordError(f"{prefix}{record_type} record must be a JSON object, got {type(rec).__name__}")
    rid = rec.get("id")
    label = f"{record_type} {rid!r}" if rid else record_type
    for name, spec in SCHEMAS[record_type].items():
        if name not in rec or rec[name] is None and spec.required:
            if spec.required:
                raise RecordError(f"{prefix}{label}: field {name!r} is missing; expected {spec.describe()}")
            continue
        value = rec[name]
        if value is None and not spec.required:
            continue
        ok = isinstance(value, spec.types) and not (isinstance(value, bool) and spec.types in (int, NUM))
        if ok and spec.allowed is not None:
            ok = value in spec.allowed
        if ok and spec.check is not None:
            try:
                ok = bool(spec.check(value))
            except (TypeError, ValueError):
                ok = False
        if not ok:
            raise RecordError(f"{prefix}{label}: field {name!r} must be {spec.describe()}, got {value!r}")
    return rec
