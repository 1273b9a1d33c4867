"""End to end: `python run_dashboard.py` on 127.0.0.1, loaded in headless Debian Chromium.

Chromium comes from Debian (`apt-get install chromium`; `.ci/run` does it in CI), driven
by Playwright's Python API pointed at /usr/bin/chromium: no browser download. A missing
Chromium fails the test with the install command, it never skips.
Screenshots: one PNG per section in $DASHBOARD_SCREENSHOTS (default: the test's tmp dir).
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.dashboard_fixtures import SCRIPT_PAYLOAD, make_dashboard_fixture
from utils.paths import Paths

REPO = Path(__file__).resolve().parents[1]
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]
SECTIONS = {  # tab -> a heading that only appears once the section finished rendering
    "Alignment Over Time": "Error distribution by domain",
    "Calibration Diagnostics": "ECE before / after calibration, per checkpoint",
    "Drift Clusters & Error Zones": "Error zones in the current votes (domain x task type)",
    "Model Evolution": "RLHF loop cycles",
    "User Preference Timeline": "Search the votes",
}


def chromium_path() -> str:
    for c in ("/usr/bin/chromium", shutil.which("chromium") or "", shutil.which("chromium-browser") or ""):
        if c and Path(c).is_file():
            return c
    pytest.fail("Chromium is not installed: as root run `apt-get install -y chromium` (Debian package, "
                "/usr/bin/chromium); the dashboard's browser test needs it and never skips")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def dashboard(tmp_path):
    home = tmp_path / "home"
    make_dashboard_fixture(Paths.resolve(root=home), n_votes=300, n_predictions=300, seed=5)
    port = free_port()
    env = dict(os.environ, RLHF_HOME=str(home))
    log = open(tmp_path / "server.log", "w")
    proc = subprocess.Popen([sys.executable, str(REPO / "run_dashboard.py"), "--port", str(port), "--root", str(home)],
                            cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                log.flush()
                pytest.fail(f"dashboard did not start: {(tmp_path / 'server.log').read_text()[-2000:]}")
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def test_dashboard_in_headless_chromium(dashboard, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    shots = Path(os.environ.get("DASHBOARD_SCREENSHOTS") or tmp_path / "screenshots")
    shots.mkdir(parents=True, exist_ok=True)
    dialogs: list[str] = []
    with sync_playwright() as pw:
        ctx = pw.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"), executable_path=chromium_path(), headless=True,
            args=CHROMIUM_FLAGS, viewport={"width": 1400, "height": 2400})
        try:
            page = ctx.new_page()
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.goto(dashboard, timeout=60_000)
            expect(page.get_by_role("heading", name="Attunement Dashboard")).to_be_visible(timeout=60_000)
            for tab, last_heading in SECTIONS.items():
                page.get_by_role("tab", name=tab).click()
                expect(page.get_by_role("heading", name=last_heading)).to_be_visible(timeout=60_000)
                expect(page.locator(".vega-embed").first).to_be_visible(timeout=60_000)  # charts drawn
                page.wait_for_load_state("networkidle")
                assert page.locator('[data-testid="stException"]').count() == 0, tab
                assert page.locator('[data-testid="stAlertContentError"]').count() == 0, tab
                page.screenshot(path=str(shots / f"{tab.split()[0].lower()}.png"), full_page=True)

            # A <script> payload inside a completion is displayed as text, never run.
            box = page.get_by_label("Search prompt, responses, annotator or rationale")
            box.fill("window.__xss")
            box.press("Enter")
            shown = page.locator('[data-testid="stText"]').filter(has_text=SCRIPT_PAYLOAD)
            expect(shown.first).to_be_visible(timeout=60_000)
            assert page.evaluate("typeof window.__xss") == "undefined"
            assert not page.evaluate("Array.from(document.scripts).some(s => s.text.includes('__xss'))")
            assert dialogs == []
            page.screenshot(path=str(shots / "xss_as_text.png"), full_page=True)
        finally:
            ctx.close()
    pngs = sorted(shots.glob("*.png"))
    assert len(pngs) == len(SECTIONS) + 1
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and p.stat().st_size > 5000 for p in pngs)
