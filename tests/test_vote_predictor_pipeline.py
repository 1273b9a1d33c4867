"""End to end on a tiny BERT: import -> data_prep -> train -> calibrate -> predict -> votes -> retrain."""
from __future__ import annotations

import json

import pytest

from tests.vote_predictor_helpers import make_tiny_base
from utils.cli import UserError
from utils.records import make_vote
from utils.schema import validate
from utils.store import append_records, read_json, read_records
from utils.vote_predictor import calibrate, data_prep, import_data, predict, retrain_data_prep, train
from utils.vote_predictor.predict import load_predictor, predict_pairs

TINY = ["--epochs", "1", "--batch-size", "16", "--max-length", "64", "--freeze-layers", "1", "--no-progress", "--threads", "1"]


@pytest.fixture(scope="module")
def tiny_base(tmp_path_factory):
    return make_tiny_base(tmp_path_factory.mktemp("tiny"))


def test_full_cycle_with_versions(paths, hh_file, tiny_base, capsys, monkeypatch):
    assert import_data.main([str(hh_file), "--limit", "120"]) == 0
    assert data_prep.main(["--val-frac", "0.2", "--cal-frac", "0.25"]) == 0
    assert train.main(["--base-model", str(tiny_base), *TINY]) == 0
    root = paths.checkpoint
    assert (root / "latest").read_text().strip() == "v0001"
    meta = read_json(root / "v0001" / "training_meta.json")
    assert meta["version"] == "v0001" and meta["parent_version"] is None
    assert meta["data"]["counts"]["train"] > 0 and len(meta["data"]["sha256"]) == 64
    for k in ("train_loss", "val_loss", "val_accuracy", "epochs_run", "train_seconds", "train_pairs_per_s"):
        assert k in meta["metrics"]
    assert (root / "v0001" / "model.safetensors").exists() and (root / "v0001" / "tokenizer.json").exists()

    assert calibrate.main([]) == 0
    log = read_json(paths.calibration_log)
    entry = log["calibrations"][-1]
    assert log["latest"] == entry["id"] and entry["model_version"] == "v0001"
    assert entry["method"] in ("temperature", "platt") and set(entry["candidates"]) == {"temperature", "platt"}
    for part in ("before", "after"):
        assert {"accuracy", "ece", "mce", "brier", "nll"} <= set(entry[part])
    assert entry["after"]["nll"] <= entry["before"]["nll"] + 1e-9
    png = open(entry["reliability_png"], "rb").read(8)
    assert png.startswith(b"\x89PNG")

    pairs = read_records(paths.pairs, "pair")[:40]
    recs = predict_pairs(pairs)
    assert [r["pair_id"] for r in recs] == [p["id"] for p in pairs]
    for r in recs:
        validate("prediction", r)
        assert r["calibration_id"] == entry["id"] and r["model_version"] == "v0001"
        assert r["confidence"] == max(r["prob_a"], 1 - r["prob_a"])
    swapped = [dict(p, response_a=p["response_b"], response_b=p["response_a"]) for p in pairs]
    for r, s in zip(recs, predict_pairs(swapped)):
        assert r["prob_a"] + s["prob_a"] == pytest.approx(1.0, abs=1e-9)

    answers = iter(["Is it safe to eat raw chicken?", "No, cook it to 74 C.", "Sure, go ahead.", ""])
    monkeypatch.setattr("builtins.input", lambda prompt="": next(answers))
    assert predict.main(["--interactive"]) == 0
    assert "P(A preferred) = " in capsys.readouterr().out

    assert predict.main(["--limit", "40"]) == 0
    assert len(read_records(paths.predictions, "prediction")) == 40
    assert predict.main(["--limit", "40", "--new-only"]) == 0  # the next 40, not the same ones again
    assert len({r["pair_id"] for r in read_records(paths.predictions, "prediction")}) == 80

    # humans vote after the predictions: every other one disagrees with the model
    by_pair = {p["id"]: p for p in pairs}
    votes = []
    for i, r in enumerate(recs):
        choice = r["choice"] if i % 2 else ("B" if r["choice"] == "A" else "A")
        votes.append(make_vote(by_pair[r["pair_id"]], choice, "alice", "human"))
    append_records(paths.votes, votes, "vote")
    assert retrain_data_prep.main(["--replay-ratio", "0.5"]) == 0
    rt = read_records(paths.retrain_data, "training_example")
    reasons = {r["reason"] for r in rt}
    assert "error" in reasons and "replay" in reasons
    assert all(r["weight"] == 2.0 for r in rt if r["reason"] == "error")

    assert train.main(["--retrain", "--checkpoint", str(root), *TINY]) == 0
    assert (root / "latest").read_text().strip() == "v0002"
    meta2 = read_json(root / "v0002" / "training_meta.json")
    assert meta2["parent_version"] == "v0001" and (root / "v0001" / "model.safetensors").exists()
    hist = [json.loads(l) for l in (root / "history.jsonl").read_text().splitlines()]
    assert [h["version"] for h in hist] == ["v0001", "v0002"]
    assert load_predictor(paths=paths).version == "v0002"
    assert predict_pairs(pairs[:3])[0]["calibration_id"] is None  # v0002 is not calibrated yet


def test_no_checkpoint_and_bad_checkpoint_errors(paths, tmp_path, capsys):
    pair = {"id": "pr_x", "prompt": "q", "response_a": "a", "response_b": "b"}
    with pytest.raises(UserError, match="train one first: python utils/vote_predictor/train.py"):
        predict_pairs([pair])
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "weights.txt").write_text("x")
    assert predict.main(["--checkpoint", str(tmp_path / "junk")]) == 2
    err = capsys.readouterr().err
    assert "is not a vote predictor checkpoint" in err and "Traceback" not in err
    assert calibrate.main(["--checkpoint", str(tmp_path / "junk")]) == 2
    with pytest.raises(UserError, match="lacks response_b"):
        predict_pairs([{"id": "x", "prompt": "q", "response_a": "a"}])


def test_train_errors_are_one_line(paths, capsys):
    assert train.main(["--no-progress"]) == 2
    assert "data_prep.py first" in capsys.readouterr().err
    assert train.main(["--epochs", "0"]) == 2
    assert train.main(["--checkpoint", "x"]) == 2
    assert "--retrain" in capsys.readouterr().err
    assert retrain_data_prep.main([]) == 2
    assert "predict.py first" in capsys.readouterr().err


@pytest.mark.parametrize("mod", [train, calibrate, predict, retrain_data_prep])
def test_help(mod, capsys):
    with pytest.raises(SystemExit) as exc:
        mod.main(["--help"])
    assert exc.value.code == 0 and "--root" in capsys.readouterr().out
