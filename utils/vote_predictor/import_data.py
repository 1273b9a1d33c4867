#!/usr/bin/env python3
"""Import HH-RLHF / TRL preference files as votes, or export votes to TRL format.

    python utils/vote_predictor/import_data.py ../shared/data/hh_harmless_dev.jsonl.gz
    python utils/vote_predictor/import_data.py --export-trl exports/votes_trl.jsonl
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):  # run as `python path/to/script.py`: make the repo root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from utils.cli import (UserError, add_config_args, add_path_args, add_verbosity_args, config_from_args, field,
                       run_cli, setup_logging)
from utils.paths import Paths


@dataclass
class ImportConfig:
    limit: int | None = field(None, help="import at most this many rows per file")
    seed: int = field(0, help="seed of the per-pair coin that decides which side is shown as A")
    export_trl: str | None = field(None, help="write A/B votes (human + import) to this TRL {prompt,chosen,rejected} file")
    include_judge: bool = field(False, help="also export LLM-judge votes")


def import_files(files: list[str | Path], paths: Paths, limit: int | None = None, seed: int = 0) -> dict:
    """Append the files' pairs to data/pairs.jsonl and votes to data/votes.jsonl (new ids only)."""
    from utils.pairs import load_pairs
    from utils.store import append_records, read_records
    from utils.vote_predictor.importers import import_votes

    known_pairs = set(load_pairs(paths))
    known_votes = {v["id"] for v in read_records(paths.votes, "vote", warn=False)}
    report = {}
    for f in files:
        pairs, votes = import_votes(f, limit=limit, seed=seed)
        new_pairs = [{k: v for k, v in p.items() if k != "human_choice"} for p in pairs if p["id"] not in known_pairs]
        new_votes = [v for v in votes if v["id"] not in known_votes]
        append_records(paths.pairs, new_pairs, "pair")
        append_records(paths.votes, new_votes, "vote")
        known_pairs.update(p["id"] for p in new_pairs)
        known_votes.update(v["id"] for v in new_votes)
        report[str(f)] = {"rows": len(pairs), "new_pairs": len(new_pairs), "new_votes": len(new_votes)}
    return report


def export_votes(out: str | Path, paths: Paths, include_judge: bool = False) -> int:
    from utils.pairs import load_pairs
    from utils.store import read_records
    from utils.vote_predictor.importers import export_trl

    kinds = {"human", "import"} | ({"judge"} if include_judge else set())
    votes = [v for v in read_records(paths.votes, "vote") if v["annotator_type"] in kinds]
    return export_trl(votes, load_pairs(paths), out)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("files", nargs="*", help="HH-RLHF or TRL preference files (.jsonl or .jsonl.gz)")
    add_config_args(p, ImportConfig)
    add_path_args(p)
    add_verbosity_args(p)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    setup_logging(args)

    def body() -> int:
        cfg = config_from_args(ImportConfig, args)
        paths = Paths.from_args(args)
        if not args.files and not cfg.export_trl:
            raise UserError("nothing to do: give preference files to import and/or --export-trl OUT")
        if args.files:
            for f, r in import_files(args.files, paths, cfg.limit, cfg.seed).items():
                print(f"{f}: {r['rows']} pairs read, {r['new_pairs']} new pairs -> {paths.pairs}, "
                      f"{r['new_votes']} new votes -> {paths.votes}")
        if cfg.export_trl:
            n = export_votes(cfg.export_trl, paths, cfg.include_judge)
            print(f"exported {n} votes to {cfg.export_trl} (TRL prompt/chosen/rejected)")
        return 0

    return run_cli(body)


if __name__ == "__main__":
    sys.exit(main())
