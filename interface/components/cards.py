"""Small Streamlit building blocks: metric cards, "nothing here yet" notes, load warnings.

Rule for every helper here: text that comes from data (file contents, model output,
votes, error reasons quoting values) goes through ``st.text`` / ``st.code`` /
``st.dataframe``, never into Markdown and never with ``unsafe_allow_html``.
"""
from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import streamlit as st

from interface.components.loaders import Loaded

MAX_TABLE_ROWS = 500


def fmt_pct(x, digits: int = 1) -> str:
    try:
        x = float(x)
    except (TypeError, ValueError):
        return "—"
    return "—" if math.isnan(x) else f"{100 * x:.{digits}f}%"


def fmt_num(x, digits: int = 3) -> str:
    try:
        x = float(x)
    except (TypeError, ValueError):
        return "—"
    if math.isnan(x):
        return "—"
    return f"{x:,.0f}" if float(x).is_integer() and abs(x) >= 1 else f"{x:.{digits}f}"


_MD_SPECIAL = set("\\`*_{}[]()#+-.!|<>~$:")


def md_escape(text) -> str:
    """Backslash-escape Markdown so a data string (a version name) shows literally in a caption."""
    return "".join("\\" + ch if ch in _MD_SPECIAL else ch for ch in str(text))


def nothing_yet(what: str, command: str) -> None:
    """The friendly empty state of a section or panel."""
    st.info(f"Nothing here yet: {what}. Run `{command}` to create it.", icon=":material/info:")


def load_problems(*loads: Loaded) -> None:
    """A visible warning per file with skipped lines or unreadable JSON (details as text)."""
    for ld in loads:
        if ld is None:
            continue
        name = Path(ld.path).name
        if ld.error:
            st.error(f"{name} could not be read; it is ignored until fixed.")
            st.code(ld.error, language=None)
        if ld.n_bad:
            st.warning(f"{ld.n_bad} malformed line(s) skipped in {name}.", icon=":material/warning:")
            with st.expander(f"Skipped lines in {name}"):
                st.code("\n".join(ld.bad) + ("\n..." if ld.n_bad > len(ld.bad) else ""), language=None)


def metric_row(items: list[tuple]) -> None:
    """Metric cards in one row: items are (label, value[, delta[, help[, delta_color]]]).

    ``delta_color="inverse"`` for metrics where lower is better (ECE, loss)."""
    cols = st.columns(len(items))
    for col, item in zip(cols, items):
        label, value = item[0], item[1]
        delta = item[2] if len(item) > 2 else None
        help_ = item[3] if len(item) > 3 else None
        color = item[4] if len(item) > 4 else "normal"
        col.metric(label, value, delta, help=help_, border=True, delta_color=color)


def table(df: pd.DataFrame, max_rows: int = MAX_TABLE_ROWS, key: str | None = None, **kwargs) -> None:
    """A dataframe capped at ``max_rows`` rows (with a caption saying so)."""
    if len(df) > max_rows:
        st.caption(f"Showing {max_rows:,} of {len(df):,} rows.")
        df = df.head(max_rows)
    st.dataframe(df, hide_index=True, key=key, **kwargs)


def chart(ch, key: str | None = None) -> None:
    if ch is not None:
        st.altair_chart(ch, key=key)
