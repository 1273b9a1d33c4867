#!/usr/bin/env python3
"""Vote on response pairs in the terminal; every vote is appended to data/votes.jsonl at once.

    python interface/voting_ui.py --annotator alice --limit 40
    python interface/voting_ui.py --order uncertainty --repeat-rate 0.05 --ask-confidence
    printf '1\\n2\\nt\\nq\\n' | python interface/voting_ui.py --pairs my_pairs.jsonl
"""
from __future__ import annotations

import argparse
import getpass
import logging
import os
import random
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

if __package__ in (None, ""):  # run as `python path/to/script.py`: make the repo root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # parents[k]: k = depth below repo root

from interface.vote_log import effective_votes, make_retraction  # noqa: F401  (effective_votes re-exported)
from interface.voting_input import KeyInput
from interface.voting_order import ORDERS, order_pairs
from interface.voting_render import KEY_HELP, paginate, progress_line, render_pair
from utils.cli import (UserError, add_config_args, add_path_args, add_verbosity_args, config_from_args, field,
                       run_cli, setup_logging)
from utils.paths import Paths
from utils.records import make_vote
from utils.store import append_records, new_id, read_records, utc_now

log = logging.getLogger("rlhf_loop.voting")

CHOICE_KEYS = {"1": "first", "a": "first", "2": "second", "b": "second", "t": "tie", "n": "both_bad"}
FOOTER = "[1/a] first  [2/b] second  [t] tie  [n] both bad  [s] skip  [u] undo  [?] help  [q] quit"


@dataclass
class VotingConfig:
    annotator: str = field("", help="your annotator id (default: the login name)")
    order: str = field("file", help="order of unvoted pairs; 'uncertainty' = least sure prediction first",
                       choices=ORDERS)
    limit: int = field(0, help="show at most this many pairs (0 = all); gold repeats come on top")
    repeat_rate: float = field(0.05, help="chance after each vote to re-show an earlier pair, swapped (gold check)")
    seed: int | None = field(None, help="seed for side swaps, shuffles and repeats (default: random)")
    ask_confidence: bool = field(False, help="after each vote ask for your confidence 1-5")
    ask_rationale: bool = field(False, help="after each vote ask for a one-line reason")
    include_voted: bool = field(False, help="also show pairs you already voted on (after the others)")
    width: int = field(0, help="screen width in columns (0 = the terminal's)")
    height: int = field(0, help="lines per page (0 = the terminal's)")

    def __post_init__(self):
        if not 0.0 <= self.repeat_rate <= 1.0:
            raise UserError(f"--repeat-rate must be between 0 and 1, got {self.repeat_rate}")
        if self.limit < 0:
            raise UserError(f"--limit must be 0 (all) or a positive number, got {self.limit}")
        if self.order not in ORDERS:
            raise UserError(f"--order {self.order!r} is not known; use one of: {', '.join(ORDERS)}")


def default_annotator() -> str:
    try:
        return getpass.getuser() or "anonymous"
    except Exception:  # no login name in some containers
        return os.environ.get("USER") or "anonymous"


class _Session:
    """State of one voting session; ``run`` returns the votes that still count."""

    def __init__(self, pairs, cfg: VotingConfig, paths: Paths, keys: KeyInput, out: IO):
        self.cfg, self.paths, self.keys, self.out = cfg, paths, keys, out
        self.annotator = cfg.annotator or default_annotator()
        self.rng = random.Random(cfg.seed)
        self.by_id = {p["id"]: p for p in pairs}
        prior = read_records(paths.votes, "vote")
        self.queue = order_pairs(pairs, prior, self.annotator, cfg.order, paths, seed=cfg.seed,
                                 include_voted=cfg.include_voted, limit=cfg.limit, notice=self.say)
        self.total = len(self.queue)
        # earlier votes of this annotator that a gold repeat may re-ask
        self.pool = [v for v in effective_votes(prior, drop_repeats=True)
                     if v.get("annotator") == self.annotator and v["pair_id"] in self.by_id]
        self.made: list[dict] = []
        self.repeated: set[str] = set()
        self.skipped = self.undone = 0
        self.tty_out = bool(getattr(out, "isatty", lambda: False)())

    def say(self, msg: str) -> None:
        self.out.write(msg + "\n")
        self.out.flush()

    def _size(self) -> tuple[int, int]:
        size = shutil.get_terminal_size((100, 40))
        return self.cfg.width or size.columns, self.cfg.height or size.lines

    def _show(self, item, page: int, pages: list[list[str]]) -> None:
        if self.tty_out:
            self.out.write("\x1b[2J\x1b[H")  # clear the screen
        self.say(progress_line(item["position"], self.total, len(self.made), self.skipped,
                               repeat=bool(item.get("repeat_of"))))
        self.out.write("\n".join(pages[page]) + "\n")
        more = f"  (page {page + 1}/{len(pages)}: > next, < previous)" if len(pages) > 1 else ""
        self.say(FOOTER + more)

    def _next_repeat(self):
        """An earlier own vote to re-ask (not one of the last two), or None."""
        recent = {v["pair_id"] for v in self.made[-2:]}
        cands = [v for v in self.pool if v["id"] not in self.repeated and v["pair_id"] not in recent]
        return self.rng.choice(cands) if cands else None

    def _vote(self, item, choice_key: str, seconds: float) -> dict:
        pair, swapped = item["pair"], item["swapped"]
        side = CHOICE_KEYS[choice_key]
        choice = {"first": "B" if swapped else "A", "second": "A" if swapped else "B"}.get(side, side)
        confidence = rationale = None
        if self.cfg.ask_confidence:
            confidence = self.keys.digit("confidence 1-5 (other key = none): ", 1, 5)
        if self.cfg.ask_rationale:
            rationale = self.keys.text("reason (Enter = none): ") or None
        vote = make_vote(pair, choice, self.annotator, "human", swapped=swapped, seconds=round(seconds, 2),
                         confidence=confidence, rationale=rationale, repeat_of=item.get("repeat_of"))
        append_records(self.paths.votes, [vote], "vote")  # durable before the next screen
        self.made.append(vote)
        if not item.get("repeat_of"):
            self.pool.append(vote)
        return vote

    def _undo(self, current) -> bool:
        if not self.made:
            self.say("nothing to undo in this session")
            return False
        vote = self.made.pop()
        append_records(self.paths.votes, [make_retraction(vote, utc_now(), new_id("v"))], "vote")
        self.pool = [v for v in self.pool if v["id"] != vote["id"]]
        self.undone += 1
        pair = self.by_id.get(vote["pair_id"])
        self.pending.insert(0, current)
        self.pending.insert(0, {"pair": pair, "swapped": bool(vote.get("swapped")),
                                "repeat_of": vote.get("repeat_of"), "position": current["position"] - (
                                    0 if vote.get("repeat_of") or current.get("repeat_of") else 1)})
        self.say(f"undone: vote on pair {vote['pair_id']} (a retraction was appended)")
        return True

    def run(self) -> list[dict]:
        if not self.queue:
            self.say("Nothing to vote on: every pair already has your vote (use --include-voted to revisit).")
            return []
        self.pending = [{"pair": p, "swapped": self.rng.random() < 0.5, "position": i + 1}
                        for i, p in enumerate(self.queue)]
        while self.pending:
            item = self.pending.pop(0)
            if not self._ask(item):
                break
        self.say(f"Saved {len(self.made)} vote(s) to {self.paths.votes} "
                 f"({self.skipped} skipped, {self.undone} undone). Rerun to continue.")
        return list(self.made)

    def _ask(self, item) -> bool:
        """Show one pair until it is decided; False when the user quits."""
        pair = item["pair"]
        first, second = ((pair["response_b"], pair["response_a"]) if item["swapped"]
                         else (pair["response_a"], pair["response_b"]))
        width, height = self._size()
        lines = render_pair(pair["prompt"], first, second, width)
        pages = paginate(lines, height - 4) if self.keys.is_tty else [lines]
        page, started = 0, time.monotonic()
        self._show(item, page, pages)
        while True:
            key = self.keys.key()
            if key is None or key == "q":
                self.pending.insert(0, item)
                return False
            if key in CHOICE_KEYS:
                self._vote(item, key, time.monotonic() - started)
                self._maybe_repeat(item)
                return True
            if key == "s":
                self.skipped += 1
                return True
            if key == "u":
                if self._undo(item):
                    return True
            elif key == "?":
                self.say(KEY_HELP)
                continue
            elif key in (">", " ", "\n", "j") and page + 1 < len(pages):
                page += 1
            elif key in ("<", "k") and page > 0:
                page -= 1
            elif key not in (">", "<", " ", "\n", "j", "k"):
                self.say(f"unknown key {key!r}; press ? for help")
                continue
            self._show(item, page, pages)

    def _maybe_repeat(self, item) -> None:
        if self.cfg.repeat_rate <= 0 or self.rng.random() >= self.cfg.repeat_rate:
            return
        earlier = self._next_repeat()
        if earlier is None:
            return
        self.repeated.add(earlier["id"])
        self.pending.insert(0, {"pair": self.by_id[earlier["pair_id"]], "swapped": not earlier.get("swapped", False),
                                "repeat_of": earlier["id"], "position": item["position"]})


def vote_on_pairs(pairs: list[dict], cfg: VotingConfig, paths: Paths, stdin: IO | None = None,
                  stdout: IO | None = None) -> list[dict]:
    """Run an interactive session over ``pairs``; returns this session's votes that still count.

    Each vote is appended to ``paths.votes`` the moment it is made; undo appends a
    retraction (see :mod:`interface.vote_log`). Works on a terminal (single keys) and on a
    pipe or file (one key per line).
    """
    out = stdout if stdout is not None else sys.stdout
    with KeyInput(stdin, out) as keys:
        return _Session(pairs, cfg, paths, keys, out).run()


def load_pair_file(path: str) -> list[dict]:
    p = Path(path)
    if not p.exists():
        raise UserError(f"--pairs {path}: no such file; give a JSONL file of pair records (see docs/data_formats.md)")
    errors: list = []
    pairs = read_records(p, "pair", errors=errors)
    if not pairs:
        why = f" ({errors[0]})" if errors else ""
        raise UserError(f"--pairs {path}: no valid pair records{why}")
    return pairs


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--pairs", dest="pairs_file", default=None,
                        help="JSONL file of pair records to vote on (default: pairs built from the completions log)")
    add_config_args(parser, VotingConfig)
    add_path_args(parser)
    add_verbosity_args(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    setup_logging(args)

    def body() -> int:
        cfg = config_from_args(VotingConfig, args)
        paths = Paths.from_args(args)
        if args.pairs_file:
            pairs = load_pair_file(args.pairs_file)
        else:
            from utils.pairs import sync_pairs

            pairs = sync_pairs(paths)
            if not pairs:
                raise UserError(f"no pairs to vote on: {paths.completions} has no prompt with two different "
                                "completions; generate completions first or pass --pairs FILE")
        vote_on_pairs(pairs, cfg, paths)
        return 0

    return run_cli(body, prog="voting_ui.py")


if __name__ == "__main__":
    sys.exit(main())
