import json
import subprocess
import sys

from prompts import generator
from prompts.templates import DOMAINS, TASKS
from tests.openai_server import ChatServer
from utils.records import prompt_id_for
from utils.store import read_records


def _read(home):
    return read_records(home / "prompts" / "generated_prompts.jsonl", "prompt")


def test_seeded_and_reproducible(rlhf_home, tmp_path):
    assert generator.main(["--num-prompts", "15", "--seed", "7"]) == 0
    first = [p["text"] for p in _read(rlhf_home)]
    out = tmp_path / "other.jsonl"
    assert generator.main(["--num-prompts", "15", "--seed", "7", "--output", str(out)]) == 0
    assert [p["text"] for p in read_records(out)] == first
    assert generator.main(["--num-prompts", "15", "--seed", "8", "--output", str(tmp_path / "x.jsonl")]) == 0
    assert [p["text"] for p in read_records(tmp_path / "x.jsonl")] != first


def test_diverse_across_domains_and_tasks(rlhf_home):
    assert generator.main(["--num-prompts", "40"]) == 0
    prompts = _read(rlhf_home)
    assert len({p["domain"] for p in prompts}) >= 8
    assert len({p["task_type"] for p in prompts}) >= 7
    assert {"safety", "coding", "creative", "comparison", "explanation", "advice"} <= {p["task_type"] for p in prompts}
    assert all(p["id"] == prompt_id_for(p["text"]) and p["source"] == "template" for p in prompts)


def test_dedupe_against_existing_file(rlhf_home):
    assert generator.main(["--num-prompts", "10", "--seed", "1"]) == 0
    assert generator.main(["--num-prompts", "10", "--seed", "1"]) == 0
    prompts = _read(rlhf_home)
    assert len(prompts) == 20
    assert len({p["id"] for p in prompts}) == 20


def test_domain_filter_and_exhaustion(rlhf_home, capsys):
    assert generator.main(["--num-prompts", "5", "--domains", "law", "--task-types", "safety"]) == 0
    prompts = _read(rlhf_home)
    # law x safety has 2 templates x 2 risky prompts = 4 distinct prompts; the rest is a warning
    assert len(prompts) == 4 and {p["domain"] for p in prompts} == {"law"}
    assert "only 4 new template prompts" in capsys.readouterr().err


def test_bad_input_one_line(rlhf_home, capsys):
    assert generator.main(["--domains", "astrology"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "unknown domain 'astrology'" in err and "science" in err
    assert generator.main(["--num-prompts", "-1"]) == 2


def test_use_llm_through_openai_backend(rlhf_home):
    with ChatServer() as srv:
        rc = generator.main(["--use-llm", "--num-prompts", "6", "--backend", "openai", "--base-url", srv.base_url,
                             "--domains", "health", "cooking"])
        assert rc == 0
        assert all("Topic: health" in p or "Topic: cooking" in p for p in srv.prompts_seen)
    prompts = _read(rlhf_home)
    assert 1 <= len(prompts) <= 6
    assert all(p["source"] == "llm" and p["model"].startswith("openai:") for p in prompts)
    assert len({p["id"] for p in prompts}) == len(prompts)


def test_clean_llm_prompt():
    assert generator.clean_llm_prompt('Sure, here is a request: "How do I bake bread at home?"') == "How do I bake bread at home?"
    assert generator.clean_llm_prompt("ok") is None
    assert generator.clean_llm_prompt("What is a good way to learn Spanish quickly?\nExtra line") == \
        "What is a good way to learn Spanish quickly?"


def test_sample_batch_and_templates_cover_everything():
    for d, vocab in DOMAINS.items():
        for t in TASKS:
            assert generator.candidate_prompts([d], [t], 0), (d, t)
