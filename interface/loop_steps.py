"""The steps of one RLHF loop cycle, declared once: the loop runs them, docs/ draws them.

``STEPS`` is the single list both :mod:`interface.rlhf_loop` (which calls ``step.run``
in this order, skipping the steps the resume state marks as finished) and
``docs/draw_architecture.py`` (which draws docs/architecture.png) read, so the picture
cannot drift from the code. Each step function calls the step script's importable
function (never a copy of it) and returns (one-line summary, results to save in the
resume state).

The data steps (prompts .. evaluate) live here; the model steps (bootstrap, retrain
data, retrain, calibrate, drift) in :mod:`interface.loop_model_steps`.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Callable

from interface import loop_model_steps as ms
from interface import loop_routing as rt
from utils.cli import UserError
from utils.store import append_records, content_id, read_records

log = logging.getLogger("rlhf_loop.loop")
PEOPLE_TYPES = ("human", "judge")


class StopLoop(Exception):
    """End the run cleanly (exit 0) with a message, leaving the cycle resumable."""


@dataclass(frozen=True)
class Step:
    name: str
    script: str                 # the script whose importable function the step calls
    function: str               # that function, for the diagram and the docs
    writes: tuple[str, ...]     # files it writes (labels of its outgoing arrow)
    run: Callable
    once: bool = False          # runs before the first cycle only (bootstrap)


def _cycle_pairs(ctx) -> list[dict]:
    from utils.pairs import load_pairs
    by_id = load_pairs(ctx.paths)
    return [by_id[p] for p in ctx.cycle["pairs"] if p in by_id]


def _people_votes(ctx, pair_ids) -> dict[str, dict]:
    """pair id -> latest effective human/judge vote on it (gold repeats left out)."""
    from interface.vote_log import effective_votes
    want = set(pair_ids)
    out = {}
    for v in effective_votes(read_records(ctx.paths.votes, "vote"), drop_repeats=True):
        if v["pair_id"] in want and v["annotator_type"] in PEOPLE_TYPES:
            out[v["pair_id"]] = v
    return out


def step_prompts(ctx):
    if ctx.source != "generate":
        return "skipped (--source dataset: prompts come with the file)", {"prompt_ids": []}
    from prompts.generator import generate_llm_prompts, generate_template_prompts
    have = {r["id"]: r for r in read_records(ctx.paths.prompts, "prompt")}
    plan = ctx.cycle.get("planned_prompts")
    if plan is None:  # plan, save the plan, then apply: a rerun re-applies the same plan
        if ctx.gen_cfg.use_llm:
            plan = generate_llm_prompts(ctx.gen_cfg, set(have), ctx.backend())
        else:
            plan = generate_template_prompts(ctx.gen_cfg, set(have))
        ctx.state.put(planned_prompts=plan)
    append_records(ctx.paths.prompts, [p for p in plan if p["id"] not in have], "prompt")
    return f"{len(plan)} new prompts -> {ctx.paths.prompts}", {"prompt_ids": [p["id"] for p in plan],
                                                                "planned_prompts": None}


def step_completions(ctx):
    if ctx.source != "generate":
        return "skipped (--source dataset: responses come with the file)", {}
    from utils.completions import generate_completions, pending_jobs
    by_id = {r["id"]: r for r in read_records(ctx.paths.prompts, "prompt")}
    prompts = [by_id[i] for i in ctx.cycle["prompt_ids"] if i in by_id]
    todo = pending_jobs(prompts, read_records(ctx.paths.completions, "completion"), ctx.comp_cfg.num_completions)
    if todo:
        be = ctx.backend()
        chunk = ctx.backend_cfg.batch_size if ctx.backend_cfg.backend == "local" else 4 * ctx.backend_cfg.max_workers
        generate_completions(prompts, ctx.comp_cfg, be, ctx.paths.completions, chunk_size=chunk)
    return f"{len(todo)} completions generated for {len(prompts)} prompts -> {ctx.paths.completions}", {}


def _dataset_plan(ctx) -> list[dict]:
    from utils.pairs import load_pairs
    from interface.loop_annotators import preference_pairs
    known = set(load_pairs(ctx.paths))
    fresh = []
    for p in preference_pairs(ctx.source_file, seed=ctx.cfg.seed):
        if p["id"] not in known:
            fresh.append({k: v for k, v in p.items() if k != "human_choice"})  # the choice stays hidden
            known.add(p["id"])
        if len(fresh) >= ctx.gen_cfg.num_prompts:
            break
    return fresh


def step_pairs(ctx):
    from utils.pairs import load_pairs, sync_pairs
    if ctx.source == "generate":
        wanted = set(ctx.cycle["prompt_ids"])
        pairs = [p for p in sync_pairs(ctx.paths, seed=ctx.cfg.seed) if p["prompt_id"] in wanted]
        ids = list(dict.fromkeys(p["id"] for p in pairs))
    else:
        plan = ctx.cycle.get("planned_pairs")
        if plan is None:  # plan, save the plan, then apply: a rerun re-applies the same plan
            plan = _dataset_plan(ctx)
            ctx.state.put(planned_pairs=plan)
        known = set(load_pairs(ctx.paths))
        append_records(ctx.paths.pairs, [p for p in plan if p["id"] not in known], "pair")
        ids = [p["id"] for p in plan]
    if not ids:
        where = ctx.source_file if ctx.source == "dataset" else "the new prompts' completions"
        raise StopLoop(f"nothing new to label: {where} gave no new pairs"
                       + (" (every pair of the file is already in data/pairs.jsonl)" if ctx.source == "dataset" else
                          " (identical completions make no pair; try --completions-per-prompt 3 or more prompts)"))
    return f"{len(ids)} pairs this cycle -> {ctx.paths.pairs}", {"pairs": ids, "planned_pairs": None}


def latest_version(ctx) -> str | None:
    from utils.vote_predictor.checkpoints import latest_version as latest
    return latest(ctx.paths.checkpoint)


def _cycle_predictions(ctx, version: str | None) -> dict[str, dict]:
    if version is None:
        return {}
    want = set(ctx.cycle["pairs"])
    return {p["pair_id"]: p for p in read_records(ctx.paths.predictions, "prediction")
            if p["pair_id"] in want and p["model_version"] == version}


def step_predict(ctx):
    version = latest_version(ctx)
    if version is None:
        return "no checkpoint yet: every pair goes to a human (cold start)", {"predicted_with": None}
    from utils.vote_predictor.predict import predict_pairs
    have = _cycle_predictions(ctx, version)
    todo = [p for p in _cycle_pairs(ctx) if p["id"] not in have]
    if todo:
        recs = predict_pairs(todo, ctx.paths.checkpoint / version, paths=ctx.paths, progress=True)
        append_records(ctx.paths.predictions, recs, "prediction")
    return f"{len(todo)} pairs scored by {version} -> {ctx.paths.predictions}", {"predicted_with": version}


def model_vote_id(pair_id: str, version: str, cycle_id: str) -> str:
    """Content id, so a resumed route step never writes the same auto-label twice."""
    return content_id("v", "model", pair_id, version, cycle_id)


def step_route(ctx):
    from utils.records import make_vote
    version = ctx.cycle.get("predicted_with")
    preds = _cycle_predictions(ctx, version)
    routes = rt.route_pairs(ctx.cycle["pairs"], preds, ctx.cfg.confidence_threshold, ctx.cfg.human_feedback_ratio,
                            seed=f"{ctx.cfg.seed}:{ctx.cycle['number']}")
    ctx.state.put(routes=routes)
    existing = {v["id"] for v in read_records(ctx.paths.votes, "vote", warn=False)}
    votes = []
    for pair in _cycle_pairs(ctx):
        if routes.get(pair["id"]) != rt.AUTO:
            continue
        pred = preds[pair["id"]]
        vid = model_vote_id(pair["id"], version, ctx.cycle["id"])
        if vid in existing:
            continue
        v = make_vote(pair, pred["choice"], f"vote_predictor:{version}", "model", model=version,
                      model_confidence=round(float(pred["confidence"]), 6), prediction_id=pred["id"],
                      loop_cycle=ctx.cycle["number"])
        v["id"] = vid
        votes.append(v)
    append_records(ctx.paths.votes, votes, "vote")
    c = rt.cycle_counts(routes)
    return (f"{c['to_human']} to a human ({c['audit']} of them audit), {c['auto_labelled']} auto-labelled "
            f"(threshold {ctx.cfg.confidence_threshold})"), {"routes": routes}


def step_vote(ctx):
    routes = ctx.cycle["routes"]
    people = [p for p in ctx.cycle["pairs"] if routes.get(p) in rt.TO_PEOPLE]
    done = _people_votes(ctx, people)
    pending = [p for p in _cycle_pairs(ctx) if p["id"] in set(people) - set(done)]
    made = ctx.annotator.label(pending, ctx.paths) if pending else []
    left = [p for p in people if p not in _people_votes(ctx, people)]
    if left:
        raise StopLoop(f"{len(left)} of {len(people)} pair(s) of cycle {ctx.cycle['number']} still need a vote; "
                       "rerun the same command to continue this cycle where you stopped")
    return f"{len(made)} new {ctx.annotator.annotator_type} vote(s) -> {ctx.paths.votes}", {}


def step_evaluate(ctx):
    routes = ctx.cycle["routes"]
    preds = _cycle_predictions(ctx, ctx.cycle.get("predicted_with"))
    choices = {p: v["choice"] for p, v in _people_votes(ctx, ctx.cycle["pairs"]).items()}
    acc, n_audit = rt.audit_accuracy(routes, preds, choices)
    low, _ = rt.label_accuracy([p for p, r in routes.items() if r == rt.HUMAN], preds, choices)
    m = dict(rt.cycle_counts(routes), audit_accuracy=acc, audit_n=n_audit,
             est_auto_accuracy=rt.estimated_auto_accuracy(routes, preds), human_accuracy_low_conf=low,
             human_votes=len(choices), model_votes=sum(r == rt.AUTO for r in routes.values()))
    probe = ms.run_probe_quietly(ctx) if preds and choices else None
    if probe:
        ctx.state.note(probe)
    return (f"audit accuracy {rt.fmt(acc)} on {n_audit} vote(s), estimated auto-label accuracy "
            f"{rt.fmt(m['est_auto_accuracy'])}"), {"metrics": m}


STEPS: list[Step] = [
    Step("bootstrap", "utils/vote_predictor/import_data.py", "import_files + train + calibrate",
         ("votes.jsonl (import)", "vote_predictor_checkpoint/"), ms.step_bootstrap, once=True),
    Step("prompts", "prompts/generator.py", "generate_template_prompts", ("generated_prompts.jsonl",), step_prompts),
    Step("completions", "utils/completions.py", "generate_completions", ("raw_completions_log.jsonl",),
         step_completions),
    Step("pairs", "utils/pairs.py", "sync_pairs", ("pairs.jsonl",), step_pairs),
    Step("predict", "utils/vote_predictor/predict.py", "predict_pairs", ("predictions.jsonl",), step_predict),
    Step("route", "interface/loop_routing.py", "route_pairs", ("votes.jsonl (model)",), step_route),
    Step("vote", "interface/voting_ui.py", "vote_on_pairs", ("votes.jsonl (human)",), step_vote),
    Step("evaluate", "interface/eval_probe.py", "run_probe", ("meta_reflection_log.jsonl",), step_evaluate),
    Step("retrain_data", "utils/vote_predictor/retrain_data_prep.py", "prepare_retrain_data",
         ("vote_predictor_retrain_data.jsonl",), ms.step_retrain_data),
    Step("retrain", "utils/vote_predictor/train.py", "train_vote_predictor", ("vote_predictor_checkpoint/",),
         ms.step_retrain),
    Step("calibrate", "utils/vote_predictor/calibrate.py", "calibrate_checkpoint", ("calibration_log.json",),
         ms.step_calibrate),
    Step("drift", "utils/vote_predictor/drift_monitor.py", "run_drift_analysis", ("drift_analysis/",), ms.step_drift),
    Step("report", "interface/rlhf_loop.py", "history_record", ("loop_history.jsonl",), ms.step_report),
]
CYCLE_STEPS = [s for s in STEPS if not s.once]


def step_named(name: str) -> Step:
    for s in STEPS:
        if s.name == name:
            return s
    raise UserError(f"unknown loop step {name!r}; steps: {', '.join(s.name for s in STEPS)}")
