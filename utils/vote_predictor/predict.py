#!/usr/bin/env python3
"""Predict which completion people prefer, with calibrated confidence -> data/predictions.jsonl.

    python utils/vote_predictor/predict.py                  # every pair of data/pairs.jsonl
    python utils/vote_predictor/predict.py --interactive
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

log = logging.getLogger("rlhf_loop.vote_predictor.predict")


@dataclass
class PredictConfig:
    checkpoint: str | None = field(None, help="checkpoint root or version folder (default: latest)")
    pairs: str | None = field(None, help="pairs file to predict (default: data/pairs.jsonl, synced from completions)")
    limit: int | None = field(None, help="predict at most this many pairs")
    new_only: bool = field(False, help="skip pairs that already have a prediction from this model version")
    batch_size: int = field(32, help="sequences per forward pass")
    interactive: bool = field(False, help="type a prompt and two completions, print the prediction")
    threads: int = field(2, help="CPU threads for torch")


class Predictor:
    """A loaded checkpoint version: rewards (cached per (prompt, response)), calibration."""

    def __init__(self, folder: Path, threads: int = 2):
        import torch

        from utils.vote_predictor.lexical import LexicalReward
        from utils.vote_predictor.model import RewardModel, pick_device
        torch.set_num_threads(threads)
        self.folder, self.version = folder, folder.name
        self.model, self.cfg = RewardModel.load(folder)
        self.device = pick_device("auto")
        self.model.to(self.device)
        self.lexical = LexicalReward.load(folder)
        self.weights = self.cfg.get("ensemble", {"transformer": 1.0, "lexical": 0.0})
        self.base_model = Path(str(self.cfg.get("base_model", "?"))).name or "?"
        self._cache: dict[str, float] = {}
        self._cal_mtime = None
        self.calibrator, self.calibration_id = None, None
        self.refresh_calibration()

    def refresh_calibration(self) -> None:
        """Pick up a calibration.json written after this version was loaded."""
        from utils.store import read_json
        from utils.vote_predictor.calibrators import from_dict
        f = self.folder / "calibration.json"
        mtime = f.stat().st_mtime_ns if f.exists() else None
        if mtime == self._cal_mtime:
            return
        self._cal_mtime = mtime
        cal = read_json(f) if mtime else None
        self.calibrator = from_dict(cal) if cal else None
        self.calibration_id = cal.get("id") if cal else None

    def score(self, prompts: list[str], responses: list[str], batch_size: int = 32,
              progress: bool = False) -> "np.ndarray":
        """Ensemble rewards (n,); each distinct (prompt, response) is scored once per process."""
        import numpy as np

        from utils.store import content_id
        keys = [content_id("r", p, r) for p, r in zip(prompts, responses)]
        todo = {}
        for k, p, r in zip(keys, prompts, responses):
            if k not in self._cache and k not in todo:
                todo[k] = (p, r)
        if todo:
            ps, rs = [v[0] for v in todo.values()], [v[1] for v in todo.values()]
            rew = self.weights["transformer"] * self.model.score(ps, rs, batch_size=batch_size, device=self.device,
                                                                 progress=progress)
            if self.lexical is not None and self.weights.get("lexical"):
                rew = rew + self.weights["lexical"] * self.lexical.reward(rs)
            self._cache.update(zip(todo, rew.tolist()))
        return np.array([self._cache[k] for k in keys], dtype=float)

    def prob_a(self, z) -> tuple["np.ndarray", "np.ndarray"]:
        """(raw, calibrated) P(A preferred) from reward differences."""
        import numpy as np
        z = np.asarray(z, dtype=float)
        raw = 1.0 / (1.0 + np.exp(-np.clip(z, -500, 500)))
        return raw, (self.calibrator.predict_prob_a(z) if self.calibrator is not None else raw)


_PREDICTORS: dict[str, Predictor] = {}


def load_predictor(checkpoint: str | Path | None = None, paths: Paths | None = None, threads: int = 2) -> Predictor:
    """The predictor of a version folder, loaded once per process (keyed on the folder)."""
    from utils.vote_predictor.checkpoints import resolve_version_dir
    folder = resolve_version_dir(checkpoint, paths).resolve()
    key = str(folder)
    if key not in _PREDICTORS:
        try:
            _PREDICTORS[key] = Predictor(folder, threads)
        except (OSError, KeyError, ValueError) as exc:
            raise UserError(f"{folder} is not a loadable vote predictor checkpoint ({exc}); "
                            "retrain with python utils/vote_predictor/train.py") from exc
    pred = _PREDICTORS[key]
    pred.refresh_calibration()
    return pred


def predict_pairs(pairs: list[dict], checkpoint: str | Path | None = None, *, paths: Paths | None = None,
                  batch_size: int = 32, progress: bool = False) -> list[dict]:
    """Schema-valid ``prediction`` records for ``pairs`` in input order (not written)."""
    import numpy as np

    from utils.schema import validate
    from utils.store import new_id, utc_now
    for i, p in enumerate(pairs):
        missing = [k for k in ("id", "prompt", "response_a", "response_b") if not isinstance(p.get(k), str)]
        if missing:
            raise UserError(f"pair #{i} ({p.get('id', 'no id')}) lacks {', '.join(missing)}; "
                            "predict_pairs needs id, prompt, response_a and response_b")
    if not pairs:
        return []
    pred = load_predictor(checkpoint, paths)
    prompts = [p["prompt"] for p in pairs]
    r = pred.score(prompts + prompts, [p["response_a"] for p in pairs] + [p["response_b"] for p in pairs],
                   batch_size=batch_size, progress=progress)
    ra, rb = r[:len(pairs)], r[len(pairs):]
    raw, cal = pred.prob_a(ra - rb)
    now = utc_now()
    out = []
    for p, a, b, r0, pa in zip(pairs, ra, rb, raw, cal):
        pa = float(np.clip(pa, 0.0, 1.0))
        rec = {"id": new_id("pred"), "pair_id": p["id"], "prob_a": pa, "choice": "A" if pa >= 0.5 else "B",
               "confidence": max(pa, 1.0 - pa), "reward_a": float(a), "reward_b": float(b),
               "raw_prob_a": float(np.clip(r0, 0.0, 1.0)), "model_version": pred.version, "model": pred.base_model,
               "calibration_id": pred.calibration_id, "created_at": now}
        for k in ("prompt_id", "completion_a_id", "completion_b_id"):
            if p.get(k):
                rec[k] = p[k]
        out.append(validate("prediction", rec))
    return out


def interactive(cfg: PredictConfig, paths: Paths) -> int:
    pred = load_predictor(cfg.checkpoint, paths, cfg.threads)
    print(f"vote predictor {pred.version} (calibration {pred.calibration_id or 'none'}); empty prompt or Ctrl-D quits")
    while True:
        try:
            prompt = input("prompt> ").strip()
            if not prompt:
                return 0
            a, b = input("completion A> ").strip(), input("completion B> ").strip()
        except EOFError:
            return 0
        rec = predict_pairs([{"id": "interactive", "prompt": prompt, "response_a": a, "response_b": b}],
                            cfg.checkpoint, paths=paths)[0]
        print(f"P(A preferred) = {rec['prob_a']:.3f} -> {rec['choice']} (confidence {rec['confidence']:.3f}; "
              f"rewards A {rec['reward_a']:.3f}, B {rec['reward_b']:.3f})")


def build_parser() -> argparse.ArgumentParser:
    return script_parser(__doc__, PredictConfig)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    setup_logging(args)

    def body() -> int:
        from utils.store import append_records, read_records
        cfg = config_from_args(PredictConfig, args)
        paths = Paths.from_args(args)
        if cfg.interactive:
            return interactive(cfg, paths)
        version = load_predictor(cfg.checkpoint, paths, cfg.threads).version  # fail early on a bad checkpoint
        if cfg.pairs:
            if not Path(cfg.pairs).exists():
                raise UserError(f"pairs file {cfg.pairs} does not exist")
            pairs = read_records(cfg.pairs, "pair")
        else:
            from utils.pairs import sync_pairs
            pairs = sync_pairs(paths)
        if cfg.new_only:
            done = {r["pair_id"] for r in read_records(paths.predictions, "prediction") if r["model_version"] == version}
            pairs = [p for p in pairs if p["id"] not in done]
        pairs = pairs[:cfg.limit] if cfg.limit is not None else pairs
        if not pairs:
            print(f"no pairs to predict (import some with utils/vote_predictor/import_data.py or generate completions)")
            return 0
        recs = predict_pairs(pairs, cfg.checkpoint, paths=paths, batch_size=cfg.batch_size, progress=True)
        append_records(paths.predictions, recs, "prediction")
        confident = sum(r["confidence"] >= 0.8 for r in recs)
        print(f"wrote {len(recs)} predictions ({recs[0]['model_version']}, calibration {recs[0]['calibration_id']}) "
              f"to {paths.predictions}; {confident} at confidence >= 0.8")
        return 0

    return run_cli(body)


if __name__ == "__main__":
    sys.exit(main())
