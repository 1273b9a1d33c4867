"""Batch input parsing, CSV round-trip, rate limiting and summary maths (no network)."""
from __future__ import annotations

import json

import pytest

from utils.batch_io import load_batch, load_results, read_results_csv, write_results_csv
from utils.batch_stats import percentile, summarize
from utils.cli import UserError
from utils.rate_limit import RateLimiter, TokenBucket
from utils.store import append_records

REPO_SAMPLE = __import__("pathlib").Path(__file__).resolve().parents[1] / "prompts" / "sample_batch.json"


def test_sample_batch_parses_with_system_prompt_and_override():
    items = load_batch(REPO_SAMPLE)
    assert len(items) == 10 and len({i.id for i in items}) == 10
    code = next(i for i in items if i.id == "code-01")
    assert code.overrides == {"temperature": 0.2, "max_tokens": 400}
    assert code.system_prompt.startswith("You are a senior Python engineer")
    other = next(i for i in items if i.id == "sci-01")
    assert other.system_prompt.startswith("You are a helpful") and other.overrides == {}
    assert other.metadata == {"domain": "science", "task_type": "explanation"}
    assert other.messages()[0]["role"] == "system" and other.messages()[-1] == {"role": "user", "content": other.prompt}


def test_list_of_strings_and_jsonl_inputs(tmp_path):
    f = tmp_path / "p.json"
    f.write_text(json.dumps(["What is 2+2?", "Name a prime."]))
    items = load_batch(f)
    assert [i.prompt for i in items] == ["What is 2+2?", "Name a prime."]
    assert all(i.id.startswith("p_") and i.system_prompt is None for i in items)
    j = tmp_path / "p.jsonl"
    j.write_text('{"id": "a", "text": "from generated_prompts", "domain": "x"}\n\n{"id": "b", "prompt": "two", "seed": 3}\n')
    items = load_batch(j)
    assert [(i.id, i.prompt) for i in items] == [("a", "from generated_prompts"), ("b", "two")]
    assert items[1].overrides == {"seed": 3}


@pytest.mark.parametrize("content, expected", [
    ('{"prompts": [{"id": "a", "prompt": "ok"}, {"id": "b"}]}', "entry 1 (0-based): needs a non-empty 'prompt'"),
    ('{"prompts": [{"id": "a", "prompt": "x", "temperature": "hot"}]}', "'temperature' must be a number 0-2, got 'hot'"),
    ('{"prompts": [{"id": "a", "prompt": "x"}, {"id": "a", "prompt": "y"}]}', "duplicate id 'a'"),
    ('{"prompts": [{"id": "a", "prompt": "x", "max_tokens": 0}]}', "'max_tokens' must be an integer >= 1"),
    ('{"prompts": [42]}', "expected an object"),
    ('{"prompts": []}', "no prompts"),
    ('{"items": []}', "expected a list of prompts"),
    ('[{"id": "a", "prompt": "x"},', "not valid JSON"),
])
def test_malformed_input_names_the_entry(tmp_path, content, expected):
    f = tmp_path / "bad.json"
    f.write_text(content)
    with pytest.raises(UserError) as exc:
        load_batch(f)
    assert expected in str(exc.value) and str(f) in str(exc.value)


def test_malformed_jsonl_line_is_named(tmp_path):
    f = tmp_path / "bad.jsonl"
    f.write_text('{"id": "a", "prompt": "x"}\n{"id": "b", "prompt": \n')
    with pytest.raises(UserError, match=r"bad.jsonl line 2: not valid JSON"):
        load_batch(f)


def test_csv_round_trip_of_awkward_text(tmp_path):
    nasty = 'He said, "hello"\nthen left;\r\n  a second, "quoted" line\tand a tab — ünïcödé, =SUM(A1)'
    rec = {"id": "x,1", "status": "ok", "prompt": 'a "prompt", with commas', "system_prompt": None, "text": nasty,
           "error": None, "model": "m", "finish_reason": "stop", "usage": {"prompt_tokens": 3, "completion_tokens": 9},
           "latency_s": 0.5, "attempts": 2, "params": {"temperature": 0.7, "top_p": 0.95, "max_tokens": 64, "seed": None},
           "created_at": "2026-11-28T20:41:07Z"}
    failed = dict(rec, id="y", status="failed", text="", error="HTTP 500: boom,\n again")
    path = write_results_csv(tmp_path / "r.csv", [rec, failed])
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")  # BOM: spreadsheets detect UTF-8
    rows = read_results_csv(path)
    assert len(rows) == 2
    assert rows[0]["text"] == nasty and rows[0]["prompt"] == rec["prompt"] and rows[0]["id"] == "x,1"
    assert rows[0]["prompt_tokens"] == "3" and rows[0]["temperature"] == "0.7" and rows[0]["system_prompt"] == ""
    assert rows[1]["status"] == "failed" and rows[1]["error"] == "HTTP 500: boom,\n again"


def test_load_results_prefers_success_and_survives_truncated_line(tmp_path):
    path = tmp_path / "results.jsonl"
    append_records(path, [{"id": "a", "status": "failed", "error": "x"}, {"id": "b", "status": "ok"},
                          {"id": "a", "status": "ok"}, {"id": "b", "status": "failed", "error": "late"}])
    with open(path, "a") as fh:
        fh.write('{"id": "c", "status": "o')  # a crash mid-write
    latest = load_results(tmp_path)
    assert {k: v["status"] for k, v in latest.items()} == {"a": "ok", "b": "ok"}


class FakeClock:
    def __init__(self):
        self.t = 0.0

    def __call__(self):
        return self.t

    def sleep(self, s):
        self.t += s


def test_rate_limiter_spaces_requests_by_rpm():
    clock = FakeClock()
    lim = RateLimiter(rpm=120, clock=clock, sleep=clock.sleep)  # 2 per second, burst 2
    for _ in range(10):
        lim.acquire()
    assert clock.t == pytest.approx(4.0)  # 2 at once, then 8 more at 0.5 s each


def test_rate_limiter_token_budget_and_oversized_requests():
    clock = FakeClock()
    lim = RateLimiter(tpm=6000, clock=clock, sleep=clock.sleep)  # 100 tokens/s, capacity 100
    lim.acquire(100)
    lim.acquire(100)
    assert clock.t == pytest.approx(1.0)
    lim.acquire(500)  # larger than the bucket: goes through once full, leaves debt
    assert clock.t == pytest.approx(2.0)
    lim.acquire(50)   # pays the 400-token debt first
    assert clock.t == pytest.approx(2.0 + 4.5)
    lim.settle(estimated=50, actual=10)  # refund unused tokens
    assert lim.tokens.level == pytest.approx(40)
    with pytest.raises(ValueError):
        TokenBucket(0)


def test_percentile_and_summary_numbers():
    assert percentile([], 50) is None
    assert percentile([1, 2, 3, 4], 50) == 2.5
    assert percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21], 95) == 20.0
    ok = {"status": "ok", "usage": {"prompt_tokens": 1_000_000, "completion_tokens": 500_000}, "latency_s": 1.0,
          "attempts": 3, "id": "a"}
    bad = {"status": "failed", "error": "http://x/v1: HTTP 500: boom (after 5 attempts)", "id": "b"}
    s = summarize([ok, bad], total=3, wall_s=2.0, processed=2, price_input=0.27, price_output=1.10)
    assert (s["ok"], s["failed"], s["pending"]) == (1, 1, 1)
    assert s["tokens"] == {"prompt": 1_000_000, "completion": 500_000, "total": 1_500_000}
    assert s["retried"] == 2 + 4 and s["throughput_rps"] == 1.0 and s["failed_ids"] == ["b"]
    assert s["cost_usd"] == pytest.approx(0.27 + 0.55)
    assert s["errors"] == {"HTTP 500: boom (after N attempts)": 1}
    assert summarize([ok], 1, 1.0, 1)["cost_usd"] is None
