"""Section 4, Model Evolution: checkpoints side by side and what each retraining changed."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from interface.components import analysis as A
from interface.components import cards, charts
from interface.components.checkpoints import checkpoint_table, retrain_changes
from interface.components.context import DashboardContext

TITLE = "Model Evolution"
RUN_TRAIN = "python utils/vote_predictor/train.py"
RUN_PROBE = "python interface/eval_probe.py"
RUN_LOOP = "python interface/rlhf_loop.py"


def live_accuracy(joined_all: pd.DataFrame) -> pd.DataFrame:
    """Accuracy of every version on today's human votes (same votes for all versions)."""
    if joined_all.empty:
        return pd.DataFrame(columns=["version", "live_accuracy", "live_n"])
    g = joined_all.groupby("model_version", observed=True)["correct"].agg(["mean", "count"]).reset_index()
    return g.rename(columns={"model_version": "version", "mean": "live_accuracy", "count": "live_n"}).astype({"version": str})


def probes_frame(probes: list[dict]) -> pd.DataFrame:
    """Eval probe records -> one row per probe with its top-level metrics."""
    rows = []
    for p in probes:
        if not isinstance(p, dict):
            continue
        row = {"created_at": str(p.get("created_at", "")), "model_version": str(p.get("model_version", "")),
               "n_pairs": p.get("n_pairs")}
        m = p.get("metrics")
        if isinstance(m, dict):
            row.update({k: v for k, v in m.items() if isinstance(v, (int, float)) and not isinstance(v, bool)})
        rows.append(row)
    return pd.DataFrame(rows)


def render(ctx: DashboardContext) -> None:
    st.header(TITLE)
    ck = ctx.checkpoints_loaded
    cards.load_problems(ck, ctx.calibration_log_loaded, ctx.probes_loaded, ctx.loop_loaded)
    if not ck.data:
        cards.nothing_yet("no checkpoint in models/vote_predictor_checkpoint/", RUN_TRAIN)
    else:
        _checkpoints(ctx, ck.data)
    _probes(ctx)
    _loop(ctx)


def _checkpoints(ctx: DashboardContext, checkpoints: list[dict]) -> None:
    table = checkpoint_table(checkpoints, ctx.calibrations)
    live = live_accuracy(ctx.joined_all)
    if len(live):
        table = table.merge(live, on="version", how="left")
    latest = table[table["latest"]] if table["latest"].any() else table.tail(1)
    row = latest.iloc[-1]
    prev = table.iloc[-2] if len(table) > 1 else None

    def delta(col, pct=True):
        if prev is None or col not in table or pd.isna(row.get(col)) or pd.isna(prev.get(col)):
            return None
        d = float(row[col]) - float(prev[col])
        return f"{100 * d:+.1f} pts" if pct else f"{d:+.4f}"

    cards.metric_row([
        ("Checkpoints", f"{len(table)}"),
        ("Latest", str(row["version"])),
        ("Validation accuracy", cards.fmt_pct(row.get("val_accuracy")), delta("val_accuracy")),
        ("ECE after calibration", cards.fmt_num(row.get("ece_after")), delta("ece_after", pct=False),
         "expected calibration error of the latest checkpoint; lower is better", "inverse"),
        ("Training examples", cards.fmt_num(row.get("train_examples"))),
    ])
    st.subheader("Checkpoints side by side")
    cards.table(table.round(4), key="evo_table")

    st.subheader("Performance trajectory")
    cards.chart(charts.metric_lines(table, "version", ["val_accuracy", "live_accuracy", "test_accuracy", "ece_before",
                                                       "ece_after", "val_loss", "train_loss"]), key="evo_traj")
    st.caption("live_accuracy: each version's latest predictions scored against the human votes in the sidebar's filters.")

    st.subheader("What each retraining changed")
    cards.table(retrain_changes(checkpoints), key="evo_changes")
    hist = ctx.checkpoints_loaded.extra.get("history") or []
    if hist:
        with st.expander("history.jsonl"):
            cards.table(A.scalar_frame(hist), key="evo_history")


def _probes(ctx: DashboardContext) -> None:
    st.subheader("Evaluation probes")
    probes = ctx.probes_loaded.data or []
    if not probes:
        cards.nothing_yet("no evaluation probe in models/meta_reflection_log.jsonl", RUN_PROBE)
        return
    df = probes_frame(probes)
    if "created_at" in df:
        df["when"] = pd.to_datetime(df["created_at"], utc=True, errors="coerce", format="ISO8601").dt.tz_localize(None)
    cards.chart(charts.metric_lines(df, "created_at", ["accuracy", "ece", "brier", "nll"]), key="evo_probes")
    cards.table(df.drop(columns=["when"], errors="ignore").round(4), key="evo_probe_table")
    last = probes[-1] if isinstance(probes[-1], dict) else {}
    summary = last.get("summary")
    if summary:
        st.caption("Latest probe summary:")
        st.text(str(summary))


def _loop(ctx: DashboardContext) -> None:
    st.subheader("RLHF loop cycles")
    loop = ctx.loop_loaded.data or []
    if not loop:
        cards.nothing_yet("no loop cycle in models/loop_history.jsonl", RUN_LOOP)
        return
    df = A.scalar_frame(loop)
    x = "cycle" if "cycle" in df else None
    if x:
        cards.chart(charts.metric_lines(df, x, ["audit_accuracy", "est_auto_accuracy"]), key="evo_loop_acc")
        if {"to_human", "auto_labelled"} <= set(df.columns):
            long = df[[x, "to_human", "auto_labelled"]].melt(id_vars=[x], var_name="route", value_name="pairs")
            long["pairs"] = pd.to_numeric(long["pairs"], errors="coerce")
            cards.chart(charts.bars(long.dropna(), x, "pairs", color="route", x_type="O", y_title="pairs"), key="evo_loop_route")
    cards.table(df, key="evo_loop_table")
