"""Evaluation probe: metrics on hand-made sets with known answers, the log record, the CLI."""
from __future__ import annotations

import json

import pytest

from interface import eval_probe
from interface import probe_metrics as PM
from interface.eval_probe import ProbeConfig, run_probe
from interface.vote_log import make_retraction
from tests.test_voting_ui_support import make_pairs, prediction, write_jsonl
from utils.cli import UserError
from utils.records import make_prompt, make_vote
from utils.store import read_records


def rows(probs, labels, **extra):
    return [dict({"pair_id": f"p{i}", "annotator": "al", "prob_a": p, "label_a": y, "domain": "d",
                  "len_diff": 0, "human_confidence": None}, **extra) for i, (p, y) in enumerate(zip(probs, labels))]


def test_overall_metrics_known_values():
    # predictions right, wrong, right, wrong; confidences 0.9, 0.8, 0.7, 0.6 each alone in a bin
    m = PM.overall(rows([0.9, 0.8, 0.3, 0.6], [1, 0, 0, 0]), n_bins=10)
    assert m["accuracy"] == pytest.approx(0.5)
    assert m["ece"] == pytest.approx((0.1 + 0.8 + 0.3 + 0.6) / 4)
    assert m["mce"] == pytest.approx(0.8)
    assert m["brier"] == pytest.approx((0.01 + 0.64 + 0.09 + 0.36) / 4)


def test_buckets_and_groups():
    assert [PM.confidence_bucket(p) for p in (0.5, 0.35, 0.99, 1.0, 0.0)] == \
        ["0.5-0.6", "0.6-0.7", "0.9-1.0", "0.9-1.0", "0.9-1.0"]
    assert [PM.length_bucket(d) for d in (0, -49, 120, 499, -900, None)] == \
        ["0-50", "0-50", "50-200", "200-500", ">=500", None]
    r = rows([0.9, 0.8, 0.3, 0.6], [1, 0, 0, 0])
    r[0]["annotator"] = r[2]["annotator"] = "bo"
    g = PM.group_accuracy(r, lambda x: x["annotator"])
    assert g["bo"] == {"n": 2, "accuracy": 1.0, "mean_confidence": pytest.approx(0.8)}
    assert g["al"]["accuracy"] == 0.0


def test_length_bias():
    r = rows([0.9, 0.9, 0.1, 0.9], [1, 0, 0, 1])
    for x, d in zip(r, (10, 10, 10, -5)):
        x["len_diff"] = d  # A longer, A longer, A longer, B longer
    lb = PM.length_bias(r)
    assert lb == {"n": 4, "human_prefers_longer": 0.25, "model_prefers_longer": 0.5}


def _v(vid, pair, ann, choice, **kw):
    return dict({"id": vid, "pair_id": pair, "annotator": ann, "choice": choice}, **kw)


def test_cohen_kappa_and_alpha_known_values():
    alice, bob = ["A", "A", "B", "B", "A", "tie"], ["A", "B", "B", "B", "A", "A"]
    votes = [_v(f"a{i}", f"p{i}", "alice", c) for i, c in enumerate(alice)] + \
            [_v(f"b{i}", f"p{i}", "bob", c) for i, c in enumerate(bob)]
    ia = PM.inter_annotator(votes)
    # po = 4/6, pe = (3*3 + 2*3 + 1*0)/36 -> kappa = 9/21; alpha from the coincidence matrix = 38/82
    assert ia["cohen_kappa"] == pytest.approx(9 / 21)
    assert ia["krippendorff_alpha"] == pytest.approx(38 / 82)
    assert ia["raw_agreement"] == pytest.approx(4 / 6) and ia["n_pairs"] == 6 and ia["method"] == "cohen_kappa"
    three = votes + [_v("c0", "p0", "carl", "A"), _v("c1", "p1", "carl", "B")]
    ia3 = PM.inter_annotator(three)
    assert ia3["method"] == "krippendorff_alpha" and ia3["cohen_kappa"] is None
    assert -1 <= ia3["krippendorff_alpha"] <= 1
    same = PM.inter_annotator([_v("x", "p", "a", "A"), _v("y", "p", "b", "A")])
    assert same["krippendorff_alpha"] is None and "undefined" in same["note"] and same["raw_agreement"] == 1
    assert PM.inter_annotator(votes[:6])["note"].startswith("no pair")


def test_self_consistency_and_swap_math():
    votes = [_v("v1", "p1", "al", "A"), _v("v2", "p2", "al", "B"), _v("v3", "p1", "al", "A", repeat_of="v1"),
             _v("v4", "p2", "al", "A", repeat_of="v2"), _v("v5", "p3", "bo", "tie"),
             _v("v6", "p3", "bo", "tie", repeat_of="v5"), _v("v7", "p9", "bo", "A", repeat_of="gone")]
    sc = PM.self_consistency(votes)
    assert sc["n_repeats"] == 3 and sc["agreement"] == pytest.approx(2 / 3)
    assert sc["by_annotator"] == {"al": {"n": 2, "agreement": 0.5}, "bo": {"n": 1, "agreement": 1.0}}
    sw = PM.swap_deviation([0.7, 0.5, 0.2], [0.3, 0.6, 0.9])
    assert sw["max_abs_dev"] == pytest.approx(0.1) and sw["mean_abs_dev"] == pytest.approx(0.2 / 3)


def _dataset(paths, n=8):
    """8 pairs in two domains; alice votes all, bob votes 4; predictions for all."""
    pairs = make_pairs(n)
    write_jsonl(paths.pairs, pairs)
    prompts = []
    for i, p in enumerate(pairs):
        pr = make_prompt(p["prompt"], "science" if i < 4 else "health", "explanation", "user", "test")
        pr["id"] = p["prompt_id"]
        prompts.append(pr)
    write_jsonl(paths.prompts, prompts)
    alice = ["A", "A", "A", "A", "B", "B", "A", "tie"]
    bob = ["A", "A", "B", "A"]
    votes = [make_vote(p, c, "alice") for p, c in zip(pairs, alice)]
    votes += [make_vote(p, c, "bob") for p, c in zip(pairs, bob)]
    undone = make_vote(pairs[0], "B", "alice")
    votes += [undone, make_retraction(undone, "2026-01-02T00:00:00Z", "v_retract")]
    votes.append(make_vote(pairs[4], "A", "alice", repeat_of=votes[4]["id"], swapped=True))
    write_jsonl(paths.votes, votes)
    # model: P(A)=0.9 everywhere -> right on A votes, wrong on B votes
    old = [prediction(p["id"], 0.1, version="v0", created_at="2025-01-01T00:00:00Z") for p in pairs]
    write_jsonl(paths.predictions, old + [prediction(p["id"], 0.9, version="v1") for p in pairs])
    return pairs


def test_run_probe_end_to_end(paths):
    _dataset(paths)
    rec = run_probe(ProbeConfig(), paths)
    # A/B votes (not repeats, not undone): alice 7 (A A A A B B A) + bob 4 (A A B A); the model says A
    assert rec["n_votes"] == 11 and rec["n_ties_excluded"] == 1 and rec["n_pairs"] == 7
    assert rec["model_version"] == "v1" and rec["model_versions"] == ["v0", "v1"]
    assert rec["metrics"]["accuracy"] == pytest.approx(8 / 11)
    assert rec["metrics"]["ece"] == pytest.approx(abs(8 / 11 - 0.9))
    assert rec["by_domain"]["science"] == {"n": 8, "accuracy": pytest.approx(7 / 8), "mean_confidence": pytest.approx(0.9)}
    assert rec["by_domain"]["health"]["accuracy"] == pytest.approx(1 / 3)
    assert rec["by_annotator"]["bob"]["accuracy"] == pytest.approx(3 / 4)
    assert rec["self_consistency"]["n_repeats"] == 1 and rec["self_consistency"]["agreement"] == 0.0
    ia = rec["inter_annotator"]
    assert ia["n_pairs"] == 4 and ia["raw_agreement"] == pytest.approx(3 / 4)
    assert ia["cohen_kappa"] == pytest.approx(0.0)  # alice all A on the shared 4: no agreement beyond chance
    assert rec["swap_test"]["run"] is False and "no checkpoint" in rec["swap_test"]["reason"]
    assert "health" in rec["summary"] and "overconfident" in rec["summary"]
    from pathlib import Path
    assert Path(rec["reliability_png"]).read_bytes()[:4] == b"\x89PNG"
    (logged,) = read_records(paths.meta_reflection_log)
    assert logged == json.loads(json.dumps(rec))
    assert logged["inputs"]["votes"]["sha256"]


def test_swap_test_with_a_real_checkpoint(paths, tmp_path):
    """A real (tiny) Bradley-Terry checkpoint: the same pair in both orders gives p and 1 - p."""
    from tests.vote_predictor_helpers import make_tiny_base, synthetic_examples
    from utils.store import write_jsonl_atomic
    from utils.vote_predictor.train import TrainConfig, train_vote_predictor

    _dataset(paths)
    write_jsonl_atomic(paths.training_data, synthetic_examples(30), "training_example")
    base = make_tiny_base(tmp_path / "tiny_bert")
    train_vote_predictor(TrainConfig(base_model=str(base), epochs=1, max_length=48, freeze_layers=0,
                                     lexical=False, max_steps=2, progress=False), paths)
    rec = run_probe(ProbeConfig(plot=False, swap_pairs=3), paths)
    sw = rec["swap_test"]
    assert sw["run"] is True and sw["n"] == 3
    assert sw["max_abs_dev"] < 1e-6
    assert rec["reliability_png"] is None and "Swap test" in rec["summary"]


def test_probe_errors(paths):
    with pytest.raises(UserError, match="no human votes"):
        run_probe(ProbeConfig(), paths)
    _dataset(paths)
    with pytest.raises(UserError, match="v7"):
        run_probe(ProbeConfig(model_version="v7"), paths)
    paths.predictions.unlink()
    with pytest.raises(UserError, match="both a human A/B vote and a prediction"):
        run_probe(ProbeConfig(), paths)


def test_cli_table_help_and_error(paths, capsys):
    assert eval_probe.main([]) == 2
    assert capsys.readouterr().err.startswith("eval_probe.py: error: no human votes")
    _dataset(paths)
    assert eval_probe.main(["--no-plot"]) == 0
    out = capsys.readouterr().out
    assert "accuracy   73%" in out and "domain" in out and "swap test         not run" in out
    assert eval_probe.main(["--json", "--no-plot", "--swap-pairs", "0"]) == 0
    assert json.loads(capsys.readouterr().out)["swap_test"]["reason"].startswith("disabled")
    assert len(read_records(paths.meta_reflection_log)) == 2
    with pytest.raises(SystemExit) as exc:
        eval_probe.main(["--help"])
    assert exc.value.code == 0
