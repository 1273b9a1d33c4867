"""Seeded synthetic prediction streams with known drift, for validating the drift monitor.

A stationary stream is calibrated by construction (label ~ Bernoulli(prob_a)); a shift
starting at window ``shift_start`` is one of:

* ``accuracy_drop``: the predictor is right 15 points less often at the same confidence;
* ``confidence_inflation``: reported probabilities are sharpened (logit x 2), labels unchanged;
* ``new_domain``: 30% of prompts come from a domain (and vocabulary) never seen before.

Records follow docs/data_formats.md, so they can be written with ``append_records``.
"""
from __future__ import annotations

import datetime as _dt

import numpy as np

DOMAIN_WORDS = {
    "science": "atom energy quantum photon gravity molecule electron orbit galaxy physics neutron plasma".split(),
    "health": "vitamin sleep exercise diet heart blood muscle immune fever vaccine doctor symptom".split(),
    "programming": "python function compiler variable database algorithm recursion pointer thread server".split(),
    "history": "empire revolution ancient medieval dynasty treaty war kingdom colony pharaoh republic".split(),
}
NEW_DOMAIN = ("cooking", "recipe oven flour butter garlic simmer roast pasta sauce bake onion saucepan".split())
TEMPLATES = ("Explain how {} relates to {} and {}", "What is the role of {} in {} with {}",
             "Give advice about {} when {} meets {}", "Compare {} with {} for {}")
FILLER = "the a of and it is this that which very some more can will good answer because".split()
SHIFTS = (None, "accuracy_drop", "confidence_inflation", "new_domain")


def _iso(ts: float) -> str:
    return _dt.datetime.fromtimestamp(ts, _dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def synth_stream(seed: int = 0, n_windows: int = 8, per_window: int = 400, shift: str | None = None,
                 shift_start: int = 4, label_rate: float = 0.9, window_seconds: float = 86400.0,
                 start: float = 1_767_225_600.0, model_votes: bool = False) -> dict[str, list[dict]]:
    """Records {'predictions','votes','pairs','prompts'}; window w spans
    [start + w * window_seconds, start + (w + 1) * window_seconds)."""
    if shift not in SHIFTS:
        raise ValueError(f"shift must be one of {SHIFTS}, got {shift!r}")
    rng = np.random.default_rng(seed)
    n = n_windows * per_window
    w = np.repeat(np.arange(n_windows), per_window)
    t = start + w * window_seconds + np.sort(rng.uniform(0, window_seconds * 0.999, size=(n_windows, per_window)), axis=1).ravel()
    after = w >= shift_start if shift else np.zeros(n, dtype=bool)
    margin = rng.normal(0, 1.5, n)
    p_true = 1 / (1 + np.exp(-margin))
    conf_true = np.maximum(p_true, 1 - p_true)
    p_correct = conf_true - np.where(after & (shift == "accuracy_drop"), 0.15, 0.0)
    correct = rng.uniform(size=n) < p_correct
    label_a = np.where(correct, p_true >= 0.5, p_true < 0.5)
    shown = np.where(after & (shift == "confidence_inflation"), 2.0, 1.0) * margin
    prob_a = 1 / (1 + np.exp(-shown))
    raw = 1 / (1 + np.exp(-1.3 * shown))
    base = rng.normal(0, 1, n)
    names = list(DOMAIN_WORDS)
    dom = rng.integers(0, len(names), n)
    new = after & (shift == "new_domain") & (rng.uniform(size=n) < 0.3)
    resp_words = np.clip(rng.lognormal(3.5, 0.5, (n, 2)).astype(int), 3, 400)
    picks = np.argsort(rng.uniform(size=(n, 10)), axis=1)[:, :3]  # 3 distinct of the first 10 words
    vocab = FILLER + sorted({x for ws in DOMAIN_WORDS.values() for x in ws} | set(NEW_DOMAIN[1]))
    word_ids = rng.integers(0, len(vocab), int(resp_words.sum()))
    ends = np.cumsum(resp_words.ravel())
    vote_u = rng.uniform(size=n)
    preds, votes, pairs, prompts, seen = [], [], [], [], set()
    for i in range(n):
        dname, words = (NEW_DOMAIN if new[i] else (names[dom[i]], DOMAIN_WORDS[names[dom[i]]]))
        pw = [words[j] for j in picks[i]]
        text = TEMPLATES[i % len(TEMPLATES)].format(*pw)
        pid = f"p_s{seed}_{dname}_{'_'.join(pw)}_{i % len(TEMPLATES)}"
        created = _iso(t[i])
        if pid not in seen:
            seen.add(pid)
            prompts.append({"id": pid, "text": text, "domain": dname, "task_type": "explanation",
                            "source": "template", "model": "synthetic", "created_at": created})
        ra, rb = (" ".join(vocab[x] for x in word_ids[e - k:e]) for e, k in zip(ends[2 * i:2 * i + 2], resp_words[i]))
        pair_id = f"pr_s{seed}_{i}"
        pair = {"id": pair_id, "prompt_id": pid, "prompt": text, "completion_a_id": f"c_{i}a",
                "completion_b_id": f"c_{i}b", "response_a": ra, "response_b": rb, "model": "synthetic",
                "created_at": created}
        pairs.append(pair)
        preds.append({"id": f"pred_s{seed}_{i}", "pair_id": pair_id, "prob_a": float(prob_a[i]),
                      "choice": "A" if prob_a[i] >= 0.5 else "B", "confidence": float(max(prob_a[i], 1 - prob_a[i])),
                      "reward_a": float(base[i] + margin[i] / 2), "reward_b": float(base[i] - margin[i] / 2),
                      "raw_prob_a": float(raw[i]), "model_version": "v1", "model": "synthetic", "created_at": created})
        vote = {"pair_id": pair_id, "prompt_id": pid, "completion_a_id": f"c_{i}a", "completion_b_id": f"c_{i}b",
                "created_at": created}
        if vote_u[i] < label_rate:
            u = vote_u[i] / label_rate
            choice = "tie" if u < 0.06 else "both_bad" if u < 0.09 else ("A" if label_a[i] else "B")
            votes.append({"id": f"v_s{seed}_{i}", **vote, "choice": choice, "annotator": "h1", "annotator_type": "human"})
        elif model_votes:  # auto-labels that always disagree with the predictor: must be ignored
            votes.append({"id": f"v_s{seed}_{i}m", **vote, "choice": "B" if prob_a[i] >= 0.5 else "A",
                          "annotator": "v1", "annotator_type": "model"})
    return {"predictions": preds, "votes": votes, "pairs": pairs, "prompts": prompts}
