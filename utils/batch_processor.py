#!/usr/bin/env python3
"""Generate completions for a file of prompts, concurrently, resumably, without losing any.

    python utils/batch_processor.py --input prompts/sample_batch.json --backend openai --provider deepseek --max-workers 16
    python utils/batch_processor.py --input prompts/sample_batch.json --backend openai --base-url http://127.0.0.1:8080/v1
    python utils/batch_processor.py --resume            # finish the latest run (or --resume RUN_DIR)
"""
from __future__ import annotations

import argparse
import logging
import platform
import sys
from dataclasses import asdict, dataclass, fields
from pathlib import Path

if __package__ in (None, ""):  # run as `python path/to/script.py`: make the repo root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from utils.backends import BackendConfig, GenParams
from utils.cli import (UserError, add_config_args, add_path_args, add_verbosity_args, config_from_args, field,
                       run_cli, setup_logging)
from utils.paths import Paths

log = logging.getLogger("rlhf_loop.batch")


@dataclass
class BatchConfig:
    input: str | None = field(None, help="prompts file: JSON like prompts/sample_batch.json, or JSONL "
                                         "(needed unless --resume)")
    output_dir: str | None = field(None, help="where run folders go (default: DATA_DIR/batch_results)")
    temperature: float = field(0.7, help="sampling temperature (a prompt's own 'temperature' wins)")
    top_p: float = field(0.95, help="nucleus sampling share")
    max_tokens: int = field(256, help="completion length limit in tokens")
    seed: int | None = field(None, help="sampling seed sent with each request (if the endpoint supports it)")
    rpm: float | None = field(None, help="at most this many requests per minute (openai backend)")
    tpm: float | None = field(None, help="at most this many tokens per minute, estimated as prompt chars/4 "
                                         "+ max_tokens and corrected by the reported usage (openai backend)")
    price_input: float | None = field(None, help="USD per million prompt tokens, for cost_usd in summary.json")
    price_output: float | None = field(None, help="USD per million completion tokens")
    resume: str | None = field(None, cli=False, help="run folder to finish, or 'latest'")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__.split("\n", 1)[1])
    add_config_args(p, BatchConfig)
    p.add_argument("--resume", nargs="?", const="latest", default=None, metavar="RUN_DIR",
                   help="finish an interrupted run: skip prompts already ok there, retry the rest "
                        "(no value: the latest run under --output-dir)")
    add_config_args(p, BackendConfig, group="completion backend")
    add_path_args(p)
    add_verbosity_args(p)
    return p


def explicit_dests(argv: list[str] | None) -> set[str]:
    """Which options the user actually typed (so a resumed run keeps its recorded settings)."""
    p = build_parser()
    for action in p._actions:
        action.default = argparse.SUPPRESS
    return set(vars(p.parse_args(argv)))


def configs_for(args: argparse.Namespace, argv: list[str] | None, paths: Paths):
    """(BatchConfig, BackendConfig, run_dir or None); a resume restores the run's recorded settings."""
    from utils.batch_io import latest_run
    from utils.store import read_json

    cfg = config_from_args(BatchConfig, args)
    bcfg = config_from_args(BackendConfig, args)
    output_dir = Path(cfg.output_dir or paths.batch_results)
    if cfg.resume is None:
        if not cfg.input:
            raise UserError("give --input FILE (a JSON or JSONL prompts file), or --resume to finish a run")
        return cfg, bcfg, None
    run_dir = latest_run(output_dir) if cfg.resume == "latest" else Path(cfg.resume)
    manifest = read_json(run_dir / "run.json")
    if not manifest:
        raise UserError(f"--resume {cfg.resume}: {run_dir} has no run.json; give a folder made by this script")
    typed = explicit_dests(argv)
    for obj, key in ((cfg, "batch_config"), (bcfg, "backend_config")):
        for f in fields(obj):
            if f.name not in typed and f.name in manifest.get(key, {}) and f.name != "resume":
                setattr(obj, f.name, manifest[key][f.name])
    return cfg, bcfg, run_dir


def write_manifest(run_dir: Path, cfg: BatchConfig, bcfg: BackendConfig, model: str, n_items: int,
                   argv: list[str] | None) -> None:
    """run.json: what this run was asked to do (never the API key, only its variable's name)."""
    import openai

    from utils.store import file_sha256, read_json, utc_now, write_json_atomic

    path = run_dir / "run.json"
    old = read_json(path) or {}
    manifest = {
        "run_id": run_dir.name, "created_at": old.get("created_at", utc_now()),
        "command": ["utils/batch_processor.py", *(sys.argv[1:] if argv is None else argv)],
        "input": {"path": str(Path(cfg.input).resolve()), "sha256": file_sha256(cfg.input), "prompts": n_items},
        "model": model, "batch_config": asdict(cfg), "backend_config": asdict(bcfg),
        "versions": {"python": platform.python_version(), "openai": openai.__version__},
        "resumed_at": old.get("resumed_at", []) + ([utc_now()] if old else []),
    }
    if old and old.get("input", {}).get("sha256") != manifest["input"]["sha256"]:
        log.warning("the input file changed since this run started; finished ids are still skipped")
    write_json_atomic(path, manifest)


def quiet_http_logs() -> None:
    # This openai release logs every request through "httpx2", which utils.cli does not know yet.
    for name in ("httpx", "httpx2", "httpcore", "openai"):
        logging.getLogger(name).setLevel(max(logging.WARNING, logging.getLogger().level))


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    setup_logging(args)
    quiet_http_logs()

    def body() -> int:
        from utils.backends import get_backend
        from utils.batch_io import load_batch, new_run_dir
        from utils.batch_runner import process_batch, shared_client_backend

        paths = Paths.from_args(args)
        cfg, bcfg, run_dir = configs_for(args, argv, paths)
        bcfg = bcfg.resolved()
        if bcfg.backend == "local" and (cfg.rpm or cfg.tpm):
            raise UserError("--rpm/--tpm limit API requests; drop them with --backend local")
        for name in ("rpm", "tpm"):
            if getattr(cfg, name) is not None and getattr(cfg, name) <= 0:
                raise UserError(f"--{name} must be > 0, got {getattr(cfg, name)}")
        items = load_batch(cfg.input)
        # Both fail here, before any folder exists, on a missing key or model.
        backend = shared_client_backend(bcfg) if bcfg.backend == "openai" else get_backend(bcfg, paths)
        run_dir = run_dir or new_run_dir(cfg.output_dir or paths.batch_results, cfg.input)
        write_manifest(run_dir, cfg, bcfg, backend.model_name, len(items), argv)
        base = GenParams(temperature=cfg.temperature, top_p=cfg.top_p, max_tokens=cfg.max_tokens, seed=cfg.seed)
        s = process_batch(items, backend, base, run_dir, run_dir.name, cfg.rpm, cfg.tpm, bcfg.max_workers,
                          progress=not args.quiet, price_input=cfg.price_input, price_output=cfg.price_output)
        lat = s["latency_s"]
        cost = f", ${s['cost_usd']:.4f}" if s["cost_usd"] is not None else ""
        print(f"{s['ok']}/{s['total']} ok, {s['failed']} failed, {s['retried']} retries, "
              f"{s['tokens']['total']} tokens{cost}, latency p50 {lat['p50']}s p95 {lat['p95']}s, "
              f"{s['throughput_rps']} req/s -> {run_dir}")
        if s["failed"]:
            print(f"failed ids: {', '.join(s['failed_ids'][:20])}{' ...' if s['failed'] > 20 else ''} "
                  f"(rerun with --resume {run_dir} to retry them)", file=sys.stderr)
        return 1 if s["failed"] else 0

    return run_cli(body, prog="batch_processor.py")


if __name__ == "__main__":
    sys.exit(main())
