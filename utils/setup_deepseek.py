#!/usr/bin/env python3
"""Store the DeepSeek API key in .env (mode 0600) and check it with one cheap call.

    python utils/setup_deepseek.py                 # uses DEEPSEEK_API_KEY, or asks (hidden input)
    python utils/setup_deepseek.py --check-only    # check the stored key, change nothing

Prints one line: "ok", "bad key" or "no network". Exit codes: 0 ok, 2 bad key or usage
error, 3 no network, 4 the endpoint answered with another error. The key itself is never
printed or logged.
"""
from __future__ import annotations

import argparse
import getpass
import logging
import os
import sys
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):  # run as `python path/to/script.py`: make the repo root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from utils.cli import UserError, add_config_args, add_verbosity_args, config_from_args, field, run_cli, setup_logging

KEY_ENV = "DEEPSEEK_API_KEY"
DEEPSEEK_BASE_URL = "https://api.deepseek.com"  # same as utils.backends.base; not imported to keep --help instant
EXIT = {"ok": 0, "bad key": 2, "no network": 3, "error": 4}


@dataclass
class SetupConfig:
    base_url: str = field(DEEPSEEK_BASE_URL, help="endpoint to check the key against")
    env_file: str | None = field(None, help="file the key is saved to (default: .env in the repo root, env RLHF_DOTENV)")
    timeout: float = field(15.0, help="seconds to wait for the endpoint")
    check_only: bool = field(False, help="only check the key already in the environment or .env; write nothing")
    ask: bool = field(False, help="ask for a new key even if one is already set")
    check: bool = field(True, help="check the key with one models.list() call (--no-check: just save it)")


def dotenv_path(env_file: str | None = None) -> Path:
    from utils.paths import REPO_ROOT

    return Path(env_file or os.environ.get("RLHF_DOTENV") or REPO_ROOT / ".env")


def read_key(path: Path) -> str | None:
    from utils.backends.openai_backend import read_dotenv

    return read_dotenv(KEY_ENV, path)


def save_key(path: Path, key: str, name: str = KEY_ENV) -> Path:
    """Set ``name=key`` in the .env file, keeping its other lines; the file ends up mode 0600."""
    from utils.store import atomic_path

    lines = path.read_text(encoding="utf-8").splitlines() if path.is_file() else []
    lines = [ln for ln in lines if ln.strip().partition("=")[0].strip() != name] + [f"{name}={key}"]
    with atomic_path(path, suffix=".tmp") as tmp:
        os.chmod(tmp, 0o600)  # before the key is written, so it is never readable by others
        tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    os.chmod(path, 0o600)
    return path


def check_key(base_url: str, key: str, timeout: float = 15.0) -> tuple[str, str]:
    """One ``models.list()`` call -> ("ok" | "bad key" | "no network" | "error", detail without the key)."""
    import openai

    client = openai.OpenAI(base_url=base_url, api_key=key, timeout=timeout, max_retries=0)
    try:
        models = client.models.list()
    except (openai.AuthenticationError, openai.PermissionDeniedError) as exc:
        return "bad key", f"{base_url} rejected it (HTTP {exc.status_code})"
    except (openai.APIConnectionError, openai.APITimeoutError):
        return "no network", f"cannot reach {base_url} (offline, proxy or wrong --base-url?)"
    except openai.APIStatusError as exc:
        return "error", f"{base_url} answered HTTP {exc.status_code}"
    names = [m.id for m in getattr(models, "data", [])][:3]
    return "ok", f"{base_url} accepted it" + (f"; models: {', '.join(names)}" if names else "")


def interactive() -> bool:
    return sys.stdin is not None and sys.stdin.isatty()


def obtain_key(cfg: SetupConfig, path: Path, ask=None) -> tuple[str, str]:
    """(key, where it came from): the environment, then the .env file, then hidden input."""
    if not cfg.ask:
        if os.environ.get(KEY_ENV, "").strip():
            return os.environ[KEY_ENV].strip(), "environment"
        if read_key(path):
            return read_key(path), str(path)
    if cfg.check_only:
        raise UserError(f"no {KEY_ENV} in the environment or {path}; run without --check-only to enter it")
    if not interactive():
        raise UserError(f"no {KEY_ENV} in the environment or {path}, and no terminal to ask on; "
                        f"set {KEY_ENV} and rerun")
    key = (ask or getpass.getpass)(f"DeepSeek API key (input hidden, saved to {path}): ").strip()
    if not key:
        raise UserError("no key entered; get one at https://platform.deepseek.com/api_keys")
    return key, "prompt"


def setup(cfg: SetupConfig, ask=None) -> tuple[str, str]:
    """Obtain, check and save the key. Returns (status, message line); the key is in neither."""
    path = dotenv_path(cfg.env_file)
    key, source = obtain_key(cfg, path, ask)
    if any(c.isspace() for c in key):
        raise UserError("that key contains spaces or line breaks; paste just the key (it starts with 'sk-')")
    status, detail = check_key(cfg.base_url, key, cfg.timeout) if cfg.check else ("ok", "not checked (--no-check)")
    saved = ""
    if not cfg.check_only and status in ("ok", "no network") and read_key(path) != key:
        save_key(path, key)
        saved = f"; key from {source} saved to {path}"
    elif not cfg.check_only and status in ("ok", "no network"):
        saved = f"; {path} already has it"
    elif status == "bad key":
        saved = "; nothing saved"
    return status, f"DeepSeek key: {status} ({detail}{saved})"


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__.split("\n", 1)[1])
    add_config_args(p, SetupConfig)
    add_verbosity_args(p)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    setup_logging(args)
    for name in ("httpx", "httpx2", "httpcore", "openai"):  # request logs name URLs; keep output to one line
        logging.getLogger(name).setLevel(logging.WARNING)

    def body() -> int:
        cfg = config_from_args(SetupConfig, args)
        status, line = setup(cfg)
        print(line, file=sys.stdout if status == "ok" else sys.stderr)
        return EXIT[status]

    return run_cli(body, prog="setup_deepseek.py")


if __name__ == "__main__":
    sys.exit(main())
