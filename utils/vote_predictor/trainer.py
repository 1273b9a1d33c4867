"""The Bradley-Terry training loop and the lexical stacking, apart from files and flags.

Loss per pair: BCE-with-logits(r_A - r_B, y) with y = 1 (A), 0 (B), 0.5 (tie), times the
example weight. Each distinct (prompt, response) is tokenised once and, within a batch,
encoded once; batches are length-grouped (shuffled mega-batches sorted by length) so
padding stays small.
"""
from __future__ import annotations

import copy
import logging
import math
import random
import time
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from utils.vote_predictor.model import RewardModel, autocast_ctx

log = logging.getLogger("rlhf_loop.vote_predictor.trainer")

LABEL_Y = {"A": 1.0, "B": 0.0, "tie": 0.5}


@dataclass
class PairData:
    seqs: list[list[int]]     # distinct token sequences
    a: np.ndarray             # (n_pairs,) index into seqs of side A
    b: np.ndarray             # (n_pairs,) index of side B
    y: np.ndarray             # (n_pairs,) target P(A)
    w: np.ndarray             # (n_pairs,) weight

    def __len__(self):
        return len(self.y)


def make_pair_data(model: RewardModel, examples: list[dict]) -> PairData:
    keys: dict[tuple[str, str], int] = {}
    texts: list[tuple[str, str]] = []
    a, b = [], []
    for e in examples:
        for side, out in (("response_a", a), ("response_b", b)):
            k = (e["prompt"], e[side])
            if k not in keys:
                keys[k] = len(texts)
                texts.append(k)
            out.append(keys[k])
    seqs = model.encode([t[0] for t in texts], [t[1] for t in texts]) if texts else []
    return PairData(seqs, np.array(a, dtype=int), np.array(b, dtype=int),
                    np.array([LABEL_Y[e["label"]] for e in examples], dtype=float),
                    np.array([float(e.get("weight", 1.0) or 1.0) for e in examples], dtype=float))


def length_grouped_batches(data: PairData, batch_size: int, rng: random.Random) -> list[np.ndarray]:
    """Shuffle, cut into mega-batches of 32 batches, sort each by length, shuffle the batches."""
    order = list(range(len(data)))
    rng.shuffle(order)
    length = [max(len(data.seqs[data.a[i]]), len(data.seqs[data.b[i]])) for i in range(len(data))]
    mega = batch_size * 32
    batches = []
    for s in range(0, len(order), mega):
        chunk = sorted(order[s:s + mega], key=lambda i: -length[i])
        batches += [np.array(chunk[k:k + batch_size]) for k in range(0, len(chunk), batch_size)]
    rng.shuffle(batches)
    return batches


@torch.inference_mode()
def precompute_bottom(model: RewardModel, seqs: list[list[int]], k: int, batch_size: int, device,
                      progress: bool = False) -> list[torch.Tensor]:
    """Hidden states after the k frozen layers, one (len, H) tensor per sequence (computed once)."""
    from utils.vote_predictor.model import pad_batch
    was_training = model.training
    model.eval()
    out: list[torch.Tensor | None] = [None] * len(seqs)
    order = np.argsort([-len(s) for s in seqs], kind="stable")
    starts = range(0, len(seqs), batch_size)
    if progress:
        from tqdm import tqdm
        starts = tqdm(starts, desc=f"caching {k} frozen layers", unit="batch", leave=False)
    for s in starts:
        idx = order[s:s + batch_size]
        ids, mask = pad_batch([seqs[i] for i in idx], model.tokenizer.pad_token_id or 0)
        h = model.bottom(ids.to(device), mask.to(device), k).float()
        for j, i in enumerate(idx):
            out[i] = h[j, :len(seqs[i])].clone()
    model.train(was_training)
    return out


def _pad_hidden(hs: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(h.shape[0] for h in hs)
    hid = torch.zeros((len(hs), width, hs[0].shape[1]), dtype=hs[0].dtype, device=hs[0].device)
    mask = torch.zeros((len(hs), width), dtype=torch.long, device=hs[0].device)
    for i, h in enumerate(hs):
        hid[i, :h.shape[0]] = h
        mask[i, :h.shape[0]] = 1
    return hid, mask


def rewards_of(model: RewardModel, data: PairData, seq_idx: np.ndarray, device, cache=None) -> torch.Tensor:
    """Rewards of sequences ``seq_idx``: full forward, or the top layers over cached hidden states."""
    from utils.vote_predictor.model import pad_batch
    if cache is not None:
        hid, mask = _pad_hidden([cache[i] for i in seq_idx])
        return model.top(hid, mask, model.frozen_layers)
    ids, mask = pad_batch([data.seqs[i] for i in seq_idx], model.tokenizer.pad_token_id or 0)
    return model(ids.to(device), mask.to(device))


def batch_logits(model: RewardModel, data: PairData, idx: np.ndarray, device, cache=None) -> torch.Tensor:
    """z = r_A - r_B for the pairs ``idx``; each distinct sequence is encoded once."""
    uniq, inv = np.unique(np.concatenate([data.a[idx], data.b[idx]]), return_inverse=True)
    r = rewards_of(model, data, uniq, device, cache)
    inv = torch.as_tensor(inv, device=device)
    return r[inv[:len(idx)]] - r[inv[len(idx):]]


def pair_loss(z: torch.Tensor, y: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    return (F.binary_cross_entropy_with_logits(z.float(), y, reduction="none") * w).sum() / w.sum()


def evaluate(model: RewardModel, data: PairData, batch_size: int, device, bf16: str, cache=None) -> dict:
    """Loss/accuracy of the current weights; rewards of every distinct sequence."""
    if len(data) == 0:
        return {"loss": float("nan"), "accuracy": float("nan"), "z": np.zeros(0)}
    if cache is not None:
        model.eval()
        order = np.argsort([-len(s) for s in data.seqs], kind="stable")
        r = np.zeros(len(data.seqs))
        with torch.inference_mode(), autocast_ctx(device, bf16):
            for s in range(0, len(order), batch_size):
                idx = order[s:s + batch_size]
                r[idx] = rewards_of(model, data, idx, device, cache).float().cpu().numpy()
    else:
        r = model.score_ids(data.seqs, batch_size=batch_size, device=device, bf16=bf16)
    z = r[data.a] - r[data.b]
    zt = torch.as_tensor(z)
    loss = pair_loss(zt, torch.as_tensor(data.y), torch.as_tensor(data.w)).item()
    decided = data.y != 0.5
    acc = float(np.mean((z[decided] > 0) == (data.y[decided] == 1))) if decided.any() else float("nan")
    return {"loss": loss, "accuracy": acc, "z": z, "rewards": r}


def train_loop(model: RewardModel, train: PairData, val: PairData, *, epochs: int, lr: float, head_lr: float,
               batch_size: int, weight_decay: float, warmup_frac: float, patience: int, seed: int,
               device, bf16: str = "auto", grad_clip: float = 1.0, max_steps: int | None = None,
               progress: bool = True) -> dict:
    """Train in place; restores the best-validation weights. Returns metrics, with ``val_z``
    (the validation reward differences of those weights, or None) for the caller to use."""
    from transformers import get_linear_schedule_with_warmup
    model.to(device).train()
    rng = random.Random(seed)
    head = [p for p in model.head.parameters()]
    body = [p for n, p in model.named_parameters() if p.requires_grad and not n.startswith("head.")]
    opt = torch.optim.AdamW([{"params": body, "lr": lr}, {"params": head, "lr": head_lr}], weight_decay=weight_decay)
    steps_per_epoch = math.ceil(len(train) / batch_size)
    total = steps_per_epoch * epochs if max_steps is None else min(max_steps, steps_per_epoch * epochs)
    sched = get_linear_schedule_with_warmup(opt, int(warmup_frac * total), max(total, 1))
    best = {"loss": float("inf"), "state": None, "epoch": 0}
    history, step, bad_epochs, seen = [], 0, 0, 0
    t0, c0 = time.perf_counter(), time.process_time()
    cache = val_cache = None
    if model.frozen_layers > 0 and model.can_split():
        # Frozen layers never change: run them once per sequence, not once per epoch.
        with autocast_ctx(device, bf16):
            cache = precompute_bottom(model, train.seqs + val.seqs, model.frozen_layers, batch_size * 2, device,
                                      progress)
            cache, val_cache = cache[:len(train.seqs)], cache[len(train.seqs):]
        log.info("cached the outputs of %d frozen layers for %d sequences in %.1fs", model.frozen_layers,
                 len(cache) + len(val_cache), time.perf_counter() - t0)
    for epoch in range(1, epochs + 1):
        model.train()
        batches = length_grouped_batches(train, batch_size, rng)
        if progress:
            from tqdm import tqdm
            batches = tqdm(batches, desc=f"epoch {epoch}/{epochs}", unit="batch", leave=False)
        run_loss = run_acc = run_n = 0.0
        for idx in batches:
            y = torch.as_tensor(train.y[idx], dtype=torch.float32, device=device)
            w = torch.as_tensor(train.w[idx], dtype=torch.float32, device=device)
            with autocast_ctx(device, bf16):
                z = batch_logits(model, train, idx, device, cache)
            loss = pair_loss(z, y, w)
            if not torch.isfinite(loss):
                raise FloatingPointError(f"training loss became {loss.item()} at step {step}; lower --lr")
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
            opt.step()
            sched.step()
            step += 1
            seen += len(idx)
            run_loss += loss.item() * len(idx)
            run_acc += float(((z.detach() > 0).float() == (y > 0.5).float()).sum())
            run_n += len(idx)
            if progress:
                batches.set_postfix(loss=f"{run_loss / run_n:.4f}", acc=f"{run_acc / run_n:.3f}")
            if max_steps is not None and step >= max_steps:
                break
        ev = evaluate(model, val, batch_size * 2, device, bf16, val_cache)
        history.append({"epoch": epoch, "train_loss": run_loss / max(run_n, 1), "train_accuracy": run_acc / max(run_n, 1),
                        "val_loss": ev["loss"], "val_accuracy": ev["accuracy"]})
        log.info("epoch %d: train loss %.4f acc %.3f | val loss %.4f acc %.3f", epoch, history[-1]["train_loss"],
                 history[-1]["train_accuracy"], ev["loss"], ev["accuracy"])
        if len(val) == 0 or ev["loss"] < best["loss"] - 1e-4:
            best = {"loss": ev["loss"], "state": copy.deepcopy(model.state_dict()), "epoch": epoch, "z": ev["z"]}
            bad_epochs = 0
        else:
            bad_epochs += 1
            if bad_epochs > patience:
                log.info("early stop: validation loss has not improved for %d epochs", bad_epochs)
                break
        if max_steps is not None and step >= max_steps:
            break
    if best["state"] is not None:
        model.load_state_dict(best["state"])
    secs, cpu = time.perf_counter() - t0, time.process_time() - c0
    last = history[-1] if history else {}
    best_h = history[best["epoch"] - 1] if history and best["epoch"] else last
    return {"train_loss": best_h.get("train_loss"), "val_loss": best_h.get("val_loss"),
            "val_accuracy": best_h.get("val_accuracy"), "best_epoch": best["epoch"], "epochs_run": len(history),
            "steps": step, "train_seconds": secs, "train_pairs_per_s": seen / secs if secs > 0 else None,
            "train_cpu_seconds": cpu, "pairs_trained": seen,
            "history": history, "val_z": best.get("z")}


def fit_stack(z_parts: np.ndarray, y: np.ndarray, l2: float = 1e-2) -> np.ndarray:
    """Non-negative weights (k,) for reward differences (n, k): P(A) = sigmoid(z_parts @ w).

    No intercept (stays antisymmetric); weights >= 0 so a noisy validation split cannot
    turn a member around; a small L2 keeps them finite on separable data.
    """
    from scipy.optimize import minimize
    keep = y != 0.5
    X, yy = np.asarray(z_parts, dtype=float)[keep], np.asarray(y, dtype=float)[keep]
    scale = X.std(axis=0) + 1e-9

    def loss(w):
        z = (X / scale) @ w
        ll = np.logaddexp(0.0, -z) * yy + np.logaddexp(0.0, z) * (1 - yy)
        return ll.mean() + l2 * (w @ w)

    res = minimize(loss, np.full(X.shape[1], 0.5), method="L-BFGS-B", bounds=[(0.0, None)] * X.shape[1])
    return res.x / scale
