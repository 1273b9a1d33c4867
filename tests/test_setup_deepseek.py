"""utils/setup_deepseek.py: key from env / .env / hidden prompt, saved 0600, checked with one call."""
from __future__ import annotations

import socket
import stat

import pytest

import utils.setup_deepseek as sd
from tests.openai_server import ChatServer

SECRET = "sk-deepseek-SECRET-77aa01"


@pytest.fixture
def dotenv(tmp_path, monkeypatch):
    path = tmp_path / "home.env"
    monkeypatch.setenv("RLHF_DOTENV", str(path))
    return path


def closed_port_url() -> str:
    with socket.socket() as s:  # bind and release: nothing listens there afterwards
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


def assert_no_secret(capsys, caplog, secret=SECRET):
    out = capsys.readouterr()
    assert secret not in out.out + out.err + caplog.text
    return out


def test_help():
    with pytest.raises(SystemExit) as exc:
        sd.main(["--help"])
    assert exc.value.code == 0


def test_env_key_checked_ok_and_saved_0600(dotenv, monkeypatch, capsys, caplog):
    dotenv.write_text("OTHER=keep me\nDEEPSEEK_API_KEY=old-value\n")
    monkeypatch.setenv("DEEPSEEK_API_KEY", SECRET)
    with ChatServer(api_key=SECRET) as srv:
        rc = sd.main(["--base-url", srv.base_url, "-v"])
        assert srv.auth_headers == [f"Bearer {SECRET}"]  # exactly one cheap call
    out = assert_no_secret(capsys, caplog)
    assert rc == 0 and out.out.startswith("DeepSeek key: ok") and len(out.out.strip().splitlines()) == 1
    assert stat.S_IMODE(dotenv.stat().st_mode) == 0o600
    assert dotenv.read_text() == f"OTHER=keep me\nDEEPSEEK_API_KEY={SECRET}\n"
    # The backend finds it there without the environment variable.
    from utils.backends.base import BackendConfig
    from utils.backends.openai_backend import resolve_api_key
    monkeypatch.delenv("DEEPSEEK_API_KEY")
    assert resolve_api_key(BackendConfig(backend="openai", provider="deepseek").resolved()) == SECRET


def test_bad_key_reported_and_not_saved(dotenv, monkeypatch, capsys, caplog):
    monkeypatch.setenv("DEEPSEEK_API_KEY", "sk-wrong-key")
    with ChatServer(api_key=SECRET) as srv:
        rc = sd.main(["--base-url", srv.base_url])
    out = assert_no_secret(capsys, caplog, "sk-wrong-key")
    assert rc == 2 and out.err.strip().startswith("DeepSeek key: bad key") and len(out.err.strip().splitlines()) == 1
    assert not dotenv.exists()


def test_no_network(dotenv, monkeypatch, capsys, caplog):
    monkeypatch.setenv("DEEPSEEK_API_KEY", SECRET)
    rc = sd.main(["--base-url", closed_port_url(), "--timeout", "5"])
    out = assert_no_secret(capsys, caplog)
    assert rc == 3 and out.err.strip().startswith("DeepSeek key: no network")
    assert dotenv.exists()  # saved anyway: it could not be checked, not found wrong


def test_hidden_prompt_when_no_key(dotenv, monkeypatch, capsys, caplog):
    asked = []
    monkeypatch.setattr(sd, "interactive", lambda: True)
    monkeypatch.setattr(sd.getpass, "getpass", lambda prompt: asked.append(prompt) or f"  {SECRET}\n")
    with ChatServer(api_key=SECRET) as srv:
        rc = sd.main(["--base-url", srv.base_url])
    out = assert_no_secret(capsys, caplog)
    assert rc == 0 and asked and "input hidden" in asked[0] and "from prompt saved" in out.out
    assert dotenv.read_text() == f"DEEPSEEK_API_KEY={SECRET}\n"
    # Second run: the stored key is used, nothing asked, nothing rewritten.
    asked.clear()
    with ChatServer(api_key=SECRET) as srv:
        assert sd.main(["--base-url", srv.base_url, "--check-only"]) == 0
    assert not asked and "already has it" not in capsys.readouterr().out


def test_no_key_and_no_terminal_is_one_clear_line(dotenv, monkeypatch, capsys):
    monkeypatch.setattr(sd, "interactive", lambda: False)
    assert sd.main(["--base-url", closed_port_url()]) == 2
    err = capsys.readouterr().err.strip()
    assert "no DEEPSEEK_API_KEY" in err and "no terminal" in err and len(err.splitlines()) == 1
    assert sd.main(["--check-only"]) == 2
    assert "run without --check-only" in capsys.readouterr().err


def test_key_with_spaces_rejected(dotenv, monkeypatch, capsys):
    monkeypatch.setattr(sd, "interactive", lambda: True)
    monkeypatch.setattr(sd.getpass, "getpass", lambda prompt: "sk-abc def")
    assert sd.main(["--no-check"]) == 2
    assert "spaces or line breaks" in capsys.readouterr().err and not dotenv.exists()
