"""Shared helpers for the vote predictor tests: a tiny BERT base model and example data."""
from __future__ import annotations

import random
from pathlib import Path


def make_tiny_base(folder: Path, seed: int = 0) -> Path:
    """A 2-layer, 32-wide BERT with the MiniLM tokenizer, saved as a local HF folder."""
    import torch
    from transformers import AutoTokenizer, BertConfig, BertModel

    from utils.model_files import minilm_path
    if (folder / "config.json").exists():
        return folder
    torch.manual_seed(seed)
    tok = AutoTokenizer.from_pretrained(minilm_path())
    cfg = BertConfig(vocab_size=tok.vocab_size, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                     intermediate_size=64, max_position_embeddings=512)
    BertModel(cfg).save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder


def synthetic_examples(n: int = 60, seed: int = 0) -> list[dict]:
    """Training examples where the polite answer wins: learnable by a tiny model."""
    from utils.store import content_id, utc_now
    rng = random.Random(seed)
    topics = ["tea", "rust", "maps", "cats", "tax", "bikes", "jazz", "soil", "glue", "rain", "wool", "dice"]
    out = []
    for i in range(n):
        t = topics[i % len(topics)]
        prompt = f"Human: tell me about {t} please ({i // len(topics)})"
        good, bad = f"Sure, happy to help with {t}, here is a kind answer.", f"No. {t} is stupid, go away."
        a_wins = rng.random() < 0.5
        ra, rb = (good, bad) if a_wins else (bad, good)
        split = ["train", "train", "train", "validation", "calibration"][i % 5]
        out.append({"id": content_id("te", str(i)), "vote_id": f"v_{i}", "prompt_id": content_id("p", prompt),
                    "prompt": prompt, "response_a": ra, "response_b": rb, "label": "A" if a_wins else "B",
                    "split": split, "model": "data_prep", "created_at": utc_now(), "weight": 1.0})
    return out


def tiny_model(base: Path, **kw):
    from utils.vote_predictor.model import RewardModel
    import torch
    torch.manual_seed(0)
    return RewardModel.from_base(base, **kw)
