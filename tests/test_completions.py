import json

import pytest

from prompts import generator
from tests.openai_server import ChatServer
from utils import completions
from utils.store import read_records


def _prompts(home, n=3):
    assert generator.main(["--num-prompts", str(n), "--seed", "3"]) == 0
    return read_records(home / "prompts" / "generated_prompts.jsonl", "prompt")


def test_local_backend_tiny_model_batched_and_resumable(rlhf_home, tiny_chat_model, capsys):
    prompts = _prompts(rlhf_home, 3)
    args = ["--model", str(tiny_chat_model), "--max-tokens", "6", "--batch-size", "4"]
    assert completions.main(args) == 0
    comps = read_records(rlhf_home / "data" / "raw_completions_log.jsonl", "completion")
    assert len(comps) == 6
    assert {c["prompt_id"] for c in comps} == {p["id"] for p in prompts}
    assert sorted(c["index"] for c in comps) == [0, 0, 0, 1, 1, 1]
    assert all(c["backend"] == "local" and c["usage"]["completion_tokens"] <= 6 for c in comps)
    # completion k is sampled hotter than k-1, so the two sides of a pair differ by design
    assert {c["params"]["temperature"] for c in comps} == {0.7, 1.0}
    # rerun: nothing missing, nothing generated
    assert completions.main(args) == 0
    assert "nothing to do" in capsys.readouterr().out
    assert len(read_records(rlhf_home / "data" / "raw_completions_log.jsonl")) == 6
    # one more completion each when K grows
    assert completions.main(args + ["--num-completions", "3"]) == 0
    assert len(read_records(rlhf_home / "data" / "raw_completions_log.jsonl")) == 9


def test_openai_backend_against_local_server_with_failures(rlhf_home):
    _prompts(rlhf_home, 4)
    with ChatServer(latency=0.01, fail_rate=0.4, seed=1) as srv:
        rc = completions.main(["--backend", "openai", "--base-url", srv.base_url, "--model", "m", "--retries", "8"])
        assert rc == 0
        assert srv.failures > 0 and set(srv.failed_kinds) >= {"429", "500"}
    comps = read_records(rlhf_home / "data" / "raw_completions_log.jsonl", "completion")
    assert len(comps) == 8
    assert all(c["backend"] == "openai" and c["usage"]["completion_tokens"] > 0 and c["latency_s"] >= 0 for c in comps)
    assert all(c["text"].startswith("Answer (") for c in comps)


def test_openai_slow_server_times_out_with_one_line(rlhf_home, capsys):
    _prompts(rlhf_home, 1)
    with ChatServer(latency=1.0) as srv:
        rc = completions.main(["--backend", "openai", "--base-url", srv.base_url, "--timeout", "0.2", "--retries", "1"])
    err = capsys.readouterr().err
    assert rc == 2 and "Traceback" not in err
    errors = [line for line in err.splitlines() if "error:" in line]
    assert len(errors) == 1 and "timed out after 0.2s (after 2 attempts)" in errors[0]


def test_missing_key_and_unreachable_server_are_one_line_errors(rlhf_home, capsys):
    _prompts(rlhf_home, 1)
    assert completions.main(["--backend", "openai", "--provider", "deepseek"]) == 2
    err = capsys.readouterr().err
    assert "no API key: set DEEPSEEK_API_KEY" in err and "Traceback" not in err
    assert completions.main(["--backend", "openai", "--base-url", "http://127.0.0.1:9/v1", "--retries", "0"]) == 2
    assert "cannot connect" in capsys.readouterr().err


def test_bad_key_is_reported(rlhf_home, capsys, monkeypatch):
    _prompts(rlhf_home, 1)
    monkeypatch.setenv("OPENAI_API_KEY", "wrong")
    with ChatServer(api_key="right") as srv:
        assert completions.main(["--backend", "openai", "--base-url", srv.base_url]) == 2
    assert "bad API key" in capsys.readouterr().err


def test_garbage_prompt_line_warns_and_continues(rlhf_home, tiny_chat_model, caplog):
    _prompts(rlhf_home, 2)
    with open(rlhf_home / "prompts" / "generated_prompts.jsonl", "a") as fh:
        fh.write("{not json\n")
    assert completions.main(["--model", str(tiny_chat_model), "--max-tokens", "3"]) == 0
    assert "generated_prompts.jsonl line 3" in caplog.text
    assert len(read_records(rlhf_home / "data" / "raw_completions_log.jsonl")) == 4


def test_missing_prompts_file_and_bad_flags(rlhf_home, capsys):
    assert completions.main([]) == 2
    assert "python prompts/generator.py" in capsys.readouterr().err
    assert completions.main(["--num-completions", "0"]) == 2
    assert completions.main(["--provider", "deepseek"]) == 2
    assert "needs --backend openai" in capsys.readouterr().err


@pytest.mark.slow
def test_real_smollm2_writes_real_text(rlhf_home, smollm2_models_dir):
    _prompts(rlhf_home, 2)
    rc = completions.main(["--models-dir", str(smollm2_models_dir), "--max-tokens", "16",
                           "--output", str(rlhf_home / "data" / "real.jsonl")])
    assert rc == 0
    comps = read_records(rlhf_home / "data" / "real.jsonl", "completion")
    assert len(comps) == 4
    assert all(c["model"] == "SmolLM2-135M-Instruct" for c in comps)
    # real language: mostly ASCII words, several of them
    for c in comps:
        assert len(c["text"].split()) >= 4, c["text"]
    assert len({c["text"] for c in comps}) == 4
