"""Words and pictures for the evaluation probe: the plain-language summary, the printed
table and the reliability diagram. The summary is derived only from the record's numbers.
"""
from __future__ import annotations

from pathlib import Path


def _pct(x) -> str:
    return "n/a" if x is None else f"{x:.0%}"


def _num(x, fmt=".3f") -> str:
    return "n/a" if x is None else format(x, fmt)


GROUP_LABELS = {"by_domain": "domain {k!r}", "by_annotator": "annotator {k!r}",
                "by_length_diff": "pairs whose lengths differ by {k} chars",
                "by_confidence_bucket": "predictions with confidence {k}"}


def summarize(rec: dict, min_group: int = 3) -> str:
    """A few sentences on where model and humans disagree most."""
    m, n = rec["metrics"], rec["n_votes"]
    acc, conf = m["accuracy"], m.get("mean_confidence")
    parts = [f"The model agrees with the human vote on {_pct(acc)} of {n} votes ({rec['n_pairs']} pairs)."]
    if acc is not None and conf is not None:
        gap = conf - acc
        how = ("overconfident" if gap > 0.05 else "underconfident" if gap < -0.05 else "about right in its confidence")
        parts.append(f"It is {how}: mean confidence {conf:.2f} vs accuracy {acc:.2f} (ECE {_num(m['ece'])}).")
    weak = []
    for key, label in GROUP_LABELS.items():
        for k, g in rec.get(key, {}).items():
            if g["n"] >= min_group and g["accuracy"] is not None and acc is not None and g["accuracy"] < acc - 0.05:
                weak.append((g["accuracy"], label.format(k=k), g["n"]))
    if weak:
        weak.sort()
        worst = "; ".join(f"{what} ({_pct(a)} of {k})" for a, what, k in weak[:3])
        parts.append(f"It disagrees most on {worst}.")
    else:
        parts.append(f"No group of at least {min_group} votes is clearly worse than the average.")
    lb = rec.get("length_bias") or {}
    if lb.get("n") and abs((lb["model_prefers_longer"] or 0) - (lb["human_prefers_longer"] or 0)) >= 0.1:
        parts.append(f"The model picks the longer response {_pct(lb['model_prefers_longer'])} of the time, "
                     f"the humans {_pct(lb['human_prefers_longer'])}.")
    sc = rec.get("self_consistency") or {}
    if sc.get("n_repeats"):
        parts.append(f"Annotators repeat their own earlier choice on {_pct(sc['agreement'])} of "
                     f"{sc['n_repeats']} gold repeats.")
    ia = rec.get("inter_annotator") or {}
    if ia.get("method"):
        parts.append(f"Between annotators, {ia['method'].replace('_', ' ')} = "
                     f"{_num(ia.get(ia['method']), '.2f')} on {ia['n_pairs']} shared pairs.")
    sw = rec.get("swap_test") or {}
    if sw.get("run"):
        parts.append(f"Swap test: max |p(A>B) + p(B>A) - 1| = {_num(sw['max_abs_dev'])} over {sw['n']} pairs.")
    return " ".join(parts)


def _group_table(title: str, groups: dict) -> list[str]:
    if not groups:
        return []
    w = max(len(title), *(len(k) for k in groups))
    lines = [f"{title:<{w}}  {'n':>5}  {'agree':>6}  {'conf':>5}"]
    for k, g in groups.items():
        lines.append(f"{k:<{w}}  {g['n']:>5}  {_pct(g['accuracy']):>6}  {_num(g.get('mean_confidence'), '.2f'):>5}")
    return lines + [""]


def format_table(rec: dict) -> str:
    """The readable report printed by the CLI."""
    m = rec["metrics"]
    out = [f"Evaluation probe {rec['id']}  model {rec['model_version']}  "
           f"{rec['n_votes']} votes on {rec['n_pairs']} pairs", ""]
    out += [f"{'accuracy':<10} {_pct(m['accuracy'])}", *(f"{k:<10} {_num(m[k])}" for k in ("ece", "mce", "brier", "nll")), ""]
    for title, key in (("model confidence", "by_confidence_bucket"), ("your confidence", "by_human_confidence"),
                       ("annotator", "by_annotator"), ("domain", "by_domain"), ("|len A - len B|", "by_length_diff")):
        out += _group_table(title, rec.get(key, {}))
    sc, ia, sw = rec["self_consistency"], rec["inter_annotator"], rec["swap_test"]
    out.append(f"self-consistency  {_pct(sc['agreement'])} of {sc['n_repeats']} gold repeats")
    if ia.get("n_pairs"):
        out.append(f"inter-annotator   kappa {_num(ia['cohen_kappa'], '.2f')}  alpha {_num(ia['krippendorff_alpha'], '.2f')}"
                   f"  raw agreement {_pct(ia['raw_agreement'])} on {ia['n_pairs']} pairs ({len(ia['annotators'])} annotators)")
    else:
        out.append(f"inter-annotator   {ia.get('note')}")
    out.append(f"swap test         max dev {_num(sw.get('max_abs_dev'))} on {sw.get('n')} pairs" if sw.get("run")
               else f"swap test         not run: {sw.get('reason')}")
    if rec.get("reliability_png"):
        out.append(f"reliability       {rec['reliability_png']}")
    return "\n".join(out + ["", rec["summary"]])


def save_reliability_png(prob_a, label_a, path: Path, n_bins: int, title: str) -> Path:
    """Reliability diagram written atomically to ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from utils.store import atomic_path
    from utils.vote_predictor.metrics import plot_reliability

    fig, ax = plt.subplots(figsize=(5, 5))
    try:
        plot_reliability(prob_a, label_a, n_bins=n_bins, ax=ax, label="vote predictor", title=title)
        fig.tight_layout()
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format="png", dpi=100)
    finally:
        plt.close(fig)
    return path
