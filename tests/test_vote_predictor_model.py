"""Reward model on a tiny BERT: training moves weights, antisymmetry, truncation, save/load."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from tests.vote_predictor_helpers import make_tiny_base, synthetic_examples, tiny_model
from utils.vote_predictor.model import RewardModel, build_input
from utils.vote_predictor.trainer import batch_logits, fit_stack, make_pair_data, pair_loss, train_loop


@pytest.fixture(scope="module")
def tiny_base(tmp_path_factory):
    return make_tiny_base(tmp_path_factory.mktemp("tiny"))


def test_two_training_steps_change_parameters_and_loss_is_finite(tiny_base):
    torch.set_num_threads(1)
    model = tiny_model(tiny_base)
    data = make_pair_data(model, synthetic_examples(8))
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    for step in range(2):
        idx = np.arange(4 * step, 4 * step + 4)
        z = batch_logits(model, data, idx, torch.device("cpu"))
        loss = pair_loss(z, torch.tensor(data.y[idx], dtype=torch.float32), torch.ones(4))
        assert torch.isfinite(loss)
        opt.zero_grad()
        loss.backward()
        opt.step()
    changed = [n for n, p in model.named_parameters() if not torch.equal(before[n], p.detach())]
    assert any(n.startswith("head.") for n in changed)
    assert any("encoder.layer.1" in n for n in changed)


def test_probabilities_are_exactly_antisymmetric(tiny_base):
    model = tiny_model(tiny_base)
    rng = np.random.default_rng(0)
    words = ["apple", "stone", "river", "quiet", "loud", "never", "always", "maybe"]
    prompts = [" ".join(rng.choice(words, 5)) for _ in range(12)]
    ra = [" ".join(rng.choice(words, int(rng.integers(1, 30)))) for _ in range(12)]
    rb = [" ".join(rng.choice(words, int(rng.integers(1, 30)))) for _ in range(12)]
    r1 = model.score(prompts + prompts, ra + rb)
    r2 = model.score(prompts + prompts, rb + ra)  # sides swapped, different batch composition
    p_ab = 1 / (1 + np.exp(-(r1[:12] - r1[12:])))
    p_ba = 1 / (1 + np.exp(-(r2[:12] - r2[12:])))
    np.testing.assert_allclose(p_ab + p_ba, 1.0, atol=1e-6)


def test_truncation_keeps_response_and_end_of_prompt(tiny_base):
    model = tiny_model(tiny_base)
    tok = model.tokenizer
    p = list(range(1000, 1300))
    r = list(range(2000, 2040))
    ids = build_input(tok, p, r, max_length=64, max_prompt_tokens=128)
    assert len(ids) == 64
    assert ids[0] == tok.cls_token_id and ids[-1] == tok.sep_token_id
    assert ids[-41:-1] == r  # whole response
    assert ids[1:-42] == p[-21:]  # the END of the prompt fills the rest
    long_r = list(range(3000, 3500))
    ids = build_input(tok, p, long_r, max_length=64, max_prompt_tokens=128)
    assert len(ids) == 64 and ids[1:16] == p[-15:]  # prompt keeps a quarter of the budget


def test_save_load_round_trip_gives_identical_rewards(tiny_base, tmp_path):
    model = tiny_model(tiny_base, max_length=48, max_prompt_tokens=16)
    ex = synthetic_examples(30)
    train_loop(model, make_pair_data(model, ex[:20]), make_pair_data(model, ex[20:]), epochs=1, lr=1e-3,
               head_lr=1e-2, batch_size=8, weight_decay=0.0, warmup_frac=0.0, patience=1, seed=0,
               device=torch.device("cpu"), progress=False)
    prompts, resp = [e["prompt"] for e in ex], [e["response_a"] for e in ex]
    before = model.score(prompts, resp)
    model.save(tmp_path / "ck", {"ensemble": {"transformer": 1.0, "lexical": 0.0}})
    assert not list((tmp_path / "ck").glob("*.bin")) and not list((tmp_path / "ck").glob("*.pt"))
    loaded, cfg = RewardModel.load(tmp_path / "ck")
    assert cfg["max_length"] == 48 and cfg["max_prompt_tokens"] == 16
    np.testing.assert_allclose(loaded.score(prompts, resp), before, rtol=1e-5, atol=1e-6)


def test_train_loop_learns_a_learnable_preference(tiny_base):
    torch.manual_seed(0)
    model = tiny_model(tiny_base, max_length=48)
    ex = synthetic_examples(60)
    tr = make_pair_data(model, [e for e in ex if e["split"] == "train"])
    va = make_pair_data(model, [e for e in ex if e["split"] == "validation"])
    m = train_loop(model, tr, va, epochs=4, lr=3e-3, head_lr=3e-2, batch_size=8, weight_decay=0.0,
                   warmup_frac=0.0, patience=3, seed=0, device=torch.device("cpu"), progress=False)
    assert np.isfinite(m["train_loss"]) and m["val_accuracy"] >= 0.9


def test_fit_stack_weights_are_nonnegative_and_pick_the_useful_member():
    rng = np.random.default_rng(0)
    y = (rng.random(400) < 0.5).astype(float)
    useful = (2 * y - 1) * 2 + rng.normal(0, 1, 400)
    noise = rng.normal(0, 1, 400)
    w = fit_stack(np.stack([useful, noise], 1), y)
    assert w[0] > 0.5 and w[1] >= 0 and w[1] < 0.2 * w[0]


def test_split_forward_matches_full_forward(tiny_base):
    from utils.vote_predictor.model import pad_batch
    model = tiny_model(tiny_base).eval()
    seqs = model.encode(["a question", "another longer question here"], ["short", "a much longer answer to it"])
    ids, mask = pad_batch(seqs, 0)
    with torch.no_grad():
        full = model(ids, mask)
        for k in (0, 1, 2):
            torch.testing.assert_close(model.top(model.bottom(ids, mask, k), mask, k), full, rtol=1e-5, atol=1e-6)


def test_frozen_layers_are_cached_and_stay_fixed(tiny_base):
    model = tiny_model(tiny_base, max_length=48)
    model.freeze_bottom(1)
    ex = synthetic_examples(30)
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    m = train_loop(model, make_pair_data(model, ex[:20]), make_pair_data(model, ex[20:]), epochs=1, lr=1e-3,
                   head_lr=1e-2, batch_size=8, weight_decay=0.0, warmup_frac=0.0, patience=1, seed=0,
                   device=torch.device("cpu"), progress=False)
    assert np.isfinite(m["train_loss"])
    for n, p in model.named_parameters():
        if ".pooler." in n or n == "head.bias":  # unused (mean pooling) / cancels in r_A - r_B
            continue
        frozen = n.startswith("encoder.embeddings") or "encoder.layer.0." in n
        assert torch.equal(before[n], p.detach()) == frozen, n


def test_disable_dropout_makes_train_mode_deterministic(tiny_base):
    model = tiny_model(tiny_base)
    data = make_pair_data(model, synthetic_examples(6))
    model.train()
    idx = np.arange(6)
    torch.manual_seed(0)
    with torch.no_grad():
        noisy = [batch_logits(model, data, idx, torch.device("cpu")) for _ in range(2)]
    assert not torch.equal(noisy[0], noisy[1])  # the tiny BERT's dropout is on by default
    model.disable_dropout()
    with torch.no_grad():
        a, b = (batch_logits(model, data, idx, torch.device("cpu")) for _ in range(2))
    assert torch.equal(a, b)
    model.eval()
    with torch.no_grad():
        assert torch.allclose(a, batch_logits(model, data, idx, torch.device("cpu")), atol=1e-6)
