#!/usr/bin/env python3
"""Generate diverse prompts across domains and task types -> prompts/generated_prompts.jsonl.

    python prompts/generator.py --num-prompts 20 --seed 1
    python prompts/generator.py --num-prompts 5 --domains health law --use-llm

Seeded and reproducible; prompts already in the output file are never added twice.
"""
from __future__ import annotations

import argparse
import itertools
import logging
import random
import re
import sys
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):  # run as `python prompts/generator.py`: make the repo root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from prompts.templates import AUDIENCES, DOMAINS, FORMS, TASKS
from utils.cli import UserError, config_from_args, field, run_cli, script_parser, setup_logging
from utils.paths import Paths
from utils.records import make_prompt
from utils.store import append_records, read_records

log = logging.getLogger("rlhf_loop.generator")
TEMPLATE_MODEL = "template-v1"


@dataclass
class GeneratorConfig:
    num_prompts: int = field(10, help="how many new prompts to add")
    seed: int = field(0, help="random seed; the same seed and file give the same prompts")
    domains: list[str] | None = field(None, help=f"domains to draw from (default: all of {', '.join(DOMAINS)})")
    task_types: list[str] | None = field(None, help=f"task types (default: all of {', '.join(TASKS)})")
    output: str | None = field(None, help="output JSONL (default: prompts/generated_prompts.jsonl)")
    use_llm: bool = field(False, help="ask the completion backend to invent the prompts instead of templates")

    def __post_init__(self):
        if self.num_prompts < 0:
            raise UserError(f"--num-prompts must be >= 0, got {self.num_prompts}")
        for name, given, known in (("domain", self.domains, DOMAINS), ("task type", self.task_types, TASKS)):
            bad = [d for d in given or [] if d not in known]
            if bad:
                raise UserError(f"unknown {name} {bad[0]!r}; choose from: {', '.join(known)}")


def _fills(template: str, vocab: dict) -> list[str]:
    """Every filling of a template's slots from a domain's vocabulary."""
    slots = re.findall(r"{(\w+)}", template)
    options = []
    for slot in slots:
        if slot in ("a", "b"):
            continue
        options.append({"audience": AUDIENCES, "form": FORMS}.get(slot) or vocab[{"pairs": "pairs"}.get(slot, slot)])
    names = [s for s in slots if s not in ("a", "b")]
    out = []
    pair_opts = vocab["pairs"] if "{a}" in template else [(None, None)]
    for (a, b), combo in itertools.product(pair_opts, itertools.product(*options)):
        out.append(template.format(a=a, b=b, **dict(zip(names, combo))))
    return out


def candidate_prompts(domains: list[str], task_types: list[str], seed: int) -> list[tuple[str, str, str]]:
    """(text, domain, task type) candidates, interleaved so consecutive prompts vary.

    Each (domain, task type) cell is shuffled with the seed, then cells are visited
    round-robin in a seeded order.
    """
    rng = random.Random(seed)
    cells = []
    for d in domains:
        for t in task_types:
            texts = sorted({f for tpl in TASKS[t] for f in _fills(tpl, DOMAINS[d])})
            rng.shuffle(texts)
            cells.append([(x, d, t) for x in texts])
    rng.shuffle(cells)
    return [c for group in itertools.zip_longest(*cells) for c in group if c is not None]


def generate_template_prompts(cfg: GeneratorConfig, existing_ids: set[str]) -> list[dict]:
    from utils.records import prompt_id_for

    out, seen = [], set(existing_ids)
    for text, domain, task in candidate_prompts(cfg.domains or list(DOMAINS), cfg.task_types or list(TASKS), cfg.seed):
        if len(out) >= cfg.num_prompts:
            break
        pid = prompt_id_for(text)
        if pid in seen:
            continue
        seen.add(pid)
        out.append(make_prompt(text, domain, task, "template", TEMPLATE_MODEL, seed=cfg.seed))
    if len(out) < cfg.num_prompts:
        log.warning("only %d new template prompts left for these domains/task types (asked for %d); "
                    "add --use-llm or more domains", len(out), cfg.num_prompts)
    return out


LLM_INSTRUCTION = ("Write one realistic request that a user might send to an AI assistant. Topic: {domain}. "
                   "Kind of request: {task}. Reply with the request only, no preamble, no quotes.")


def clean_llm_prompt(text: str) -> str | None:
    """Strip quotes/preambles; None when the text is not a usable single prompt."""
    text = text.strip().strip('"“”\'').strip()
    text = re.sub(r"^(sure|here('s| is)|request|prompt)[^:]*:\s*", "", text, flags=re.I).strip().strip('"“”')
    text = text.split("\n")[0].strip()
    if not 12 <= len(text) <= 400 or len(text.split()) < 3:
        return None
    return text


def generate_llm_prompts(cfg: GeneratorConfig, existing_ids: set[str], backend, max_rounds: int = 4) -> list[dict]:
    from utils.backends import GenParams
    from utils.records import prompt_id_for

    rng = random.Random(cfg.seed)
    domains, tasks = cfg.domains or list(DOMAINS), cfg.task_types or list(TASKS)
    out, seen = [], set(existing_ids)
    for round_ in range(max_rounds):
        need = cfg.num_prompts - len(out)
        if need <= 0:
            break
        asks = [(rng.choice(domains), rng.choice(tasks)) for _ in range(need)]
        msgs = [[{"role": "user", "content": LLM_INSTRUCTION.format(domain=d, task=t.replace("_", " "))}] for d, t in asks]
        params = [GenParams(temperature=1.0, top_p=0.95, max_tokens=80, seed=cfg.seed * 100 + round_)] * len(msgs)
        for (d, t), gen in zip(asks, backend.generate(msgs, params, progress=True)):
            text = clean_llm_prompt(gen.text)
            if text is None or prompt_id_for(text) in seen:
                continue
            seen.add(prompt_id_for(text))
            out.append(make_prompt(text, d, t, "llm", f"{backend.name}:{backend.model_name}", seed=cfg.seed))
    if len(out) < cfg.num_prompts:
        log.warning("the model produced %d usable new prompts of %d asked", len(out), cfg.num_prompts)
    return out[: cfg.num_prompts]


def build_parser() -> argparse.ArgumentParser:
    from utils.backends import BackendConfig

    return script_parser(__doc__, GeneratorConfig, (BackendConfig, "backend (with --use-llm)"))


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    setup_logging(args)

    def body() -> int:
        cfg = config_from_args(GeneratorConfig, args)
        paths = Paths.from_args(args)
        out = Path(cfg.output) if cfg.output else paths.prompts
        existing = {r["id"] for r in read_records(out, "prompt")}
        if cfg.use_llm:
            from utils.backends import BackendConfig, get_backend
            prompts = generate_llm_prompts(cfg, existing, get_backend(config_from_args(BackendConfig, args), paths))
        else:
            prompts = generate_template_prompts(cfg, existing)
        append_records(out, prompts, "prompt")
        print(f"added {len(prompts)} prompts to {out} ({len(existing) + len(prompts)} in total)")
        return 0

    return run_cli(body)


if __name__ == "__main__":
    sys.exit(main())
