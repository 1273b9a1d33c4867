"""Constructors for the records of the data flow, so every script links ids the same way.

prompt -> completion -> pair -> vote / prediction; see docs/data_formats.md.
"""
from __future__ import annotations

import itertools
import random
from collections import defaultdict
from typing import Iterable

from utils.store import content_id, new_id, utc_now


def make_prompt(text: str, domain: str, task_type: str, source: str, model: str,
                seed: int | None = None, **metadata) -> dict:
    rec = {"id": prompt_id_for(text), "text": text, "domain": domain, "task_type": task_type,
           "source": source, "model": model, "created_at": utc_now()}
    if seed is not None:
        rec["seed"] = seed
    if metadata:
        rec["metadata"] = metadata
    return rec


def prompt_id_for(text: str) -> str:
    """Prompts are identified by their normalised text, so duplicates share an id."""
    return content_id("p", " ".join(text.split()).lower())


def make_completion(prompt: dict, text: str, index: int, model: str, backend: str, params: dict,
                    usage: dict | None = None, latency_s: float | None = None,
                    finish_reason: str | None = None, system_prompt: str | None = None) -> dict:
    rec = {"id": new_id("c"), "prompt_id": prompt["id"], "prompt": prompt["text"], "text": text,
           "index": index, "model": model, "backend": backend, "params": params, "created_at": utc_now()}
    for key, val in (("usage", usage), ("latency_s", latency_s), ("finish_reason", finish_reason),
                     ("system_prompt", system_prompt)):
        if val is not None:
            rec[key] = val
    return rec


def pair_id_for(completion_a_id: str, completion_b_id: str) -> str:
    """Order-free: the same two completions make the same pair whichever is shown as A."""
    return content_id("pr", *sorted((completion_a_id, completion_b_id)))


def make_pair(prompt_id: str, prompt: str, a: dict, b: dict, source: str = "completions") -> dict:
    """``a`` and ``b`` are completion-like dicts with ``id``, ``text`` and ``model``."""
    model = a.get("model", "?") if a.get("model") == b.get("model") else f"{a.get('model', '?')} | {b.get('model', '?')}"
    return {"id": pair_id_for(a["id"], b["id"]), "prompt_id": prompt_id, "prompt": prompt,
            "completion_a_id": a["id"], "completion_b_id": b["id"],
            "response_a": a["text"], "response_b": b["text"], "model": model, "source": source,
            "created_at": utc_now()}


def pairs_from_completions(completions: Iterable[dict], seed: int = 0, skip_identical: bool = True) -> list[dict]:
    """Every 2-combination of a prompt's completions, with a seeded coin for which is A.

    Completions with identical text make no pair: there is nothing to prefer.
    """
    by_prompt: dict[str, list[dict]] = defaultdict(list)
    for c in completions:
        by_prompt[c["prompt_id"]].append(c)
    pairs = []
    for pid, comps in by_prompt.items():
        comps.sort(key=lambda c: (c.get("index", 0), c["id"]))
        for a, b in itertools.combinations(comps, 2):
            if skip_identical and a["text"].strip() == b["text"].strip():
                continue
            rng = random.Random(f"{seed}:{pair_id_for(a['id'], b['id'])}")
            if rng.random() < 0.5:
                a, b = b, a
            pairs.append(make_pair(pid, a["prompt"], a, b))
    return pairs


def make_vote(pair: dict, choice: str, annotator: str, annotator_type: str = "human", **extra) -> dict:
    rec = {"id": new_id("v"), "pair_id": pair["id"], "prompt_id": pair["prompt_id"],
           "completion_a_id": pair["completion_a_id"], "completion_b_id": pair["completion_b_id"],
           "choice": choice, "annotator": annotator, "annotator_type": annotator_type,
           "created_at": utc_now()}
    rec.update({k: v for k, v in extra.items() if v is not None})
    return rec
