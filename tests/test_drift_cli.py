"""run_drift_analysis CLI in-process, files written, HTML escaping, MiniLM clustering."""
import json

import numpy as np
import pytest

from interface.run_drift_analysis import main
from utils.store import append_records
from utils.vote_predictor.drift_synth import synth_stream

PAYLOAD = "<script>alert('pwned')</script>"


def _write(paths, stream):
    append_records(paths.predictions, stream["predictions"], "prediction")
    append_records(paths.votes, stream["votes"], "vote")
    append_records(paths.pairs, stream["pairs"], "pair")
    append_records(paths.prompts, stream["prompts"], "prompt")


def test_help_smoke(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for flag in ("--window", "--window-size", "--reference", "--embedding", "--fail-on-drift",
                 "--generate-report", "--visualization-mode"):
        assert flag in out


def test_empty_input_is_one_clear_line(paths, capsys):
    assert main(["--embedding", "tfidf"]) == 2
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if "error:" in line]
    assert len(errors) == 1 and "no prediction records" in errors[0] and "Traceback" not in err


def test_single_window_and_bad_flags_exit_2(paths, capsys):
    _write(paths, synth_stream(0, n_windows=1, per_window=60))
    assert main(["--window", "1d", "--embedding", "tfidf"]) == 2
    assert "only one window" in capsys.readouterr().err
    assert main(["--window", "3 parsecs"]) == 2
    assert "e.g. 30m" in capsys.readouterr().err
    assert main(["--window", "1d", "--window-size", "10"]) == 2
    assert main(["--reference", str(paths.data_dir / "missing.jsonl"), "--embedding", "tfidf"]) == 2
    assert "missing.jsonl" in capsys.readouterr().err


def test_full_run_writes_report_and_fails_on_drift(paths, capsys):
    stream = synth_stream(4, shift="accuracy_drop", n_windows=5, per_window=400, shift_start=2)
    # untrusted text in a completion, a prompt and a domain name must come out escaped
    for pair in stream["pairs"]:
        pair["response_a"] = f"{PAYLOAD} {pair['response_a']}"
    stream["prompts"][0]["domain"] = "<b>evil</b>"
    _write(paths, stream)
    with open(paths.predictions, "a") as fh:
        fh.write('{"id": "pred_bad", "pair_id": "x", "prob_a": 7}\n{truncated')
    rc = main(["--window", "1d", "--embedding", "tfidf", "--cluster-text", "pair",
               "--visualization-mode", "detailed", "--fail-on-drift"])
    out = capsys.readouterr().out
    assert rc == 3, out
    assert "alert(s)" in out and "accuracy" in out
    out_dir = paths.drift_dir
    def no_nan(name):
        raise AssertionError(f"{name} in drift_report.json: not strict JSON")
    report = json.loads((out_dir / "drift_report.json").read_text(), parse_constant=no_nan)
    assert report["bad_lines"] == 2 and report["n_predictions"] == 2000
    assert report["inputs"]["predictions"]["sha256"]
    assert any(a["metric"] in ("accuracy", "accuracy_2w") and a["window"] in (2, 3) for a in report["alerts"])
    for name in ("accuracy", "reliability", "clusters", "calibration", "tests", "confidence"):
        assert (out_dir / f"{name}.png").stat().st_size > 5000
    page = (out_dir / "drift_report.html").read_text()
    assert "<script" not in page and "<b>evil" not in page
    assert "&lt;script&gt;alert(&#x27;pwned&#x27;)&lt;/script&gt;" in page
    assert page.count("data:image/png;base64,") == 6 and "src='http" not in page


def test_no_drift_exit_0_without_report(paths, capsys):
    _write(paths, synth_stream(11, n_windows=3, per_window=200))
    assert main(["--window-size", "200", "--embedding", "tfidf", "--clusters", "3",
                 "--no-generate-report", "--fail-on-drift"]) == 0
    assert "no drift detected" in capsys.readouterr().out
    assert (paths.drift_dir / "drift_report.json").exists()
    assert not (paths.drift_dir / "drift_report.html").exists()


def test_minilm_clusters_separate_topics():
    from utils.vote_predictor.drift_clusters import cluster_texts, embed_minilm

    cooking = ["How long should I bake bread in the oven?", "What is a good pasta sauce recipe?",
               "How do I roast garlic?", "Best way to caramelise onions in butter?",
               "How to make pancakes fluffy?", "How long do I boil an egg?",
               "What spices go with roasted chicken?", "How to knead pizza dough?",
               "Can I freeze homemade soup?", "How do I make a vinaigrette?"]
    code = ["How do I reverse a list in Python?", "What is a segmentation fault in C?",
            "How do I write a SQL join?", "Explain recursion with an example function",
            "How do I fix a git merge conflict?", "What does a Python decorator do?",
            "How do I read a file line by line in Java?", "What is Big-O notation?",
            "How to debug a memory leak?", "What is a REST API endpoint?"]
    emb = embed_minilm(cooking[:2])
    assert emb.shape == (2, 384) and np.allclose(np.linalg.norm(emb, axis=1), 1, atol=1e-5)
    res = cluster_texts(cooking + code, method="minilm", k=2)
    assert res.method == "minilm" and res.k == 2
    a, b = res.labels[:10], res.labels[10:]
    major_a, major_b = np.bincount(a, minlength=2).argmax(), np.bincount(b, minlength=2).argmax()
    assert major_a != major_b
    assert ((a == major_a).sum() + (b == major_b).sum()) / 20 >= 0.85  # topics, not noise
