#!/usr/bin/env python3
"""Compare the vote predictor with the humans; append one record to models/meta_reflection_log.jsonl.

    python interface/eval_probe.py
    python interface/eval_probe.py --model-version v3 --swap-pairs 64 --no-plot
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

if __package__ in (None, ""):  # run as `python path/to/script.py`: make the repo root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # parents[k]: k = depth below repo root

from interface import probe_metrics as PM
from interface.vote_log import effective_votes
from utils.cli import UserError, config_from_args, field, run_cli, script_parser, setup_logging
from utils.paths import Paths
from utils.store import append_records, file_sha256, new_id, read_records, utc_now

HUMAN_TYPES = ("human", "import")


@dataclass
class ProbeConfig:
    model_version: str = field("", help="predictions of this model version (default: the newest in data/predictions.jsonl)")
    n_bins: int = field(10, help="confidence bins for ECE/MCE and the reliability diagram")
    min_group: int = field(3, help="smallest group (domain, annotator, ...) the summary may single out")
    swap_pairs: int = field(32, help="pairs scored in both orders for the swap test (0 = skip it)")
    predict_missing: bool = field(True, help="score voted pairs that lack a prediction with the checkpoint, when there is one")
    plot: bool = field(True, help="write the reliability diagram PNG")

    def __post_init__(self):
        if self.n_bins < 1 or self.min_group < 1 or self.swap_pairs < 0:
            raise UserError("--n-bins and --min-group must be >= 1 and --swap-pairs >= 0")


def _predict(pairs: list[dict], paths: Paths) -> dict[str, float]:
    """pair id -> P(A) from the checkpoint via predict_pairs (raises UserError / ImportError)."""
    from utils.vote_predictor.predict import predict_pairs

    preds = predict_pairs(pairs, paths=paths)
    if isinstance(preds, dict):
        preds = list(preds.values())
    out = {}
    for pred, pair in zip(preds or [], pairs):
        prob = pred.get("prob_a") if isinstance(pred, dict) else pred
        out[pair["id"]] = float(prob)
    return out


def _texts(vote: dict, pair: dict | None) -> dict | None:
    """The pair as the vote sees it (vote's own A/B order), from the pair file or inline texts."""
    if vote.get("response_a") is not None and vote.get("response_b") is not None:
        ra, rb, prompt = vote["response_a"], vote["response_b"], vote.get("prompt") or (pair or {}).get("prompt", "")
    elif pair is not None:
        ra, rb, prompt = pair["response_a"], pair["response_b"], pair["prompt"]
        if pair["completion_a_id"] == vote["completion_b_id"]:
            ra, rb = rb, ra
    else:
        return None
    return {"id": vote["pair_id"], "prompt_id": vote["prompt_id"], "prompt": prompt or "(no prompt)",
            "completion_a_id": vote["completion_a_id"], "completion_b_id": vote["completion_b_id"],
            "response_a": ra, "response_b": rb}


def choose_predictions(preds: list[dict], version: str) -> tuple[str, dict[str, dict]]:
    """(version, pair id -> newest prediction of that version); version '' = newest overall."""
    if not version:
        version = max(preds, key=lambda p: p["created_at"])["model_version"] if preds else ""
    chosen: dict[str, dict] = {}
    for p in preds:
        if p["model_version"] == version and (p["pair_id"] not in chosen or p["created_at"] >= chosen[p["pair_id"]]["created_at"]):
            chosen[p["pair_id"]] = p
    return version, chosen


def swap_test(views: list[dict], cfg: ProbeConfig, paths: Paths) -> dict:
    if cfg.swap_pairs == 0:
        return {"run": False, "reason": "disabled with --swap-pairs 0"}
    if not paths.checkpoint.exists():
        return {"run": False, "reason": f"no checkpoint at {paths.checkpoint}"}
    sample = views[:cfg.swap_pairs]
    # distinct ids so a swapped pair can never be mistaken for the real one downstream
    flipped = [dict(v, id=v["id"] + ":swapped", completion_a_id=v["completion_b_id"], completion_b_id=v["completion_a_id"],
                    response_a=v["response_b"], response_b=v["response_a"]) for v in sample]
    try:
        p_ab, p_ba = _predict(sample, paths), _predict(flipped, paths)
    except (UserError, ImportError) as exc:
        return {"run": False, "reason": f"could not score pairs: {exc}"}
    res = PM.swap_deviation([p_ab[v["id"]] for v in sample], [p_ba[f["id"]] for f in flipped])
    return {"run": True, **res}


def build_rows(votes: list[dict], chosen: dict[str, dict], pairs: dict[str, dict], domains: dict[str, str],
               extra_probs: dict[str, tuple[float, str]]) -> tuple[list[dict], list[dict], int]:
    """(rows, pair views, n ties/both_bad): one row per non-repeat A/B human vote with a prediction."""
    rows, views, ties = [], {}, 0
    for v in votes:
        if v.get("repeat_of"):
            continue
        view = _texts(v, pairs.get(v["pair_id"]))
        pred = chosen.get(v["pair_id"])
        if pred is not None:
            prob = float(pred["prob_a"])
            pred_a = pred.get("completion_a_id") or (pairs.get(v["pair_id"]) or {}).get("completion_a_id")
            if pred_a == v["completion_b_id"]:  # the prediction saw the pair the other way round
                prob = 1.0 - prob
        elif v["pair_id"] in extra_probs:
            prob, scored_a = extra_probs[v["pair_id"]]  # scored just now, A = scored_a
            if scored_a == v["completion_b_id"]:
                prob = 1.0 - prob
        else:
            continue
        if view is not None:
            views.setdefault(v["pair_id"], view)
        if v["choice"] not in ("A", "B"):
            ties += 1
            continue
        rows.append({"pair_id": v["pair_id"], "annotator": v["annotator"], "prob_a": prob,
                     "label_a": 1 if v["choice"] == "A" else 0, "domain": domains.get(v["prompt_id"], "unknown"),
                     "len_diff": len(view["response_a"]) - len(view["response_b"]) if view else None,
                     "human_confidence": v.get("confidence")})
    return rows, list(views.values()), ties


def run_probe(cfg: ProbeConfig, paths: Paths) -> dict:
    """Compute every metric, write the reliability PNG, append and return the log record."""
    votes = [v for v in effective_votes(read_records(paths.votes, "vote")) if v["annotator_type"] in HUMAN_TYPES]
    if not votes:
        raise UserError(f"no human votes in {paths.votes}; vote with interface/voting_ui.py first")
    all_preds = read_records(paths.predictions, "prediction")
    version, chosen = choose_predictions(all_preds, cfg.model_version)
    if cfg.model_version and not chosen:
        versions = sorted({p["model_version"] for p in all_preds})
        raise UserError(f"--model-version {cfg.model_version!r} has no predictions; known: {', '.join(versions) or 'none'}")
    pairs = {p["id"]: p for p in read_records(paths.pairs, "pair")}
    domains = {p["id"]: p["domain"] for p in read_records(paths.prompts, "prompt")}
    extra, notes = {}, []
    missing = {v["pair_id"]: _texts(v, pairs.get(v["pair_id"])) for v in votes if v["pair_id"] not in chosen}
    missing = {k: t for k, t in missing.items() if t is not None}
    if missing and cfg.predict_missing and paths.checkpoint.exists():
        try:
            scored = _predict(list(missing.values()), paths)
            extra = {pid: (prob, missing[pid]["completion_a_id"]) for pid, prob in scored.items()}
            version = version or "checkpoint"
        except (UserError, ImportError) as exc:
            notes.append(f"could not score {len(missing)} unpredicted pair(s): {exc}")
    rows, views, ties = build_rows(votes, chosen, pairs, domains, extra)
    if not rows:
        raise UserError(f"no pair has both a human A/B vote and a prediction (votes: {paths.votes}, "
                        f"predictions: {paths.predictions}); run the predictor on the voted pairs first")
    import numpy as np

    prob, label = np.array([r["prob_a"] for r in rows]), np.array([r["label_a"] for r in rows])
    rec_id = new_id("probe")
    rec = {"id": rec_id, "created_at": utc_now(), "model_version": version,
           "model_versions": sorted({p["model_version"] for p in all_preds}),
           "n_pairs": len({r["pair_id"] for r in rows}), "n_votes": len(rows), "n_ties_excluded": ties,
           "metrics": PM.overall(rows, cfg.n_bins),
           "by_confidence_bucket": PM.group_accuracy(rows, lambda r: PM.confidence_bucket(r["prob_a"])),
           "by_human_confidence": PM.group_accuracy(rows, lambda r: r["human_confidence"]),
           "by_annotator": PM.group_accuracy(rows, lambda r: r["annotator"]),
           "by_domain": PM.group_accuracy(rows, lambda r: r["domain"]),
           "by_length_diff": PM.group_accuracy(rows, lambda r: PM.length_bucket(r["len_diff"])),
           "length_bias": PM.length_bias(rows),
           "self_consistency": PM.self_consistency(votes),
           "inter_annotator": PM.inter_annotator([v for v in votes if v["annotator_type"] == "human"] or votes),
           "swap_test": swap_test(views, cfg, paths),
           "reliability_png": None, "notes": notes, "config": asdict(cfg),
           "inputs": {name: {"path": str(p), "sha256": file_sha256(p) if p.exists() else None}
                      for name, p in (("votes", paths.votes), ("predictions", paths.predictions))}}
    if cfg.plot:
        from interface.probe_report import save_reliability_png

        png = paths.models_dir / "eval_probe" / f"reliability_{rec_id}.png"
        rec["reliability_png"] = str(save_reliability_png(prob, label, png, cfg.n_bins, f"model {version} vs humans"))
    from interface.probe_report import summarize

    rec["summary"] = summarize(rec, cfg.min_group)
    rec = PM.finite(rec)
    append_records(paths.meta_reflection_log, [rec])
    return rec


def build_parser() -> argparse.ArgumentParser:
    parser = script_parser(__doc__, ProbeConfig)
    parser.add_argument("--json", action="store_true", help="print the record as JSON instead of the table")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    setup_logging(args)

    def body() -> int:
        paths = Paths.from_args(args)
        rec = run_probe(config_from_args(ProbeConfig, args), paths)
        if args.json:
            import json

            print(json.dumps(rec, indent=2, ensure_ascii=False))
        else:
            from interface.probe_report import format_table

            print(format_table(rec))
            print(f"\nappended to {paths.meta_reflection_log}")
        return 0

    return run_cli(body, prog="eval_probe.py")


if __name__ == "__main__":
    sys.exit(main())
