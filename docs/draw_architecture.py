#!/usr/bin/env python3
"""Draw docs/architecture.png from the loop's declared step list (interface/loop_steps.STEPS).

    python docs/draw_architecture.py
    python docs/draw_architecture.py --out /tmp/architecture.png

Boxes are the steps (script and function the loop calls), arrows carry the files each
step writes. The loop runs the very same list, so the picture cannot drift from the code.
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):  # run as `python docs/draw_architecture.py`: make the repo root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from utils.cli import add_config_args, config_from_args, field, run_cli

BOX_W, BOX_H, ROW, GAP = 4.1, 0.9, 1.4, 6.8


@dataclass
class DrawConfig:
    out: str = field(str(Path(__file__).resolve().parent / "architecture.png"), help="PNG to write")
    dpi: int = field(130, help="resolution of the PNG")


def layout(steps) -> dict[str, tuple[float, float]]:
    """Step name -> box centre: the cycle runs down the left column and back up the right one;
    once-only steps (bootstrap) sit left of the step they feed."""
    cycle = [s for s in steps if not s.once]
    half = (len(cycle) + 1) // 2
    pos = {}
    for i, s in enumerate(cycle):
        if i < half:
            pos[s.name] = (0.0, -i * ROW)
        else:
            pos[s.name] = (GAP, -(len(cycle) - 1 - i) * ROW)
    for s in steps:
        if s.once:
            pos[s.name] = (-GAP + 0.4, pos.get("predict", (0.0, -3 * ROW))[1])
    return pos


def draw(steps=None, ax=None):
    """Draw the data-flow diagram of ``steps`` (default: the loop's STEPS) on ``ax``; returns ax."""
    import matplotlib
    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    if steps is None:
        from interface.loop_steps import STEPS as steps
    pos = layout(steps)
    if ax is None:
        _, ax = plt.subplots(figsize=(14, 10))
    cycle = [s for s in steps if not s.once]

    def box(s, color):
        x, y = pos[s.name]
        ax.add_patch(FancyBboxPatch((x - BOX_W / 2, y - BOX_H / 2), BOX_W, BOX_H, boxstyle="round,pad=0.04",
                                    fc=color, ec="#333333", lw=1.2))
        ax.text(x, y + 0.14, s.name, ha="center", va="center", fontsize=11, fontweight="bold")
        ax.text(x, y - 0.17, f"{s.script}\n{s.function}()", ha="center", va="center", fontsize=6.6,
                family="monospace", linespacing=1.1)

    def arrow(a, b, label, rad=0.0):
        (x0, y0), (x1, y1) = pos[a], pos[b]
        if abs(x0 - x1) < 1e-6:  # same column: bottom edge to top edge (or reverse)
            d = 1 if y1 > y0 else -1
            p0, p1 = (x0, y0 + d * BOX_H / 2 + d * 0.04), (x1, y1 - d * BOX_H / 2 - d * 0.04)
        else:  # across: side to side
            d = 1 if x1 > x0 else -1
            p0, p1 = (x0 + d * BOX_W / 2 + d * 0.04, y0), (x1 - d * BOX_W / 2 - d * 0.04, y1)
        ax.add_patch(FancyArrowPatch(p0, p1, arrowstyle="-|>", mutation_scale=14, lw=1.3, color="#1f4e79",
                                     connectionstyle=f"arc3,rad={rad}"))
        if abs(x0 - x1) < 1e-6:  # label right of a vertical arrow, above a horizontal one
            ax.text(x0 + 0.12, (p0[1] + p1[1]) / 2, label, fontsize=7.8, color="#1f4e79", style="italic",
                    ha="left", va="center")
        else:
            ax.text((p0[0] + p1[0]) / 2, (p0[1] + p1[1]) / 2 + 0.08, label, fontsize=7.8, color="#1f4e79",
                    style="italic", ha="center", va="bottom")

    for s in steps:
        box(s, "#fde9c4" if s.once else ("#d9ead3" if s.name in ("vote", "route") else "#dce6f2"))
    for a, b in zip(cycle, cycle[1:]):
        arrow(a.name, b.name, "\n".join(a.writes))
    top = max(y for _, y in pos.values())
    first, last = cycle[0].name, cycle[-1].name
    arrow(last, first, "next cycle\n(" + ", ".join(cycle[-1].writes) + ")")
    for s in steps:
        if s.once:
            arrow(s.name, "predict", "\n".join(s.writes) + "\n(once, with --bootstrap)")
    xs = [x for x, _ in pos.values()]
    mid = (min(xs) + max(xs)) / 2
    ax.text(mid, top + 1.0, "rlhf_loop.py: one cycle, step by step (resume state: models/loop_state.json)",
            ha="center", fontsize=13, fontweight="bold")
    ax.text(mid, -(len(cycle) // 2) * ROW - 0.1,
            "route: confidence < --confidence-threshold -> human;\nelse auto-label (model vote), "
            "except a --human-feedback-ratio audit share -> human", ha="center", fontsize=8.5, color="#38761d")
    ys = [y for _, y in pos.values()]
    ax.set_xlim(min(xs) - BOX_W / 2 - 0.3, max(xs) + BOX_W / 2 + 0.3)
    ax.set_ylim(min(ys) - 1.6, top + 1.4)
    ax.set_aspect("equal")
    ax.axis("off")
    return ax


def write_png(cfg: DrawConfig) -> Path:
    import matplotlib.pyplot as plt

    from utils.store import atomic_path
    ax = draw()
    out = Path(cfg.out)
    with atomic_path(out) as tmp:
        ax.figure.savefig(tmp, dpi=cfg.dpi, format="png", bbox_inches="tight")
    plt.close(ax.figure)
    return out


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_config_args(p, DrawConfig)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return run_cli(lambda: print(f"wrote {write_png(config_from_args(DrawConfig, args))}"), prog="draw_architecture.py")


if __name__ == "__main__":
    sys.exit(main())
