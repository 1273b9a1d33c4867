#!/usr/bin/env python3
"""Drift monitor: is the vote predictor still matching the humans, is the data still alike?

Cuts predictions into windows, tests each against a reference (Bonferroni-corrected),
clusters prompts into error zones, tracks calibration, and writes
models/drift_analysis/{drift_report.json, *.png, drift_report.html}.

    python utils/vote_predictor/drift_monitor.py --window 1d
    python utils/vote_predictor/drift_monitor.py --window-size 200 --embedding tfidf --fail-on-drift
"""
from __future__ import annotations

import dataclasses
import logging
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

if __package__ in (None, ""):  # run as `python path/to/script.py`: make the repo root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from utils.cli import UserError, field
from utils.paths import Paths
from utils.store import utc_now, write_json_atomic
from utils.vote_predictor import drift_stats as st
from utils.vote_predictor.drift_data import DriftData, load_drift_data
from utils.vote_predictor.drift_windows import TESTED_METRICS, Group, new_domains, window_metrics, window_tests

log = logging.getLogger("rlhf_loop.drift")
REPORT_VERSION = 1


@dataclass
class DriftConfig:
    window: str = field("", help="time window such as 6h, 1d, 1w (empty: windows by count, see --window-size)")
    window_size: int = field(0, help="predictions per window when --window is empty (0: a tenth of the data, at least 50)")
    reference: str = field("", help="predictions JSONL to use as the reference (empty: the first window)")
    embedding: str = field("auto", help="prompt embedding for clusters (auto: minilm when installed)",
                           choices=("auto", "minilm", "tfidf"))
    clusters: int = field(0, help="number of prompt clusters (0: chosen by silhouette)")
    max_clusters: int = field(8, help="largest k tried by the silhouette search")
    cluster_text: str = field("prompt", help="what is embedded: the prompt, or prompt plus both responses",
                              choices=("prompt", "pair"))
    max_embed: int = field(2000, help="most distinct texts embedded by MiniLM (TF-IDF embeds all)")
    alpha: float = field(0.01, help="family-wise false-alarm probability per run (Bonferroni over all tests)")
    min_samples: int = field(20, help="fewest records per side for a test to run")
    new_domain_share: float = field(0.05, help="share of a window above which a domain unseen in the reference alerts")
    error_zone_gap: float = field(0.10, help="accuracy gap below the overall accuracy that marks a cluster as an error zone")
    n_bins: int = field(15, help="confidence bins for ECE and reliability diagrams")
    generate_report: bool = field(True, help="write the PNG figures and drift_report.html besides the JSON")
    visualization_mode: str = field("basic", help="figures in the report", choices=("basic", "detailed"))
    seed: int = field(0, help="seed for clustering samples")

    def __post_init__(self):
        if self.window:
            st.parse_duration(self.window)  # ValueError -> UserError in config_from_args
            if self.window_size:
                raise ValueError("give either --window (time) or --window-size (count), not both")
        if self.window_size < 0 or self.clusters < 0 or self.min_samples < 2:
            raise ValueError("--window-size and --clusters must be >= 0 and --min-samples >= 2")
        if not 0 < self.alpha < 1:
            raise ValueError(f"--alpha must be in (0, 1), got {self.alpha}")


def _assign_windows(t: np.ndarray, cfg: DriftConfig) -> tuple[np.ndarray, str]:
    if cfg.window:
        return st.time_windows(t, st.parse_duration(cfg.window)), f"time {cfg.window}"
    size = cfg.window_size or max(int(np.ceil(t.size / 10)), 50)
    return st.count_windows(t.size, size), f"count {size}"


def _latest_per_pair(key: np.ndarray) -> np.ndarray:
    """Indices of the last occurrence of each key (records are time-sorted), ascending."""
    _, first_in_reversed = np.unique(key[::-1], return_index=True)
    return np.sort(key.size - 1 - first_in_reversed)


def _iso(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def _cluster_pairs(data: DriftData, pair_idx: np.ndarray, cfg: DriftConfig) -> tuple[np.ndarray, dict]:
    """Cluster id per pair (n_pairs,) from the distinct texts of the used pairs."""
    from utils.vote_predictor.drift_clusters import cluster_texts, minilm_available

    method = cfg.embedding
    if method == "auto":
        method = "minilm" if minilm_available() else "tfidf"
    source = data.prompt_text if cfg.cluster_text == "prompt" else data.pair_text
    text_id: dict[str, int] = {}
    pair_text = np.full(len(data.pair_ids), -1, dtype=np.int64)
    for j in np.unique(pair_idx):
        pair_text[j] = text_id.setdefault(source[j], len(text_id))
    texts = list(text_id)
    res = cluster_texts(texts, method, cfg.clusters, cfg.max_clusters, max_embed=cfg.max_embed, seed=cfg.seed)
    pair_cluster = np.where(pair_text >= 0, res.labels[np.maximum(pair_text, 0)] if texts else -1, -1)
    examples = [[texts[i][:300] for i in np.flatnonzero(res.labels == c)[:3]] for c in range(res.k)]
    info = {"method": method, "k": res.k, "silhouette": {str(k): v for k, v in res.silhouette.items()},
            "n_texts": len(texts), "n_assigned": int((res.labels >= 0).sum()),
            "top_terms": res.top_terms, "examples": examples, "text": cfg.cluster_text}
    return pair_cluster, info


def analyse(data: DriftData, cfg: DriftConfig) -> tuple[dict, dict]:
    """The whole analysis on in-memory columns. Returns (report, arrays for the figures)."""
    live = ~data.is_ref
    if not live.any():
        raise UserError("no prediction records to analyse; run the vote predictor's predict step first "
                        "(it writes data/predictions.jsonl)")
    n_live = int(live.sum())
    w_live, how = _assign_windows(data.t[live], cfg)
    win = np.full(data.n, -1, dtype=np.int64)
    win[live] = w_live
    n_windows = int(w_live.max()) + 1
    has_file_ref = bool(data.is_ref.any())
    if n_windows < 2 and not has_file_ref:
        raise UserError(f"only one window ({n_live} predictions, windows by {how}); drift needs at least two: "
                        "use a smaller --window / --window-size, or give --reference FILE")
    # one prediction per pair and window (the latest), so repeated scoring of a pair is not
    # counted as independent evidence
    keep = _latest_per_pair((win + 1) * max(len(data.pair_ids), 1) + data.pair)
    pair_cluster, cluster_info = _cluster_pairs(data, data.pair[keep], cfg)
    raw_counts = np.bincount(win + 1, minlength=n_windows + 1)
    kw = win[keep]

    def group(sel: np.ndarray, n_raw: int) -> Group:
        i = keep[sel]
        p = data.pair[i]
        return Group(t=data.t[i], prob_a=data.prob_a[i], raw_prob_a=data.raw_prob_a[i],
                     reward=(data.reward_a[i] + data.reward_b[i]) / 2, label_a=data.pair_label[p],
                     resp_len=data.resp_len[p], cluster=pair_cluster[p], domain=data.domain[p],
                     votes=data.pair_votes[p], version=data.version[i], n_raw=n_raw)

    bounds = np.searchsorted(kw, np.arange(-1, n_windows + 1))
    groups = [group(slice(bounds[w + 1], bounds[w + 2]), int(raw_counts[w + 1])) for w in range(n_windows)]
    ref = group(slice(bounds[0], bounds[1]), int(raw_counts[0])) if has_file_ref else groups[0]
    tested = range(0 if has_file_ref else 1, n_windows)
    k, domains = cluster_info["k"], data.domains

    t_live = data.t[live]
    edges = np.searchsorted(w_live, np.arange(n_windows + 1))
    windows, results = [], []
    for w, g in enumerate(groups):
        start, end = float(t_live[edges[w]]), float(t_live[edges[w + 1] - 1])
        if cfg.window:  # calendar bucket bounds, e.g. whole UTC days
            sec = st.parse_duration(cfg.window)
            start = np.floor(start / sec) * sec
            end = start + sec
        entry = {"index": w, "label": f"{_iso(start)[:16].replace('T', ' ')}", "start": _iso(start), "end": _iso(end),
                 "is_reference": (w == 0 and not has_file_ref)}
        entry.update(window_metrics(g, k, domains, data.versions, ref, cfg.n_bins))
        entry["tests"] = {}
        if w in tested:
            for metric, (stat, p) in window_tests(
                    ref, g, k, len(domains), cfg.min_samples, groups[w - 1] if w - 1 in tested else None).items():
                entry["tests"][metric] = {"statistic": None if not np.isfinite(stat) else stat,
                                          "p_value": None if not np.isfinite(p) else p}
                if np.isfinite(p):
                    results.append((metric, w, stat, p))
        windows.append(entry)
    ref_entry = window_metrics(ref, k, domains, data.versions, None, cfg.n_bins)
    ref_entry["source"] = data.inputs.get("reference", {}).get("path", "") if has_file_ref else "first window"

    threshold = st.bonferroni_threshold([r[3] for r in results], cfg.alpha)
    alerts = [_test_alert(metric, windows[w], ref_entry, stat, p, threshold)
              for metric, w, stat, p in results if p < threshold]
    for w in tested:
        for name, count, share in new_domains(ref, groups[w], domains, cfg.new_domain_share, cfg.min_samples // 2):
            alerts.append({"kind": "data", "metric": "new_domain", "window": w, "window_label": windows[w]["label"],
                           "statistic": count, "p_value_or_value": share, "threshold": cfg.new_domain_share,
                           "message": f"window {windows[w]['label']}: new prompt domain {name!r} "
                                      f"({count} pairs, {share:.0%} of the window) never seen in the reference"})
    alerts.sort(key=lambda a: (a["window"], a["metric"]))

    all_groups = ([ref] if has_file_ref else []) + groups
    clusters = _cluster_table(all_groups, cluster_info, cfg, [w["label"] for w in windows], has_file_ref)
    last = groups[-1]
    report = {
        "version": REPORT_VERSION, "created_at": utc_now(), "config": dataclasses.asdict(cfg),
        "inputs": data.inputs, "bad_lines": data.bad_lines, "n_predictions": n_live,
        "n_reference_predictions": int(data.is_ref.sum()), "windowing": how, "n_windows": n_windows,
        "reference": ref_entry, "windows": windows,
        "tests": {"alpha": cfg.alpha, "n_tests": len(results), "per_test_threshold": threshold,
                  "correction": "bonferroni", "metrics": dict(TESTED_METRICS)},
        "alerts": alerts, "clusters": clusters, "domains": domains,
        "calibration": {
            "ece": [w["ece"] for w in windows], "temperature": [w["temperature"] for w in windows],
            "calibration_gap": [w["calibration_gap"] for w in windows],
            "reference": _reliability(ref, cfg.n_bins), "latest": _reliability(last, cfg.n_bins)},
        "summary": {"n_alerts": len(alerts), "drift": bool(alerts),
                    "error_zones": [c["id"] for c in clusters["clusters"] if c["error_zone"]]},
    }
    arrays = {"ref_prob": ref.prob_a[ref.labelled], "ref_label": ref.label_a[ref.labelled],
              "last_prob": last.prob_a[last.labelled], "last_label": last.label_a[last.labelled],
              "ref_conf": ref.conf, "last_conf": last.conf}
    return report, arrays


def _test_alert(metric: str, w: dict, ref: dict, stat: float, p: float, threshold: float) -> dict:
    what = {"accuracy": lambda: f"accuracy {w['accuracy']:.3f} vs reference {ref['accuracy']:.3f}",
            "accuracy_2w": lambda: f"accuracy over this and the previous window below reference {ref['accuracy']:.3f}"
                                   f" (this window {w['accuracy']:.3f})",
            "calibration_gap": lambda: f"accuracy - confidence {w['calibration_gap']:+.3f} vs reference {ref['calibration_gap']:+.3f}"
                                       f" (label-free estimate {w['expected_accuracy_unlabelled'] or float('nan'):.3f})",
            "confidence": lambda: f"mean confidence {w['mean_confidence']:.3f} vs reference {ref['mean_confidence']:.3f}",
            "reward": lambda: f"mean reward {w['mean_reward']:.3f} vs reference {ref['mean_reward']:.3f}",
            "predicted_choice_share": lambda: f"predicted A share {w['predicted_share_a']:.2f} vs reference {ref['predicted_share_a']:.2f}",
            "response_length": lambda: f"mean response length {w['mean_response_length']:.0f} vs reference {ref['mean_response_length']:.0f} chars",
            "vote_choice_share": lambda: "human votes A/B/tie/both_bad " + _shares(w["vote_counts"]) + " vs reference "
                                         + _shares(ref["vote_counts"]),
            "cluster_share": lambda: _biggest_change("cluster", dict(enumerate(w["cluster_counts"])),
                                                     dict(enumerate(ref["cluster_counts"]))),
            "domain_share": lambda: _biggest_change("domain", w["domain_counts"], ref["domain_counts"]),
            }.get(metric, lambda: f"{metric.replace('_', ' ')} changed")
    try:
        detail = what()
    except (TypeError, ValueError):
        detail = f"{metric} changed"
    return {"kind": TESTED_METRICS[metric], "metric": metric, "window": w["index"], "window_label": w["label"],
            "statistic": stat, "p_value_or_value": p, "threshold": threshold,
            "message": f"window {w['label']}: {detail} (stat {stat:.3g}, p={p:.2g} < {threshold:.2g})"}


def _shares(counts: dict) -> str:
    n = max(sum(counts.values()), 1)
    return "/".join(f"{v / n:.2f}" for v in counts.values())


def _biggest_change(what: str, cur: dict, ref: dict) -> str:
    nc, nr = max(sum(cur.values()), 1), max(sum(ref.values()), 1)
    key = max(cur, key=lambda c: abs(cur[c] / nc - ref.get(c, 0) / nr))
    return f"{what} {key!r} share {cur[key] / nc:.2f} vs reference {ref.get(key, 0) / nr:.2f}"


def _reliability(g: Group, n_bins: int) -> dict:
    from utils.vote_predictor.metrics import calibration_bins

    m = g.labelled
    b = calibration_bins(g.prob_a[m], g.label_a[m], n_bins)
    clean = lambda a: [None if not np.isfinite(x) else float(x) for x in a]  # noqa: E731
    return {"edges": b.edges.tolist(), "counts": b.counts.tolist(), "confidence": clean(b.confidence),
            "accuracy": clean(b.accuracy)}


def _cluster_table(groups: list[Group], info: dict, cfg: DriftConfig, labels: list[str], has_file_ref: bool) -> dict:
    """Per-cluster size, accuracy, confidence, terms, examples, share per window, error zone."""
    k = info["k"]
    cl = np.concatenate([g.cluster for g in groups])
    lab = np.concatenate([g.label_a for g in groups])
    pa = np.concatenate([g.prob_a for g in groups])
    m = np.isfinite(lab)
    correct = (pa >= 0.5) == (lab == 1)
    overall = float(correct[m].mean()) if m.any() else float("nan")
    rows = []
    for c in range(k):
        sel = cl == c
        ls = sel & m
        n_lab = int(ls.sum())
        acc = float(correct[ls].mean()) if n_lab else float("nan")
        z, p = st.proportion_drop_test(correct[m & ~sel].sum(), (m & ~sel).sum(), correct[ls].sum(), n_lab, 10)
        shares = [float((g.cluster == c).sum() / max((g.cluster >= 0).sum(), 1)) for g in groups]
        rows.append({"id": c, "size": int(sel.sum()), "n_labelled": n_lab, "accuracy": None if not n_lab else acc,
                     "mean_confidence": float(np.maximum(pa[sel], 1 - pa[sel]).mean()) if sel.any() else None,
                     "top_terms": info["top_terms"][c] if c < len(info["top_terms"]) else [],
                     "examples": info["examples"][c], "share_by_window": shares,
                     "error_zone": bool(n_lab and acc < overall - cfg.error_zone_gap and np.isfinite(p) and p < 0.05),
                     "p_value_lower_accuracy": None if not np.isfinite(p) else p})
    out = {k_: v for k_, v in info.items() if k_ not in ("top_terms", "examples")}
    out.update({"overall_accuracy": None if not np.isfinite(overall) else overall, "clusters": rows,
                "share_columns": (["reference"] if has_file_ref else []) + labels})
    return out


def json_safe(obj):
    """Report values as strict JSON: numpy scalars to Python, nan/inf to None."""
    if isinstance(obj, dict):
        return {k: json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    if isinstance(obj, (float, np.floating)):
        return float(obj) if np.isfinite(obj) else None
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    return obj


def run_drift_analysis(cfg: DriftConfig, paths: Paths) -> dict:
    """Load, analyse and write models/drift_analysis/; returns the report dict."""
    t0 = time.perf_counter()
    data = load_drift_data(paths, cfg.reference or None)
    log.info("loaded %d predictions (%d pairs) in %.1fs", data.n, len(data.pair_ids), time.perf_counter() - t0)
    report, arrays = analyse(data, cfg)
    report = json_safe(report)
    out = paths.drift_dir
    report["files"] = {"json": str(out / "drift_report.json")}
    if cfg.generate_report:
        from utils.vote_predictor.drift_report import write_figures, write_html

        figures = write_figures(report, arrays, out, cfg.visualization_mode)
        report["files"].update({"figures": {k: str(v) for k, v in figures.items()}, "html": str(out / "drift_report.html")})
        write_html(report, figures, out / "drift_report.html")
    report["seconds"] = round(time.perf_counter() - t0, 3)
    write_json_atomic(out / "drift_report.json", report)
    return report


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from interface.run_drift_analysis import main

    sys.exit(main())
