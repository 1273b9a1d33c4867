"""Altair chart builders for the dashboard (pure: DataFrame in, chart out).

Charts are drawn in the browser from small aggregated tables (never one mark per vote),
which keeps a 100,000-vote render fast. Strings reach Vega-Lite as data values, which it
renders as text, never as HTML.
"""
from __future__ import annotations

import numpy as np
import pandas as pd


def _alt():
    import altair as alt

    return alt


def _plain(df: pd.DataFrame) -> pd.DataFrame:
    """Arrow-backed strings and categories -> plain objects for Vega-Lite serialisation."""
    out = df.copy()
    for c in out.columns:
        if pd.api.types.is_string_dtype(out[c]) or isinstance(out[c].dtype, pd.CategoricalDtype):
            out[c] = out[c].astype(object)
    return out


def line_with_band(df: pd.DataFrame, x: str, y: str, lo: str, hi: str, color: str | None = None,
                   y_title: str = "", y_domain=(0, 1), height: int = 280):
    """Lines of ``y`` over ``x`` with a shaded [lo, hi] interval, one colour per ``color``."""
    alt = _alt()
    base = alt.Chart(_plain(df)).encode(x=alt.X(f"{x}:T", title=None))
    enc = {"color": alt.Color(f"{color}:N", title=color)} if color else {}
    band = base.mark_area(opacity=0.18).encode(
        y=alt.Y(f"{lo}:Q", title=y_title, scale=alt.Scale(domain=list(y_domain))), y2=f"{hi}:Q", **enc)
    tips = [f"{x}:T", alt.Tooltip(f"{y}:Q", format=".3f"), alt.Tooltip(f"{lo}:Q", format=".3f"),
            alt.Tooltip(f"{hi}:Q", format=".3f")] + ([f"{color}:N"] if color else []) + (["n:Q"] if "n" in df else [])
    line = base.mark_line(point=True).encode(y=f"{y}:Q", tooltip=tips, **enc)
    return (band + line).properties(height=height)


def bars(df: pd.DataFrame, x: str, y: str, color: str | None = None, x_type: str = "N", y_title: str = "",
         stack: bool | str = True, height: int = 260, sort=None, tooltip: list[str] | None = None):
    """Bar chart; ``stack="normalize"`` for shares."""
    alt = _alt()
    y_enc = alt.Y(f"{y}:Q", title=y_title or y, stack=stack if color else None)
    enc = {"x": alt.X(f"{x}:{x_type}", title=None, sort=sort), "y": y_enc,
           "tooltip": tooltip or [x, alt.Tooltip(f"{y}:Q", format=".3g")] + ([color] if color else [])}
    if color:
        enc["color"] = alt.Color(f"{color}:N", title=color)
    return alt.Chart(_plain(df)).mark_bar().encode(**enc).properties(height=height)


def reliability_chart(cal: pd.DataFrame, height: int = 300):
    """Reliability diagram: accuracy per confidence bin as bars against the diagonal."""
    alt = _alt()
    d = cal[cal["count"] > 0].copy()
    d["gap"] = d["accuracy"] - d["confidence"]
    bars_ = alt.Chart(_plain(d)).mark_bar(opacity=0.75).encode(
        x=alt.X("bin_lo:Q", bin="binned", title="confidence", scale=alt.Scale(domain=[0.5, 1])),
        x2="bin_hi:Q", y=alt.Y("accuracy:Q", title="accuracy", scale=alt.Scale(domain=[0, 1])),
        tooltip=[alt.Tooltip("confidence:Q", format=".3f"), alt.Tooltip("accuracy:Q", format=".3f"),
                 "count:Q", alt.Tooltip("gap:Q", format="+.3f")])
    diag = alt.Chart(pd.DataFrame({"x": [0.5, 1.0], "y": [0.5, 1.0]})).mark_line(
        strokeDash=[4, 4], color="grey").encode(x=alt.X("x:Q", title="confidence"), y=alt.Y("y:Q", title="accuracy"))
    return (bars_ + diag).properties(height=height)


def calibration_curves(curves: dict[str, pd.DataFrame], height: int = 300):
    """Calibration curves (mean confidence vs accuracy per bin), one line per named curve."""
    alt = _alt()
    parts = []
    for name, cal in curves.items():
        d = cal[cal["count"] > 0][["confidence", "accuracy", "count"]].copy()
        d["curve"] = name
        parts.append(d)
    data = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["confidence", "accuracy", "count", "curve"])
    lines = alt.Chart(_plain(data)).mark_line(point=True).encode(
        x=alt.X("confidence:Q", scale=alt.Scale(domain=[0.5, 1])),
        y=alt.Y("accuracy:Q", scale=alt.Scale(domain=[0, 1])), color=alt.Color("curve:N", title=None),
        tooltip=["curve:N", alt.Tooltip("confidence:Q", format=".3f"), alt.Tooltip("accuracy:Q", format=".3f"), "count:Q"])
    diag = alt.Chart(pd.DataFrame({"x": [0.5, 1.0], "y": [0.5, 1.0]})).mark_line(
        strokeDash=[4, 4], color="grey").encode(x=alt.X("x:Q", title="confidence"), y=alt.Y("y:Q", title="accuracy"))
    return (lines + diag).properties(height=height)


def histogram(values, lo: float = 0.5, hi: float = 1.0, n_bins: int = 20, title: str = "confidence", height: int = 240):
    """Histogram computed here (numpy) so only ``n_bins`` rows go to the browser."""
    alt = _alt()
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    counts, edges = np.histogram(v, bins=n_bins, range=(lo, hi))
    d = pd.DataFrame({"lo": edges[:-1], "hi": edges[1:], "count": counts})
    return alt.Chart(d).mark_bar().encode(
        x=alt.X("lo:Q", bin="binned", title=title), x2="hi:Q", y=alt.Y("count:Q", title="predictions"),
        tooltip=[alt.Tooltip("lo:Q", format=".3f"), alt.Tooltip("hi:Q", format=".3f"), "count:Q"]).properties(height=height)


def metric_lines(df: pd.DataFrame, x: str, metrics: list[str], x_type: str = "O", height: int = 260):
    """Several numeric columns over ``x`` as coloured lines (long format inside)."""
    alt = _alt()
    cols = [m for m in metrics if m in df and pd.to_numeric(df[m], errors="coerce").notna().any()]
    if not cols:
        return None
    long = df[[x, *cols]].melt(id_vars=[x], var_name="metric", value_name="value")
    long["value"] = pd.to_numeric(long["value"], errors="coerce")
    return alt.Chart(_plain(long.dropna())).mark_line(point=True).encode(
        x=alt.X(f"{x}:{x_type}", title=None), y=alt.Y("value:Q", title=None),
        color=alt.Color("metric:N", title=None),
        tooltip=[x, "metric:N", alt.Tooltip("value:Q", format=".4g")]).properties(height=height)
