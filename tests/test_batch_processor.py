"""utils/batch_processor.py against a real chat-completions server on 127.0.0.1."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.openai_server import ChatServer
from utils.batch_io import read_results_csv
from utils.batch_processor import main

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "prompts" / "sample_batch.json"
SECRET = "sk-test-SECRET-3f9c2a7e1b"


@pytest.fixture(autouse=True)
def no_real_dotenv(tmp_path, monkeypatch):
    monkeypatch.setenv("RLHF_DOTENV", str(tmp_path / "dot.env"))  # never read or write the repo's .env


def write_prompts(path: Path, n: int, extra: dict | None = None) -> Path:
    prompts = [{"id": f"q{i:03d}", "prompt": f"Question number {i}, please answer."} for i in range(n)]
    path.write_text(json.dumps({"system_prompt": "Be brief.", "prompts": prompts, **(extra or {})}))
    return path


def only_run(home: Path) -> Path:
    runs = [p for p in (home / "data" / "batch_results").iterdir() if p.is_dir()]
    assert len(runs) == 1, runs
    return runs[0]


def test_help_is_instant_and_lists_flags(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for flag in ("--input", "--max-workers", "--rpm", "--tpm", "--resume", "--provider", "--output-dir"):
        assert flag in out


def test_sample_batch_end_to_end(rlhf_home, capsys):
    with ChatServer(latency=0.01) as srv:
        rc = main(["--input", str(SAMPLE), "--backend", "openai", "--base-url", srv.base_url, "--max-workers", "4",
                   "--model", "deepseek-chat", "--price-input", "0.27", "--price-output", "1.1", "-q"])
    assert rc == 0
    run = only_run(rlhf_home)
    assert {p.name for p in run.iterdir()} >= {"run.json", "results.jsonl", "results.json", "results.csv", "summary.json"}
    results = json.loads((run / "results.json").read_text())
    assert [r["id"] for r in results][:2] == ["sci-01", "sci-02"] and len(results) == 10  # input order
    code = next(r for r in results if r["id"] == "code-01")
    assert code["params"]["temperature"] == 0.2 and code["params"]["max_tokens"] == 400
    assert code["system_prompt"].startswith("You are a senior Python") and code["metadata"]["domain"] == "programming"
    assert all(r["status"] == "ok" and r["text"].startswith("Answer (") for r in results)
    summary = json.loads((run / "summary.json").read_text())
    assert summary["ok"] == 10 and summary["failed"] == 0 and summary["cost_usd"] > 0
    assert summary["latency_s"]["p50"] is not None and summary["throughput_rps"] > 0
    manifest = json.loads((run / "run.json").read_text())
    assert manifest["input"]["prompts"] == 10 and len(manifest["input"]["sha256"]) == 64
    assert len(read_results_csv(run / "results.csv")) == 10
    assert "10/10 ok" in capsys.readouterr().out


def test_transient_failures_are_retried_and_nothing_is_lost(rlhf_home, tmp_path):
    f = write_prompts(tmp_path / "p.json", 30)
    with ChatServer(fail_rate=0.3, seed=1, retry_after=0.01) as srv:
        rc = main(["--input", str(f), "--backend", "openai", "--base-url", srv.base_url, "--max-workers", "6",
                   "--retries", "8", "-q"])
        failures, kinds = srv.failures, set(srv.failed_kinds)
    assert rc == 0
    summary = json.loads((only_run(rlhf_home) / "summary.json").read_text())
    assert failures >= 3 and kinds == {"429", "500", "drop"}
    assert summary["ok"] == 30 and summary["failed"] == 0 and summary["retried"] == failures


def test_retry_after_is_honoured(rlhf_home, tmp_path):
    # seed 3: the first request fails (a 429 with Retry-After: 1.5), the second succeeds.
    f = write_prompts(tmp_path / "p.json", 1)
    with ChatServer(fail_rate=0.5, seed=3, retry_after=1.5) as srv:
        start = time.monotonic()
        rc = main(["--input", str(f), "--backend", "openai", "--base-url", srv.base_url, "-q"])
        elapsed = time.monotonic() - start
        assert srv.failed_kinds == ["429"] and srv.requests == 2
    assert rc == 0
    # Our own backoff for a first retry is at most 0.5 s; only Retry-After explains 1.5 s.
    assert elapsed >= 1.5
    result = json.loads((only_run(rlhf_home) / "results.json").read_text())[0]
    assert result["attempts"] == 2 and result["status"] == "ok"


def test_permanent_failure_is_recorded_not_dropped(rlhf_home, tmp_path, capsys):
    f = write_prompts(tmp_path / "p.json", 5)
    with ChatServer(always_fail=("number 3,",)) as srv:
        rc = main(["--input", str(f), "--backend", "openai", "--base-url", srv.base_url, "--retries", "1", "-q"])
    assert rc == 1
    run = only_run(rlhf_home)
    results = {r["id"]: r for r in json.loads((run / "results.json").read_text())}
    assert len(results) == 5 and results["q003"]["status"] == "failed"
    assert "HTTP 500" in results["q003"]["error"] and "after 2 attempts" in results["q003"]["error"]
    summary = json.loads((run / "summary.json").read_text())
    assert summary["failed_ids"] == ["q003"] and summary["ok"] == 4
    rows = {r["id"]: r for r in read_results_csv(run / "results.csv")}
    assert rows["q003"]["status"] == "failed" and "HTTP 500" in rows["q003"]["error"]
    assert "failed ids: q003" in capsys.readouterr().err


def test_resume_after_crash_skips_finished_ids(rlhf_home, tmp_path):
    f = write_prompts(tmp_path / "p.json", 8)
    with ChatServer(always_fail=("number 5,",)) as srv:
        assert main(["--input", str(f), "--backend", "openai", "--base-url", srv.base_url, "--retries", "0", "-q"]) == 1
    run = only_run(rlhf_home)
    # Simulate a crash: the last two results never made it and a line was cut mid-write.
    lines = (run / "results.jsonl").read_text().splitlines()
    ok_lines = [ln for ln in lines if '"status":"ok"' in ln]
    kept = [ln for ln in lines if ln not in ok_lines[-2:]]
    (run / "results.jsonl").write_text("\n".join(kept) + '\n{"id":"q00')
    with ChatServer() as srv2:
        rc = main(["--resume", "--base-url", srv2.base_url, "-q"])  # --resume alone: the latest run
        seen = list(srv2.prompts_seen)
    assert rc == 0
    assert len(seen) == 3 and any("number 5," in p for p in seen)  # two lost oks + the earlier failure
    results = json.loads((run / "results.json").read_text())
    assert sorted(r["id"] for r in results) == [f"q{i:03d}" for i in range(8)]  # no duplicates, none missing
    assert all(r["status"] == "ok" for r in results)
    manifest = json.loads((run / "run.json").read_text())
    assert manifest["backend_config"]["backend"] == "openai" and len(manifest["resumed_at"]) == 1


def test_ctrl_c_keeps_finished_work_then_resume_completes(rlhf_home, tmp_path):
    f = write_prompts(tmp_path / "p.json", 40)
    with ChatServer(latency=0.1) as srv:
        proc = subprocess.Popen([sys.executable, str(REPO / "utils" / "batch_processor.py"), "--input", str(f),
                                 "--backend", "openai", "--base-url", srv.base_url, "--max-workers", "2", "-q"],
                                cwd=REPO, env={**os.environ}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        results_file = None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # wait until a few results are on disk, then press Ctrl-C
            found = list((rlhf_home / "data" / "batch_results").glob("*/results.jsonl"))
            if found and len(found[0].read_text().splitlines()) >= 4:
                results_file = found[0]
                break
            time.sleep(0.05)
        assert results_file is not None, proc.communicate(timeout=30)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
        assert proc.returncode == 130, err
        assert "interrupted" in err and "Traceback" not in err
        run = results_file.parent
        summary = json.loads((run / "summary.json").read_text())
        done_before = {json.loads(ln)["id"] for ln in results_file.read_text().splitlines()}
        assert summary["interrupted"] is True and 4 <= summary["ok"] < 40 and summary["ok"] == len(done_before)
        before = len(srv.prompts_seen)
        assert main(["--resume", str(run), "--max-workers", "8", "-q"]) == 0
        resent = srv.prompts_seen[before:]
    results = json.loads((run / "results.json").read_text())
    assert sorted(r["id"] for r in results) == [f"q{i:03d}" for i in range(40)]
    assert len(resent) == 40 - len(done_before)
    assert not any(f"number {int(i[1:])}," in p for p in resent for i in done_before)  # finished ids not re-sent


def test_api_key_never_written_or_logged(rlhf_home, tmp_path, monkeypatch, capsys, caplog):
    monkeypatch.setenv("DEEPSEEK_API_KEY", SECRET)
    f = write_prompts(tmp_path / "p.json", 4)
    with ChatServer(api_key=SECRET, fail_rate=0.3, seed=2) as srv:
        rc = main(["--input", str(f), "--backend", "openai", "--provider", "deepseek", "--base-url", srv.base_url,
                   "-v"])
        assert srv.auth_headers and all(h == f"Bearer {SECRET}" for h in srv.auth_headers)
    assert rc == 0
    run = only_run(rlhf_home)
    assert json.loads((run / "run.json").read_text())["backend_config"]["api_key_env"] == "DEEPSEEK_API_KEY"
    assert json.loads((run / "results.json").read_text())[0]["model"] == "deepseek-chat"
    captured = capsys.readouterr()
    assert SECRET not in captured.out + captured.err + caplog.text
    for path in rlhf_home.rglob("*"):
        if path.is_file():
            assert SECRET not in path.read_text(errors="replace"), path


def test_bad_key_stops_the_batch_with_one_line(rlhf_home, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DEEPSEEK_API_KEY", "sk-wrong")
    f = write_prompts(tmp_path / "p.json", 20)
    with ChatServer(api_key=SECRET) as srv:
        rc = main(["--input", str(f), "--backend", "openai", "--provider", "deepseek", "--base-url", srv.base_url,
                   "--max-workers", "2", "-q"])
        assert srv.requests <= 8  # stopped early instead of failing all 20 prompts
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and err[-1].startswith("batch_processor.py: error: bad API key") and "sk-wrong" not in err[-1]


@pytest.mark.parametrize("argv, message", [
    ([], "give --input FILE"),
    (["--input", "nope.json"], "input file not found: nope.json"),
    (["--input", str(SAMPLE), "--rpm", "10"], "--rpm/--tpm limit API requests"),
    (["--input", str(SAMPLE), "--backend", "openai", "--rpm", "0"], "--rpm must be > 0"),
    (["--input", str(SAMPLE), "--provider", "deepseek"], "needs --backend openai"),
    (["--input", str(SAMPLE), "--backend", "openai", "--provider", "deepseek"], "no API key: set DEEPSEEK_API_KEY"),
    (["--resume"], "no run folder with a run.json"),
])
def test_user_errors_are_one_line(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1 and "Traceback" not in err
