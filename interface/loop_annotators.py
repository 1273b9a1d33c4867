"""Who answers when the loop asks a human: a person, a replayed dataset, or an LLM judge.

Every annotator has ``label(pairs, paths) -> list[vote]`` and appends each vote to
data/votes.jsonl the moment it is made (so an interrupt loses no finished vote), plus
``annotator_type``: the vote type it writes (``human`` or ``judge``).

* :class:`InteractiveAnnotator` — the terminal voting UI (interface/voting_ui.py).
* :class:`ReplayAnnotator` — recorded human choices of an HH-RLHF/TRL file, revealed
  only for the pairs the loop sends to a human; votes are ``human`` votes by
  ``replay:<file name>``.
* :class:`JudgeAnnotator` — an LLM through the completion backend, asked twice with the
  sides swapped; it must pick the same response both times, otherwise the vote is a tie.
"""
from __future__ import annotations

import logging
import re
import sys
from pathlib import Path
from typing import IO

from utils.cli import UserError
from utils.paths import Paths
from utils.records import make_vote
from utils.store import append_records

log = logging.getLogger("rlhf_loop.loop")

ANNOTATORS = ("interactive", "replay", "llm")
_PREFERENCE_CACHE: dict[tuple, list[dict]] = {}


def preference_pairs(file: str | Path, seed: int = 0) -> list[dict]:
    """load_preference_pairs, once per process and file version (the file is read, and warned about, once)."""
    from utils.vote_predictor.importers import load_preference_pairs
    f = Path(file)
    key = (str(f.resolve()), f.stat().st_mtime_ns, seed)
    if key not in _PREFERENCE_CACHE:
        _PREFERENCE_CACHE[key] = load_preference_pairs(f, seed=seed)
    return _PREFERENCE_CACHE[key]


class InteractiveAnnotator:
    annotator_type = "human"

    def __init__(self, voting_cfg, stdin: IO | None = None, stdout: IO | None = None):
        self.cfg, self.stdin, self.stdout = voting_cfg, stdin, stdout

    def label(self, pairs: list[dict], paths: Paths) -> list[dict]:
        from interface.voting_ui import vote_on_pairs
        return vote_on_pairs(pairs, self.cfg, paths, stdin=self.stdin, stdout=self.stdout)


class ReplayAnnotator:
    """Answers with the choice recorded in a preference file (the human who wrote it)."""

    annotator_type = "human"

    def __init__(self, file: str | Path, seed: int = 0):
        self.file, self.seed = Path(file), seed
        self.name = f"replay:{self.file.name}"
        self._truth: dict[str, tuple[str, str]] | None = None

    def _load(self) -> dict[str, tuple[str, str]]:
        """pair id -> (completion id the human preferred, the other one)."""
        if self._truth is None:
            self._truth = {}
            for p in preference_pairs(self.file, seed=self.seed):
                win, lose = ((p["completion_a_id"], p["completion_b_id"]) if p["human_choice"] == "A"
                             else (p["completion_b_id"], p["completion_a_id"]))
                self._truth[p["id"]] = (win, lose)
        return self._truth

    def choice_for(self, pair: dict) -> str:
        """A or B in the *pair's* side order (the file's coin may have put them the other way)."""
        truth = self._load().get(pair["id"])
        if truth is None:
            raise UserError(f"pair {pair['id']} is not in the replay file {self.file}; --annotator replay can only "
                            "answer pairs that came from that file (use --source dataset with the same FILE)")
        return "A" if pair["completion_a_id"] == truth[0] else "B"

    def label(self, pairs: list[dict], paths: Paths) -> list[dict]:
        made = []
        for pair in pairs:
            vote = make_vote(pair, self.choice_for(pair), self.name, "human", source=f"replay:{self.file}")
            append_records(paths.votes, [vote], "vote")
            made.append(vote)
        return made


JUDGE_SYSTEM = "You are a careful, impartial judge of AI assistant responses."
JUDGE_TEMPLATE = ("Which response answers the user's request better? Judge helpfulness, honesty and harmlessness; "
                  "ignore which one comes first and how long it is.\n\n[User request]\n{prompt}\n\n"
                  "[Response A]\n{a}\n\n[Response B]\n{b}\n\nReply with exactly one letter: A or B.")


def parse_verdict(text: str) -> str | None:
    """'A' or 'B' from a judge reply ('B', 'Response A.', '**A**'), None when unclear."""
    found = set(re.findall(r"(?<![A-Za-z])([AB])(?![A-Za-z])", text.strip()[:200]))
    return found.pop() if len(found) == 1 else None


def combine_verdicts(first: str | None, second_swapped: str | None) -> str:
    """Original-order verdict + verdict on the swapped pair -> A, B or tie (disagreement)."""
    unswapped = {"A": "B", "B": "A"}.get(second_swapped or "")
    return first if first is not None and first == unswapped else "tie"


class JudgeAnnotator:
    annotator_type = "judge"

    def __init__(self, backend_cfg, paths: Paths, max_tokens: int = 8, chunk: int = 8, backend=None):
        self.backend_cfg, self.paths, self.max_tokens, self.chunk = backend_cfg, paths, max_tokens, chunk
        self._backend = backend

    @property
    def backend(self):
        if self._backend is None:
            from utils.backends import get_backend
            self._backend = get_backend(self.backend_cfg, self.paths)
        return self._backend

    @staticmethod
    def messages(prompt: str, a: str, b: str) -> list[dict]:
        return [{"role": "system", "content": JUDGE_SYSTEM},
                {"role": "user", "content": JUDGE_TEMPLATE.format(prompt=prompt, a=a, b=b)}]

    def label(self, pairs: list[dict], paths: Paths) -> list[dict]:
        from utils.backends import GenParams

        be = self.backend
        name = f"judge:{be.name}:{be.model_name}"
        params = GenParams(temperature=0.0, top_p=1.0, max_tokens=self.max_tokens, seed=0)
        made = []
        for start in range(0, len(pairs), self.chunk):
            chunk = pairs[start:start + self.chunk]
            msgs = [self.messages(p["prompt"], p["response_a"], p["response_b"]) for p in chunk]
            msgs += [self.messages(p["prompt"], p["response_b"], p["response_a"]) for p in chunk]
            gens = be.generate(msgs, [params] * len(msgs))
            votes = []
            for i, pair in enumerate(chunk):
                g1, g2 = gens[i], gens[i + len(chunk)]
                if g1.error or g2.error:
                    raise UserError(f"the judge backend failed on pair {pair['id']}: {g1.error or g2.error}")
                v1, v2 = parse_verdict(g1.text), parse_verdict(g2.text)
                votes.append(make_vote(pair, combine_verdicts(v1, v2), name, "judge", model=be.model_name,
                                       rationale=f"order A/B -> {v1 or '?'}; swapped -> {v2 or '?'}"))
            append_records(paths.votes, votes, "vote")
            made += votes
        return made


def no_terminal_message() -> str:
    return ("nobody can vote: stdin is not a terminal and no --annotator was given. Choose one: "
            "run it in a terminal (interactive voting), "
            "--annotator replay --source dataset FILE (recorded human choices of an HH-RLHF/TRL file), "
            "--annotator llm (an LLM judge through --backend), "
            "or --annotator interactive to read one key per line from stdin")


def resolve_annotator_kind(requested: str | None, stdin: IO | None = None) -> str:
    """The annotator to use; raises UserError when nobody could vote."""
    if requested:
        return requested
    stream = stdin if stdin is not None else sys.stdin
    if stream is not None and getattr(stream, "isatty", lambda: False)():
        return "interactive"
    raise UserError(no_terminal_message())
