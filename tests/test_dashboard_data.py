"""Dashboard data layer: the fast JSONL reader matches the store, the numbers are right, CLIs behave."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import run_dashboard
import setup_dashboard
from interface.components import analysis as A
from interface.components.checkpoints import checkpoint_table, retrain_changes
from interface.components.fastjsonl import read_frame
from tests.dashboard_fixtures import make_dashboard_fixture
from utils.paths import Paths
from utils.store import read_records


def _good_prediction(i: int) -> dict:
    return {"id": f"pred_{i}", "pair_id": f"pr_{i % 7}", "prob_a": 0.7, "choice": "A", "confidence": 0.7,
            "reward_a": 1.0, "reward_b": 0.2, "model_version": "v0001", "model": "m",
            "created_at": "2026-10-01T00:00:00Z", "extra": {"nested": [1, {"a": "b"}]}}


BAD_VARIANTS = [
    {"prob_a": "0.5"}, {"prob_a": True}, {"prob_a": 1.5}, {"confidence": 0.2}, {"choice": "C"}, {"model": ""},
    {"model": "   "}, {"created_at": "yesterday"}, {"id": 5}, {"model_version": None}, {"calibration_id": 3},
]


@pytest.mark.parametrize("fast", [True, False])
def test_fast_reader_keeps_and_skips_exactly_what_the_store_does(tmp_path, fast, monkeypatch):
    monkeypatch.setattr("interface.components.fastjsonl.CHUNK_LINES", 400)  # several chunks
    monkeypatch.setattr("interface.components.fastjsonl.CHUNK_BYTES", 50_000)
    path = tmp_path / "predictions.jsonl"
    lines = []
    for i in range(3000):  # bad lines scattered through several chunks
        rec = _good_prediction(i)
        if i % 250 == 7:
            rec.update(BAD_VARIANTS[(i // 250) % len(BAD_VARIANTS)])
        lines.append(json.dumps(rec))
    lines[100] = "{not json"
    lines[1500] = "[1, 2]"
    lines[2000] = ""
    lines[2500] = "   "
    missing = _good_prediction(2999)
    del missing["model"]
    lines[2999] = json.dumps(missing)
    path.write_text("\n".join(lines) + "\n" + json.dumps(_good_prediction(9999))[:30], encoding="utf-8")

    store_errors: list = []
    expected = read_records(path, "prediction", errors=store_errors, warn=False)
    errors: list = []
    df = read_frame(path, "prediction", errors, fast=fast)
    assert df["id"].tolist() == [r["id"] for r in expected]
    assert [(e.lineno, e.reason) for e in errors] == [(e.lineno, e.reason) for e in store_errors]
    assert errors[-1].reason.startswith("truncated line")
    assert np.allclose(df["prob_a"].astype(float), [r["prob_a"] for r in expected])


def test_fast_reader_missing_file_and_retraction_column(tmp_path):
    assert read_frame(tmp_path / "nope.jsonl", "vote").empty
    paths = Paths.resolve(root=tmp_path)
    make_dashboard_fixture(paths, n_votes=50, n_predictions=20, malformed=0, write_models=False)
    df = read_frame(paths.votes, "vote", fast=True)
    assert "retracts" in df and len(df) == len(read_records(paths.votes, "vote"))


def test_wilson_kappa_and_agreement_by_hand():
    lo, hi = A.wilson([8], [10])
    assert lo[0] == pytest.approx(0.4902, abs=1e-4) and hi[0] == pytest.approx(0.9433, abs=1e-4)
    assert A.cohen_kappa(["A", "A", "B", "B"], ["A", "A", "B", "B"]) == pytest.approx(1.0)
    # po = 0.5, pe = 0.5 -> kappa 0
    assert A.cohen_kappa(["A", "B", "A", "B"], ["A", "A", "B", "B"]) == pytest.approx(0.0)
    ts = pd.Timestamp("2026-10-01", tz="UTC")
    votes = pd.DataFrame({
        "id": list("abcde"), "pair_id": ["p1", "p1", "p1", "p2", "p2"], "annotator": ["x", "y", "z", "x", "y"],
        "annotator_type": ["human"] * 5, "choice": ["A", "A", "B", "B", "B"], "ts": [ts] * 5, "repeat_of": [None] * 5})
    t = A.agreement_table(votes, pd.DataFrame(), None)
    row = t[t["comparison"].str.startswith("human vs human")].iloc[0]
    # p1: A,A,B -> 1 agreeing of 3 annotator pairs; p2: B,B -> 1 of 1  => 2 / 4
    assert row["agreement"] == pytest.approx(0.5) and row["n"] == 2


def test_join_uses_latest_prediction_per_version_and_ignores_ties():
    ts = pd.Timestamp("2026-10-02", tz="UTC")
    votes = pd.DataFrame({"id": ["v1", "v2", "v3"], "pair_id": ["p1", "p1", "p2"], "prompt_id": ["q", "q", "q"],
                          "annotator": ["x", "y", "x"], "annotator_type": ["human", "human", "human"],
                          "choice": ["A", "tie", "B"], "ts": [ts] * 3})
    preds = pd.DataFrame({"pair_id": ["p1", "p1", "p2"], "prob_a": [0.2, 0.9, 0.6], "raw_prob_a": [None] * 3,
                          "model_version": ["v1", "v1", "v1"],
                          "ts": [ts - pd.Timedelta("1h"), ts, ts]})
    j = A.join_votes_predictions(votes, A.latest_predictions(preds))
    assert sorted(j["id"]) == ["v1", "v3"]  # the tie is not a reference vote
    assert j.set_index("id").loc["v1", "correct"]  # latest p1 prediction (0.9) -> A, right
    assert not j.set_index("id").loc["v3", "correct"]


def test_self_consistency_and_shares():
    votes = pd.DataFrame({"id": ["a", "b", "a2", "b2"], "annotator": ["x", "x", "x", "x"],
                          "choice": ["A", "B", "A", "A"], "repeat_of": [None, None, "a", "b"]})
    sc = A.self_consistency(votes)
    assert sc.iloc[0]["repeats"] == 2 and sc.iloc[0]["consistency"] == pytest.approx(0.5)
    sh = A.choice_shares(votes)
    assert sh.loc["x", "A"] == pytest.approx(0.75)


def test_checkpoint_tables(tmp_path):
    meta = lambda v, parent, lr, n, acc: {"meta": {"version": v, "parent_version": parent, "config": {"lr": lr},  # noqa: E731
                                                   "data": {"counts": {"train": n}}, "metrics": {"val_accuracy": acc}},
                                          "version": v, "calibration": None, "is_latest": v == "v0002"}
    cks = [meta("v0001", None, 1e-5, 100, 0.6), meta("v0002", "v0001", 2e-5, 150, 0.7)]
    table = checkpoint_table(cks, [{"model_version": "v0002", "before": {"ece": 0.2}, "after": {"ece": 0.05}}])
    assert table["train_examples"].tolist() == [100, 150]
    assert table.set_index("version").loc["v0002", "ece_after"] == pytest.approx(0.05)
    ch = retrain_changes(cks).set_index("version")
    assert "first checkpoint" in ch.loc["v0001", "changes"]
    assert "config lr: 1e-05 -> 2e-05" in ch.loc["v0002", "changes"]
    assert "training examples: 100 -> 150 (+50)" in ch.loc["v0002", "changes"]
    assert "val_accuracy: 0.600 -> 0.700 (+0.100)" in ch.loc["v0002", "changes"]


def test_run_dashboard_cli(capsys, tmp_path):
    assert run_dashboard.main(["--dry-run", "--data-dir", str(tmp_path / "d"), "--models-dir", str(tmp_path / "m")]) == 0
    cmd = capsys.readouterr().out
    assert "--server.address 127.0.0.1" in cmd and "--server.port 8501" in cmd
    assert f"--data-dir {tmp_path / 'd'}" in cmd and f"--models-dir {tmp_path / 'm'}" in cmd
    assert run_dashboard.main(["--dry-run", "--host", "0.0.0.0", "--port", "9000"]) == 0
    assert "--server.address 0.0.0.0 --server.port 9000" in capsys.readouterr().out
    assert run_dashboard.main(["--port", "70000"]) == 2
    assert "--port must be between 1 and 65535" in capsys.readouterr().err
    (tmp_path / "afile").write_text("x")
    assert run_dashboard.main(["--dry-run", "--data-dir", str(tmp_path / "afile")]) == 2
    assert "is a file, not a folder" in capsys.readouterr().err


def test_dashboard_script_args_pass_through():
    import importlib.util
    spec = importlib.util.spec_from_file_location("dash_core_mod", run_dashboard.APP)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)  # not __main__: defines functions, draws nothing
    args = mod.parse_script_args(["--data-dir", "/x/d", "--models-dir", "/x/m", "--unknown", "1"])
    assert (args.data_dir, args.models_dir) == ("/x/d", "/x/m")


@pytest.mark.parametrize("module", [run_dashboard, setup_dashboard])
def test_help(module, capsys):
    with pytest.raises(SystemExit) as exc:
        module.main(["--help"])
    assert exc.value.code == 0 and "usage:" in capsys.readouterr().out


def test_setup_dashboard_reports_present_packages(capsys):
    assert setup_dashboard.main([]) == 0
    out = capsys.readouterr().out
    assert all(f"{name:12s} ok" in out for name in setup_dashboard.PACKAGES)
    assert setup_dashboard.missing_packages({"surely_not_a_module_xyz": "x"}) == ["x"]
