#!/usr/bin/env python3
"""Start the Attunement Dashboard (Streamlit) on 127.0.0.1.

    python run_dashboard.py
    python run_dashboard.py --port 8600 --data-dir /srv/rlhf/data --models-dir /srv/rlhf/models
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):  # run as `python run_dashboard.py`: make the repo root importable
    sys.path.insert(0, str(Path(__file__).resolve().parent))

from utils.cli import UserError, add_config_args, add_path_args, config_from_args, field, run_cli, setup_logging
from utils.paths import Paths

REPO = Path(__file__).resolve().parent
APP = REPO / "interface" / "dashboard_core.py"
# The server process: warm the dashboard's imports and file caches in a thread while
# Streamlit starts, then hand over to Streamlit's own command line (`streamlit run ...`).
LAUNCHER = """
import sys, threading
sys.path.insert(0, {repo!r})
def _warm():
    try:
        from interface.dashboard_core import warm_caches
        warm_caches(sys.argv[sys.argv.index("--") + 1:] if "--" in sys.argv else [])
    except Exception as exc:  # warming is an optimisation: the page loads the files itself
        print(f"run_dashboard.py: cache warm-up skipped: {{exc}}", file=sys.stderr)
threading.Thread(target=_warm, name="dashboard-warmup", daemon=True).start()
from streamlit.web.cli import main
sys.exit(main())
"""


@dataclass
class DashboardConfig:
    host: str = field("127.0.0.1", help="address to bind; 0.0.0.0 exposes the dashboard to your network")
    port: int = field(8501, help="TCP port")
    headless: bool = field(True, help="do not try to open a browser window")

    def __post_init__(self):
        if not 0 < self.port < 65536:
            raise ValueError(f"--port must be between 1 and 65535, got {self.port}")
        if not self.host.strip():
            raise ValueError("--host must not be empty (use 127.0.0.1 for this machine only)")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__.split("\n", 2)[2])
    add_config_args(p, DashboardConfig)
    add_path_args(p)
    p.add_argument("--dry-run", action="store_true", help="print the streamlit command instead of running it")
    return p


def streamlit_command(cfg: DashboardConfig, paths: Paths) -> list[str]:
    """The ``streamlit run`` command line; folders go after ``--`` to the dashboard script."""
    return [sys.executable, "-c", LAUNCHER.format(repo=str(REPO)), "run", str(APP),
            "--server.address", cfg.host, "--server.port", str(cfg.port),
            "--server.headless", "true" if cfg.headless else "false",
            "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
            "--", "--root", str(paths.root), "--data-dir", str(paths.data_dir), "--models-dir", str(paths.models_dir)]


def dashboard_env(paths: Paths) -> dict:
    """Environment for the server: the folders again (belt and braces) and no hub access."""
    env = dict(os.environ)
    env.update({"RLHF_HOME": str(paths.root), "RLHF_DATA_DIR": str(paths.data_dir),
                "RLHF_MODELS_DIR": str(paths.models_dir), "RLHF_PROMPTS_DIR": str(paths.prompts_dir),
                "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"})
    return env


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    setup_logging(args)

    def body() -> int:
        cfg = config_from_args(DashboardConfig, args)
        paths = Paths.from_args(args)
        for name, folder in (("--data-dir", paths.data_dir), ("--models-dir", paths.models_dir)):
            if Path(folder).exists() and not Path(folder).is_dir():
                raise UserError(f"{name} {folder} is a file, not a folder; pass the folder that holds the files")
        cmd = streamlit_command(cfg, paths)
        if args.dry_run:
            print(" ".join(["streamlit", *cmd[3:]]))
            return 0
        print(f"Attunement Dashboard on http://{cfg.host}:{cfg.port}  (data: {paths.data_dir}, models: {paths.models_dir})",
              file=sys.stderr, flush=True)
        if os.name == "nt":  # no exec on Windows: wait for the child
            try:
                return subprocess.call(cmd, env=dashboard_env(paths))
            except KeyboardInterrupt:
                return 0
        # Become the server (same PID): Ctrl-C and kill reach Streamlit, no orphan is left behind.
        os.execve(sys.executable, cmd, dashboard_env(paths))
        return 0  # not reached

    return run_cli(body, prog="run_dashboard.py")


if __name__ == "__main__":
    sys.exit(main())
