"""Attunement Dashboard: every section on fixture data and on empty data (streamlit AppTest)."""
from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

from tests.dashboard_fixtures import SCRIPT_PAYLOAD, make_dashboard_fixture
from utils.paths import Paths
from utils.store import write_json_atomic

APP = str(__import__("pathlib").Path(__file__).resolve().parents[1] / "interface" / "dashboard_core.py")

SECTIONS = {
    "Alignment Over Time": ["Accuracy trend", "Confidence vs accuracy", "Agreement metrics", "Error distribution by domain"],
    "Calibration Diagnostics": ["Calibration curve", "Confidence histogram", "Reliability diagram",
                                "ECE before / after calibration, per checkpoint"],
    "Drift Clusters & Error Zones": ["Alerts", "Temporal drift", "Prompt clusters", "Example prompts per error zone",
                                     "Error zones in the current votes (domain x task type)"],
    "Model Evolution": ["Checkpoints side by side", "Performance trajectory", "What each retraining changed",
                        "Evaluation probes", "RLHF loop cycles"],
    "User Preference Timeline": ["Votes over time by annotator", "A / B / tie shares", "Time per vote",
                                 "Self-consistency (gold repeats)", "Search the votes"],
}
METRICS = {
    "Alignment Over Time": ["Accuracy vs humans", "ECE", "Cohen's kappa"],
    "Calibration Diagnostics": ["ECE", "MCE", "Brier", "NLL"],
    "Drift Clusters & Error Zones": ["Drift alerts", "Error zones"],
    "Model Evolution": ["Checkpoints", "Validation accuracy", "ECE after calibration"],
    "User Preference Timeline": ["Votes", "Annotators", "A / B / tie"],
}


@pytest.fixture(scope="module")
def fixture_home(tmp_path_factory):
    home = tmp_path_factory.mktemp("dash_home")
    make_dashboard_fixture(Paths.resolve(root=home), n_votes=400, n_predictions=450, seed=3)
    return home


def run_app(section: str, home=None, **state) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["section"] = section
    for k, v in state.items():
        at.session_state[k] = v
    if home is not None:  # the sidebar's folder inputs, as a user would type them
        at.session_state["data_dir"] = str(home / "data")
        at.session_state["models_dir"] = str(home / "models")
    return at.run()


def texts(at: AppTest) -> list[str]:
    return [t.value for t in at.text]


@pytest.mark.parametrize("section", list(SECTIONS))
def test_section_on_fixture_data(section, fixture_home, monkeypatch):
    monkeypatch.setenv("RLHF_PROMPTS_DIR", str(fixture_home / "prompts"))
    at = run_app(section, fixture_home)
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    assert [h.value for h in at.header] == [section]
    subs = [s.value for s in at.subheader]
    for expected in SECTIONS[section]:
        assert expected in subs, (expected, subs)
    labels = [m.label for m in at.metric]
    for expected in METRICS[section]:
        assert expected in labels, (expected, labels)
    assert not any(m.value in ("", None) for m in at.metric)
    # only the open section ran
    assert all(h.value == section for h in at.header)


@pytest.mark.parametrize("section", list(SECTIONS))
def test_section_on_empty_data(section):
    at = run_app(section)
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error
    assert [h.value for h in at.header] == [section]
    infos = " ".join(i.value for i in at.info)
    assert "Nothing here yet" in infos and "Run `python " in infos, infos


def test_alignment_numbers_and_malformed_line_warning(fixture_home):
    at = run_app("Alignment Over Time", fixture_home)
    warn = " ".join(w.value for w in at.warning)
    assert "1 malformed line(s) skipped in votes.jsonl" in warn
    acc = next(m for m in at.metric if m.label == "Accuracy vs humans").value
    assert acc.endswith("%") and 40 < float(acc[:-1]) <= 100
    # the skipped line is listed, as text, with its line number
    assert any("votes.jsonl line" in c.value for c in at.code)


def test_script_payload_is_shown_as_text(fixture_home):
    at = run_app("User Preference Timeline", fixture_home, vote_search="window.__xss")
    assert not at.exception
    assert SCRIPT_PAYLOAD in texts(at)
    for el in (*at.markdown, *at.caption, *at.info, *at.warning):
        assert "<script>" not in el.value
    drift = run_app("Drift Clusters & Error Zones", fixture_home)
    assert SCRIPT_PAYLOAD in texts(drift)  # cluster examples, as text
    evo = run_app("Model Evolution", fixture_home)
    assert any(SCRIPT_PAYLOAD in t for t in texts(evo))  # probe summary, as text


def test_filters_change_the_view(fixture_home):
    at = run_app("User Preference Timeline", fixture_home, annotators=["alice"])
    assert not at.exception
    assert next(m for m in at.metric if m.label == "Annotators").value == "1"
    at = run_app("Alignment Over Time", fixture_home, model_version="v0001")
    assert not at.exception and not at.error
    v1 = float(next(m for m in at.metric if m.label == "Accuracy vs humans").value[:-1])
    at = run_app("Alignment Over Time", fixture_home, model_version="v0003")
    v3 = float(next(m for m in at.metric if m.label == "Accuracy vs humans").value[:-1])
    assert v3 > v1  # the fixture's later versions are better


def test_broken_model_files_give_messages_not_tracebacks(tmp_path):
    paths = Paths.resolve(root=tmp_path)
    make_dashboard_fixture(paths, n_votes=60, n_predictions=60, seed=1)
    paths.calibration_log.write_text("{not json", encoding="utf-8")
    write_json_atomic(paths.drift_dir / "drift_report.json", {"alerts": "none", "windows": [1, 2], "clusters": "x"})
    (paths.checkpoint / "v0002" / "training_meta.json").write_text("[", encoding="utf-8")
    with open(paths.predictions, "a", encoding="utf-8") as fh:
        fh.write(json.dumps({"id": "pred_x", "pair_id": "p", "prob_a": 2.0}) + "\n")
    for section in SECTIONS:
        at = run_app(section, tmp_path)
        assert not at.exception, (section, [e.value for e in at.exception])
        assert all("could not be drawn" not in e.value for e in at.error), section
    at = run_app("Calibration Diagnostics", tmp_path)
    assert any("calibration_log.json could not be read" in e.value for e in at.error)
    assert any("malformed line(s) skipped in predictions.jsonl" in w.value for w in at.warning)


@pytest.mark.parametrize("keep", ["votes_only", "predictions_only"])
def test_partial_data_never_breaks_a_section(tmp_path, keep):
    paths = Paths.resolve(root=tmp_path)
    make_dashboard_fixture(paths, n_votes=80, n_predictions=80, seed=2, write_models=False, malformed=0)
    (paths.predictions if keep == "votes_only" else paths.votes).unlink()
    for section in SECTIONS:
        at = run_app(section, tmp_path)
        assert not at.exception, (section, [e.value for e in at.exception])
        assert not at.error, (section, [e.value for e in at.error])
        assert [h.value for h in at.header] == [section]
