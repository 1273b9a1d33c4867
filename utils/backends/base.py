"""What every completion backend shares: its config, a request and a result."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Protocol

from utils.cli import UserError, field

DEEPSEEK_BASE_URL = "https://api.deepseek.com"
DEEPSEEK_MODEL = "deepseek-chat"
PROVIDERS = {
    # provider -> (base_url, default model, API key environment variable)
    "openai": (None, "gpt-4o-mini", "OPENAI_API_KEY"),
    "deepseek": (DEEPSEEK_BASE_URL, DEEPSEEK_MODEL, "DEEPSEEK_API_KEY"),
}


class BackendError(UserError):
    """The backend cannot serve requests (no key, server unreachable, model missing)."""


@dataclass
class BackendConfig:
    backend: str = field("local", help="where completions come from", choices=("local", "openai"))
    model: str | None = field(None, help="local: HF folder or .gguf file (default: embedded SmolLM2-135M-Instruct); "
                                         "openai: model name")
    base_url: str | None = field(None, help="OpenAI-compatible endpoint, e.g. http://127.0.0.1:8080/v1")
    provider: str | None = field(None, help="preset for base URL, model and key variable", choices=tuple(PROVIDERS))
    api_key_env: str | None = field(None, help="environment variable holding the API key "
                                               "(default OPENAI_API_KEY, or DEEPSEEK_API_KEY with --provider deepseek)")
    timeout: float = field(60.0, help="seconds per request before it counts as failed and is retried")
    retries: int = field(4, help="retries per request on 429/5xx/timeouts/dropped connections")
    max_workers: int = field(4, help="concurrent requests (openai backend)")
    batch_size: int = field(4, help="prompts generated together (local backend)")
    device: str = field("auto", help="local backend device: auto, cpu or cuda")

    def resolved(self) -> "BackendConfig":
        """Fill provider presets; reject contradictory settings with the fix in the message."""
        cfg = BackendConfig(**asdict(self))
        if cfg.provider and cfg.backend != "openai":
            raise UserError(f"--provider {cfg.provider} needs --backend openai")
        if cfg.base_url and cfg.backend != "openai":
            raise UserError("--base-url is for --backend openai; the local backend takes --model PATH")
        if cfg.backend == "openai":
            base, model, key_env = PROVIDERS[cfg.provider or "openai"]
            cfg.base_url = cfg.base_url or base
            cfg.model = cfg.model or model
            cfg.api_key_env = cfg.api_key_env or key_env
        if cfg.retries < 0 or cfg.timeout <= 0 or cfg.max_workers < 1 or cfg.batch_size < 1:
            raise UserError("--retries must be >= 0, --timeout > 0, --max-workers and --batch-size >= 1")
        return cfg


@dataclass
class GenParams:
    temperature: float = 0.7
    top_p: float = 0.95
    max_tokens: int = 256
    seed: int | None = None


@dataclass
class Generation:
    text: str
    model: str
    usage: dict
    latency_s: float
    finish_reason: str | None = None
    attempts: int = 1
    error: str | None = None  # set when every attempt failed (batch use); text is "" then


class Backend(Protocol):
    name: str
    model_name: str

    def generate(self, messages: list[list[dict]], params: list[GenParams], progress: bool = False) -> list[Generation]:
        """One generation per conversation, in order. ``params`` has one entry per conversation."""
        ...


def get_backend(cfg: BackendConfig, paths=None) -> Backend:
    """Build the backend a config asks for (heavy imports happen here, not at import time)."""
    cfg = cfg.resolved()
    if cfg.backend == "openai":
        from utils.backends.openai_backend import OpenAIBackend
        return OpenAIBackend(cfg)
    from utils.backends.local import LocalBackend
    return LocalBackend(cfg, paths)
