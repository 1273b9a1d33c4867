"""Real preference data in and out: HH-RLHF / TRL files -> pairs + votes, votes -> TRL.

Formats (``.jsonl`` or ``.jsonl.gz``, detected per line):

* HH-RLHF: ``{"chosen": DIALOGUE, "rejected": DIALOGUE}``; both dialogues share everything
  before the last ``"\\n\\nAssistant:"``, which is the prompt; the last assistant turn is
  the response.
* TRL: ``{"prompt": str, "chosen": str, "rejected": str}`` (the "explicit prompt"
  preference format of TRL's RewardTrainer/DPOTrainer). Conversational TRL rows (lists of
  ``{"role","content"}`` messages) are flattened to ``Human:/Assistant:`` text.

The human's preferred side is kept on the pair as ``human_choice`` (hidden from the
predictor); which side is shown as A is a seeded coin per pair, so A is chosen about half
the time and a model cannot learn "A wins".
"""
from __future__ import annotations

import gzip
import json
import logging
import random
from pathlib import Path

from utils.cli import UserError
from utils.records import make_vote, pair_id_for, prompt_id_for
from utils.schema import validate
from utils.store import content_id, utc_now, write_text_atomic

log = logging.getLogger("rlhf_loop.vote_predictor.importers")

ASSISTANT = "\n\nAssistant:"


def split_hh_dialogue(dialogue: str) -> tuple[str, str]:
    """(prompt, response): the prompt is everything before the last assistant turn."""
    idx = dialogue.rfind(ASSISTANT)
    if idx < 0:
        raise ValueError("no '\\n\\nAssistant:' turn in the dialogue")
    prompt = dialogue[:idx].strip()
    return prompt, dialogue[idx + len(ASSISTANT):].strip()


def _flatten(value) -> str:
    """TRL conversational rows are message lists; flatten them to HH-style text."""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(m, dict) and "content" in m for m in value):
        role = {"user": "Human", "assistant": "Assistant", "system": "System"}
        return "\n\n".join(f"{role.get(m.get('role'), m.get('role', 'User'))}: {m['content']}" for m in value).strip()
    raise ValueError(f"expected a string or a list of messages, got {type(value).__name__}")


def _parse_row(row: dict) -> tuple[str, str, str, str]:
    """(kind, prompt, chosen_response, rejected_response) of one file row."""
    if not isinstance(row, dict) or "chosen" not in row or "rejected" not in row:
        raise ValueError("expected an object with 'chosen' and 'rejected' (HH-RLHF) plus optional 'prompt' (TRL)")
    if "prompt" in row:
        prompt = _flatten(row["prompt"])
        chosen, rejected = _flatten(row["chosen"]), _flatten(row["rejected"])
        if isinstance(row["chosen"], list):  # conversational: answers are "Assistant: ..." turns
            chosen = chosen.split(":", 1)[-1].strip()
            rejected = rejected.split(":", 1)[-1].strip()
        kind = "trl"
    else:
        prompt, chosen = split_hh_dialogue(_flatten(row["chosen"]))
        prompt_r, rejected = split_hh_dialogue(_flatten(row["rejected"]))
        if prompt_r != prompt:
            raise ValueError("'chosen' and 'rejected' dialogues differ before the last assistant turn")
        kind = "hh-rlhf"
    if not prompt.strip():
        raise ValueError("empty prompt")
    if chosen.strip() == rejected.strip():
        raise ValueError("chosen and rejected responses are identical; nothing to prefer")
    return kind, prompt, chosen, rejected


def _open(path: Path):
    if path.name.endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8", errors="replace")
    return open(path, "r", encoding="utf-8", errors="replace")


def _read_rows(path: str | Path, limit: int | None):
    """Yield (lineno, kind, prompt, chosen, rejected); bad lines are warned and skipped."""
    path = Path(path)
    if not path.exists():
        raise UserError(f"preference file {path} does not exist; give an HH-RLHF or TRL .jsonl/.jsonl.gz file")
    n = 0
    with _open(path) as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                kind, prompt, chosen, rejected = _parse_row(json.loads(line))
            except (json.JSONDecodeError, ValueError) as exc:
                log.warning("%s line %d: %s; line skipped", path, lineno, exc)
                continue
            yield lineno, kind, prompt, chosen, rejected
            n += 1
            if limit is not None and n >= limit:
                return


def load_preference_pairs(path: str | Path, limit: int | None = None, seed: int = 0) -> list[dict]:
    """Valid ``pair`` records from an HH-RLHF or TRL file, each with ``human_choice`` A/B.

    ``limit`` keeps the first N usable rows. Ids are content-derived, so loading the same
    file twice gives the same ids; the A/B side is a coin seeded by ``seed`` and the pair id.
    """
    path = Path(path)
    source = f"dataset:{path.name}"
    now = utc_now()
    pairs = []
    for lineno, kind, prompt, chosen, rejected in _read_rows(path, limit):
        pid = prompt_id_for(prompt)
        ch = {"id": content_id("c", prompt, chosen), "text": chosen}
        rj = {"id": content_id("c", prompt, rejected), "text": rejected}
        pair_id = pair_id_for(ch["id"], rj["id"])
        a, b, human = (ch, rj, "A") if random.Random(f"{seed}:{pair_id}").random() < 0.5 else (rj, ch, "B")
        pair = {"id": pair_id, "prompt_id": pid, "prompt": prompt,
                "completion_a_id": a["id"], "completion_b_id": b["id"],
                "response_a": a["text"], "response_b": b["text"], "model": kind,
                "source": source, "created_at": now,
                "metadata": {"file": str(path), "line": lineno, "format": kind},
                "human_choice": human}
        pairs.append(validate("pair", pair))
    return pairs


def import_votes(path: str | Path, limit: int | None = None, seed: int = 0) -> tuple[list[dict], list[dict]]:
    """(pairs, votes) for a preference file; votes are ``annotator_type="import"``.

    Vote ids are content-derived too, so re-importing a file adds nothing new.
    The returned pairs keep ``human_choice``; strip it before showing pairs to a model.
    """
    path = Path(path)
    pairs = load_preference_pairs(path, limit=limit, seed=seed)
    votes = []
    for p in pairs:
        kind = p["metadata"]["format"]
        vote = make_vote(p, p["human_choice"], annotator=path.name, annotator_type="import",
                         source=f"{kind}:{path.name}", prompt=p["prompt"],
                         response_a=p["response_a"], response_b=p["response_b"])
        vote["id"] = content_id("v", "import", p["id"], path.name)
        votes.append(validate("vote", vote))
    return pairs, votes


def _texts(vote: dict, pairs_by_id: dict[str, dict]) -> tuple[str, str, str] | None:
    pair = pairs_by_id.get(vote["pair_id"], {})
    prompt = vote.get("prompt") or pair.get("prompt")
    ra = vote.get("response_a") if vote.get("response_a") is not None else pair.get("response_a")
    rb = vote.get("response_b") if vote.get("response_b") is not None else pair.get("response_b")
    if prompt is None or ra is None or rb is None:
        return None
    # A vote keeps its own A/B order; if the pair file shows them the other way, swap back.
    if pair and "response_a" not in vote and pair.get("completion_a_id") == vote["completion_b_id"]:
        ra, rb = rb, ra
    return prompt, ra, rb


def export_trl(votes: list[dict], pairs_by_id: dict[str, dict], out_path: str | Path) -> int:
    """Write A/B votes as TRL ``{"prompt","chosen","rejected"}`` rows; returns the row count.

    Ties, both_bad and votes whose texts cannot be found are left out (warned).
    A ``.gz`` suffix writes gzip. The file is replaced atomically.
    """
    out_path = Path(out_path)
    rows = []
    for v in votes:
        if v.get("choice") not in ("A", "B"):
            continue
        texts = _texts(v, pairs_by_id)
        if texts is None:
            log.warning("vote %s: pair %s not found and no inline texts; left out of the export",
                        v.get("id"), v.get("pair_id"))
            continue
        prompt, ra, rb = texts
        chosen, rejected = (ra, rb) if v["choice"] == "A" else (rb, ra)
        rows.append(json.dumps({"prompt": prompt, "chosen": chosen, "rejected": rejected}, ensure_ascii=False))
    text = "".join(r + "\n" for r in rows)
    if out_path.name.endswith(".gz"):
        from utils.store import atomic_path
        with atomic_path(out_path) as tmp, gzip.open(tmp, "wt", encoding="utf-8") as fh:
            fh.write(text)
    else:
        write_text_atomic(out_path, text)
    return len(rows)
