"""The RLHF loop end to end on a tiny model: replay cycles, cold start, resume, CLI errors."""
from __future__ import annotations

import io
from collections import Counter

import pytest

from interface.loop_annotators import ReplayAnnotator
from interface.loop_state import read_history, state_path
from interface.rlhf_loop import main, run_loop
from interface.vote_log import effective_votes
from utils.store import read_records

from tests.rlhf_loop_support import loop_args, tiny_base  # noqa: F401  (tiny_base: session fixture)


def replay_argv(hh_file, base, *extra):
    return ("--source", "dataset", str(hh_file), "--annotator", "replay", "--base-model", str(base),
            "--epochs", "1", "--max-length", "32", "--max-steps", "2", "--no-lexical", *extra)


def test_help_is_instant_and_lists_the_flags(capsys):
    with pytest.raises(SystemExit) as e:
        main(["--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    for flag in ("--num-prompts", "--completions-per-prompt", "--human-feedback-ratio", "--confidence-threshold",
                 "--monitor-drift", "--cycles", "--annotator", "--source", "--backend", "--seed", "--data-dir",
                 "--models-dir", "--retrain-min-votes", "--dry-run", "--bootstrap", "--max-tokens"):
        assert flag in out


def test_no_terminal_and_no_annotator_is_one_clear_error(capsys, paths):
    rc = main([], stdin=io.StringIO(""))
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1
    assert "not a terminal" in err[0] and "--annotator replay --source dataset FILE" in err[0]
    assert "--annotator llm" in err[0]
    assert not paths.prompts.exists() and not state_path(paths).exists()  # failed before any work


@pytest.mark.parametrize("argv, needle", [
    (["--annotator", "replay"], "needs --source dataset FILE"),
    (["--source", "dataset", "/nope.jsonl", "--annotator", "replay"], "no such file"),
    (["--source", "somewhere"], "--source generate"),
    (["--confidence-threshold", "0.3", "--annotator", "llm"], "[0.5, 1]"),
    (["--human-feedback-ratio", "2", "--annotator", "llm"], "[0, 1]"),
    (["--cycles", "0", "--annotator", "llm"], "--cycles"),
])
def test_bad_flags_exit_2_with_the_fix(argv, needle, capsys):
    assert main(argv, stdin=io.StringIO("")) == 2
    err = capsys.readouterr().err
    assert needle in err and "Traceback" not in err


def test_dry_run_changes_nothing(capsys, paths, hh_file):
    assert main(["--dry-run", "--source", "dataset", str(hh_file), "--annotator", "replay"]) == 0
    out = capsys.readouterr().out
    assert "dry run" in out and "predict_pairs" in out and "cold start" in out
    assert not any(p.exists() for p in (paths.pairs, paths.votes, state_path(paths), paths.loop_history))


def test_two_cycle_replay_run_end_to_end(paths, hh_file, tiny_base):
    """Bootstrap on 80 HH rows, then two cycles over fresh HH pairs with replayed human votes."""
    cfg, args = loop_args(*replay_argv(hh_file, tiny_base, "--bootstrap", str(hh_file), "--bootstrap-limit", "80",
                                       "--num-prompts", "12", "--cycles", "2", "--confidence-threshold", "0.5",
                                       "--human-feedback-ratio", "0.25", "--retrain-min-votes", "3"))
    out = io.StringIO()
    recs = run_loop(cfg, args, paths, out=out)
    text = out.getvalue()
    assert [r["cycle"] for r in recs] == [1, 2] and len(read_history(paths)) == 2
    for r in recs:
        assert r["pairs"] == 12 and r["to_human"] + r["auto_labelled"] == 12
        assert r["to_human"] == 3 and r["audit"] == 3  # every pair is >= 0.5 confident: 25% audit
        assert r["retrained"] is True and r["audit_n"] == 3 and 0.0 <= r["audit_accuracy"] <= 1.0
        assert 0.5 <= r["est_auto_accuracy"] <= 1.0
    assert recs[0]["model_version"] == "v0002" and recs[1]["model_version"] == "v0003"
    assert "cycle 2 summary" in text and "audit accuracy (measured)" in text

    votes = effective_votes(read_records(paths.votes, "vote"))
    kinds = Counter(v["annotator_type"] for v in votes)
    assert kinds == {"import": 80, "model": 18, "human": 6}
    truth = ReplayAnnotator(hh_file)
    pairs = {p["id"]: p for p in read_records(paths.pairs, "pair")}
    assert not any("human_choice" in p for p in pairs.values())  # the choice never leaks into the data
    human = [v for v in votes if v["annotator_type"] == "human"]
    model = [v for v in votes if v["annotator_type"] == "model"]
    assert all(v["annotator"] == f"replay:{hh_file.name}" for v in human)
    assert all(v["choice"] == truth.choice_for(pairs[v["pair_id"]]) for v in human)
    assert all(v["annotator"].startswith("vote_predictor:v") and v["model_confidence"] >= 0.5 for v in model)
    assert not {v["pair_id"] for v in human} & {v["pair_id"] for v in model}  # humans only saw routed pairs
    assert len(pairs) == 80 + 24
    assert read_records(paths.meta_reflection_log)  # the evaluation probe ran

    # calibration/validation prompts are never fine-tuned on: none of them is in the retrain file
    train = read_records(paths.training_data, "training_example")
    held = {e["prompt_id"] for e in train if e["split"] != "train"}
    assert held
    retrain = read_records(paths.retrain_data, "training_example")
    assert retrain and not {e["prompt_id"] for e in retrain} & held


def test_data_prep_splits_never_move_a_prompt_when_data_grows():
    from utils.vote_predictor.data_prep import split_by_prompt, stable_splits
    ids = [f"p_{i}" for i in range(2000)]
    first = split_by_prompt(ids[:500], 0.15, 0.15, seed=0)
    grown = stable_splits(ids, first, 0.15, 0.15, seed=0)
    assert all(grown[p] == s for p, s in first.items())
    shares = {k: sum(v == k for v in grown.values()) / len(ids) for k in ("train", "calibration")}
    assert 0.65 < shares["train"] < 0.75 and 0.11 < shares["calibration"] < 0.19


class FlakyReplay(ReplayAnnotator):
    """Replays, but 'crashes' (KeyboardInterrupt) after ``fail_after`` votes in this process."""

    def __init__(self, file, fail_after: int):
        super().__init__(file)
        self.fail_after = fail_after

    def label(self, pairs, paths):
        head = super().label(pairs[:self.fail_after], paths)
        if len(pairs) > self.fail_after:
            raise KeyboardInterrupt("simulated Ctrl-C while voting")
        return head


def test_cold_start_sends_everything_to_humans_and_survives_an_interrupted_vote(paths, hh_file, tiny_base):
    cfg, args = loop_args(*replay_argv(hh_file, tiny_base, "--num-prompts", "8", "--retrain-min-votes", "100"))
    with pytest.raises(KeyboardInterrupt):
        run_loop(cfg, args, paths, annotator=FlakyReplay(hh_file, 3), out=io.StringIO())
    assert len(read_records(paths.votes, "vote")) == 3
    assert state_path(paths).exists()
    steps = []
    recs = run_loop(cfg, args, paths, out=io.StringIO(), on_step=steps.append)
    assert steps == ["vote", "evaluate", "retrain_data", "retrain", "calibrate", "drift", "report"]
    votes = read_records(paths.votes, "vote")
    assert len(votes) == 8 and len({v["pair_id"] for v in votes}) == 8  # no pair voted twice
    assert recs[0]["to_human"] == 8 and recs[0]["auto_labelled"] == 0 and recs[0]["model_version"] is None
    assert recs[0]["audit_accuracy"] is None and recs[0]["retrained"] is False


def test_cold_start_trains_once_enough_votes_exist(paths, hh_file, tiny_base):
    cfg, args = loop_args(*replay_argv(hh_file, tiny_base, "--num-prompts", "10", "--retrain-min-votes", "10"))
    rec = run_loop(cfg, args, paths, out=io.StringIO())[0]
    assert rec["to_human"] == 10 and rec["retrained"] is True and rec["model_version"] == "v0001"


def test_empty_source_stops_cleanly(paths, tmp_path, capsys):
    f = tmp_path / "one.jsonl"
    f.write_text('{"prompt": "Say hi", "chosen": "Hi!", "rejected": "No."}\n')
    assert main(["--source", "dataset", str(f), "--annotator", "replay", "--retrain-min-votes", "5",
                 "--cycles", "2"]) == 0
    out = capsys.readouterr().out
    assert "nothing new to label" in out
    assert len(read_history(paths)) == 1 and read_json_state(paths)["cycle"] is None


def read_json_state(paths):
    from utils.store import read_json
    return read_json(state_path(paths))
