"""data_prep: sources, dedupe, ties, retractions, balanced sides, prompt-grouped splits, bad input."""
from __future__ import annotations

import json
import logging

import pytest

from utils.cli import UserError
from utils.records import make_pair, make_vote
from utils.store import append_records, read_records
from utils.vote_predictor import data_prep
from utils.vote_predictor.data_prep import DataPrepConfig, prepare_training_data, split_by_prompt


def _pairs(n_prompts=40, per_prompt=3):
    pairs = []
    for i in range(n_prompts):
        comps = [{"id": f"c_{i}_{k}", "text": f"answer {k} to {i}", "model": "m"} for k in range(per_prompt)]
        for k in range(per_prompt - 1):
            pairs.append(make_pair(f"p_{i}", f"question {i}", comps[k], comps[k + 1]))
    return pairs


def test_split_grouping_never_leaks_a_prompt(paths):
    pairs = _pairs()
    append_records(paths.pairs, pairs, "pair")
    votes = [make_vote(p, "A" if i % 3 else "B", "alice") for i, p in enumerate(pairs)]
    votes += [make_vote(p, "B", "bob") for p in pairs[:20]]
    append_records(paths.votes, votes, "vote")
    s = prepare_training_data(DataPrepConfig(val_frac=0.2, cal_frac=0.2), paths)
    recs = read_records(paths.training_data, "training_example")
    assert s["n"] == len(recs) == 100
    split_of = {}
    for r in recs:
        assert split_of.setdefault(r["prompt_id"], r["split"]) == r["split"]
    assert set(s["splits"]) == {"train", "validation", "calibration"}
    assert abs(s["labels"]["A"] - s["labels"]["B"]) <= 1  # sides balanced
    assert s["annotators"] == {"alice": 80, "bob": 20}
    # the label follows the texts when sides are swapped
    by_vote = {v["id"]: v for v in votes}
    pair_by_id = {p["id"]: p for p in pairs}
    for r in recs:
        v = by_vote[r["vote_id"]]
        p = pair_by_id[v["pair_id"]]
        winner = p["response_a"] if v["choice"] == "A" else p["response_b"]
        assert (r["response_a"] if r["label"] == "A" else r["response_b"]) == winner


def test_split_by_prompt_sizes():
    ids = [f"p{i // 2}" for i in range(200)]
    out = split_by_prompt(ids, 0.1, 0.2, seed=0)
    counts = {s: sum(out[i] == s for i in ids) for s in ("train", "validation", "calibration")}
    assert counts["calibration"] == pytest.approx(40, abs=2) and counts["validation"] == pytest.approx(20, abs=2)


def test_filters_dedupe_retractions_ties_and_missing_pairs(paths, caplog):
    pairs = _pairs(6, 2)
    append_records(paths.pairs, pairs[1:], "pair")  # pairs[0] missing from the pairs file
    v_missing = make_vote(pairs[0], "A", "alice")
    v_old = make_vote(pairs[1], "A", "alice")
    v_new = make_vote(pairs[1], "B", "alice")  # same annotator re-votes: later wins
    v_model = make_vote(pairs[2], "A", "v0001", "model")  # auto-label: never trained on
    v_judge = make_vote(pairs[2], "B", "gpt", "judge")
    v_tie = make_vote(pairs[3], "tie", "alice")
    v_undone = make_vote(pairs[4], "A", "alice")
    retraction = dict(make_vote(pairs[4], "A", "alice"), retracts=v_undone["id"])
    v_ok = make_vote(pairs[5], "B", "bob")
    append_records(paths.votes, [v_missing, v_old, v_new, v_model, v_judge, v_tie, v_undone, retraction, v_ok], "vote")
    with paths.votes.open("a") as fh:
        fh.write('{"id": "v_bad", "choice": "C"}\n')
    with caplog.at_level(logging.WARNING):
        s = prepare_training_data(DataPrepConfig(), paths)
    assert "votes.jsonl line 1" in caplog.text and v_missing["id"] in caplog.text
    assert "line 10" in caplog.text
    recs = read_records(paths.training_data, "training_example")
    assert sorted(r["vote_id"] for r in recs) == sorted([v_new["id"], v_ok["id"]])
    assert s["skipped"]["missing pair"] == 1 and s["skipped"]["annotator_type model"] == 1
    s2 = prepare_training_data(DataPrepConfig(ties="keep", include_judge=True), paths)
    assert s2["n"] == 4 and s2["labels"].get("tie") == 1
    assert "annotator_type model" in s2["skipped"]


def test_extra_file_and_cli(paths, hh_file, capsys):
    assert data_prep.main(["--extra", str(hh_file), "--extra-limit", "50"]) == 0
    out = capsys.readouterr().out
    assert "wrote 50 examples" in out and "hh_harmless_dev.jsonl.gz 50" in out
    first = paths.training_data.read_text()
    assert data_prep.main(["--extra", str(hh_file), "--extra-limit", "50"]) == 0
    assert [json.loads(l)["id"] for l in paths.training_data.read_text().splitlines()] == \
        [json.loads(l)["id"] for l in first.splitlines()]


def test_empty_training_set_is_one_line_error(paths, capsys):
    assert data_prep.main([]) == 2
    err = capsys.readouterr().err
    assert "no usable votes" in err and "import_data.py" in err and "Traceback" not in err
    with pytest.raises(UserError):
        prepare_training_data(DataPrepConfig(), paths)
    assert data_prep.main(["--val-frac", "0.6", "--cal-frac", "0.5"]) == 2


def test_help(capsys):
    with pytest.raises(SystemExit) as exc:
        data_prep.main(["--help"])
    assert exc.value.code == 0 and "--ties" in capsys.readouterr().out
