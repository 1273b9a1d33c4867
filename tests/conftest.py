"""Shared fixtures: every test gets its own data/models/prompts tree under tmp_path."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

SHARED_HH = REPO.parent / "shared" / "data" / "hh_harmless_dev.jsonl.gz"


@pytest.fixture(autouse=True)
def rlhf_home(tmp_path, monkeypatch):
    """Point RLHF_HOME at tmp_path so no test touches the real data/ or models/."""
    home = tmp_path / "home"
    for sub in ("data", "models", "prompts"):
        (home / sub).mkdir(parents=True)
    monkeypatch.setenv("RLHF_HOME", str(home))
    for var in ("RLHF_DATA_DIR", "RLHF_MODELS_DIR", "RLHF_PROMPTS_DIR", "OPENAI_API_KEY", "DEEPSEEK_API_KEY"):
        monkeypatch.delenv(var, raising=False)
    return home


@pytest.fixture
def paths(rlhf_home):
    from utils.paths import Paths
    return Paths.resolve()


@pytest.fixture(scope="session")
def hh_file():
    if not SHARED_HH.exists():
        pytest.fail(f"shared data missing: {SHARED_HH} (it ships beside the repo in ../shared/data)")
    return SHARED_HH
