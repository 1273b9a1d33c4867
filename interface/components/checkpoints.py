"""Checkpoint metadata -> comparison tables (pure; input is :func:`loaders.load_checkpoints` data).

Everything is read with ``.get`` so a checkpoint written by an older or newer trainer
still shows what it has.
"""
from __future__ import annotations

import json
import math
from typing import Any

import pandas as pd

METRIC_KEYS = ("train_loss", "val_loss", "val_accuracy", "val_ece", "test_accuracy")


def _num(v: Any) -> float:
    try:
        f = float(v)
        return f if math.isfinite(f) else float("nan")
    except (TypeError, ValueError):
        return float("nan")


def data_size(meta: dict) -> float:
    """Training examples a checkpoint saw: counts.train, else the sum of all counts."""
    counts = (meta.get("data") or {}).get("counts") if isinstance(meta.get("data"), dict) else None
    if isinstance(counts, dict):
        if "train" in counts:
            return _num(counts["train"])
        vals = [_num(v) for v in counts.values() if not isinstance(v, dict)]
        return float(sum(v for v in vals if v == v)) if vals else float("nan")
    return _num(counts)


def _cal_for(ck: dict, cal_by_version: dict) -> dict:
    cal = ck.get("calibration") or cal_by_version.get(ck["version"]) or {}
    return cal if isinstance(cal, dict) else {}


def checkpoint_table(checkpoints: list[dict], calibrations: list[dict]) -> pd.DataFrame:
    """One row per checkpoint: lineage, data size, metrics, ECE before/after calibration."""
    cal_by_version = {}
    for c in calibrations:  # later entries win: the log is in time order
        if c.get("model_version"):
            cal_by_version[str(c["model_version"])] = c
    rows = []
    for ck in checkpoints:
        meta = ck.get("meta") or {}
        m = meta.get("metrics") if isinstance(meta.get("metrics"), dict) else {}
        cal = _cal_for(ck, cal_by_version)
        before = cal.get("before") if isinstance(cal.get("before"), dict) else {}
        after = cal.get("after") if isinstance(cal.get("after"), dict) else {}
        row = {"version": ck["version"], "latest": bool(ck.get("is_latest")),
               "parent": meta.get("parent_version") or "", "created_at": str(meta.get("created_at") or ""),
               "base_model": str(meta.get("base_model") or ""), "train_examples": data_size(meta)}
        for k in METRIC_KEYS:
            if k in m:
                row[k] = _num(m[k])
        row["ece_before"] = _num(before.get("ece"))
        row["ece_after"] = _num(after.get("ece"))
        row["calibration"] = str(cal.get("method") or "")
        rows.append(row)
    return pd.DataFrame(rows)


def _flat(d: Any, prefix: str = "") -> dict:
    if not isinstance(d, dict):
        return {prefix.rstrip("."): d} if prefix else {}
    out = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(_flat(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def _short(v: Any) -> str:
    s = v if isinstance(v, str) else json.dumps(v, default=str)
    return s if len(s) <= 60 else s[:57] + "..."


def retrain_changes(checkpoints: list[dict]) -> pd.DataFrame:
    """What each retraining changed against its parent: config, data and metrics."""
    by_version = {ck["version"]: ck for ck in checkpoints}
    rows = []
    prev = None
    for ck in checkpoints:
        meta = ck.get("meta") or {}
        parent_v = meta.get("parent_version")
        if parent_v:
            parent = by_version.get(str(parent_v))
        else:  # no lineage recorded at all: compare with the previous folder
            parent = prev if "parent_version" not in meta else None
        prev = ck
        if parent is None:
            what = f"parent {parent_v} not found" if parent_v else "first checkpoint (trained from scratch)"
            rows.append({"version": ck["version"], "parent": str(parent_v or ""), "changes": what})
            continue
        pm = parent.get("meta") or {}
        changes = []
        a, b = _flat(pm.get("config")), _flat(meta.get("config"))
        for k in sorted(set(a) | set(b)):
            if a.get(k) != b.get(k):
                changes.append(f"config {k}: {_short(a.get(k))} -> {_short(b.get(k))}")
        ds_a, ds_b = data_size(pm), data_size(meta)
        if ds_a == ds_a and ds_b == ds_b and ds_a != ds_b:
            changes.append(f"training examples: {ds_a:g} -> {ds_b:g} ({ds_b - ds_a:+g})")
        da, db = pm.get("data") or {}, meta.get("data") or {}
        if isinstance(da, dict) and isinstance(db, dict) and da.get("sha256") and da.get("sha256") != db.get("sha256"):
            changes.append("training data file changed (sha256)")
        ma = pm.get("metrics") if isinstance(pm.get("metrics"), dict) else {}
        mb = meta.get("metrics") if isinstance(meta.get("metrics"), dict) else {}
        for k in METRIC_KEYS:
            if k in ma and k in mb:
                x, y = _num(ma[k]), _num(mb[k])
                if x == x and y == y:
                    changes.append(f"{k}: {x:.3f} -> {y:.3f} ({y - x:+.3f})")
        rows.append({"version": ck["version"], "parent": parent["version"], "changes": "; ".join(changes) or "no recorded change"})
    return pd.DataFrame(rows, columns=["version", "parent", "changes"])
