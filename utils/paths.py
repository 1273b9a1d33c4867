"""Where every file of the data flow lives.

All paths derive from one root (the repo root by default). ``RLHF_HOME`` moves the whole
tree (tests point it at ``tmp_path``); ``RLHF_DATA_DIR`` / ``RLHF_MODELS_DIR`` or the
``--data-dir`` / ``--models-dir`` flags move one folder.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Paths:
    root: Path
    data_dir: Path
    models_dir: Path
    prompts_dir: Path

    @classmethod
    def resolve(cls, root=None, data_dir=None, models_dir=None, prompts_dir=None) -> "Paths":
        """Flags win over environment variables, which win over the repo layout."""
        base = Path(root or os.environ.get("RLHF_HOME") or REPO_ROOT)
        return cls(
            root=base,
            data_dir=Path(data_dir or os.environ.get("RLHF_DATA_DIR") or base / "data"),
            models_dir=Path(models_dir or os.environ.get("RLHF_MODELS_DIR") or base / "models"),
            prompts_dir=Path(prompts_dir or os.environ.get("RLHF_PROMPTS_DIR") or base / "prompts"),
        )

    @classmethod
    def from_args(cls, args) -> "Paths":
        return cls.resolve(
            getattr(args, "root", None), getattr(args, "data_dir", None),
            getattr(args, "models_dir", None), getattr(args, "prompts_dir", None),
        )

    # The data flow of DEVELOPERS.md, one property per arrow.
    @property
    def prompts(self) -> Path: return self.prompts_dir / "generated_prompts.jsonl"
    @property
    def completions(self) -> Path: return self.data_dir / "raw_completions_log.jsonl"
    @property
    def pairs(self) -> Path: return self.data_dir / "pairs.jsonl"
    @property
    def votes(self) -> Path: return self.data_dir / "votes.jsonl"
    @property
    def training_data(self) -> Path: return self.data_dir / "vote_predictor_training_data.jsonl"
    @property
    def predictions(self) -> Path: return self.data_dir / "predictions.jsonl"
    @property
    def retrain_data(self) -> Path: return self.data_dir / "vote_predictor_retrain_data.jsonl"
    @property
    def batch_results(self) -> Path: return self.data_dir / "batch_results"
    @property
    def checkpoint(self) -> Path: return self.models_dir / "vote_predictor_checkpoint"
    @property
    def meta_reflection_log(self) -> Path: return self.models_dir / "meta_reflection_log.jsonl"
    @property
    def calibration_log(self) -> Path: return self.models_dir / "calibration_log.json"
    @property
    def drift_dir(self) -> Path: return self.models_dir / "drift_analysis"
    @property
    def loop_history(self) -> Path: return self.models_dir / "loop_history.jsonl"
    @property
    def local_llm_cache(self) -> Path: return self.models_dir / "local_llm"
