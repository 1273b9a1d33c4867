"""Every script of the data flow runs as `python path/to/script.py --help` from the repo root."""
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SCRIPTS = [
    "prompts/generator.py",
    "utils/completions.py",
    "interface/voting_ui.py",
    "utils/vote_predictor/import_data.py",
    "utils/vote_predictor/data_prep.py",
    "utils/vote_predictor/train.py",
    "interface/eval_probe.py",
    "utils/vote_predictor/calibrate.py",
    "utils/vote_predictor/predict.py",
    "utils/vote_predictor/retrain_data_prep.py",
    "utils/vote_predictor/drift_monitor.py",
    "interface/run_drift_analysis.py",
    "interface/rlhf_loop.py",
    "utils/batch_processor.py",
    "utils/setup_deepseek.py",
    "run_dashboard.py",
    "setup_dashboard.py",
    "docs/draw_architecture.py",
]


@pytest.mark.parametrize("script", SCRIPTS)
def test_help(script):
    proc = subprocess.run([sys.executable, script, "--help"], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "usage:" in proc.stdout
    # --help must not pay for heavy imports (torch/transformers/streamlit load lazily)
    probe = subprocess.run([sys.executable, "-X", "importtime", script, "--help"], cwd=REPO,
                           capture_output=True, text=True, timeout=120)
    heavy = [m for m in ("torch", "transformers", "streamlit") if f"| {m}\n" in probe.stderr]
    assert not heavy, f"{script} --help imports {heavy}"


def test_every_script_is_listed():
    """A new script with a build_parser() must be added above (and so gets its --help test)."""
    found = {str(p.relative_to(REPO)) for p in REPO.glob("**/*.py")
             if ".venv" not in p.parts and "tests" not in p.parts and "def build_parser" in p.read_text()}
    assert found <= set(SCRIPTS), sorted(found - set(SCRIPTS))
