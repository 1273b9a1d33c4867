"""Seeded, schema-valid fixture data for the Attunement Dashboard (tests and benchmark).

    from tests.dashboard_fixtures import make_dashboard_fixture
    make_dashboard_fixture(Paths.resolve(root=tmp), n_votes=2000, n_predictions=2000)

Writes every file the dashboard reads: prompts, pairs, votes (humans, model auto-labels,
a judge, gold repeats), predictions for several checkpoint versions, checkpoint folders
with ``training_meta.json`` / ``calibration.json``, the calibration log, eval probes,
a drift report and the loop history. A hidden "true" preference per pair drives humans
and predictor alike, so accuracy and calibration numbers look like real ones.
"""
from __future__ import annotations

import datetime as dt
import json
import random
from pathlib import Path

import sys

import numpy as np

if __package__ in (None, ""):  # run as `python tests/dashboard_fixtures.py`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from utils.paths import Paths
from utils.records import make_prompt, pair_id_for
from utils.store import content_id, write_json_atomic, write_jsonl_atomic, write_text_atomic

SCRIPT_PAYLOAD = "<script>window.__xss = 1; alert('xss')</script>"
DOMAINS = ("science", "health", "programming", "history", "finance", "cooking")
TASKS = ("explanation", "advice", "coding", "creative", "comparison", "safety")
HUMANS = ("alice", "bob", "carol", "dave", "erin")
START = dt.datetime(2026, 10, 1, tzinfo=dt.timezone.utc)


def _ts(seconds: float) -> str:
    return (START + dt.timedelta(seconds=float(seconds))).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def make_dashboard_fixture(paths: Paths, n_votes: int = 600, n_predictions: int = 600, n_pairs: int | None = None,
                           versions: int = 3, seed: int = 0, days: int = 30, malformed: int = 1,
                           script_payload: bool = True, write_models: bool = True) -> dict:
    """Write a consistent fixture data set under ``paths``; returns counts and ids.

    ``malformed`` bad lines are appended to votes.jsonl (to exercise the skip warning);
    with ``script_payload`` the first pair's response A is a ``<script>`` tag.
    """
    rng = np.random.default_rng(seed)
    prand = random.Random(seed)
    n_pairs = n_pairs or max(10, min(20_000, n_votes // 3 or 10))
    span = days * 86400.0
    n_prompts = max(5, n_pairs // 2)

    prompts = []
    for i in range(n_prompts):
        dom, task = DOMAINS[i % len(DOMAINS)], TASKS[(i // len(DOMAINS)) % len(TASKS)]
        p = make_prompt(f"Prompt {i}: explain {dom} topic #{i} as a {task} answer.", dom, task, "template", "template-v1")
        p["created_at"] = _ts(span * i / n_prompts / 4)
        prompts.append(p)

    pairs, truth = [], np.empty(n_pairs, dtype=bool)
    hard = {"health", "finance"}  # error zones: the predictor is worse there
    for j in range(n_pairs):
        pr = prompts[j % n_prompts]
        ca, cb = content_id("c", str(seed), str(j), "a"), content_id("c", str(seed), str(j), "b")
        ra = SCRIPT_PAYLOAD if (script_payload and j == 0) else f"Answer A{j}: a careful {pr['domain']} reply."
        pairs.append({"id": pair_id_for(ca, cb), "prompt_id": pr["id"], "prompt": pr["text"],
                      "completion_a_id": ca, "completion_b_id": cb, "response_a": ra,
                      "response_b": f"Answer B{j}: a shorter {pr['domain']} reply.", "model": "fixture-lm",
                      "source": "completions", "created_at": _ts(span * j / n_pairs / 4),
                      "domain": pr["domain"]})
        truth[j] = bool(rng.random() < 0.55)  # True: A is better
    domains = np.array([p["domain"] for p in pairs])

    # Votes: mostly humans (noisy w.r.t. truth), some model auto-labels and a judge, gold repeats.
    votes = []
    vote_pair = rng.integers(0, n_pairs, n_votes)
    vote_time = np.sort(rng.uniform(span * 0.1, span, n_votes))
    kind = rng.random(n_votes)
    noise = rng.random(n_votes)
    secs = rng.gamma(2.0, 6.0, n_votes)
    for k in range(n_votes):
        j = int(vote_pair[k])
        pr = pairs[j]
        if kind[k] < 0.75:
            who, typ = HUMANS[k % len(HUMANS)], "human"
            err = 0.10 + 0.05 * HUMANS.index(who)
        elif kind[k] < 0.9:
            who, typ, err = f"v{versions:04d}", "model", 0.2
        else:
            who, typ, err = "judge:fixture", "judge", 0.25
        better = "A" if truth[j] else "B"
        worse = "B" if truth[j] else "A"
        choice = "tie" if noise[k] > 0.97 else (worse if noise[k] < err else better)
        rec = {"id": f"v_{seed}_{k:08d}", "pair_id": pr["id"], "prompt_id": pr["prompt_id"],
               "completion_a_id": pr["completion_a_id"], "completion_b_id": pr["completion_b_id"],
               "choice": choice, "annotator": who, "annotator_type": typ, "created_at": _ts(vote_time[k])}
        if typ == "human":
            rec["seconds"] = round(float(secs[k]), 2)
            rec["confidence"] = int(1 + k % 5)
            rec["swapped"] = bool(k % 2)
        else:
            rec["model"] = who
            rec["model_confidence"] = round(0.5 + 0.5 * float(rng.random()), 4)
        votes.append(rec)
    # Gold repeats: re-ask some earlier human votes.
    humans_idx = [i for i, v in enumerate(votes) if v["annotator_type"] == "human"]
    for i in humans_idx[: max(2, len(humans_idx) // 20)]:
        v = dict(votes[i])
        v["id"] = v["id"] + "_r"
        v["repeat_of"] = votes[i]["id"]
        if prand.random() < 0.15:
            v["choice"] = "B" if v["choice"] == "A" else "A"
        votes.append(v)
    if script_payload:
        pr = pairs[0]
        votes.append({"id": f"v_{seed}_xss", "pair_id": pr["id"], "prompt_id": pr["prompt_id"],
                      "completion_a_id": pr["completion_a_id"], "completion_b_id": pr["completion_b_id"],
                      "choice": "B", "annotator": "alice", "annotator_type": "human",
                      "created_at": _ts(span * 0.5), "rationale": SCRIPT_PAYLOAD, "seconds": 4.0})

    # Predictions: later versions are sharper and more accurate, the hard domains are worse.
    preds = []
    per_version = max(1, n_predictions // versions)
    for vi in range(1, versions + 1):
        ver = f"v{vi:04d}"
        count = per_version if vi < versions else n_predictions - per_version * (versions - 1)
        idx = rng.integers(0, n_pairs, count) if count > n_pairs else rng.permutation(n_pairs)[:count]
        skill = 0.6 + 0.3 * vi / versions
        margin = np.where(truth[idx], 1.0, -1.0) * skill * 2.0
        margin = margin - np.where(np.isin(domains[idx], list(hard)), np.where(truth[idx], 1.5, -1.5), 0.0)
        logit = margin + rng.normal(0, 1.5, count)
        raw = 1 / (1 + np.exp(-logit * 1.4))
        cal = 1 / (1 + np.exp(-logit))
        t0 = span * (0.1 + 0.3 * (vi - 1))
        times = t0 + rng.uniform(0, span * 0.3, count)
        for k, j in enumerate(idx):
            pa = round(float(cal[k]), 6)
            preds.append({"id": f"pred_{seed}_{vi}_{k:08d}", "pair_id": pairs[j]["id"], "prob_a": pa,
                          "choice": "A" if pa >= 0.5 else "B", "confidence": max(pa, 1 - pa),
                          "reward_a": round(float(logit[k] / 2), 4), "reward_b": round(float(-logit[k] / 2), 4),
                          "model_version": ver, "model": "fixture-minilm", "created_at": _ts(times[k]),
                          "raw_prob_a": round(float(raw[k]), 6), "calibration_id": f"cal_{vi:04d}",
                          "prompt_id": pairs[j]["prompt_id"]})

    write_jsonl_atomic(paths.prompts, prompts, "prompt")
    write_jsonl_atomic(paths.pairs, pairs, "pair")
    write_jsonl_atomic(paths.votes, votes, "vote")
    write_jsonl_atomic(paths.predictions, preds, "prediction")
    if malformed:
        with open(paths.votes, "a", encoding="utf-8") as fh:
            for m in range(malformed):
                fh.write('{"id": "v_bad", "choice": "C"}\n' if m % 2 else "{not json at all\n")
    if write_models:
        write_model_logs(paths, versions, seed, n_votes)
    return {"prompts": len(prompts), "pairs": len(pairs), "votes": len(votes), "predictions": len(preds),
            "malformed": malformed, "versions": [f"v{i:04d}" for i in range(1, versions + 1)]}


def write_model_logs(paths: Paths, versions: int = 3, seed: int = 0, n_votes: int = 600) -> None:
    """Checkpoint metas, calibration log, eval probes, drift report and loop history."""
    rng = random.Random(seed)
    ck = paths.checkpoint
    calibrations = []
    history = []
    for vi in range(1, versions + 1):
        ver = f"v{vi:04d}"
        acc = 0.62 + 0.06 * vi + rng.uniform(-0.01, 0.01)
        before = {"accuracy": acc, "ece": 0.14 / vi + 0.02, "mce": 0.3 / vi, "brier": 0.24 - 0.01 * vi, "nll": 0.68 - 0.03 * vi}
        after = {"accuracy": acc, "ece": 0.03 + 0.005 * rng.random(), "mce": 0.08, "brier": 0.22 - 0.01 * vi, "nll": 0.62 - 0.03 * vi}
        cal_id = f"cal_{vi:04d}"
        created = _ts(86400 * (3 + 9 * (vi - 1)))
        config = {"epochs": 2 + (vi > 1), "lr": 2e-5 if vi < 3 else 1e-5, "batch_size": 16, "max_length": 256}
        meta = {"version": ver, "parent_version": f"v{vi - 1:04d}" if vi > 1 else None, "created_at": created,
                "base_model": "sentence-transformers/all-MiniLM-L6-v2", "config": config,
                "data": {"path": "data/vote_predictor_training_data.jsonl", "sha256": f"{vi:064x}",
                         "counts": {"train": 400 * vi, "validation": 50 * vi, "calibration": 50 * vi, "test": 50 * vi}},
                "metrics": {"train_loss": 0.6 - 0.08 * vi, "val_loss": 0.64 - 0.05 * vi, "val_accuracy": acc}}
        write_json_atomic(ck / ver / "training_meta.json", meta)
        write_json_atomic(ck / ver / "calibration.json", {"id": cal_id, "method": "temperature", "params": {"temperature": 1.4},
                                                          "before": before, "after": after})
        calibrations.append({"id": cal_id, "created_at": created, "model_version": ver, "method": "temperature",
                             "params": {"temperature": 1.4 - 0.1 * vi}, "n": 50 * vi, "before": before, "after": after,
                             "reliability_png": None})
        history.append({"version": ver, "created_at": created, "parent_version": meta["parent_version"],
                        "val_accuracy": acc})
    write_text_atomic(ck / "latest", f"v{versions:04d}\n")
    write_jsonl_atomic(ck / "history.jsonl", history)
    write_json_atomic(paths.calibration_log, {"calibrations": calibrations, "latest": calibrations[-1]["id"]})

    probes = []
    for vi in range(1, versions + 1):
        probes.append({"id": f"probe_{vi:04d}", "created_at": _ts(86400 * (5 + 9 * (vi - 1))), "model_version": f"v{vi:04d}",
                       "n_pairs": 200, "metrics": {"accuracy": 0.6 + 0.07 * vi, "ece": 0.1 / vi, "brier": 0.25 - 0.02 * vi},
                       "by_annotator": {h: {"accuracy": 0.6 + 0.05 * vi - 0.01 * i, "n": 40} for i, h in enumerate(HUMANS)},
                       "by_domain": {d: {"accuracy": 0.55 + 0.06 * vi - (0.15 if d in ("health", "finance") else 0), "n": 30}
                                     for d in DOMAINS},
                       "summary": f"Probe of v{vi:04d}: accuracy up, {SCRIPT_PAYLOAD}" if vi == versions else f"Probe of v{vi:04d}."})
    write_jsonl_atomic(paths.meta_reflection_log, probes)

    # Same shape as utils/vote_predictor/drift_monitor.py writes (alerts, windows, clusters, calibration).
    labels = [f"2026-10-{1 + 7 * w:02d} 00:00" for w in range(4)]
    windows = [{"index": w, "label": labels[w], "start": _ts(86400 * 7 * w), "end": _ts(86400 * 7 * (w + 1) - 1),
                "is_reference": w == 0, "n_predictions": 100 + 10 * w, "n_labelled": 60, "accuracy": 0.8 - 0.03 * w,
                "accuracy_ci": [0.7 - 0.03 * w, 0.88 - 0.03 * w], "mean_confidence": 0.78 + 0.01 * w,
                "expected_accuracy_unlabelled": 0.79, "ece": 0.04 + 0.02 * w, "temperature": 1.0 + 0.1 * w,
                "calibration_gap": -0.02 * w, "psi_confidence": 0.01 * w,
                "vote_shares": {"A": 0.5, "B": 0.45, "tie": 0.05, "both_bad": 0.0}} for w in range(4)]
    edges = [0.5 + 0.05 * i for i in range(11)]
    rel = {"edges": edges, "counts": [5] * 10, "confidence": [e + 0.025 for e in edges[:-1]],
           "accuracy": [min(1.0, e + 0.02) for e in edges[:-1]]}
    rel_late = dict(rel, accuracy=[e - 0.1 for e in edges[:-1]])
    clusters = [{"id": c, "size": 40 - 5 * c, "n_labelled": 30 - 4 * c, "accuracy": 0.55 + 0.08 * c,
                 "mean_confidence": 0.8, "top_terms": ["dose", "symptom"] if c == 0 else ["loan", "rate"],
                 "examples": [f"Prompt {c}: explain health topic", SCRIPT_PAYLOAD], "share_by_window": [0.2] * 4,
                 "error_zone": c == 0, "p_value_lower_accuracy": 0.01 if c == 0 else 0.5} for c in range(5)]
    report = {
        "version": 1, "created_at": _ts(86400 * 28), "n_predictions": 460, "windowing": "time 7d", "n_windows": 4,
        "reference": windows[0], "windows": windows,
        "alerts": [{"kind": "accuracy", "metric": "accuracy", "window": 3, "window_label": labels[3],
                    "statistic": 2.9, "p_value_or_value": 0.002, "threshold": 0.01,
                    "message": f"window {labels[3]}: accuracy 0.710 vs reference 0.800 (stat 2.9, p=0.002 < 0.01)"},
                   {"kind": "data", "metric": "new_domain", "window": 3, "window_label": labels[3], "statistic": 12,
                    "p_value_or_value": 0.2, "threshold": 0.1, "message": f"new prompt domain {SCRIPT_PAYLOAD!r}"}],
        "clusters": {"method": "tfidf", "k": 5, "silhouette": {"5": 0.2}, "n_texts": 175, "n_assigned": 175,
                     "text": "prompt", "overall_accuracy": 0.7, "clusters": clusters, "share_columns": labels},
        "domains": list(DOMAINS),
        "calibration": {"ece": [w["ece"] for w in windows], "temperature": [w["temperature"] for w in windows],
                        "calibration_gap": [w["calibration_gap"] for w in windows], "reference": rel, "latest": rel_late},
        "summary": {"n_alerts": 2, "drift": True, "error_zones": [0]},
    }
    write_json_atomic(paths.drift_dir / "drift_report.json", report)

    loop = [{"id": f"loop_{c:04d}", "created_at": _ts(86400 * (4 + 9 * c)), "cycle": c + 1, "pairs": 200,
             "to_human": 60 - 10 * c, "auto_labelled": 140 + 10 * c, "audit_accuracy": 0.8 + 0.03 * c,
             "est_auto_accuracy": 0.82 + 0.03 * c, "retrained": True, "drift_alerts": c,
             "model_version": f"v{c + 1:04d}"} for c in range(versions)]
    write_jsonl_atomic(paths.loop_history, loop)


def write_empty(paths: Paths) -> None:
    """The state of a fresh checkout: folders exist, files do not."""
    for d in (paths.data_dir, paths.models_dir, paths.prompts_dir):
        Path(d).mkdir(parents=True, exist_ok=True)


if __name__ == "__main__":  # python tests/dashboard_fixtures.py ROOT [n_votes]
    root = Path(sys.argv[1])
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 600
    print(json.dumps(make_dashboard_fixture(Paths.resolve(root=root), n_votes=n, n_predictions=n)))
