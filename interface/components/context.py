"""What every section gets: resolved paths, the sidebar's filters and lazily loaded data.

Loads happen on first use (``cached_property`` over the cached loaders), so a section
that is not shown reads nothing, and no file is read twice in one run.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cached_property

import pandas as pd

from interface.components import analysis as A
from interface.components import loaders as L
from utils.paths import Paths


@dataclass
class Filters:
    start: dt.date | None = None
    end: dt.date | None = None
    annotators: list[str] = field(default_factory=list)
    version: str | None = None


class DashboardContext:
    def __init__(self, paths: Paths, filters: Filters | None = None):
        self.paths = paths
        self.filters = filters or Filters()

    # --- raw loads (cached across reruns by path + mtime) ---
    @cached_property
    def votes_loaded(self) -> L.Loaded:
        return L.load_votes(self.paths.votes)

    @cached_property
    def preds_loaded(self) -> L.Loaded:
        return L.load_table(self.paths.predictions, "prediction")

    @cached_property
    def prompts_loaded(self) -> L.Loaded:
        return L.load_table(self.paths.prompts, "prompt")

    @cached_property
    def pairs_loaded(self) -> L.Loaded:
        return L.load_table(self.paths.pairs, "pair")

    @cached_property
    def checkpoints_loaded(self) -> L.Loaded:
        return L.load_checkpoints(self.paths.checkpoint)

    @cached_property
    def calibration_log_loaded(self) -> L.Loaded:
        return L.load_json(self.paths.calibration_log)

    @cached_property
    def probes_loaded(self) -> L.Loaded:
        return L.load_records(self.paths.meta_reflection_log)

    @cached_property
    def loop_loaded(self) -> L.Loaded:
        return L.load_records(self.paths.loop_history)

    @cached_property
    def drift_loaded(self) -> L.Loaded:
        return L.load_json(self.paths.drift_dir / "drift_report.json")

    # --- derived, filtered views ---
    @cached_property
    def all_votes(self) -> pd.DataFrame:
        return self.votes_loaded.data

    @cached_property
    def votes(self) -> pd.DataFrame:
        """Votes inside the sidebar's date range and annotator selection."""
        f = self.filters
        return A.filter_votes(self.all_votes, f.start, f.end, f.annotators)

    @cached_property
    def predictions(self) -> pd.DataFrame:
        return self.preds_loaded.data

    @cached_property
    def latest_predictions(self) -> pd.DataFrame:
        """One prediction per (pair, model version): the last one in the file."""
        latest = self.preds_loaded.extra.get("latest")
        return latest if latest is not None else A.latest_predictions(self.predictions)

    @cached_property
    def versions(self) -> list[str]:
        """Model versions known from predictions and checkpoint folders, oldest first."""
        names = set(self.predictions["model_version"].dropna().astype(str).unique()) if len(self.predictions) else set()
        names |= {ck["version"] for ck in self.checkpoints_loaded.data}
        return sorted(names, key=L._version_key)

    @cached_property
    def default_version(self) -> str | None:
        latest = self.checkpoints_loaded.extra.get("latest")
        with_preds = set(self.predictions["model_version"].dropna().astype(str).unique()) if len(self.predictions) else set()
        if latest and latest in with_preds:
            return latest
        if with_preds:  # the version with the most recent prediction
            p = self.predictions
            return str(p.loc[p["ts"].idxmax(), "model_version"]) if p["ts"].notna().any() else sorted(with_preds)[-1]
        return latest or (self.versions[-1] if self.versions else None)

    @property
    def version(self) -> str | None:
        return self.filters.version or self.default_version

    @cached_property
    def joined_all(self) -> pd.DataFrame:
        """Reference votes x latest prediction of every version (see analysis.join_votes_predictions)."""
        return A.join_votes_predictions(self.votes, self.latest_predictions)

    @cached_property
    def joined(self) -> pd.DataFrame:
        """``joined_all`` for the selected model version."""
        j = self.joined_all
        return j[j["model_version"] == self.version] if len(j) else j

    @cached_property
    def prompts(self) -> pd.DataFrame:
        return self.prompts_loaded.data

    @cached_property
    def calibrations(self) -> list[dict]:
        return L.calibration_entries(self.calibration_log_loaded.data)
