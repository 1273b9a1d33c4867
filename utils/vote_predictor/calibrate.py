#!/usr/bin/env python3
"""Calibrate the latest vote predictor (temperature vs Platt, lower held-out NLL wins).

    python utils/vote_predictor/calibrate.py
    python utils/vote_predictor/calibrate.py --checkpoint models/vote_predictor_checkpoint/v0002
"""
from __future__ import annotations

import argparse
import logging
import sys
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):  # run as `python path/to/script.py`: make the repo root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from utils.cli import UserError, config_from_args, field, run_cli, script_parser, setup_logging
from utils.paths import Paths

log = logging.getLogger("rlhf_loop.vote_predictor.calibrate")


@dataclass
class CalibrateConfig:
    checkpoint: str | None = field(None, help="checkpoint root or version folder (default: latest)")
    data: str | None = field(None, help="training-data file whose split is used (default: data/vote_predictor_training_data.jsonl)")
    split: str = field("calibration", help="split to fit on", choices=("calibration", "validation", "test", "train"))
    n_bins: int = field(15, help="bins for ECE/MCE and the reliability diagram")
    folds: int = field(5, help="cross-validation folds for the held-out NLL that picks the method")
    seed: int = field(0, help="seed of the fold assignment")


def choose_calibrator(z, y, folds: int = 5, seed: int = 0, n_bins: int = 15) -> tuple[object, dict, bool]:
    """(fitted calibrator, candidates' scores, kept_identity).

    Candidates are tried in order of cross-validated (held-out) NLL. One is kept only if
    it beats the raw probabilities on held-out NLL *and* does not raise the ECE on the
    split it is fitted on; otherwise temperature 1 (no change) is kept. So the logged
    "after" is never worse than "before" on either measure.
    """
    import numpy as np

    from utils.vote_predictor.calibrators import CALIBRATORS, TemperatureScaler, heldout_nll
    from utils.vote_predictor.metrics import ece, nll
    raw = 1 / (1 + np.exp(-np.asarray(z, dtype=float)))
    raw_nll, raw_ece = nll(raw, y), ece(raw, y, n_bins)
    cands = {name: {"heldout_nll": heldout_nll(cls, z, y, folds, seed)} for name, cls in CALIBRATORS.items()}
    for name in sorted(cands, key=lambda k: cands[k]["heldout_nll"]):
        if cands[name]["heldout_nll"] >= raw_nll:
            cands[name]["rejected"] = f"held-out NLL not below the raw {raw_nll:.4f}"
            continue
        cal = CALIBRATORS[name]().fit(z, y)
        fitted_ece = ece(cal.predict_prob_a(z), y, n_bins)
        cands[name]["ece"] = fitted_ece
        if fitted_ece > raw_ece:
            cands[name]["rejected"] = f"raises ECE from {raw_ece:.4f} to {fitted_ece:.4f}"
            continue
        return cal, cands, False
    cal = TemperatureScaler()
    cal.temperature_ = 1.0
    return cal, cands, True


def calibrate_checkpoint(cfg: CalibrateConfig, paths: Paths) -> dict:
    """Fit, write calibration.json into the version folder, append to models/calibration_log.json."""
    import numpy as np

    from utils.store import atomic_path, new_id, read_json, read_records, utc_now, write_json_atomic
    from utils.vote_predictor.calibrators import to_dict
    from utils.vote_predictor.checkpoints import resolve_version_dir
    from utils.vote_predictor.metrics import plot_reliability, summary
    from utils.vote_predictor.predict import load_predictor

    folder = resolve_version_dir(cfg.checkpoint, paths)
    data = Path(cfg.data) if cfg.data else paths.training_data
    ex = [e for e in read_records(data, "training_example") if e["split"] == cfg.split and e["label"] in ("A", "B")]
    if len(ex) < 10:
        raise UserError(f"{data} has {len(ex)} A/B examples in the {cfg.split!r} split; calibration needs at least 10 "
                        "(rerun data_prep.py with more votes or a larger --cal-frac)")
    pred = load_predictor(folder, paths)
    prompts = [e["prompt"] for e in ex]
    r = pred.score(prompts + prompts, [e["response_a"] for e in ex] + [e["response_b"] for e in ex])
    z = r[:len(ex)] - r[len(ex):]
    y = np.array([e["label"] == "A" for e in ex], dtype=float)
    raw = 1 / (1 + np.exp(-z))
    cal, cands, identity = choose_calibrator(z, y, cfg.folds, cfg.seed, cfg.n_bins)
    after_p = cal.predict_prob_a(z)
    before, after = summary(raw, y, cfg.n_bins), summary(after_p, y, cfg.n_bins)
    cal_id = new_id("cal")
    now = utc_now()
    png = paths.calibration_log.parent / f"calibration_{folder.name}_{cal_id}.png"
    import matplotlib
    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(5, 5))
    plot_reliability(raw, y, cfg.n_bins, ax=ax, label="before")
    plot_reliability(after_p, y, cfg.n_bins, ax=ax, label=f"after ({cal.method})",
                     title=f"vote predictor {folder.name}, {cfg.split} split (n={len(ex)})")
    with atomic_path(png) as tmp:
        fig.savefig(tmp, dpi=100, format="png")
    plt.close(fig)
    entry = {"id": cal_id, "created_at": now, "model_version": folder.name, "checkpoint": str(folder),
             "method": cal.method, "params": cal.params(), "kept_identity": identity, "n": len(ex),
             "data": str(data), "split": cfg.split, "n_bins": cfg.n_bins, "before": before, "after": after,
             "candidates": cands, "reliability_png": str(png)}
    write_json_atomic(folder / "calibration.json", dict(to_dict(cal), id=cal_id, created_at=now,
                                                       model_version=folder.name))
    logf = read_json(paths.calibration_log, None) or {"calibrations": []}
    logf.setdefault("calibrations", []).append(entry)
    logf["latest"] = cal_id
    write_json_atomic(paths.calibration_log, logf)
    return entry


def build_parser() -> argparse.ArgumentParser:
    return script_parser(__doc__, CalibrateConfig)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    setup_logging(args)

    def body() -> int:
        cfg = config_from_args(CalibrateConfig, args)
        paths = Paths.from_args(args)
        e = calibrate_checkpoint(cfg, paths)
        b, a = e["before"], e["after"]
        print(f"{e['model_version']}: {e['method']} {e['params']} on {e['n']} pairs "
              f"(held-out NLL: " + ", ".join(f"{k} {v['heldout_nll']:.4f}" for k, v in e["candidates"].items()) + ")")
        for k, v in e["candidates"].items():
            if v.get("rejected"):
                print(f"  {k} not used: {v['rejected']}")
        if e["kept_identity"]:
            print("  kept the raw probabilities (temperature 1): no candidate improved on them")
        print(f"  before: accuracy {b['accuracy']:.3f}  ECE {b['ece']:.4f}  MCE {b['mce']:.4f}  "
              f"Brier {b['brier']:.4f}  NLL {b['nll']:.4f}")
        print(f"  after:  accuracy {a['accuracy']:.3f}  ECE {a['ece']:.4f}  MCE {a['mce']:.4f}  "
              f"Brier {a['brier']:.4f}  NLL {a['nll']:.4f}")
        print(f"  logged {e['id']} in {paths.calibration_log}; reliability diagram {e['reliability_png']}")
        return 0

    return run_cli(body)


if __name__ == "__main__":
    sys.exit(main())
