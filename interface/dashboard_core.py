"""Attunement Dashboard: is the vote predictor attuned to the humans, at a glance.

    python run_dashboard.py                                   # http://127.0.0.1:8501
    streamlit run interface/dashboard_core.py -- --data-dir data --models-dir models

Sidebar: data and models folders, date range, annotators, model version. One tab per
section (``interface/sections/``); only the open tab runs, so the first render reads
and computes only what "Alignment Over Time" needs.
"""
from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

if __package__ in (None, ""):  # run by `streamlit run interface/dashboard_core.py`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import streamlit as st

from interface.components.context import DashboardContext, Filters
from interface.sections import alignment, calibration, drift, evolution, preferences
from utils.paths import Paths

SECTIONS = [
    ("Alignment Over Time", alignment.render),
    ("Calibration Diagnostics", calibration.render),
    ("Drift Clusters & Error Zones", drift.render),
    ("Model Evolution", evolution.render),
    ("User Preference Timeline", preferences.render),
]
SECTION_KEY = "section"


def parse_script_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Flags after ``--`` on the streamlit command line (unknown ones are ignored)."""
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--root", default=None)
    p.add_argument("--data-dir", default=None)
    p.add_argument("--models-dir", default=None)
    args, _ = p.parse_known_args(sys.argv[1:] if argv is None else argv)
    return args


def sidebar(default_paths: Paths) -> DashboardContext:
    """Folder inputs and filters; returns the context (paths + filters) the sections read."""
    sb = st.sidebar
    sb.title("Attunement")
    data_dir = sb.text_input("Data folder", value=str(default_paths.data_dir), key="data_dir")
    models_dir = sb.text_input("Models folder", value=str(default_paths.models_dir), key="models_dir")
    paths = Paths.resolve(default_paths.root, data_dir.strip() or None, models_dir.strip() or None,
                          default_paths.prompts_dir)
    ctx = DashboardContext(paths)
    filters = Filters()
    votes = ctx.all_votes
    ts = votes["ts"].dropna() if len(votes) else votes.get("ts", None)
    if ts is not None and len(ts):
        lo, hi = ts.min().date(), ts.max().date()
        picked = sb.date_input("Date range (votes)", value=(lo, hi), min_value=lo, max_value=hi, key="date_range")
        if isinstance(picked, (tuple, list)):
            filters.start = picked[0] if len(picked) > 0 else None
            filters.end = picked[1] if len(picked) > 1 else None
        elif isinstance(picked, dt.date):
            filters.start = filters.end = picked
        names = sorted(votes["annotator"].dropna().astype(str).unique().tolist())
        filters.annotators = sb.multiselect("Annotators (empty = all)", names, key="annotators")
    else:
        sb.caption("No votes yet: date and annotator filters appear once there are votes.")
    versions = ctx.versions
    if versions:
        default = ctx.default_version
        idx = versions.index(default) if default in versions else len(versions) - 1
        filters.version = sb.selectbox("Model version", versions, index=idx, key="model_version")
    else:
        sb.caption("No model versions yet.")
    sb.caption(f"Prompts: {paths.prompts}")
    ctx.filters = filters  # set before any filtered view is computed (they are lazy)
    return ctx


def warm_caches(argv: list[str] | None = None) -> None:
    """Import the chart library and parse the big files before the first visitor arrives.

    ``run_dashboard.py`` calls this in a background thread of the server process: the
    loaders' caches are process-wide (``st.cache_resource``), so the first page load finds
    the 100,000-row tables parsed instead of parsing them while the user waits.
    """
    import altair  # noqa: F401  (a second of imports on a slow machine)

    args = parse_script_args(argv)
    ctx = DashboardContext(Paths.resolve(args.root, args.data_dir, args.models_dir))
    for name in ("votes_loaded", "preds_loaded", "prompts_loaded"):
        getattr(ctx, name)


def main(argv: list[str] | None = None) -> None:
    st.set_page_config(page_title="Attunement Dashboard", page_icon=":material/target:", layout="wide")
    args = parse_script_args(argv)
    default_paths = Paths.resolve(args.root, args.data_dir, args.models_dir)
    ctx = sidebar(default_paths)
    st.title("Attunement Dashboard")
    st.caption("Is the vote predictor attuned to the humans? Every number below is computed from "
               "the files in the sidebar's folders.")
    labels = [name for name, _ in SECTIONS]
    tabs = st.tabs(labels, key=SECTION_KEY, on_change="rerun", bind="query-params")
    for tab, (name, render) in zip(tabs, SECTIONS):
        with tab:
            if tab.open is False:  # lazy: only the open tab runs (None = state not tracked: run all)
                continue
            try:
                render(ctx)
            except Exception as exc:  # noqa: BLE001 - one broken section must not blank the page
                st.error(f"{name} could not be drawn from the current files.")
                st.code(f"{type(exc).__name__}: {exc}", language=None)


if __name__ == "__main__":  # streamlit (and AppTest) run this file as __main__
    main()
