#!/usr/bin/env python3
"""Generate K completions per prompt -> data/raw_completions_log.jsonl.

    python utils/completions.py                                  # embedded SmolLM2, 2 per prompt
    python utils/completions.py --backend openai --base-url http://127.0.0.1:8080/v1 --model local
    python utils/completions.py --backend openai --provider deepseek   # needs DEEPSEEK_API_KEY

Resumable: a rerun only generates what is missing (prompts with fewer than K completions).
Completion k is sampled at temperature + k * temperature-step, so the two sides of a pair differ.
"""
from __future__ import annotations

import argparse
import logging
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):  # run as `python utils/completions.py`: make the repo root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from utils.backends import BackendConfig, GenParams
from utils.cli import UserError, config_from_args, field, run_cli, script_parser, setup_logging
from utils.paths import Paths
from utils.records import make_completion
from utils.store import append_records, read_records

log = logging.getLogger("rlhf_loop.completions")
DEFAULT_SYSTEM = "You are a helpful, honest and harmless assistant."


@dataclass
class CompletionsConfig:
    prompts: str | None = field(None, help="prompts JSONL (default: prompts/generated_prompts.jsonl)")
    output: str | None = field(None, help="output JSONL (default: data/raw_completions_log.jsonl)")
    num_completions: int = field(2, help="completions per prompt (K)")
    temperature: float = field(0.7, help="sampling temperature of the first completion")
    temperature_step: float = field(0.3, help="added to the temperature for each further completion")
    top_p: float = field(0.95, help="nucleus sampling threshold")
    max_tokens: int = field(128, help="maximum new tokens per completion")
    seed: int = field(0, help="sampling seed (completion k uses seed + k)")
    system_prompt: str | None = field(DEFAULT_SYSTEM, help="system message sent before each prompt ('' for none)")
    limit: int | None = field(None, help="only the first N prompts of the file")

    def __post_init__(self):
        if self.num_completions < 1:
            raise UserError(f"--num-completions must be >= 1, got {self.num_completions}")
        if not 0 < self.top_p <= 1 or self.temperature < 0 or self.max_tokens < 1:
            raise UserError("--top-p must be in (0, 1], --temperature >= 0 and --max-tokens >= 1")

    def params_for(self, k: int) -> GenParams:
        return GenParams(temperature=round(min(self.temperature + k * self.temperature_step, 2.0), 4),
                         top_p=self.top_p, max_tokens=self.max_tokens, seed=self.seed + k)


def messages_for(prompt_text: str, system_prompt: str | None) -> list[dict]:
    msgs = [{"role": "system", "content": system_prompt}] if system_prompt else []
    return msgs + [{"role": "user", "content": prompt_text}]


def pending_jobs(prompts: list[dict], existing: list[dict], k: int) -> list[tuple[dict, int]]:
    """(prompt, completion index) for every completion still missing."""
    have = Counter(c["prompt_id"] for c in existing)
    done_idx: dict[str, set[int]] = {}
    for c in existing:
        done_idx.setdefault(c["prompt_id"], set()).add(c["index"])
    jobs = []
    for p in prompts:
        if have[p["id"]] >= k:
            continue
        jobs += [(p, i) for i in range(k) if i not in done_idx.get(p["id"], set())]
    return jobs


def generate_completions(prompts: list[dict], cfg: CompletionsConfig, backend, out_path: Path,
                         chunk_size: int = 8) -> list[dict]:
    """Generate what is missing and append it chunk by chunk (an interrupt keeps finished chunks)."""
    from tqdm import tqdm

    jobs = pending_jobs(prompts, read_records(out_path, "completion"), cfg.num_completions)
    # group by completion index so each chunk shares sampling params (one batch on the local model)
    jobs.sort(key=lambda j: j[1])
    written: list[dict] = []
    bar = tqdm(total=len(jobs), desc="completions", unit="gen", disable=not jobs)
    for start in range(0, len(jobs), chunk_size):
        chunk = jobs[start:start + chunk_size]
        msgs = [messages_for(p["text"], cfg.system_prompt) for p, _ in chunk]
        gens = backend.generate(msgs, [cfg.params_for(k) for _, k in chunk])
        recs = [make_completion(p, g.text, k, g.model, backend.name, vars(cfg.params_for(k)), usage=g.usage,
                                latency_s=round(g.latency_s, 4), finish_reason=g.finish_reason,
                                system_prompt=cfg.system_prompt or None)
                for (p, k), g in zip(chunk, gens)]
        append_records(out_path, recs, "completion")
        written += recs
        bar.update(len(chunk))
    bar.close()
    return written


def build_parser() -> argparse.ArgumentParser:
    return script_parser(__doc__, CompletionsConfig, (BackendConfig, "backend"))


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    setup_logging(args)

    def body() -> int:
        from utils.backends import get_backend

        cfg = config_from_args(CompletionsConfig, args)
        bcfg = config_from_args(BackendConfig, args).resolved()
        paths = Paths.from_args(args)
        prompts_path = Path(cfg.prompts) if cfg.prompts else paths.prompts
        out = Path(cfg.output) if cfg.output else paths.completions
        if not prompts_path.exists():
            raise UserError(f"no prompts file at {prompts_path}; create one with: python prompts/generator.py")
        prompts = read_records(prompts_path, "prompt")[: cfg.limit]
        if not prompts:
            raise UserError(f"{prompts_path} holds no valid prompt records; run python prompts/generator.py")
        todo = pending_jobs(prompts, read_records(out, "completion", warn=False), cfg.num_completions)
        if not todo:
            print(f"nothing to do: all {len(prompts)} prompts already have {cfg.num_completions} completions in {out}")
            return 0
        backend = get_backend(bcfg, paths)
        written = generate_completions(prompts, cfg, backend, out,
                                       chunk_size=bcfg.batch_size if bcfg.backend == "local" else 4 * bcfg.max_workers)
        toks = sum(c.get("usage", {}).get("completion_tokens", 0) for c in written)
        secs = sum(c.get("latency_s", 0) for c in written)
        speed = f", {toks / secs:.1f} tokens/s" if secs and bcfg.backend == "local" else ""
        print(f"wrote {len(written)} completions for {len({c['prompt_id'] for c in written})} prompts "
              f"to {out} ({backend.name}:{backend.model_name}{speed})")
        return 0

    return run_cli(body)


if __name__ == "__main__":
    sys.exit(main())
