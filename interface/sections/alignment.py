"""Section 1, Alignment Over Time: does the predictor agree with the humans, and lately?"""
from __future__ import annotations

import numpy as np
import streamlit as st

from interface.components import analysis as A
from interface.components import cards, charts
from interface.components.context import DashboardContext
from utils.vote_predictor import metrics

TITLE = "Alignment Over Time"
RUN_VOTES = "python interface/voting_ui.py"
RUN_PREDICT = "python utils/vote_predictor/predict.py"


def render(ctx: DashboardContext) -> None:
    st.header(TITLE)
    cards.load_problems(ctx.votes_loaded, ctx.preds_loaded)
    if ctx.all_votes.empty:
        cards.nothing_yet("no votes in data/votes.jsonl", RUN_VOTES)
        return
    if ctx.predictions.empty:
        cards.nothing_yet("no predictions in data/predictions.jsonl", RUN_PREDICT)
        return
    j, version = ctx.joined, ctx.version
    v_md = cards.md_escape(version)
    if j.empty:
        st.info(f"No human vote (in the selected dates and annotators) is on a pair that model {v_md} "
                f"predicted. Widen the filters, or run `{RUN_PREDICT}` on the voted pairs.")
        return
    p, y = j["prob_a"].astype(float).to_numpy(), j["label_a"].to_numpy()
    summ = metrics.summary(p, y)
    agree = A.agreement_table(ctx.votes, j, version)
    kappa = agree.loc[agree["comparison"].str.startswith("predictor"), "kappa"]
    human = agree.loc[agree["comparison"].str.startswith("human vs human"), "agreement"]
    cards.metric_row([
        ("Accuracy vs humans", cards.fmt_pct(summ["accuracy"]), None, f"model {v_md}, {summ['n']:,} human votes"),
        ("Mean confidence", cards.fmt_pct(summ["mean_confidence"]), None, "mean of max(p, 1 - p)"),
        ("ECE", cards.fmt_num(summ["ece"]), None, "expected calibration error, 15 bins"),
        ("Cohen's kappa", cards.fmt_num(kappa.iloc[0] if len(kappa) else float("nan")), None, "predictor vs humans"),
        ("Human-human agreement", cards.fmt_pct(human.iloc[0] if len(human) else float("nan")), None,
         "share of agreeing annotator pairs on pairs voted by 2+ humans"),
    ])

    st.subheader("Accuracy trend")
    freq = A.trend_freq(ctx.joined_all["ts"])
    trend = A.accuracy_trend(ctx.joined_all, freq)
    st.caption(f"Accuracy per {'day' if freq == 'D' else 'week'} on human-voted pairs, every model version, "
               "shaded band = 95% Wilson interval.")
    cards.chart(charts.line_with_band(trend, "period", "accuracy", "lo", "hi", color="model_version",
                                      y_title="accuracy"), key="align_trend")

    left, right = st.columns(2)
    with left:
        st.subheader("Confidence vs accuracy")
        cal = A.calibration_frame(p, y, n_bins=10)
        cards.chart(charts.calibration_curves({f"model {version}": cal}), key="align_conf_acc")
        st.caption("Points on the dashed diagonal are calibrated: at 80% confidence the model is right 80% of the time.")
    with right:
        st.subheader("Agreement metrics")
        cards.table(agree.round(4), key="align_agreement")
        st.caption("Agreement = share of matching choices; kappa corrects it for chance.")

    st.subheader("Error distribution by domain")
    info = A.attach_prompt_info(j[["prompt_id", "correct"]], ctx.prompts)
    by_domain = A.errors_by(info, ["domain"])
    if ctx.prompts.empty:
        st.caption("No prompts file yet (prompts/generated_prompts.jsonl): every pair counts as domain 'unknown'.")
    cards.chart(charts.bars(by_domain, "domain", "error_rate", y_title="error rate", sort="-y",
                            tooltip=["domain", "n", "errors", "error_rate"]), key="align_domain")
    cards.table(by_domain.round(4), key="align_domain_table")
    st.caption(f"Model {v_md}: {int((~j['correct']).sum()):,} errors on {len(j):,} votes "
               f"({np.mean(~j['correct'].to_numpy()):.1%}).")
