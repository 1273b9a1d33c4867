"""The voting UI driven through a real pseudo-terminal (pexpect), plus crash and concurrency."""
from __future__ import annotations

import os
import signal
import subprocess
import sys

import pexpect

from interface.vote_log import effective_votes
from tests.test_voting_ui_support import VOTING_UI, make_pairs, ui_cmd, write_jsonl
from utils.store import read_records


def spawn(*args: str, rows: int = 40, cols: int = 120) -> pexpect.spawn:
    return pexpect.spawn(sys.executable, [VOTING_UI, *args], encoding="utf-8", timeout=20,
                         dimensions=(rows, cols), env=dict(os.environ))


def test_pty_session_choose_undo_tie_quit(tmp_path, paths):
    pairs = make_pairs(3)
    pf = write_jsonl(tmp_path / "pairs.jsonl", pairs)
    child = spawn("--pairs", str(pf), "--annotator", "alice", "--seed", "3", "--repeat-rate", "0")
    child.expect("Pair 1 of 3")
    child.expect(r"\[q\] quit")
    child.send("1")  # single key, no Enter: the terminal is in cbreak mode
    child.expect("Pair 2 of 3 · 1 voted")
    child.send("u")
    child.expect("undone")
    child.expect("Pair 1 of 3 · 0 voted")
    child.send("2")
    child.expect("Pair 2 of 3 · 1 voted")
    child.send("t")
    child.expect("Pair 3 of 3 · 2 voted")
    child.send("?")
    child.expect("both bad")
    child.send("q")
    child.expect("Saved 2 vote")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0

    raw = read_records(paths.votes, "vote")
    assert len(raw) == 4  # vote, retraction, re-vote, tie: nothing rewritten
    assert raw[1]["retracts"] == raw[0]["id"]
    eff = effective_votes(raw)
    assert [v["pair_id"] for v in eff] == [pairs[0]["id"], pairs[1]["id"]]
    first = eff[0]
    # "2" = the response displayed second, which is A when the pair was shown swapped
    assert first["choice"] == ("A" if first["swapped"] else "B")
    assert eff[1]["choice"] == "tie"
    assert all(v["annotator"] == "alice" and v["annotator_type"] == "human" for v in eff)
    assert all(isinstance(v["seconds"], float) for v in eff)


def test_pty_confidence_rationale_and_paging(tmp_path, paths):
    pf = write_jsonl(tmp_path / "pairs.jsonl", make_pairs(2, long=True))
    child = spawn("--pairs", str(pf), "--annotator", "bob", "--repeat-rate", "0", "--ask-confidence",
                  "--ask-rationale", rows=16, cols=70)
    child.expect(r"page 1/(\d+)")
    child.send(">")
    child.expect("page 2/")
    child.send("a")
    child.expect("confidence 1-5")
    child.send("4")
    child.expect("reason")
    child.sendline("clearer and shorter")
    child.expect("Pair 2 of 2")
    child.sendcontrol("c")  # Ctrl-C: clean exit 130, the vote before it is kept
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 130
    (vote,) = read_records(paths.votes, "vote")
    assert vote["confidence"] == 4 and vote["rationale"] == "clearer and shorter"


def test_kill_9_keeps_every_vote_and_rerun_resumes(tmp_path, paths):
    pairs = make_pairs(5)
    pf = write_jsonl(tmp_path / "pairs.jsonl", pairs)
    child = spawn("--pairs", str(pf), "--annotator", "carol", "--repeat-rate", "0")
    child.expect("Pair 1 of 5")
    for i, key in enumerate("12n", start=2):
        child.send(key)
        child.expect(f"Pair {i} of 5")  # the next screen is drawn only after the fsync'd append
    os.kill(child.pid, signal.SIGKILL)
    child.expect(pexpect.EOF)
    child.close()
    errors: list = []
    votes = read_records(paths.votes, "vote", errors=errors)
    assert errors == []
    assert [v["pair_id"] for v in votes] == [p["id"] for p in pairs[:3]]

    # a rerun shows only the two pairs carol has not voted on yet
    res = subprocess.run(ui_cmd("--pairs", str(pf), "--annotator", "carol", "--repeat-rate", "0"),
                         input="t\nq\n", capture_output=True, text=True, timeout=30)
    assert res.returncode == 0, res.stderr
    assert "Pair 1 of 2" in res.stdout and pairs[3]["prompt"] in res.stdout
    assert len(read_records(paths.votes, "vote")) == 4


def test_two_concurrent_voters_lose_nothing(tmp_path, paths):
    n = 40
    pf = write_jsonl(tmp_path / "pairs.jsonl", make_pairs(n))
    keys = "".join(f"{'12tn'[i % 4]}\n" for i in range(n))
    procs = [subprocess.Popen(ui_cmd("--pairs", str(pf), "--annotator", who, "--seed", str(k), "--repeat-rate", "0"),
                              stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
             for k, who in enumerate(("dana", "eve"))]
    for p in procs:  # both are running before either gets its keys
        p.stdin.write(keys)
        p.stdin.close()
    for p in procs:
        assert p.wait(timeout=60) == 0, p.stderr.read()
    errors: list = []
    votes = read_records(paths.votes, "vote", errors=errors)
    assert errors == []
    assert len(votes) == 2 * n
    for who in ("dana", "eve"):
        assert len({v["pair_id"] for v in votes if v["annotator"] == who}) == n
