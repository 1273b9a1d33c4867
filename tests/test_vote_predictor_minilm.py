"""The real shipped MiniLM: a few training steps on 64 real HH pairs through the train CLI."""
from __future__ import annotations

import numpy as np

from utils.store import read_json
from utils.vote_predictor import data_prep, import_data, train
from utils.vote_predictor.predict import load_predictor, predict_pairs


def test_minilm_trains_a_few_steps_on_real_pairs(paths, hh_file):
    assert import_data.main([str(hh_file), "--limit", "64"]) == 0
    assert data_prep.main(["--val-frac", "0.2", "--cal-frac", "0.1"]) == 0
    # default --base-model is the shipped all-MiniLM-L6-v2
    assert train.main(["--max-steps", "2", "--batch-size", "4", "--max-length", "64", "--no-progress"]) == 0
    folder = paths.checkpoint / "v0001"
    meta = read_json(folder / "training_meta.json")
    assert meta["base_model"].endswith("model") and "all-MiniLM" not in meta.get("error", "")
    assert np.isfinite(meta["metrics"]["train_loss"]) and meta["metrics"]["steps"] == 2
    pred = load_predictor(paths=paths)
    assert pred.model.encoder.config.hidden_size == 384
    from safetensors.torch import load_file
    saved = load_file(folder / "model.safetensors")
    from transformers import AutoModel
    from utils.model_files import minilm_path
    orig = AutoModel.from_pretrained(minilm_path()).state_dict()
    moved = [k for k in saved if k in orig and not np.allclose(saved[k].numpy(), orig[k].numpy())]
    assert moved, "two optimisation steps should change the encoder weights"
    from utils.pairs import load_pairs
    pairs = list(load_pairs(paths).values())[:8]
    recs = predict_pairs(pairs)
    flipped = predict_pairs([dict(p, response_a=p["response_b"], response_b=p["response_a"]) for p in pairs])
    np.testing.assert_allclose([r["prob_a"] for r in recs], [1 - r["prob_a"] for r in flipped], atol=1e-9)
    assert len({round(r["reward_a"], 6) for r in recs}) > 1  # real, input-dependent scores
