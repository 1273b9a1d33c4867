"""In-process tests of the voting UI: scripted sessions, ordering, gold repeats, CLI errors."""
from __future__ import annotations

import io
import json

import pytest

from interface import voting_ui
from interface.vote_log import effective_votes, make_retraction, voted_pair_ids
from interface.voting_render import clean, render_pair
from interface.voting_ui import VotingConfig, vote_on_pairs
from tests.test_voting_ui_support import make_pairs, prediction, write_jsonl
from utils.cli import UserError
from utils.records import make_completion, make_prompt
from utils.store import append_records, read_records


def run(pairs, paths, keys: str, **cfg):
    out = io.StringIO()
    cfg.setdefault("annotator", "alice")
    cfg.setdefault("repeat_rate", 0.0)
    votes = vote_on_pairs(pairs, VotingConfig(**cfg), paths, stdin=io.StringIO(keys), stdout=out)
    return votes, out.getvalue()


def test_scripted_votes_map_displayed_side_to_pair_side(paths):
    pairs = make_pairs(6)
    votes, out = run(pairs, paths, "1\n2\na\nb\nt\nn\n", seed=7)
    assert [v["choice"] for v in votes[4:]] == ["tie", "both_bad"]
    for v, key in zip(votes, "12ab"):
        first_is_a = not v["swapped"]
        assert v["choice"] == ("A" if (key in "1a") == first_is_a else "B")
    assert read_records(paths.votes, "vote") == votes
    assert "Pair 6 of 6 · 5 voted, 0 skipped" in out
    assert {v["swapped"] for v in votes} == {True, False}  # the side is randomised per pair


def test_skip_undo_and_end_of_input(paths):
    pairs = make_pairs(4)
    votes, out = run(pairs, paths, "s\n1\nu\nu\n2\nx\n")  # 2nd undo: nothing left; x: unknown key; EOF = quit
    assert "nothing to undo" in out and "unknown key 'x'" in out
    assert [v["pair_id"] for v in votes] == [pairs[1]["id"]]
    raw = read_records(paths.votes, "vote")
    assert len(raw) == 3 and raw[1]["retracts"] == raw[0]["id"]
    assert effective_votes(raw) == votes
    assert "1 skipped, 1 undone" in out


def test_rerun_resumes_and_orders_unvoted_first(paths):
    pairs = make_pairs(4)
    run(pairs, paths, "1\nq\n", annotator="bob")  # bob voted pair 0
    run(pairs, paths, "1\n1\nq\n")                # alice: pair 0 comes after the unvoted ones
    alice = [v["pair_id"] for v in read_records(paths.votes, "vote") if v["annotator"] == "alice"]
    assert alice == [pairs[1]["id"], pairs[2]["id"]]
    _, out = run(pairs, paths, "q\n")
    assert "Pair 1 of 2" in out and pairs[3]["prompt"] in out  # then pair 3, then bob's pair 0
    votes, out = run(pairs, paths, "1\n1\n")
    assert [v["pair_id"] for v in votes] == [pairs[3]["id"], pairs[0]["id"]]
    _, out = run(pairs, paths, "1\n")
    assert "Nothing to vote on" in out


def test_uncertainty_order_uses_predictions_file(paths):
    pairs = make_pairs(4)
    write_jsonl(paths.predictions, [prediction(pairs[0]["id"], 0.95), prediction(pairs[1]["id"], 0.52),
                                    prediction(pairs[2]["id"], 0.30)])
    votes, out = run(pairs, paths, "1\n1\n1\n1\n", order="uncertainty")
    assert [v["pair_id"] for v in votes] == [pairs[i]["id"] for i in (1, 2, 0, 3)]
    assert "no checkpoint" in out  # pair 3 has no prediction: noticed, shown last


def test_uncertainty_without_any_prediction_falls_back(paths):
    pairs = make_pairs(2)
    votes, out = run(pairs, paths, "1\n1\n", order="uncertainty", limit=1)
    assert "file order" in out and [v["pair_id"] for v in votes] == [pairs[0]["id"]]


def test_gold_repeats_reask_swapped(paths):
    pairs = make_pairs(5)
    votes, out = run(pairs, paths, "1\n" * 20, repeat_rate=1.0, seed=1)
    repeats = [v for v in votes if v.get("repeat_of")]
    originals = {v["id"]: v for v in votes if not v.get("repeat_of")}
    assert len(originals) == 5 and repeats
    for r in repeats:
        orig = originals[r["repeat_of"]]
        assert r["pair_id"] == orig["pair_id"] and r["swapped"] != orig["swapped"]
        assert r["choice"] != orig["choice"]  # always pressing "1" on the flipped display
    assert "gold repeat" in out
    assert len(effective_votes(votes, drop_repeats=True)) == 5


def test_confidence_and_rationale_lines(paths):
    votes, _ = run(make_pairs(2), paths, "1\n5\nreads better\n2\n\n\n", ask_confidence=True, ask_rationale=True)
    assert votes[0]["confidence"] == 5 and votes[0]["rationale"] == "reads better"
    assert "confidence" not in votes[1] and "rationale" not in votes[1]


def test_effective_votes_helpers():
    v1 = {"id": "v1", "pair_id": "p1", "prompt_id": "x", "completion_a_id": "a", "completion_b_id": "b",
          "choice": "A", "annotator": "al", "annotator_type": "human"}
    v2 = dict(v1, id="v2", pair_id="p2")
    v3 = dict(v1, id="v3", repeat_of="v1")
    r = make_retraction(v2, "2026-01-01T00:00:00Z", "v9")
    assert r["retracts"] == "v2" and r["pair_id"] == "p2" and r["choice"] == "A"
    assert [v["id"] for v in effective_votes([v1, v2, v3, r])] == ["v1", "v3"]
    assert [v["id"] for v in effective_votes([v1, v2, v3, r], drop_repeats=True)] == ["v1"]
    assert voted_pair_ids([v1, v2, r], "al") == {"p1"}


def test_render_layouts_and_untrusted_text():
    wide = render_pair("Q?", "left answer", "right answer", 120)
    assert any("left answer" in line and "right answer" in line for line in wide)
    narrow = render_pair("Q?", "left answer", "right answer", 60)
    assert not any("left answer" in line and "right answer" in line for line in narrow)
    assert max(len(line) for line in render_pair("Q", "word " * 200, "x", 60)) <= 60
    assert clean("ok\x1b[2Jred\x1b[31m!\x07") == "okred!"


def test_config_rejects_bad_values():
    with pytest.raises(UserError, match="repeat-rate"):
        VotingConfig(repeat_rate=2)
    with pytest.raises(UserError, match="limit"):
        VotingConfig(limit=-1)


def test_help_is_instant(capsys):
    with pytest.raises(SystemExit) as exc:
        voting_ui.main(["--help"])
    assert exc.value.code == 0
    assert "--repeat-rate" in capsys.readouterr().out


def test_main_with_pairs_file_and_errors(tmp_path, paths, monkeypatch, capsys):
    pf = write_jsonl(tmp_path / "pairs.jsonl", make_pairs(2))
    monkeypatch.setattr("sys.stdin", io.StringIO("2\nq\n"))
    assert voting_ui.main(["--pairs", str(pf), "--annotator", "zed", "--repeat-rate", "0"]) == 0
    assert len(read_records(paths.votes, "vote")) == 1
    assert voting_ui.main(["--pairs", str(tmp_path / "missing.jsonl")]) == 2
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"id": "x"}) + "\n")
    assert voting_ui.main(["--pairs", str(bad)]) == 2
    assert voting_ui.main(["--repeat-rate", "3"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("voting_ui.py: error: --repeat-rate") and "Traceback" not in "".join(err)


def test_main_default_pairs_come_from_completions_log(paths, monkeypatch, capsys):
    assert voting_ui.main(["--annotator", "zed"]) == 2
    assert "no pairs to vote on" in capsys.readouterr().err
    prompt = make_prompt("Why is the sky blue?", "science", "explanation", "user", "test")
    comps = [make_completion(prompt, text, i, "m", "local", {}) for i, text in enumerate(("Rayleigh.", "Magic."))]
    append_records(paths.completions, comps, "completion")
    monkeypatch.setattr("sys.stdin", io.StringIO("t\n"))
    assert voting_ui.main(["--annotator", "zed", "--repeat-rate", "0"]) == 0
    (vote,) = read_records(paths.votes, "vote")
    assert vote["choice"] == "tie" and vote["prompt_id"] == prompt["id"]


def test_uncertainty_scores_unpredicted_pairs_with_the_checkpoint(paths, tmp_path):
    """A real (tiny) checkpoint scores the pairs that have no prediction yet."""
    from tests.vote_predictor_helpers import make_tiny_base, synthetic_examples
    from utils.vote_predictor.predict import predict_pairs
    from utils.vote_predictor.train import TrainConfig, train_vote_predictor

    write_jsonl(paths.training_data, synthetic_examples(30))
    train_vote_predictor(TrainConfig(base_model=str(make_tiny_base(tmp_path / "tiny_bert")), epochs=1,
                                     max_length=48, freeze_layers=0, lexical=False, max_steps=2,
                                     progress=False), paths)
    pairs = make_pairs(3)
    write_jsonl(paths.predictions, [prediction(pairs[0]["id"], 0.8)])
    conf = {pairs[0]["id"]: 0.8}
    conf.update({r["pair_id"]: r["confidence"] for r in predict_pairs(pairs[1:], paths=paths)})
    votes, _ = run(pairs, paths, "1\n1\n1\n", order="uncertainty")
    assert [v["pair_id"] for v in votes] == sorted(conf, key=conf.get)


def test_uncertainty_falls_back_when_predictor_refuses(paths):
    paths.checkpoint.mkdir(parents=True)  # a folder, but no trained version in it: predict_pairs refuses
    pairs = make_pairs(2)
    votes, out = run(pairs, paths, "1\n1\n", order="uncertainty")
    assert "file order" in out
    assert [v["pair_id"] for v in votes] == [p["id"] for p in pairs]
