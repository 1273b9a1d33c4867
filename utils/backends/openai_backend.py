"""Any OpenAI-compatible chat-completions endpoint (OpenAI, DeepSeek, vLLM, llama.cpp, Ollama).

Uses the official ``openai`` client with its own retries switched off, so that retry
policy is ours: exponential backoff with full jitter on 429 (honouring Retry-After), 5xx,
timeouts and dropped connections; 4xx other than 408/409/429 fail at once.
"""
from __future__ import annotations

import logging
import os
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlparse

from utils.backends.base import BackendConfig, BackendError, Generation, GenParams
from utils.paths import REPO_ROOT

log = logging.getLogger("rlhf_loop.openai")
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "0.0.0.0"}


def read_dotenv(name: str, path: Path | None = None) -> str | None:
    """Value of ``name`` from a KEY=VALUE ``.env`` file (written by utils/setup_deepseek.py)."""
    path = path or Path(os.environ.get("RLHF_DOTENV", REPO_ROOT / ".env"))
    if not path.is_file():
        return None
    for line in path.read_text(encoding="utf-8").splitlines():
        key, sep, value = line.strip().partition("=")
        if sep and key.strip() == name:
            return value.strip().strip("'\"") or None
    return None


def resolve_api_key(cfg: BackendConfig) -> str:
    key = os.environ.get(cfg.api_key_env or "") or read_dotenv(cfg.api_key_env or "")
    if key:
        return key
    host = urlparse(cfg.base_url or "").hostname
    if host in LOCAL_HOSTS:
        return "not-needed"  # llama.cpp / vLLM / Ollama on this machine take any key
    hint = " (or run: python utils/setup_deepseek.py)" if cfg.api_key_env == "DEEPSEEK_API_KEY" else ""
    raise BackendError(f"no API key: set {cfg.api_key_env} in the environment{hint}")


def backoff_delay(attempt: int, retry_after: float | None = None, base: float = 0.5, cap: float = 30.0) -> float:
    """Seconds to wait before retry ``attempt`` (1-based): Retry-After when given, else full jitter."""
    if retry_after is not None:
        return min(max(retry_after, 0.0), cap)
    return random.uniform(0, min(cap, base * 2 ** (attempt - 1)))


def _retry_after(exc) -> float | None:
    resp = getattr(exc, "response", None)
    value = resp.headers.get("retry-after") if resp is not None else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


class OpenAIBackend:
    name = "openai"

    def __init__(self, cfg: BackendConfig):
        import openai

        self.cfg = cfg
        self.model_name = cfg.model
        self._openai = openai
        self._client = None
        self._client_lock = threading.Lock()
        self._key = resolve_api_key(cfg)
        self.retried = 0  # total retries, for the batch summary

    @property
    def client(self):
        # One client shared by all worker threads: it is thread-safe and pools connections,
        # and building one costs ~65 ms of CPU (TLS context), too much to pay per thread.
        if self._client is None:
            with self._client_lock:
                if self._client is None:
                    self._client = self._openai.OpenAI(base_url=self.cfg.base_url, api_key=self._key,
                                                       timeout=self.cfg.timeout, max_retries=0)
        return self._client

    def complete(self, messages: list[dict], params: GenParams, model: str | None = None) -> Generation:
        """One chat completion with retries; raises BackendError when it finally fails."""
        oa = self._openai
        kwargs = dict(model=model or self.model_name, messages=messages, temperature=params.temperature,
                      top_p=params.top_p, max_tokens=params.max_tokens)
        if params.seed is not None:
            kwargs["seed"] = params.seed
        attempts = 0
        while True:
            attempts += 1
            start = time.perf_counter()
            try:
                resp = self.client.chat.completions.create(**kwargs)
            except oa.AuthenticationError as exc:
                raise BackendError(f"bad API key for {self.cfg.base_url or 'api.openai.com'} "
                                   f"(HTTP 401); check {self.cfg.api_key_env}") from exc
            except (oa.RateLimitError, oa.InternalServerError, oa.APITimeoutError, oa.APIConnectionError,
                    oa.ConflictError) as exc:
                if attempts > self.cfg.retries:
                    raise BackendError(self._describe(exc, attempts)) from exc
                delay = backoff_delay(attempts, _retry_after(exc))
                self.retried += 1
                log.debug("retry %d after %s in %.2fs", attempts, type(exc).__name__, delay)
                time.sleep(delay)
                continue
            except oa.APIStatusError as exc:
                raise BackendError(self._describe(exc, attempts)) from exc
            latency = time.perf_counter() - start
            if not resp.choices:
                raise BackendError(f"{self.cfg.base_url}: response had no choices")
            choice = resp.choices[0]
            usage = {}
            if resp.usage is not None:
                usage = {"prompt_tokens": resp.usage.prompt_tokens, "completion_tokens": resp.usage.completion_tokens}
            return Generation(text=choice.message.content or "", model=resp.model or kwargs["model"], usage=usage,
                              latency_s=latency, finish_reason=choice.finish_reason, attempts=attempts)

    def _describe(self, exc, attempts: int) -> str:
        where = self.cfg.base_url or "api.openai.com"
        oa = self._openai
        if isinstance(exc, oa.APITimeoutError):
            what = f"timed out after {self.cfg.timeout:g}s"
        elif isinstance(exc, oa.APIConnectionError):
            what = "cannot connect (no network, or no server at that address?)"
        elif isinstance(exc, oa.APIStatusError):
            what = f"HTTP {exc.status_code}: {str(getattr(exc, 'message', exc))[:200]}"
        else:
            what = str(exc)[:200]
        return f"{where}: {what} (after {attempts} attempt{'s' if attempts > 1 else ''})"

    def generate(self, messages: list[list[dict]], params: list[GenParams], progress: bool = False) -> list[Generation]:
        """Concurrent requests (``max_workers`` threads); results in input order."""
        from tqdm import tqdm

        bar = tqdm(total=len(messages), desc=f"openai:{self.model_name}", unit="req", disable=not progress)
        def one(i):
            gen = self.complete(messages[i], params[i])
            bar.update(1)
            return gen
        try:
            with ThreadPoolExecutor(max_workers=self.cfg.max_workers) as pool:
                return list(pool.map(one, range(len(messages))))
        finally:
            bar.close()
