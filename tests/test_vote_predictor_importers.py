"""Importers: HH-RLHF / TRL files -> pairs + votes, and the TRL export round trip."""
from __future__ import annotations

import gzip
import json
import logging

import pytest

from utils.schema import validate
from utils.store import read_records
from utils.vote_predictor import import_data
from utils.vote_predictor.importers import export_trl, import_votes, load_preference_pairs, split_hh_dialogue


def test_split_hh_dialogue_takes_last_assistant_turn():
    d = "\n\nHuman: hi\n\nAssistant: hello\n\nHuman: how?\n\nAssistant: like this"
    assert split_hh_dialogue(d) == ("Human: hi\n\nAssistant: hello\n\nHuman: how?", "like this")


def test_load_hh_file_real(hh_file):
    pairs = load_preference_pairs(hh_file, limit=200, seed=0)
    assert len(pairs) == 200
    for p in pairs:
        validate("pair", p)
        assert p["human_choice"] in ("A", "B")
        assert p["source"] == "dataset:hh_harmless_dev.jsonl.gz"
    share_a = sum(p["human_choice"] == "A" for p in pairs) / len(pairs)
    assert 0.35 < share_a < 0.65
    again = load_preference_pairs(hh_file, limit=200, seed=0)
    assert [p["id"] for p in again] == [p["id"] for p in pairs]
    assert [p["human_choice"] for p in again] == [p["human_choice"] for p in pairs]


def test_trl_file_bad_lines_are_skipped_with_file_and_line(tmp_path, caplog):
    f = tmp_path / "prefs.jsonl.gz"
    rows = [json.dumps({"prompt": "Why is the sky blue?", "chosen": "Rayleigh scattering.", "rejected": "Paint."}),
            "{not json",
            json.dumps({"prompt": "x", "chosen": "same", "rejected": "same"}),
            json.dumps({"prompt": "Capital of France?", "chosen": "Paris", "rejected": "Lyon"})]
    with gzip.open(f, "wt") as fh:
        fh.write("\n".join(rows) + "\n")
    with caplog.at_level(logging.WARNING):
        pairs, votes = import_votes(f, seed=1)
    assert len(pairs) == 2 and len(votes) == 2
    assert "prefs.jsonl.gz line 2" in caplog.text and "line 3" in caplog.text
    for p, v in zip(pairs, votes):
        validate("vote", v)
        assert v["annotator_type"] == "import" and v["source"] == "trl:prefs.jsonl.gz"
        assert v["choice"] == p["human_choice"]
        chosen = v["response_a"] if v["choice"] == "A" else v["response_b"]
        assert chosen in ("Rayleigh scattering.", "Paris")


def test_export_trl_round_trip(tmp_path, hh_file):
    pairs, votes = import_votes(hh_file, limit=20)
    out = tmp_path / "out.jsonl"
    n = export_trl(votes, {p["id"]: p for p in pairs}, out)
    assert n == 20
    back = load_preference_pairs(out)
    assert {p["id"] for p in back} == {p["id"] for p in pairs}
    # the recorded preference survives the round trip
    chosen = {p["id"]: p["completion_a_id"] if p["human_choice"] == "A" else p["completion_b_id"] for p in pairs}
    assert all(chosen[p["id"]] == (p["completion_a_id"] if p["human_choice"] == "A" else p["completion_b_id"])
               for p in back)


def test_import_cli_is_idempotent_and_exports(paths, hh_file, tmp_path, capsys):
    assert import_data.main([str(hh_file), "--limit", "30"]) == 0
    assert import_data.main([str(hh_file), "--limit", "30"]) == 0
    assert len(read_records(paths.votes, "vote")) == 30
    pairs = read_records(paths.pairs, "pair")
    assert len(pairs) == 30 and all("human_choice" not in p for p in pairs)
    out = tmp_path / "trl.jsonl"
    assert import_data.main(["--export-trl", str(out)]) == 0
    assert len(out.read_text().splitlines()) == 30
    assert "exported 30 votes" in capsys.readouterr().out


def test_import_cli_errors(tmp_path, capsys):
    assert import_data.main([str(tmp_path / "missing.jsonl")]) == 2
    err = capsys.readouterr().err
    assert "missing.jsonl does not exist" in err and "Traceback" not in err
    assert import_data.main([]) == 2


def test_import_cli_help(capsys):
    with pytest.raises(SystemExit) as exc:
        import_data.main(["--help"])
    assert exc.value.code == 0
    assert "--export-trl" in capsys.readouterr().out
