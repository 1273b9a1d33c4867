"""The Bradley-Terry reward model: encoder(prompt, response) -> mean pool -> linear -> r.

P(A preferred) = sigmoid(r_A - r_B), so P(A>B) + P(B>A) = 1 exactly and the side shown
first cannot matter: each response is scored on its own.

Inputs are ``[CLS] prompt-tail [SEP] response-head [SEP]``: truncation keeps the response
(what is being judged) and the END of the prompt (the last human turn), never the start
of a long dialogue. Every distinct text is tokenised once (:class:`TokenCache`).

Saved as a normal HF folder (``save_pretrained``: config + safetensors + tokenizer) plus
``reward_head.safetensors`` and ``reward_config.json``; loading never unpickles.
"""
from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import torch
from torch import nn

log = logging.getLogger("rlhf_loop.vote_predictor.model")

HEAD_FILE = "reward_head.safetensors"
CONFIG_FILE = "reward_config.json"


def pick_device(device: str = "auto") -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def cpu_has_native_bf16() -> bool:
    """bf16 autocast only pays off with AVX512-BF16/AMX; emulated bf16 is ~10x slower."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def autocast_ctx(device: torch.device, bf16: str = "auto"):
    """bf16 autocast when asked ('on') or when the hardware does it natively ('auto')."""
    import contextlib
    use = bf16 == "on" or (bf16 == "auto" and (device.type == "cuda" or cpu_has_native_bf16()))
    if not use:
        return contextlib.nullcontext()
    return torch.autocast(device.type, dtype=torch.bfloat16)


class TokenCache:
    """Token ids (no special tokens) per distinct text, computed once per process."""

    def __init__(self, tokenizer):
        self.tokenizer = tokenizer
        self._ids: dict[str, list[int]] = {}

    def ids(self, texts: list[str]) -> list[list[int]]:
        todo = list(dict.fromkeys(t for t in texts if t not in self._ids))
        if todo:
            enc = self.tokenizer(todo, add_special_tokens=False, verbose=False)["input_ids"]
            self._ids.update(zip(todo, enc))
        return [self._ids[t] for t in texts]


def special_ids(tokenizer) -> tuple[int | None, int | None]:
    """(start, separator) ids: [CLS]/[SEP] for BERT-likes, BOS/EOS otherwise."""
    start = tokenizer.cls_token_id if tokenizer.cls_token_id is not None else tokenizer.bos_token_id
    sep = tokenizer.sep_token_id if tokenizer.sep_token_id is not None else tokenizer.eos_token_id
    return start, sep


def build_input(tokenizer, prompt_ids: list[int], response_ids: list[int], max_length: int,
                max_prompt_tokens: int) -> list[int]:
    """``start prompt-tail sep response-head sep`` within ``max_length`` tokens."""
    start, sep = special_ids(tokenizer)
    head, mid, tail = ([start] if start is not None else []), ([sep] if sep is not None else []), \
        ([sep] if sep is not None else [])
    budget = max_length - len(head) - len(mid) - len(tail)
    p = prompt_ids[-max_prompt_tokens:] if max_prompt_tokens > 0 else []
    # The response gets what it needs, leaving the prompt at least a quarter of the budget.
    r_keep = min(len(response_ids), max(budget - len(p), budget - min(len(p), budget // 4)))
    p_keep = max(0, budget - r_keep)
    p = p[-p_keep:] if p_keep else []
    return head + p + mid + response_ids[:r_keep] + tail


def pad_batch(seqs: list[list[int]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Dynamic padding to the longest sequence of this batch."""
    width = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(seqs), width), dtype=torch.long)
    for i, s in enumerate(seqs):
        ids[i, :len(s)] = torch.tensor(s, dtype=torch.long)
        mask[i, :len(s)] = 1
    return ids, mask


class RewardModel(nn.Module):
    """encoder -> masked mean pooling -> Linear(hidden, 1) -> reward (B,)."""

    def __init__(self, encoder, tokenizer, max_length: int = 256, max_prompt_tokens: int = 48):
        super().__init__()
        self.encoder = encoder
        self.tokenizer = tokenizer
        self.head = nn.Linear(encoder.config.hidden_size, 1)
        nn.init.normal_(self.head.weight, std=0.02)
        nn.init.zeros_(self.head.bias)
        self.max_length = max_length
        self.max_prompt_tokens = max_prompt_tokens
        self.tokens = TokenCache(tokenizer)
        self.frozen_layers = 0
        self.base_model = getattr(encoder.config, "_name_or_path", "") or "unknown"

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        m = attention_mask.unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * m).sum(1) / m.sum(1).clamp(min=1.0)
        return self.head(pooled.float()).squeeze(-1)

    # -- split forward: frozen bottom layers run once, their outputs are cached --------
    def can_split(self) -> bool:
        """BERT-like encoders (embeddings + encoder.layer) can be run in two halves."""
        return hasattr(self.encoder, "embeddings") and isinstance(
            getattr(getattr(self.encoder, "encoder", None), "layer", None), nn.ModuleList)

    def _layers(self):
        return self.encoder.encoder.layer

    def _mask(self, hidden: torch.Tensor, attention_mask: torch.Tensor):
        from transformers.masking_utils import create_bidirectional_mask
        return create_bidirectional_mask(config=self.encoder.config, inputs_embeds=hidden,
                                         attention_mask=attention_mask)

    def _run(self, hidden, attention_mask, layers):
        mask = self._mask(hidden, attention_mask)
        for layer in layers:
            out = layer(hidden, mask)
            hidden = out[0] if isinstance(out, tuple) else out
        return hidden

    def bottom(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, k: int) -> torch.Tensor:
        """Hidden states (B, T, H) after the embeddings and the first k layers."""
        hidden = self.encoder.embeddings(input_ids=input_ids)
        return self._run(hidden, attention_mask, list(self._layers())[:k])

    def top(self, hidden: torch.Tensor, attention_mask: torch.Tensor, k: int) -> torch.Tensor:
        """Rewards (B,) from hidden states after layer k: the remaining layers, pooling, head."""
        hidden = self._run(hidden, attention_mask, list(self._layers())[k:])
        m = attention_mask.unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * m).sum(1) / m.sum(1).clamp(min=1.0)
        return self.head(pooled.float()).squeeze(-1)

    def freeze_bottom(self, n_layers: int) -> None:
        """Freeze embeddings + the first n layers: autograd then skips their backward pass."""
        if n_layers <= 0:
            return
        for p in self.encoder.embeddings.parameters():
            p.requires_grad_(False)
        layers = getattr(getattr(self.encoder, "encoder", None), "layer", None)
        if layers is None:
            log.warning("--freeze-layers: %s has no encoder.layer list; only embeddings frozen",
                        type(self.encoder).__name__)
            return
        for layer in list(layers)[:n_layers]:
            for p in layer.parameters():
                p.requires_grad_(False)
        self.frozen_layers = min(n_layers, len(layers))

    def disable_dropout(self) -> None:
        """p = 0 in every dropout (attention dropout reads its module's p): as TRL's reward
        trainer does by default; a train-mode forward then costs what an eval one does."""
        for mod in self.modules():
            if isinstance(mod, nn.Dropout):
                mod.p = 0.0

    def encode(self, prompts: list[str], responses: list[str]) -> list[list[int]]:
        p_ids = self.tokens.ids(prompts)
        r_ids = self.tokens.ids(responses)
        return [build_input(self.tokenizer, p, r, self.max_length, self.max_prompt_tokens)
                for p, r in zip(p_ids, r_ids)]

    @torch.inference_mode()
    def score_ids(self, seqs: list[list[int]], batch_size: int = 32, device: torch.device | None = None,
                  bf16: str = "auto", progress: bool = False) -> np.ndarray:
        """Rewards (n,) for token sequences, longest first in length-sorted batches."""
        device = device or next(self.parameters()).device
        self.eval()
        order = np.argsort([-len(s) for s in seqs], kind="stable")
        out = np.zeros(len(seqs), dtype=np.float64)
        pad = self.tokenizer.pad_token_id or 0
        starts = range(0, len(seqs), batch_size)
        if progress:
            from tqdm import tqdm
            starts = tqdm(starts, desc="scoring", unit="batch", leave=False)
        with autocast_ctx(device, bf16):
            for s in starts:
                idx = order[s:s + batch_size]
                ids, mask = pad_batch([seqs[i] for i in idx], pad)
                out[idx] = self(ids.to(device), mask.to(device)).float().cpu().numpy()
        return out

    def score(self, prompts: list[str], responses: list[str], **kw) -> np.ndarray:
        return self.score_ids(self.encode(prompts, responses), **kw)

    # -- persistence (safetensors + json only) ---------------------------------------
    def save(self, folder: str | Path, extra_config: dict | None = None) -> None:
        from safetensors.torch import save_file
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        self.encoder.save_pretrained(folder, safe_serialization=True)
        self.tokenizer.save_pretrained(folder)
        save_file({k: v.detach().cpu().contiguous() for k, v in self.head.state_dict().items()}, folder / HEAD_FILE)
        cfg = {"pooling": "mean", "max_length": self.max_length, "max_prompt_tokens": self.max_prompt_tokens,
               "base_model": self.base_model}
        cfg.update(extra_config or {})
        (folder / CONFIG_FILE).write_text(json.dumps(cfg, indent=2) + "\n", encoding="utf-8")

    @classmethod
    def from_base(cls, base: str | Path, max_length: int = 256, max_prompt_tokens: int = 48) -> "RewardModel":
        """Fresh head on a pretrained encoder folder (any local HF encoder)."""
        from transformers import AutoModel, AutoTokenizer
        base = Path(base)
        if not (base / "config.json").exists():
            from utils.cli import UserError
            raise UserError(f"--base-model {base} is not a Hugging Face model folder (no config.json); "
                            "give a local folder saved with save_pretrained")
        tok = AutoTokenizer.from_pretrained(base)
        enc = AutoModel.from_pretrained(base, use_safetensors=(base / "model.safetensors").exists() or None)
        model = cls(enc, tok, max_length, max_prompt_tokens)
        model.base_model = str(base)
        return model

    @classmethod
    def load(cls, folder: str | Path) -> tuple["RewardModel", dict]:
        """(model, reward_config) from a saved folder; safetensors only."""
        from safetensors.torch import load_file
        from transformers import AutoModel, AutoTokenizer
        folder = Path(folder)
        cfg = json.loads((folder / CONFIG_FILE).read_text(encoding="utf-8"))
        tok = AutoTokenizer.from_pretrained(folder)
        enc = AutoModel.from_pretrained(folder, use_safetensors=True)
        model = cls(enc, tok, cfg["max_length"], cfg["max_prompt_tokens"])
        model.head.load_state_dict(load_file(folder / HEAD_FILE))
        model.base_model = cfg.get("base_model", model.base_model)
        model.eval()
        return model, cfg
