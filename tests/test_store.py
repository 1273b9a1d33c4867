import json
import multiprocessing as mp
import os

import pytest

from utils import store
from utils.records import make_pair, make_vote, pairs_from_completions
from utils.schema import RecordError, validate


def _vote(choice="A"):
    pair = {"id": "pr_1", "prompt_id": "p_1", "completion_a_id": "c_a", "completion_b_id": "c_b"}
    return make_vote(pair, choice, "alice")


def _writer(path, wid, n):
    for i in range(n):
        # a big payload makes interleaving visible if locking were broken
        store.append_records(path, [{"id": f"{wid}-{i}", "w": wid, "pad": "x" * 5000}])


def test_concurrent_writers_lose_nothing(tmp_path):
    path = tmp_path / "log.jsonl"
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(str(path), w, 200)) for w in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    errors = []
    recs = store.read_records(path, errors=errors)
    assert errors == []
    assert len(recs) == 400
    assert {r["id"] for r in recs} == {f"{w}-{i}" for w in range(2) for i in range(200)}


def test_bad_lines_are_skipped_with_line_numbers(tmp_path, caplog):
    path = tmp_path / "votes.jsonl"
    good = [_vote("A"), _vote("B")]
    store.append_records(path, good[:1], "vote")
    with open(path, "a") as fh:
        fh.write("this is garbage\n")
        fh.write(json.dumps({**_vote(), "choice": "C"}) + "\n")
        fh.write('{"id": "trunc')  # a writer killed mid-line
    store.append_records(path, good[1:], "vote")  # must start on a fresh line
    errors = []
    recs = store.read_records(path, "vote", errors=errors)
    assert [r["id"] for r in recs] == [g["id"] for g in good]
    assert [e.lineno for e in errors] == [2, 3, 4]
    assert "field 'choice' must be 'A' or 'B' or 'tie' or 'both_bad', got 'C'" in errors[1].reason
    assert str(path) in caplog.text and "line 2" in caplog.text


def test_validation_rejects_before_writing(tmp_path):
    path = tmp_path / "votes.jsonl"
    with pytest.raises(RecordError, match="field 'annotator_type'"):
        store.append_records(path, [_vote(), {**_vote(), "annotator_type": "robot"}], "vote")
    assert not path.exists()


def test_validate_messages_name_field_value_allowed():
    with pytest.raises(RecordError, match=r"field 'prob_a' must be int/float in \[0, 1\], got 1.5"):
        validate("prediction", {"id": "x", "pair_id": "p", "prob_a": 1.5})
    with pytest.raises(RecordError, match="field 'text' is missing"):
        validate("prompt", {"id": "p_1"})


def test_atomic_write_keeps_old_file_on_failure(tmp_path):
    path = tmp_path / "log.json"
    store.write_json_atomic(path, {"v": 1})
    with pytest.raises(RuntimeError):
        with store.atomic_path(path) as tmp:
            tmp.write_text("partial")
            raise RuntimeError("boom")
    assert json.loads(path.read_text()) == {"v": 1}
    assert [p.name for p in tmp_path.iterdir() if p.is_file()] == ["log.json"]


def test_gz_and_missing_files(tmp_path):
    import gzip
    path = tmp_path / "x.jsonl.gz"
    with gzip.open(path, "wt") as fh:
        fh.write('{"a": 1}\n{bad\n{"a": 2}\n')
    assert store.read_records(path) == [{"a": 1}, {"a": 2}]
    assert store.read_records(tmp_path / "missing.jsonl") == []


def test_pairs_are_order_free_and_seeded():
    comps = [{"id": f"c{i}", "prompt_id": "p", "prompt": "q", "text": f"t{i}", "index": i, "model": "m"}
             for i in range(3)]
    pairs = pairs_from_completions(comps, seed=1)
    assert len(pairs) == 3
    ids1 = [(p["id"], p["completion_a_id"]) for p in pairs]
    ids2 = [(p["id"], p["completion_a_id"]) for p in pairs_from_completions(list(reversed(comps)), seed=1)]
    assert sorted(ids1) == sorted(ids2)
    for p in pairs:
        validate("pair", p)
    same = make_pair("p", "q", comps[0], comps[1])["id"] == make_pair("p", "q", comps[1], comps[0])["id"]
    assert same


def test_atomic_outputs_get_normal_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        store.write_json_atomic(tmp_path / "out.json", {"a": 1})
    finally:
        os.umask(old)
    assert (tmp_path / "out.json").stat().st_mode & 0o777 == 0o644
