"""Section 2, Calibration Diagnostics: can the predictor's confidence be trusted?"""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from interface.components import analysis as A
from interface.components import cards, charts
from interface.components.context import DashboardContext
from utils.vote_predictor import metrics

TITLE = "Calibration Diagnostics"
RUN_CALIBRATE = "python utils/vote_predictor/calibrate.py"
RUN_PREDICT = "python utils/vote_predictor/predict.py"


def calibration_log_table(entries: list[dict]) -> pd.DataFrame:
    """One row per logged calibration: ECE/Brier/NLL before and after."""
    rows = []
    for c in entries:
        b = c.get("before") if isinstance(c.get("before"), dict) else {}
        a = c.get("after") if isinstance(c.get("after"), dict) else {}
        row = {"id": str(c.get("id", "")), "model_version": str(c.get("model_version", "")),
               "created_at": str(c.get("created_at", "")), "method": str(c.get("method", "")), "n": c.get("n")}
        for k in ("ece", "mce", "brier", "nll", "accuracy"):
            row[f"{k}_before"] = pd.to_numeric(b.get(k), errors="coerce")
            row[f"{k}_after"] = pd.to_numeric(a.get(k), errors="coerce")
        rows.append(row)
    return pd.DataFrame(rows)


def live_ece_by_version(joined_all: pd.DataFrame) -> pd.DataFrame:
    """ECE per model version on the human-voted pairs, raw and calibrated probabilities."""
    rows = []
    for ver, g in joined_all.groupby("model_version", observed=True):
        y = g["label_a"].to_numpy()
        row = {"model_version": str(ver), "n": len(g), "ece_calibrated": metrics.ece(g["prob_a"].astype(float), y)}
        raw = pd.to_numeric(g["raw_prob_a"], errors="coerce")
        if raw.notna().all():
            row["ece_raw"] = metrics.ece(raw.to_numpy(), y)
        rows.append(row)
    return pd.DataFrame(rows)


def render(ctx: DashboardContext) -> None:
    st.header(TITLE)
    cards.load_problems(ctx.preds_loaded, ctx.votes_loaded, ctx.calibration_log_loaded)
    version, v_md = ctx.version, cards.md_escape(ctx.version)
    preds = ctx.predictions
    if preds.empty and not ctx.calibrations:
        cards.nothing_yet("no predictions and no calibration log", f"{RUN_CALIBRATE}` and `{RUN_PREDICT}")
        return

    j = ctx.joined
    left, right = st.columns(2)
    with left:
        st.subheader("Calibration curve")
        if j.empty:
            st.info("Needs human votes on pairs this model version predicted.")
        else:
            y = j["label_a"].to_numpy()
            curves = {"calibrated": A.calibration_frame(j["prob_a"].astype(float), y)}
            raw = pd.to_numeric(j["raw_prob_a"], errors="coerce")
            if raw.notna().all():
                curves["raw (before calibration)"] = A.calibration_frame(raw.to_numpy(), y)
            cards.chart(charts.calibration_curves(curves), key="cal_curve")
            st.caption(f"Model {v_md} on {len(j):,} human votes; dashed line = perfect calibration.")
    with right:
        st.subheader("Confidence histogram")
        mine = preds[preds["model_version"] == version] if len(preds) else preds
        if mine.empty:
            st.info("No predictions for this model version yet.")
        else:
            cards.chart(charts.histogram(mine["confidence"].astype(float).to_numpy()), key="cal_hist")
            st.caption(f"{len(mine):,} predictions by model {v_md}, labelled or not.")

    st.subheader("Reliability diagram")
    if not j.empty:
        cal = A.calibration_frame(j["prob_a"].astype(float), j["label_a"].to_numpy(), n_bins=10)
        s = metrics.summary(j["prob_a"].astype(float).to_numpy(), j["label_a"].to_numpy())
        cards.metric_row([("ECE", cards.fmt_num(s["ece"])), ("MCE", cards.fmt_num(s["mce"])),
                          ("Brier", cards.fmt_num(s["brier"])), ("NLL", cards.fmt_num(s["nll"]))])
        cards.chart(charts.reliability_chart(cal), key="cal_reliability")
        cards.table(cal.round(4), key="cal_bins")
    else:
        st.info("Needs human votes on pairs this model version predicted.")
    _latest_png(ctx)

    st.subheader("ECE before / after calibration, per checkpoint")
    table = calibration_log_table(ctx.calibrations)
    if table.empty:
        cards.nothing_yet("no calibration log (models/calibration_log.json)", RUN_CALIBRATE)
    else:
        long = table.melt(id_vars=["model_version", "id"], value_vars=["ece_before", "ece_after"],
                          var_name="stage", value_name="ece").dropna(subset=["ece"])
        if len(long):
            long["label"] = long["model_version"] + " · " + long["id"]
            cards.chart(charts.bars(long, "label", "ece", color="stage", stack=False, y_title="ECE"), key="cal_log")
        cards.table(table.round(4), key="cal_log_table")
    if not ctx.joined_all.empty:
        st.caption("Measured now on the human votes (15 bins):")
        cards.table(live_ece_by_version(ctx.joined_all).round(4), key="cal_live")


def _latest_png(ctx: DashboardContext) -> None:
    """The calibration step's own reliability PNG, when it wrote one and it still exists."""
    for c in reversed(ctx.calibrations):
        png = c.get("reliability_png")
        if not png or not isinstance(png, str):
            continue
        path = Path(png)
        if not path.is_absolute():
            for base in (ctx.paths.root, ctx.paths.models_dir):
                if (Path(base) / png).is_file():
                    path = Path(base) / png
                    break
        if path.is_file() and path.suffix.lower() == ".png":
            with st.expander("Reliability diagram written by the calibration step"):
                st.image(str(path), caption=f"calibration {c.get('id', '')}")
            return
