#!/usr/bin/env python3
"""Check (and, with --install, pip-install) what the dashboard needs; safe to rerun.

    python setup_dashboard.py            # report what is present
    python setup_dashboard.py --install  # pip-install anything missing into this Python

Python packages: streamlit, pandas, pyarrow, altair (all come with requirements.txt).
Browser test only: Debian's ``chromium`` (``apt-get install chromium``, as root) and the
``playwright`` Python package; no browser download is ever needed.
"""
from __future__ import annotations

import argparse
import importlib.util
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent))

from utils.cli import UserError, add_config_args, config_from_args, field, run_cli, setup_logging

# import name -> pip requirement
PACKAGES = {"streamlit": "streamlit>=1.40", "pandas": "pandas", "pyarrow": "pyarrow", "altair": "altair"}
TEST_PACKAGES = {"playwright": "playwright"}
CHROMIUM = ("/usr/bin/chromium", "chromium", "chromium-browser")


@dataclass
class SetupConfig:
    install: bool = field(False, help="pip-install missing packages into the running Python")
    with_tests: bool = field(False, help="also check the browser-test pieces (playwright, chromium)")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__.split("\n", 2)[2])
    add_config_args(p, SetupConfig)
    return p


def missing_packages(packages: dict[str, str]) -> list[str]:
    """Pip requirements whose import name is not importable here."""
    return [req for name, req in packages.items() if importlib.util.find_spec(name) is None]


def find_chromium() -> str | None:
    for c in CHROMIUM:
        path = c if Path(c).is_file() else shutil.which(c)
        if path:
            return path
    return None


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    setup_logging(args)

    def body() -> int:
        cfg = config_from_args(SetupConfig, args)
        wanted = dict(PACKAGES, **(TEST_PACKAGES if cfg.with_tests else {}))
        missing = missing_packages(wanted)
        if missing and cfg.install:
            rc = subprocess.call([sys.executable, "-m", "pip", "install", "--disable-pip-version-check", "-q", *missing])
            if rc != 0:
                raise UserError(f"pip could not install {' '.join(missing)} (exit {rc}); check the package index is reachable")
            importlib.invalidate_caches()
            missing = missing_packages(wanted)
        for name in wanted:
            print(f"{name:12s} {'missing' if any(r == wanted[name] for r in missing) else 'ok'}")
        if cfg.with_tests:
            chrome = find_chromium()
            print(f"{'chromium':12s} {chrome or 'missing: as root, apt-get install -y chromium'}")
            if not chrome:
                return 1
        if missing:
            print(f"missing: {' '.join(missing)}; rerun with --install", file=sys.stderr)
            return 1
        return 0

    return run_cli(body, prog="setup_dashboard.py")


if __name__ == "__main__":
    sys.exit(main())
