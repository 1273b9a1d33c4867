"""Figures (PNG) and the self-contained HTML page of the drift report.

Plot functions take the report dict (and ``ax=None``); the HTML embeds the PNGs as base64
and escapes every piece of text that comes from data, so a completion holding
``<script>`` shows as text and runs nothing.
"""
from __future__ import annotations

import base64
import html
import json
from pathlib import Path

import numpy as np

from utils.store import atomic_path, write_text_atomic


def _plt():
    import matplotlib
    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    return plt


def _f(x) -> float:
    return float("nan") if x is None else float(x)


def _alert_windows(report: dict, metrics: tuple[str, ...] | None = None) -> list[int]:
    return sorted({a["window"] for a in report["alerts"] if metrics is None or a["metric"] in metrics})


def plot_accuracy(report: dict, ax=None):
    """Measured accuracy (Wilson 95% CI) beside the label-free estimate, per window."""
    plt = _plt()
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 4))
    ws = report["windows"]
    x = np.arange(len(ws))
    acc = np.array([_f(w["accuracy"]) for w in ws])
    lo = np.array([_f(w["accuracy_ci"][0]) for w in ws])
    hi = np.array([_f(w["accuracy_ci"][1]) for w in ws])
    ax.errorbar(x, acc, yerr=[acc - lo, hi - acc], fmt="o-", capsize=3, label="measured (human votes, 95% CI)")
    ax.plot(x, [_f(w["expected_accuracy_unlabelled"]) for w in ws], "s--", label="label-free estimate (unvoted pairs)")
    ax.plot(x, [_f(w["mean_confidence"]) for w in ws], ":", color="grey", label="mean confidence")
    for w in _alert_windows(report, ("accuracy", "calibration_gap")):
        ax.axvspan(w - 0.4, w + 0.4, color="red", alpha=0.12)
    ax.set_xticks(x, [w["label"][:10] if report["windowing"].startswith("time") else str(w["index"]) for w in ws],
                  rotation=45, ha="right", fontsize=7)
    ax.set_ylabel("accuracy")
    ax.set_title("Accuracy per window (red: alert)")
    ax.legend(fontsize=7, loc="lower left")
    return ax


def plot_clusters(report: dict, axes=None):
    """Cluster share over windows (stacked) and accuracy per cluster (error zones in red)."""
    plt = _plt()
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(11, 4))
    cl = report["clusters"]["clusters"]
    ax1, ax2 = axes
    if cl:
        shares = np.array([c["share_by_window"] for c in cl])
        ax1.stackplot(np.arange(shares.shape[1]), shares, labels=[f"{c['id']}: {' '.join(c['top_terms'][:2])}" for c in cl])
        ax1.legend(fontsize=6, loc="upper left")
        ax2.bar([str(c["id"]) for c in cl], [_f(c["accuracy"]) for c in cl],
                color=["tab:red" if c["error_zone"] else "tab:blue" for c in cl])
        overall = report["clusters"].get("overall_accuracy")
        if overall is not None:
            ax2.axhline(overall, color="grey", ls="--", lw=1, label="overall")
            ax2.legend(fontsize=7)
    ax1.set_title("Cluster share per window")
    ax1.set_xlabel("window (0 = first column of the table)")
    ax2.set_title("Accuracy per cluster (red: error zone)")
    ax2.set_ylim(0, 1)
    return axes


def plot_calibration(report: dict, axes=None):
    """ECE and fitted temperature per window."""
    plt = _plt()
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(11, 3.5))
    cal = report["calibration"]
    x = np.arange(len(cal["ece"]))
    axes[0].plot(x, [_f(v) for v in cal["ece"]], "o-")
    axes[0].set_title("ECE per window")
    axes[1].plot(x, [_f(v) for v in cal["temperature"]], "o-", color="tab:orange")
    axes[1].axhline(1.0, color="grey", ls="--", lw=1)
    axes[1].set_title("Fitted temperature per window (>1: over-confident)")
    return axes


def plot_tests(report: dict, ax=None):
    """-log10 p of every test per window, with the Bonferroni threshold."""
    plt = _plt()
    if ax is None:
        _, ax = plt.subplots(figsize=(9, 4))
    for metric in report["tests"]["metrics"]:
        xs, ys = [], []
        for w in report["windows"]:
            p = w["tests"].get(metric, {}).get("p_value")
            if p is not None:
                xs.append(w["index"])
                ys.append(-np.log10(max(p, 1e-300)))
        if xs:
            ax.plot(xs, np.minimum(ys, 50), "o-", ms=3, label=metric)
    ax.axhline(-np.log10(report["tests"]["per_test_threshold"]), color="red", ls="--", label="alert threshold")
    ax.set_ylabel("-log10 p (capped at 50)")
    ax.set_xlabel("window")
    ax.legend(fontsize=6, ncol=2)
    return ax


def write_figures(report: dict, arrays: dict, out_dir: Path, mode: str = "basic") -> dict[str, Path]:
    """Write the PNGs into ``out_dir``; returns name -> path."""
    from utils.vote_predictor.metrics import plot_reliability

    plt = _plt()
    out_dir = Path(out_dir)
    figs = {}
    fig, ax = plt.subplots(figsize=(8, 4))
    plot_accuracy(report, ax)
    figs["accuracy"] = fig
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.5))
    plot_reliability(arrays["ref_prob"], arrays["ref_label"], ax=axes[0], label="reference", title="Reference")
    plot_reliability(arrays["last_prob"], arrays["last_label"], ax=axes[1], label="latest", title="Latest window")
    figs["reliability"] = fig
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    plot_clusters(report, axes)
    figs["clusters"] = fig
    if mode == "detailed":
        fig, axes = plt.subplots(1, 2, figsize=(11, 3.5))
        plot_calibration(report, axes)
        figs["calibration"] = fig
        fig, ax = plt.subplots(figsize=(9, 4))
        plot_tests(report, ax)
        figs["tests"] = fig
        fig, ax = plt.subplots(figsize=(6, 4))
        bins = np.linspace(0.5, 1, 21)
        ax.hist(arrays["ref_conf"], bins, alpha=0.5, density=True, label="reference")
        ax.hist(arrays["last_conf"], bins, alpha=0.5, density=True, label="latest")
        ax.set_xlabel("confidence")
        ax.legend()
        figs["confidence"] = fig
    paths = {}
    for name, fig in figs.items():
        fig.tight_layout()
        path = out_dir / f"{name}.png"
        with atomic_path(path) as tmp:
            fig.savefig(tmp, dpi=90, format="png")
        plt.close(fig)
        paths[name] = path
    return paths


def _e(x) -> str:
    if isinstance(x, float):
        return "–" if not np.isfinite(x) else f"{x:.3g}"
    return "–" if x is None else html.escape(str(x))


def _table(headers: list[str], rows: list[list]) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


CSS = ("body{font-family:sans-serif;margin:2em;max-width:1200px}table{border-collapse:collapse;margin:1em 0;font-size:13px}"
       "td,th{border:1px solid #ccc;padding:3px 6px;vertical-align:top}th{background:#eee}.alert{color:#b00}"
       "img{max-width:100%;border:1px solid #ddd;margin:.5em 0}pre{background:#f6f6f6;padding:1em;overflow:auto}")


def render_html(report: dict, figures: dict[str, Path]) -> str:
    """The whole page as one string; images inline as data: URIs."""
    s = report["summary"]
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>Drift report</title><style>{CSS}</style></head><body>",
             "<h1>Drift report</h1>",
             f"<p>{_e(report['created_at'])} · {_e(report['n_predictions'])} predictions · {_e(report['n_windows'])} windows "
             f"({_e(report['windowing'])}) · reference: {_e(report['reference']['source'])} · "
             f"{_e(report['tests']['n_tests'])} tests, family-wise α = {_e(report['tests']['alpha'])} "
             f"(per test {_e(report['tests']['per_test_threshold'])})</p>",
             f"<h2 class='{'alert' if s['drift'] else ''}'>{_e(s['n_alerts'])} alert(s)</h2>"]
    if report["alerts"]:
        parts.append(_table(["window", "kind", "metric", "statistic", "p / value", "threshold", "message"],
                            [[a["window_label"], a["kind"], a["metric"], a["statistic"], a["p_value_or_value"],
                              a["threshold"], a["message"]] for a in report["alerts"]]))
    else:
        parts.append("<p>No drift detected.</p>")
    for name, title in (("accuracy", "Accuracy"), ("reliability", "Calibration: reference vs latest"),
                        ("calibration", "ECE and temperature"), ("tests", "Test p-values"),
                        ("confidence", "Confidence distribution"), ("clusters", "Prompt clusters")):
        if name in figures:
            data = base64.b64encode(Path(figures[name]).read_bytes()).decode("ascii")
            parts.append(f"<h3>{_e(title)}</h3><img alt='{_e(name)}' src='data:image/png;base64,{data}'>")
    parts.append("<h2>Windows</h2>")
    parts.append(_table(["#", "start", "predictions", "labelled", "accuracy", "95% CI", "label-free est.", "mean conf",
                         "ECE", "temperature", "A share (pred)", "votes A/B/tie/bad", "mean resp. len", "PSI conf"],
                        [[w["index"], w["start"], w["n_predictions"], w["n_labelled"], w["accuracy"],
                          "–" if w["accuracy_ci"][0] is None else f"{w['accuracy_ci'][0]:.3f}–{w['accuracy_ci'][1]:.3f}",
                          w["expected_accuracy_unlabelled"], w["mean_confidence"], w["ece"], w["temperature"],
                          w["predicted_share_a"], "/".join(str(v) for v in w["vote_counts"].values()),
                          w["mean_response_length"], w["psi_confidence"]] for w in report["windows"]]))
    c = report["clusters"]
    parts.append(f"<h2>Clusters ({_e(c['method'])}, k = {_e(c['k'])}; overall accuracy {_e(c.get('overall_accuracy'))})</h2>")
    parts.append(_table(["id", "size", "labelled", "accuracy", "mean conf", "error zone", "top terms", "example prompts"],
                        [[r["id"], r["size"], r["n_labelled"], r["accuracy"], r["mean_confidence"],
                          "YES" if r["error_zone"] else "", ", ".join(r["top_terms"]), " | ".join(r["examples"])]
                         for r in c["clusters"]]))
    parts.append("<h2>Configuration and inputs</h2><pre>"
                 + html.escape(json.dumps({"config": report["config"], "inputs": report["inputs"]}, indent=1, default=str))
                 + "</pre></body></html>")
    return "\n".join(parts)


def write_html(report: dict, figures: dict[str, Path], path: Path) -> Path:
    return write_text_atomic(path, render_html(report, figures))
