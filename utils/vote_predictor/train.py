#!/usr/bin/env python3
"""Train the vote predictor (Bradley-Terry reward model) into a new checkpoint version.

    python utils/vote_predictor/train.py --epochs 3
    python utils/vote_predictor/train.py --retrain --checkpoint models/vote_predictor_checkpoint
"""
from __future__ import annotations

import argparse
import logging
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

if __package__ in (None, ""):  # run as `python path/to/script.py`: make the repo root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from utils.cli import UserError, config_from_args, field, run_cli, script_parser, setup_logging
from utils.paths import Paths

log = logging.getLogger("rlhf_loop.vote_predictor.train")


@dataclass
class TrainConfig:
    base_model: str = field("", help="local HF encoder folder (default: the shipped all-MiniLM-L6-v2)")
    epochs: int = field(3, help="passes over the training split (early stopping may end sooner)")
    lr: float = field(1e-4, help="learning rate of the trainable encoder layers")
    head_lr: float = field(1e-3, help="learning rate of the reward head")
    batch_size: int = field(16, help="pairs per optimisation step")
    max_length: int = field(256, help="tokens per (prompt, response) input")
    max_prompt_tokens: int = field(48, help="keep at most this many tokens of the END of the prompt (the last "
                                              "request; more context did not help on HH and costs time)")
    freeze_layers: int = field(4, help="freeze the embeddings and this many bottom layers; their outputs are "
                                       "computed once and cached (0 = fine-tune everything)")
    dropout: bool = field(False, help="keep the encoder's dropout while training (off by default, as in TRL's "
                                      "RewardTrainer: a train step then costs ~30%% less here)")
    weight_decay: float = field(0.01, help="AdamW weight decay")
    warmup_frac: float = field(0.1, help="share of steps with linear warm-up")
    patience: int = field(1, help="epochs without validation improvement before stopping")
    lexical: bool = field(True, help="stack a TF-IDF+LR lexical reward with the transformer on the validation split")
    seed: int = field(0, help="random seed")
    device: str = field("auto", help="auto (CUDA when present), cpu or cuda")
    bf16: str = field("auto", help="bf16 autocast: auto (GPU or CPU with native bf16), on, off",
                      choices=("auto", "on", "off"))
    threads: int = field(2, help="CPU threads for torch")
    max_steps: int | None = field(None, help="stop after this many optimisation steps (smoke tests)")
    data: str | None = field(None, help="training file (default: data/vote_predictor_training_data.jsonl, "
                                        "or the retrain file with --retrain)")
    retrain: bool = field(False, help="fine-tune the latest checkpoint on data/vote_predictor_retrain_data.jsonl")
    checkpoint: str | None = field(None, help="checkpoint root or version folder to retrain from (default: latest)")
    progress: bool = field(True, help="show progress bars")

    def __post_init__(self):
        for name in ("epochs", "batch_size", "max_length", "threads"):
            if getattr(self, name) < 1:
                raise ValueError(f"--{name.replace('_', '-')} must be >= 1, got {getattr(self, name)}")
        if self.max_length < 16:
            raise ValueError(f"--max-length {self.max_length} is too short; use at least 16 (256 is the default)")
        if self.checkpoint and not self.retrain:
            raise ValueError("--checkpoint only applies with --retrain; add --retrain or drop --checkpoint")


def json_safe(obj):
    """NaN/inf -> None, numpy scalars -> floats (strict JSON for logs and history)."""
    import math
    if isinstance(obj, dict):
        return {k: json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    if hasattr(obj, "item") and not isinstance(obj, (str, bytes)):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def load_examples(path: Path) -> list[dict]:
    from utils.store import read_records
    if not path.exists():
        raise UserError(f"training data {path} does not exist; run python utils/vote_predictor/data_prep.py first")
    ex = read_records(path, "training_example")
    if not ex:
        raise UserError(f"training data {path} has no valid examples; rerun utils/vote_predictor/data_prep.py")
    return ex


def train_vote_predictor(cfg: TrainConfig, paths: Paths) -> Path:
    """Train (or retrain) and publish the next version folder; returns its path."""
    import numpy as np
    import torch

    from utils.store import file_sha256, utc_now, write_json_atomic
    from utils.vote_predictor import checkpoints as ck
    from utils.vote_predictor.lexical import LexicalReward
    from utils.vote_predictor.model import RewardModel, pick_device
    from utils.vote_predictor.trainer import evaluate, fit_stack, make_pair_data, train_loop

    torch.manual_seed(cfg.seed)
    torch.set_num_threads(cfg.threads)
    device = pick_device(cfg.device)
    data_path = Path(cfg.data) if cfg.data else (paths.retrain_data if cfg.retrain else paths.training_data)
    examples = load_examples(data_path)
    train = [e for e in examples if e["split"] == "train"]
    val = [e for e in examples if e["split"] == "validation"]
    if cfg.retrain and not val and paths.training_data.exists() and data_path != paths.training_data:
        val = [e for e in load_examples(paths.training_data) if e["split"] == "validation"]
    if not train:
        raise UserError(f"{data_path} has no examples in the 'train' split; rerun data_prep with more votes")

    parent, lexical, parent_cfg = None, None, {}
    if cfg.retrain:
        parent_dir = ck.resolve_version_dir(cfg.checkpoint, paths)
        model, parent_cfg = RewardModel.load(parent_dir)
        lexical = LexicalReward.load(parent_dir)
        parent = parent_dir.name
        base = parent_cfg.get("base_model", "?")
    else:
        base = cfg.base_model
        if not base:
            from utils.model_files import minilm_path
            base = str(minilm_path())
        model = RewardModel.from_base(base, cfg.max_length, cfg.max_prompt_tokens)
    model.freeze_bottom(cfg.freeze_layers)
    if not cfg.dropout:
        model.disable_dropout()
    train_d, val_d = make_pair_data(model, train), make_pair_data(model, val)
    log.info("training on %d pairs (%d distinct texts), validating on %d, device %s", len(train_d),
             len(train_d.seqs), len(val_d), device)
    metrics = train_loop(model, train_d, val_d, epochs=cfg.epochs, lr=cfg.lr, head_lr=cfg.head_lr,
                         batch_size=cfg.batch_size, weight_decay=cfg.weight_decay, warmup_frac=cfg.warmup_frac,
                         patience=cfg.patience, seed=cfg.seed, device=device, bf16=cfg.bf16,
                         max_steps=cfg.max_steps, progress=cfg.progress)

    # Ensemble: reward = w_t * r_transformer + w_l * r_lexical, weights stacked on validation.
    weights = dict(parent_cfg.get("ensemble", {"transformer": 1.0, "lexical": 0.0}))
    if cfg.lexical and not cfg.retrain:
        lexical = LexicalReward().fit([e["response_a"] for e in train], [e["response_b"] for e in train],
                                      [{"A": 1.0, "B": 0.0, "tie": 0.5}[e["label"]] for e in train],
                                      [e.get("weight", 1.0) for e in train])
    val_z = metrics.pop("val_z", None)
    if lexical is not None and len(val_d) >= 20:
        if val_z is None or len(val_z) != len(val_d):  # no validation pass in train_loop: score it now
            val_z = evaluate(model, val_d, cfg.batch_size * 2, device, cfg.bf16)["z"]
        z_lex = lexical.reward([e["response_a"] for e in val]) - lexical.reward([e["response_b"] for e in val])
        w = fit_stack(np.stack([val_z, z_lex], axis=1), val_d.y)
        weights = {"transformer": float(w[0]), "lexical": float(w[1])}
        z = w[0] * val_z + w[1] * z_lex
        dec = val_d.y != 0.5
        metrics["val_accuracy_ensemble"] = float(np.mean((z[dec] > 0) == (val_d.y[dec] == 1)))
        log.info("stacked ensemble weights %s: validation accuracy %.3f (transformer alone %.3f)",
                 weights, metrics["val_accuracy_ensemble"], metrics.get("val_accuracy") or float("nan"))
    elif lexical is None:
        weights = {"transformer": 1.0, "lexical": 0.0}

    root = paths.checkpoint
    staged = ck.staging_dir(root)
    try:
        model.to("cpu").save(staged, {"ensemble": weights})
        if lexical is not None:
            lexical.save(staged)
        counts = {s: sum(e["split"] == s for e in examples) for s in ("train", "validation", "calibration", "test")}
        meta = {"version": None, "parent_version": parent, "created_at": utc_now(), "base_model": base,
                "config": asdict(cfg), "command": " ".join(sys.argv), "ensemble": weights,
                "data": {"path": str(data_path), "sha256": file_sha256(data_path), "counts": counts,
                         "validation_pairs": len(val)},
                "metrics": json_safe(metrics)}
        write_json_atomic(staged / "training_meta.json", meta)
        final = ck.publish(root, staged, {"parent_version": parent, "created_at": meta["created_at"],
                                          "base_model": base, "data_sha256": meta["data"]["sha256"],
                                          "metrics": json_safe({k: v for k, v in metrics.items() if k != "history"})})
    except BaseException:
        import shutil
        shutil.rmtree(staged, ignore_errors=True)
        raise
    return final


def build_parser() -> argparse.ArgumentParser:
    return script_parser(__doc__, TrainConfig)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    setup_logging(args)

    def body() -> int:
        cfg = config_from_args(TrainConfig, args)
        from utils.store import read_json
        folder = train_vote_predictor(cfg, Paths.from_args(args))
        m = read_json(folder / "training_meta.json")["metrics"]
        print(f"saved {folder} (latest); val loss {m['val_loss']}, val accuracy {m['val_accuracy']}, "
              f"ensemble val accuracy {m.get('val_accuracy_ensemble', 'n/a')}, "
              f"{m['epochs_run']} epochs, {m['train_seconds']:.1f}s, {m['train_pairs_per_s']:.1f} pairs/s")
        print("next: python utils/vote_predictor/calibrate.py")
        return 0

    return run_cli(body)


if __name__ == "__main__":
    sys.exit(main())
