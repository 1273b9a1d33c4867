#!/usr/bin/env python3
"""Run the RLHF preference loop: prompts -> completions -> pairs -> predict -> route -> vote -> retrain.

    python interface/rlhf_loop.py                       # 10 prompts, local SmolLM2, you vote in the terminal
    python interface/rlhf_loop.py --cycles 3 --source dataset ../shared/data/hh_harmless_dev.jsonl.gz \\
        --annotator replay --bootstrap ../shared/data/hh_harmless_dev.jsonl.gz --bootstrap-limit 400

Pairs the vote predictor is sure about (calibrated confidence >= --confidence-threshold)
are auto-labelled, except a --human-feedback-ratio audit share; the rest go to a human.
Interrupted at any point, the same command resumes the cycle (models/loop_state.json).
"""
from __future__ import annotations

import argparse
import dataclasses
import logging
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

if __package__ in (None, ""):  # run as `python interface/rlhf_loop.py`: make the repo root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from interface.loop_annotators import ANNOTATORS, resolve_annotator_kind
from interface.loop_state import LoopState, next_cycle_number
from interface.loop_steps import CYCLE_STEPS, StopLoop
from utils.cli import UserError, add_config_args, add_path_args, add_verbosity_args, field, run_cli, setup_logging
from utils.paths import Paths

log = logging.getLogger("rlhf_loop.loop")

# Flags the loop borrows from each step's config (the step owns their defaults).
GEN_FLAGS = ("num_prompts", "domains", "task_types", "use_llm")
COMP_FLAGS = ("temperature", "temperature_step", "top_p", "max_tokens", "system_prompt")
VOTE_FLAGS = ("order", "repeat_rate", "ask_confidence", "ask_rationale", "width", "height")
TRAIN_FLAGS = ("base_model", "epochs", "max_length", "max_steps", "freeze_layers", "lexical")


@dataclass
class LoopConfig:
    cycles: int = field(1, help="cycles to run (a resumed, unfinished cycle counts as the first)")
    completions_per_prompt: int | None = field(None, help="completions per prompt (default: utils/completions.py's)")
    confidence_threshold: float = field(0.8, help="pairs predicted with lower calibrated confidence go to a human")
    human_feedback_ratio: float = field(0.1, help="share of the confident pairs still sent to a human (audit)")
    annotator: str | None = field(None, help="who votes (default: interactive in a terminal)", choices=ANNOTATORS)
    annotator_name: str = field("", help="your name on interactive votes (default: the login name)")
    source: list[str] = field(default_factory=lambda: ["generate"],
                              help="'generate' (prompts + completions) or 'dataset FILE' (HH-RLHF/TRL pairs)")
    bootstrap: str | None = field(None, help="train the first checkpoint on this HH-RLHF/TRL file before cycle 1")
    bootstrap_limit: int | None = field(None, help="use at most this many rows of the --bootstrap file")
    retrain_min_votes: int = field(20, help="new human votes needed before (re)training the vote predictor")
    monitor_drift: bool = field(False, help="run the drift monitor after each cycle")
    seed: int = field(0, help="seed of prompts, sampling, sides and the audit draw")
    dry_run: bool = field(False, help="show the plan and the current state, change nothing")

    def __post_init__(self):
        if self.cycles < 1:
            raise UserError(f"--cycles must be >= 1, got {self.cycles}")
        if not 0.5 <= self.confidence_threshold <= 1.0:
            raise UserError(f"--confidence-threshold must be in [0.5, 1] (confidence is max(p, 1-p)), "
                            f"got {self.confidence_threshold}")
        if not 0.0 <= self.human_feedback_ratio <= 1.0:
            raise UserError(f"--human-feedback-ratio must be in [0, 1], got {self.human_feedback_ratio}")
        if self.retrain_min_votes < 1:
            raise UserError(f"--retrain-min-votes must be >= 1, got {self.retrain_min_votes}")
        src = list(self.source)
        if not ((src == ["generate"]) or (len(src) == 2 and src[0] == "dataset")):
            raise UserError(f"--source {' '.join(src)!r}: use '--source generate' or '--source dataset FILE'")
        if src[0] == "dataset" and not Path(src[1]).is_file():
            raise UserError(f"--source dataset {src[1]}: no such file; give an HH-RLHF or TRL .jsonl(.gz) file")
        if self.annotator == "replay" and src[0] != "dataset":
            raise UserError("--annotator replay answers with recorded human choices, so it needs "
                            "--source dataset FILE (an HH-RLHF/TRL file)")
        if self.bootstrap and not Path(self.bootstrap).is_file():
            raise UserError(f"--bootstrap {self.bootstrap}: no such file; give an HH-RLHF or TRL .jsonl(.gz) file")


class LoopContext:
    """What the steps share: configs, paths, resume state, annotator, output stream."""

    def __init__(self, cfg: LoopConfig, args: argparse.Namespace, paths: Paths, annotator, out: IO):
        from prompts.generator import GeneratorConfig
        from utils.backends import BackendConfig
        from utils.completions import CompletionsConfig

        self.cfg, self.args, self.paths, self.annotator, self.out = cfg, args, paths, annotator, out
        self.source = cfg.source[0]
        self.source_file = cfg.source[1] if self.source == "dataset" else None
        self.gen_cfg = GeneratorConfig(seed=cfg.seed, **_pick(args, GEN_FLAGS))
        num = cfg.completions_per_prompt or CompletionsConfig().num_completions
        self.comp_cfg = CompletionsConfig(num_completions=num, seed=cfg.seed, **_pick(args, COMP_FLAGS))
        self.backend_cfg = _backend_config(args)
        self.judge_votes = cfg.annotator == "llm"
        self.state = LoopState.load(paths)
        self._backend = None

    @property
    def cycle(self) -> dict:
        return self.state.cycle

    def backend(self):
        if self._backend is None:
            from utils.backends import get_backend
            self._backend = get_backend(self.backend_cfg, self.paths)
        return self._backend

    def train_cfg(self, retrain: bool):
        from utils.vote_predictor.train import TrainConfig
        return TrainConfig(seed=self.cfg.seed, retrain=retrain, **_pick(self.args, TRAIN_FLAGS))


def _pick(args, names) -> dict:
    return {n: getattr(args, n) for n in names if hasattr(args, n)}


def _backend_config(args):
    from utils.backends import BackendConfig
    return BackendConfig(**_pick(args, [f.name for f in dataclasses.fields(BackendConfig)])).resolved()


def make_annotator(ctx_cfg: LoopConfig, args, paths: Paths, stdin: IO | None, stdout: IO | None):
    from interface.loop_annotators import InteractiveAnnotator, JudgeAnnotator, ReplayAnnotator
    kind = resolve_annotator_kind(ctx_cfg.annotator, stdin)
    if kind == "replay":
        return ReplayAnnotator(ctx_cfg.source[1], seed=ctx_cfg.seed)
    if kind == "llm":
        return JudgeAnnotator(_backend_config(args), paths)
    from interface.voting_ui import VotingConfig
    vcfg = VotingConfig(annotator=ctx_cfg.annotator_name, seed=ctx_cfg.seed, **_pick(args, VOTE_FLAGS))
    return InteractiveAnnotator(vcfg, stdin=stdin, stdout=stdout)


def run_cycle_steps(ctx: LoopContext, stop_after: str | None = None, on_step=None) -> None:
    """Run the current cycle's unfinished steps in the declared order."""
    n = len(CYCLE_STEPS)
    for i, step in enumerate(CYCLE_STEPS, start=1):
        if ctx.state.is_done(step.name):
            continue
        if on_step:
            on_step(step.name)
        t0 = time.perf_counter()
        summary, updates = step.run(ctx)
        ctx.state.mark_done(step.name, **updates)
        print(f"[cycle {ctx.cycle['number']}] {i:>2}/{n} {step.name:<12} {summary} ({time.perf_counter() - t0:.1f}s)",
              file=ctx.out, flush=True)
        if stop_after == step.name:
            raise KeyboardInterrupt(f"stopped after {step.name} (test hook)")


def run_loop(cfg: LoopConfig, args: argparse.Namespace, paths: Paths, annotator=None, stdin: IO | None = None,
             out: IO | None = None, stop_after: str | None = None, on_step=None) -> list[dict]:
    """Run ``cfg.cycles`` cycles (resuming an unfinished one first); returns their history records.

    ``stop_after`` (a step name) raises KeyboardInterrupt right after that step is saved
    as finished, as an interrupt would; ``on_step`` is called with each step's name as it starts.
    """
    from interface.loop_state import read_history
    from interface.loop_steps import step_named

    out = out if out is not None else sys.stdout
    annotator = annotator or make_annotator(cfg, args, paths, stdin, out)
    ctx = LoopContext(cfg, args, paths, annotator, out)
    before = {r["id"] for r in read_history(paths)}
    boot = step_named("bootstrap")
    if cfg.bootstrap and ctx.state.cycle is None and not ctx.state.persist.get("bootstrapped"):
        from interface.loop_steps import latest_version
        if latest_version(ctx) is None:
            if on_step:
                on_step(boot.name)
            summary, _ = boot.run(ctx)
            print(f"[bootstrap] {summary}", file=out, flush=True)
        else:
            print(f"[bootstrap] skipped: checkpoint {latest_version(ctx)} exists already", file=out)
    try:
        for _ in range(cfg.cycles):
            if ctx.state.cycle is None:
                flags = {k: v for k, v in vars(args).items() if isinstance(v, (int, float, str, bool, list, type(None)))}
                ctx.state.begin_cycle(next_cycle_number(paths), flags)
            else:
                print(f"resuming cycle {ctx.cycle['number']} after: {', '.join(ctx.cycle['done']) or 'nothing yet'}",
                      file=out, flush=True)
            run_cycle_steps(ctx, stop_after, on_step)
            ctx.state.end_cycle()
    except StopLoop as stop:
        if ctx.cycle and "pairs" not in ctx.cycle["done"] and not ctx.cycle.get("pairs"):
            ctx.state.end_cycle()  # an empty cycle: nothing to resume
        print(str(stop), file=out, flush=True)
    return [r for r in read_history(paths) if r["id"] not in before]


def dry_run(cfg: LoopConfig, args, paths: Paths, stdin: IO | None, out: IO) -> None:
    from interface.loop_state import read_history
    from utils.store import read_records
    from utils.vote_predictor.checkpoints import latest_version

    try:
        who = resolve_annotator_kind(cfg.annotator, stdin)
    except UserError as exc:
        who = f"none ({exc})"
    st = LoopState.load(paths)
    print(f"dry run: nothing is written. {cfg.cycles} cycle(s), source {' '.join(cfg.source)}, annotator {who}",
          file=out)
    print(f"  routing: confidence < {cfg.confidence_threshold} -> human; {cfg.human_feedback_ratio:.0%} of the "
          f"rest audited by a human; retrain after {cfg.retrain_min_votes} new human votes", file=out)
    print(f"  checkpoint: {latest_version(paths.checkpoint) or 'none (cold start: every pair goes to a human)'}; "
          f"votes: {len(read_records(paths.votes, warn=False))}; cycles done: {len(read_history(paths))}", file=out)
    if st.cycle:
        print(f"  resumes cycle {st.cycle['number']} after: {', '.join(st.cycle['done']) or 'nothing yet'}", file=out)
    if cfg.bootstrap:
        print(f"  [bootstrap] import {cfg.bootstrap}, train, calibrate (only while there is no checkpoint)", file=out)
    for i, s in enumerate(CYCLE_STEPS, start=1):
        print(f"  {i:>2}. {s.name:<12} {s.script}:{s.function} -> {', '.join(s.writes)}", file=out)


def build_parser() -> argparse.ArgumentParser:
    from prompts.generator import GeneratorConfig
    from utils.backends import BackendConfig
    from utils.completions import CompletionsConfig
    from utils.vote_predictor.train import TrainConfig
    from interface.voting_ui import VotingConfig

    def others(cls, keep):
        return tuple(f.name for f in dataclasses.fields(cls) if f.name not in keep)

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_config_args(p, LoopConfig)
    add_config_args(p, GeneratorConfig, group="prompts (prompts/generator.py)",
                    exclude=others(GeneratorConfig, GEN_FLAGS))
    add_config_args(p, CompletionsConfig, group="completions (utils/completions.py)",
                    exclude=others(CompletionsConfig, COMP_FLAGS))
    add_config_args(p, BackendConfig, group="backend (completions and --annotator llm)")
    add_config_args(p, VotingConfig, group="voting (interface/voting_ui.py)", exclude=others(VotingConfig, VOTE_FLAGS))
    add_config_args(p, TrainConfig, group="vote predictor training (utils/vote_predictor/train.py)",
                    exclude=others(TrainConfig, TRAIN_FLAGS))
    add_path_args(p)
    add_verbosity_args(p)
    return p


def main(argv: list[str] | None = None, stdin: IO | None = None) -> int:
    args = build_parser().parse_args(argv)
    setup_logging(args)

    def body() -> int:
        from utils.cli import config_from_args
        cfg = config_from_args(LoopConfig, args)
        paths = Paths.from_args(args)
        if cfg.dry_run:
            dry_run(cfg, args, paths, stdin, sys.stdout)
            return 0
        resolve_annotator_kind(cfg.annotator, stdin)  # fail before any work when nobody can vote
        recs = run_loop(cfg, args, paths, stdin=stdin)
        if recs:
            print(f"done: {len(recs)} cycle(s) recorded in {paths.loop_history}")
        return 0

    return run_cli(body, prog="rlhf_loop.py")


if __name__ == "__main__":
    sys.exit(main())
