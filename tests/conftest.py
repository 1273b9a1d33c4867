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


@pytest.fixture(scope="session")
def smollm2_models_dir(tmp_path_factory):
    """A models dir holding the dequantised SmolLM2 cache, built once per test session.

    Pass it as --models-dir (or Paths.resolve(models_dir=...)) to tests that run the real
    local model, so the ~1 minute GGUF dequantisation happens once, not per test.
    """
    from utils.backends.local import resolve_local_model
    from utils.paths import Paths

    models = tmp_path_factory.mktemp("smollm2_models")
    resolve_local_model(None, Paths.resolve(root=models.parent, models_dir=models))
    return models


@pytest.fixture(scope="session")
def tiny_chat_model(tmp_path_factory):
    """A 2-layer Llama with random weights and a chat template, saved as a local HF folder."""
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    from utils.model_files import minilm_path

    folder = tmp_path_factory.mktemp("tiny_llama")
    tok = AutoTokenizer.from_pretrained(minilm_path())
    tok.chat_template = ("{% for m in messages %}[{{ m['role'] }}] {{ m['content'] }} {% endfor %}"
                         "{% if add_generation_prompt %}[assistant]{% endif %}")
    tok.eos_token = "[SEP]"
    torch.manual_seed(0)
    cfg = LlamaConfig(vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                      num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=512,
                      pad_token_id=tok.pad_token_id, eos_token_id=tok.sep_token_id, bos_token_id=tok.cls_token_id)
    LlamaForCausalLM(cfg).save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder
