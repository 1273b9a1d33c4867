"""Section 3, Drift Clusters & Error Zones: where and since when the predictor goes wrong.

Reads ``models/drift_analysis/drift_report.json`` written by
``utils/vote_predictor/drift_monitor.py`` (alerts, windows, clusters, calibration) and,
independently of it, finds error zones in the current votes by prompt domain x task type.
Every key of the report is read with ``.get``: an older or partial report shows what it has.
"""
from __future__ import annotations

import pandas as pd
import streamlit as st

from interface.components import analysis as A
from interface.components import cards, charts
from interface.components.context import DashboardContext

TITLE = "Drift Clusters & Error Zones"
RUN_DRIFT = "python interface/run_drift_analysis.py --generate-report"


def _list(x) -> list:
    return x if isinstance(x, list) else []


def clusters_of(report: dict) -> tuple[list[dict], dict]:
    """(cluster rows, cluster-level info) from either report shape (dict with "clusters" or a list)."""
    cl = report.get("clusters")
    if isinstance(cl, dict):
        return [c for c in _list(cl.get("clusters")) if isinstance(c, dict)], cl
    return [c for c in _list(cl) if isinstance(c, dict)], {}


def windows_frame(report: dict) -> pd.DataFrame:
    ws = [w for w in _list(report.get("windows")) if isinstance(w, dict)]
    df = A.scalar_frame(ws)
    if df.empty:
        return df
    ci = [w.get("accuracy_ci") if isinstance(w.get("accuracy_ci"), list) and len(w["accuracy_ci"]) == 2 else [None, None]
          for w in ws]
    df["acc_lo"] = pd.to_numeric(pd.Series([c[0] for c in ci]), errors="coerce")
    df["acc_hi"] = pd.to_numeric(pd.Series([c[1] for c in ci]), errors="coerce")
    start = df["start"] if "start" in df else pd.Series([None] * len(df))
    df["when"] = pd.to_datetime(start, utc=True, errors="coerce", format="ISO8601").dt.tz_localize(None)
    return df


def render(ctx: DashboardContext) -> None:
    st.header(TITLE)
    ld = ctx.drift_loaded
    cards.load_problems(ld)
    report = ld.data if isinstance(ld.data, dict) else None
    if report is None:
        if not ld.error:
            cards.nothing_yet("no drift report (models/drift_analysis/drift_report.json)", RUN_DRIFT)
    else:
        _report(report)
    _live_error_zones(ctx)


def _report(report: dict) -> None:
    alerts = [a for a in _list(report.get("alerts")) if isinstance(a, dict)]
    rows, cinfo = clusters_of(report)
    zones = [c for c in rows if c.get("error_zone")]
    wins = windows_frame(report)
    cards.metric_row([("Drift alerts", f"{len(alerts)}"), ("Windows", f"{len(wins)}"),
                      ("Clusters", f"{len(rows)}"), ("Error zones", f"{len(zones)}")])
    st.caption(f"Report written {cards.md_escape(report.get('created_at', '?'))}.")

    st.subheader("Alerts")
    if alerts:
        st.warning(f"{len(alerts)} drift alert(s) in the latest report.", icon=":material/warning:")
        cards.table(A.scalar_frame(alerts), key="drift_alerts")
    else:
        st.success("No drift alerts in the latest report.")

    st.subheader("Temporal drift")
    if wins.empty:
        st.info("The report has no time windows (too little data to cut into windows).")
    else:
        if "accuracy" in wins and wins["when"].notna().any():
            d = wins.dropna(subset=["when"]).copy()
            d["accuracy"] = pd.to_numeric(d["accuracy"], errors="coerce")
            cards.chart(charts.line_with_band(d, "when", "accuracy", "acc_lo", "acc_hi", y_title="accuracy"), key="drift_acc")
        x = "label" if "label" in wins else ("index" if "index" in wins else None)
        if x:
            cards.chart(charts.metric_lines(wins, x, ["mean_confidence", "ece", "calibration_gap", "psi_confidence",
                                                      "expected_accuracy_unlabelled", "temperature"]), key="drift_metrics")
        keep = [c for c in ("label", "start", "end", "n_predictions", "n_labelled", "accuracy", "mean_confidence",
                            "expected_accuracy_unlabelled", "ece", "temperature", "psi_confidence") if c in wins]
        cards.table(wins[keep] if keep else wins, key="drift_windows")

    cal = report.get("calibration") if isinstance(report.get("calibration"), dict) else {}
    curves = {}
    for name in ("reference", "latest"):
        r = cal.get(name)
        if isinstance(r, dict) and all(isinstance(r.get(k), list) for k in ("edges", "counts", "confidence", "accuracy")):
            e = r["edges"]
            curves[f"{name} window"] = pd.DataFrame({
                "bin_lo": e[:-1], "bin_hi": e[1:], "count": r["counts"],
                "confidence": pd.to_numeric(pd.Series(r["confidence"]), errors="coerce"),
                "accuracy": pd.to_numeric(pd.Series(r["accuracy"]), errors="coerce")})
    if curves:
        st.subheader("Calibration drift")
        cards.chart(charts.calibration_curves(curves), key="drift_cal")

    st.subheader("Prompt clusters")
    if not rows:
        st.info("The report has no clusters.")
        return
    method = cinfo.get("method") or ", ".join(sorted({str(c.get("method")) for c in rows if c.get("method")})) or "?"
    overall = cinfo.get("overall_accuracy")
    st.caption(f"Embedding: {cards.md_escape(method)} ({'semantic, MiniLM' if 'minilm' in str(method) else 'lexical'}); "
               f"overall accuracy {cards.fmt_pct(overall)}.")
    table = A.scalar_frame(rows, drop=("examples", "share_by_window"))
    if "accuracy" in table:
        table["accuracy"] = pd.to_numeric(table["accuracy"], errors="coerce")
        cards.chart(charts.bars(table.assign(cluster=table["id"].astype(str)), "cluster", "accuracy",
                                y_title="accuracy", tooltip=[c for c in ("cluster", "size", "n_labelled", "accuracy",
                                                                          "top_terms") if c in table or c == "cluster"]),
                    key="drift_clusters_chart")
    cards.table(table, key="drift_clusters")
    shares = [c.get("share_by_window") for c in rows]
    cols = _list(cinfo.get("share_columns"))
    if all(isinstance(s, list) and s for s in shares) and cols and all(len(s) == len(cols) for s in shares):
        long = pd.DataFrame([{"window": str(w), "cluster": str(c.get("id")), "share": s}
                             for c in rows for w, s in zip(cols, c["share_by_window"])])
        st.caption("Share of each cluster per window (a growing cluster is a topic shift):")
        cards.chart(charts.bars(long, "window", "share", color="cluster", x_type="O", y_title="share"), key="drift_shares")

    st.subheader("Example prompts per error zone")
    shown = zones or sorted((c for c in rows if isinstance(c.get("accuracy"), (int, float))),
                            key=lambda c: c["accuracy"])[:3]
    if not zones:
        st.caption("No cluster is flagged as an error zone; the lowest-accuracy clusters are shown.")
    for c in shown:
        with st.expander(f"Cluster {cards.md_escape(c.get('id'))} · accuracy {cards.fmt_pct(c.get('accuracy'))} · size {cards.md_escape(c.get('size', '?'))}"):
            terms = c.get("top_terms")
            if isinstance(terms, list) and terms:
                st.text("Top terms: " + ", ".join(map(str, terms)))
            for ex in _list(c.get("examples")):
                st.text(str(ex))


def _live_error_zones(ctx: DashboardContext) -> None:
    st.subheader("Error zones in the current votes (domain x task type)")
    if ctx.joined.empty:
        st.info("Needs human votes on pairs the selected model version predicted "
                "(`python utils/vote_predictor/predict.py`, then vote).")
        return
    zones = A.error_zones(ctx.joined, ctx.prompts)
    if not zones:
        st.info("No domain x task type group has 10 or more human votes yet.")
        return
    cards.table(pd.DataFrame([{k: v for k, v in z.items() if k != "examples"} for z in zones]).round(4), key="drift_zones")
    for z in zones:
        with st.expander(f"{cards.md_escape(z['domain'])} / {cards.md_escape(z['task_type'])}: {z['error_rate']:.0%} errors on {z['n']} votes"):
            if not z["examples"]:
                st.caption("No prompt text for these pairs.")
            for ex in z["examples"]:
                st.text(ex)
