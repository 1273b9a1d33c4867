"""Interrupt the loop after every step and resume; the LLM judge against a real HTTP server."""
from __future__ import annotations

import io
from collections import Counter

import pytest

from interface.loop_annotators import combine_verdicts, parse_verdict
from interface.loop_routing import AUDIT, AUTO, HUMAN, audit_accuracy, audit_count, random_routes, route_pairs
from interface.loop_state import read_history, state_path
from interface.loop_steps import CYCLE_STEPS, STEPS
from interface.rlhf_loop import run_loop
from interface.vote_log import effective_votes
from utils.store import read_json, read_records

from tests.rlhf_loop_support import JudgingChatServer, loop_args, tiny_base  # noqa: F401  (tiny_base: fixture)


def judge_argv(srv, base, hh_file, *extra):
    return ("--source", "generate", "--num-prompts", "4", "--backend", "openai", "--base-url", srv.base_url,
            "--model", "fake-chat", "--annotator", "llm", "--bootstrap", str(hh_file), "--bootstrap-limit", "40",
            "--base-model", str(base), "--epochs", "1", "--max-length", "32", "--max-steps", "2", "--no-lexical",
            "--confidence-threshold", "0.5", "--human-feedback-ratio", "0.5", "--retrain-min-votes", "2",
            "--monitor-drift", *extra)


def summary(paths) -> dict:
    votes = effective_votes(read_records(paths.votes, "vote"))
    h = read_history(paths)
    return {"votes": Counter(v["annotator_type"] for v in votes),
            # audit accuracy itself depends on which side is A, a coin seeded by the (random)
            # completion ids, so two runs compare whether it was measured, not its value
            "history": [(r["cycle"], r["pairs"], r["to_human"], r["auto_labelled"], r["audit_accuracy"] is None,
                         r["audit_n"], r["retrained"]) for r in h],
            "prompts": len(read_records(paths.prompts, "prompt")),
            "completions": len(read_records(paths.completions, "completion")),
            "pairs": len(read_records(paths.pairs, "pair"))}


def test_interrupt_after_each_step_then_resume_redoes_nothing(tmp_path, monkeypatch, hh_file, tiny_base):
    from utils.paths import Paths
    with JudgingChatServer() as srv:
        # reference: one uninterrupted cycle in its own home
        ref = Paths.resolve(tmp_path / "ref")
        cfg, args = loop_args(*judge_argv(srv, tiny_base, hh_file))
        run_loop(cfg, args, ref, out=io.StringIO())
        expected = summary(ref)

        # the same cycle, interrupted right after every step; each rerun must run exactly the next step
        home = Paths.resolve(tmp_path / "interrupted")
        ran: list[str] = []
        for step in CYCLE_STEPS[:-1]:
            with pytest.raises(KeyboardInterrupt):
                run_loop(cfg, args, home, out=io.StringIO(), stop_after=step.name, on_step=ran.append)
            assert read_json(state_path(home))["cycle"]["done"][-1] == step.name
        run_loop(cfg, args, home, out=io.StringIO(), on_step=ran.append)
    assert ran == [s.name for s in STEPS]  # bootstrap once, then every cycle step exactly once
    assert summary(home) == expected  # completion ids are random, so compare counts, not ids
    for p in (home, ref):  # no pair labelled twice by the same kind of annotator
        votes = effective_votes(read_records(p.votes, "vote"))
        assert max(Counter((v["pair_id"], v["annotator_type"]) for v in votes).values()) == 1
    h = read_history(home)
    assert len(h) == 1 and h[0]["retrained"] is True and h[0]["to_human"] >= 1
    assert read_json(state_path(home))["cycle"] is None


def test_llm_judge_votes_are_marked_and_swapped_twice(paths, tmp_path, hh_file, tiny_base):
    with JudgingChatServer() as srv:
        cfg, args = loop_args(*judge_argv(srv, tiny_base, hh_file, "--confidence-threshold", "1.0"))
        rec = run_loop(cfg, args, paths, out=io.StringIO())[0]
        judged = srv.judged
    judge = [v for v in read_records(paths.votes, "vote") if v["annotator_type"] == "judge"]
    assert rec["to_human"] == rec["pairs"] == len(judge) and judged == 2 * len(judge)
    pairs = {p["id"]: p for p in read_records(paths.pairs, "pair")}
    for v in judge:  # the server prefers the shorter (then alphabetically first) response in either order
        p = pairs[v["pair_id"]]
        key_a, key_b = (len(p["response_a"]), p["response_a"]), (len(p["response_b"]), p["response_b"])
        assert v["choice"] == ("A" if key_a <= key_b else "B")
        assert v["annotator"] == "judge:openai:fake-chat" and v["model"] == "fake-chat"


def test_position_biased_judge_gives_ties(paths, hh_file, tiny_base):
    with JudgingChatServer(position_bias=True) as srv:
        cfg, args = loop_args(*judge_argv(srv, tiny_base, hh_file, "--confidence-threshold", "1.0",
                                          "--no-monitor-drift", "--retrain-min-votes", "50"))
        run_loop(cfg, args, paths, out=io.StringIO())
    judge = [v for v in read_records(paths.votes, "vote") if v["annotator_type"] == "judge"]
    assert judge and all(v["choice"] == "tie" for v in judge)


def test_verdict_parsing_and_combination():
    assert [parse_verdict(t) for t in ("A", "**B**", "Response A.", "A or B", "Answer", "b")] == \
        ["A", "B", "A", None, None, None]
    assert combine_verdicts("A", "B") == "A"      # A first, then (swapped) B = the same response
    assert combine_verdicts("A", "A") == "tie"    # position bias
    assert combine_verdicts(None, "B") == "tie"


def test_routing_thresholds_audit_share_and_determinism():
    preds = {f"p{i}": {"confidence": c, "choice": "A"} for i, c in enumerate([0.55, 0.7, 0.8, 0.85, 0.9, 0.95, 0.99])}
    ids = list(preds) + ["p_none"]
    r = route_pairs(ids, preds, threshold=0.8, audit_ratio=0.4, seed=1)
    assert [r[p] for p in ("p0", "p1", "p_none")] == [HUMAN] * 3
    confident = [p for p in ids if r[p] in (AUTO, AUDIT)]
    assert confident == ["p2", "p3", "p4", "p5", "p6"] and sum(r[p] == AUDIT for p in confident) == 2
    assert route_pairs(list(reversed(ids)), preds, 0.8, 0.4, seed=1) == r  # order-free, seeded
    assert audit_count(5, 0.0) == 0 and audit_count(5, 0.01) == 1 and audit_count(10, 0.25) == 3
    assert route_pairs(ids, {}, 0.8, 0.5) == {p: HUMAN for p in ids}  # cold start
    acc, n = audit_accuracy({"a": AUDIT, "b": AUDIT, "c": AUTO}, {k: {"choice": "A", "confidence": 0.9} for k in "abc"},
                            {"a": "A", "b": "B", "c": "B"})
    assert (acc, n) == (0.5, 2)
    rr = random_routes(ids, 3, seed=0)
    assert sum(v == HUMAN for v in rr.values()) == 3


def test_architecture_png_is_drawn_from_the_steps_the_loop_runs(tmp_path):
    import importlib.util
    import sys
    from pathlib import Path

    repo = Path(__file__).resolve().parents[1]
    spec = importlib.util.spec_from_file_location("draw_architecture", repo / "docs" / "draw_architecture.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look their module up there
    spec.loader.exec_module(mod)
    ax = mod.draw()
    texts = "\n".join(t.get_text() for t in ax.texts)
    for s in STEPS:
        assert s.name in texts and s.script in texts and (repo / s.script).is_file()
        assert all(w in texts for w in s.writes)
    assert mod.main(["--out", str(tmp_path / "a.png")]) == 0
    assert (tmp_path / "a.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [s.name for s in CYCLE_STEPS] == ["prompts", "completions", "pairs", "predict", "route", "vote", "evaluate",
                                              "retrain_data", "retrain", "calibrate", "drift", "report"]
