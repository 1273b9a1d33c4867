"""The model steps of an RLHF loop cycle: bootstrap, retrain data, retrain, calibrate, drift, report.

Each calls the vote predictor's importable functions (utils/vote_predictor/*) and
returns (one-line summary, results for the resume state); see interface/loop_steps.py
for the declared order. Heavy imports stay inside the functions.
"""
from __future__ import annotations

import logging

from interface.loop_routing import summary_table
from interface.loop_state import history_record, read_history
from utils.cli import UserError
from utils.store import append_records, read_records

log = logging.getLogger("rlhf_loop.loop")


def count_people_votes(paths) -> int:
    """Effective human + judge votes (gold repeats left out): what training can learn from."""
    from interface.vote_log import effective_votes
    return sum(v["annotator_type"] in ("human", "judge")
               for v in effective_votes(read_records(paths.votes, "vote", warn=False), drop_repeats=True))


def _latest(ctx) -> str | None:
    from utils.vote_predictor.checkpoints import latest_version
    return latest_version(ctx.paths.checkpoint)


def _prepare_training_data(ctx) -> dict:
    """data_prep keeps earlier prompts in their split, so calibration prompts are never trained on."""
    from utils.vote_predictor.data_prep import DataPrepConfig, prepare_training_data
    return prepare_training_data(DataPrepConfig(include_judge=ctx.judge_votes, seed=ctx.cfg.seed), ctx.paths)


def _calibrate(ctx, version: str) -> tuple[str, str | None]:
    """(summary, note): calibration needs enough votes in its split; without them we go on raw."""
    from utils.vote_predictor.calibrate import CalibrateConfig, calibrate_checkpoint
    try:
        e = calibrate_checkpoint(CalibrateConfig(checkpoint=str(ctx.paths.checkpoint / version), seed=ctx.cfg.seed),
                                 ctx.paths)
    except UserError as exc:
        note = f"calibration of {version} skipped, its confidences are uncalibrated: {exc}"
        return "skipped: " + str(exc), note
    return (f"{e['method']} on {e['n']} pairs, ECE {e['before']['ece']:.3f} -> {e['after']['ece']:.3f} "
            f"-> {ctx.paths.calibration_log}"), None


def step_bootstrap(ctx):
    """Import a preference file as votes, train the first checkpoint on it and calibrate."""
    from utils.vote_predictor.import_data import import_files
    from utils.vote_predictor.train import train_vote_predictor

    rep = import_files([ctx.cfg.bootstrap], ctx.paths, limit=ctx.cfg.bootstrap_limit, seed=ctx.cfg.seed)
    new = sum(r["new_votes"] for r in rep.values())
    data = _prepare_training_data(ctx)
    folder = train_vote_predictor(ctx.train_cfg(retrain=False), ctx.paths)
    cal, note = _calibrate(ctx, folder.name)
    if note:
        log.warning(note)
    ctx.state.set_persist(votes_at_training=count_people_votes(ctx.paths), bootstrapped=str(ctx.cfg.bootstrap))
    return (f"imported {new} votes from {ctx.cfg.bootstrap}, trained {folder.name} on {data['n']} examples; "
            f"calibration {cal}"), {}


def step_retrain_data(ctx):
    n = count_people_votes(ctx.paths)
    since = n - int(ctx.state.persist.get("votes_at_training", 0))
    before = _latest(ctx)
    if n == 0 or since < ctx.cfg.retrain_min_votes:
        what = "first training" if before is None else "retraining"
        return (f"no {what} yet: {since} new human vote(s) since the last training, "
                f"--retrain-min-votes {ctx.cfg.retrain_min_votes}"), {"train": False}
    data = _prepare_training_data(ctx)
    mode, msg = "full", f"{data['n']} training examples -> {ctx.paths.training_data}"
    if before is not None:
        from utils.vote_predictor.retrain_data_prep import RetrainDataConfig, prepare_retrain_data
        try:
            kept = prepare_retrain_data(RetrainDataConfig(include_judge=ctx.judge_votes, seed=ctx.cfg.seed),
                                        ctx.paths)["n"]
            mode = "retrain"
            msg += f"; {kept} retrain examples -> {ctx.paths.retrain_data}"
        except UserError as exc:
            msg += f"; no retrain data ({exc}), training afresh"
    return msg, {"train": True, "train_mode": mode, "votes_now": n, "latest_before": before}


def step_retrain(ctx):
    c = ctx.cycle
    if not c.get("train"):
        return "skipped (not enough new votes)", {"retrained": False}
    now = _latest(ctx)
    if now is not None and now != c.get("latest_before"):
        version = now  # published just before an interrupt: do not train it twice
    else:
        from utils.vote_predictor.train import train_vote_predictor
        version = train_vote_predictor(ctx.train_cfg(retrain=c["train_mode"] == "retrain"), ctx.paths).name
    ctx.state.persist["votes_at_training"] = c["votes_now"]  # saved with mark_done, atomically
    return f"{'fine-tuned' if c['train_mode'] == 'retrain' else 'trained'} {version}", {
        "retrained": True, "new_version": version}


def step_calibrate(ctx):
    if not ctx.cycle.get("retrained"):
        return "skipped (no new checkpoint)", {}
    summary, note = _calibrate(ctx, ctx.cycle["new_version"])
    if note:
        ctx.state.note(note)
    return summary, {}


def step_drift(ctx):
    if not ctx.cfg.monitor_drift:
        return "skipped (add --monitor-drift)", {"drift_alerts": None}
    from utils.vote_predictor.drift_monitor import DriftConfig, run_drift_analysis
    try:
        report = run_drift_analysis(DriftConfig(seed=ctx.cfg.seed), ctx.paths)
    except UserError as exc:
        log.info("drift analysis: %s", exc)
        return "drift: not enough data yet", {"drift_alerts": None}
    alerts = report.get("alerts", [])
    msgs = [a.get("message", str(a)) for a in alerts]
    for m in msgs:
        print(f"  drift alert: {m}", file=ctx.out)
    return f"{len(alerts)} alert(s) -> {ctx.paths.drift_dir}", {"drift_alerts": len(alerts), "drift_messages": msgs}


def step_report(ctx):
    c = ctx.cycle
    c["model_version"] = _latest(ctx)
    rec = history_record(c)
    if not any(r.get("id") == rec["id"] for r in read_history(ctx.paths)):  # resumed after the append
        append_records(ctx.paths.loop_history, [rec])
    print(summary_table(rec), file=ctx.out)
    return f"-> {ctx.paths.loop_history}", {"model_version": rec["model_version"]}


def run_probe_quietly(ctx) -> str | None:
    """The evaluation probe over every human vote with a prediction; a note, or None if it cannot run."""
    from interface.eval_probe import ProbeConfig, run_probe
    try:
        rec = run_probe(ProbeConfig(swap_pairs=0, plot=False, predict_missing=False), ctx.paths)
    except UserError as exc:
        log.info("evaluation probe not run: %s", exc)
        return None
    acc = rec.get("metrics", {}).get("accuracy")
    return (f"probe {rec['id']}: {rec.get('model_version')} agrees with humans on "
            f"{'-' if acc is None else f'{100 * acc:.1f}%'} of {rec.get('n_votes')} votes (meta_reflection_log)")
