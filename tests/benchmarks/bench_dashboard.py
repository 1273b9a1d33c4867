#!/usr/bin/env python3
"""First-render time of the Attunement Dashboard on 100,000 votes + 100,000 predictions.

    python tests/benchmarks/bench_dashboard.py --out bench_dashboard.json
    python tests/benchmarks/bench_dashboard.py --votes 20000 --predictions 20000 --root /tmp/dash_bench

Writes seeded fixture data (tests/dashboard_fixtures.py) unless --root already holds it,
warms the imports and the component scan on an empty folder (a running server has done
both at start-up), then for every section clears the data caches and times one cold
render (files parsed, everything computed) and one warm rerun, with streamlit's AppTest. Target: cold first render of the
default section under 3 s on 2 CPU cores. Also times the raw loads (fast reader vs the
store's read_records).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from utils.cli import add_config_args, config_from_args, field, run_cli, setup_logging

APP = Path(__file__).resolve().parents[2] / "interface" / "dashboard_core.py"
TARGET_S = 3.0


@dataclass
class BenchConfig:
    votes: int = field(100_000, help="votes to generate")
    predictions: int = field(100_000, help="predictions to generate (spread over 3 model versions)")
    pairs: int = field(20_000, help="distinct pairs the votes and predictions are about")
    root: str = field("", help="data folder root to (re)use; default: a temporary folder")
    seed: int = field(0, help="fixture seed")
    out: str = field("", help="write the results as JSON here")
    browser: bool = field(False, help="also time a real first page load: fresh `run_dashboard.py`, headless Chromium")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__.split("\n", 2)[2])
    add_config_args(p, BenchConfig)
    return p


def ensure_data(cfg: BenchConfig, root: Path) -> dict:
    from tests.dashboard_fixtures import make_dashboard_fixture
    from utils.paths import Paths

    marker = root / "bench_fixture.json"
    want = {"votes": cfg.votes, "predictions": cfg.predictions, "pairs": cfg.pairs, "seed": cfg.seed}
    if marker.exists() and json.loads(marker.read_text()).get("want") == want:
        return json.loads(marker.read_text())["counts"]
    t = time.perf_counter()
    counts = make_dashboard_fixture(Paths.resolve(root=root), n_votes=cfg.votes, n_predictions=cfg.predictions,
                                    n_pairs=cfg.pairs, seed=cfg.seed)
    print(f"fixture written in {time.perf_counter() - t:.1f}s: {counts}", file=sys.stderr)
    marker.write_text(json.dumps({"want": want, "counts": counts}))
    return counts


# A server scans the installed packages for Streamlit components once, at start-up
# (``Runtime.__init__``); every new AppTest scans again on its first run (~0.6-1 s here,
# 365 package metadata files). Share one scan, so the timed renders hold what a page
# load on a running server does, not the test harness's set-up.
_COMPONENTS: list = []


def render_once(section: str, home: Path) -> tuple[float, int, float]:
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(APP), default_timeout=120)
    if _COMPONENTS:
        at._bidi_component_manager = _COMPONENTS[0]
    at.query_params["section"] = section
    at.session_state["data_dir"] = str(home / "data")
    at.session_state["models_dir"] = str(home / "models")
    t, c = time.perf_counter(), time.process_time()
    at.run()
    dt, cpu = time.perf_counter() - t, time.process_time() - c
    if not _COMPONENTS and at._bidi_component_manager is not None:
        _COMPONENTS.append(at._bidi_component_manager)
    if at.exception:
        raise RuntimeError(f"{section}: {at.exception[0].value}")
    return dt, len(at.error), cpu


def time_loads(home: Path) -> dict:
    from interface.components.fastjsonl import read_frame
    from utils.store import read_records

    out = {}
    for name, rtype in (("votes", "vote"), ("predictions", "prediction")):
        path = home / "data" / f"{name}.jsonl"
        t = time.perf_counter()
        read_frame(path, rtype, [])
        out[f"{name}_fast_reader_s"] = round(time.perf_counter() - t, 3)
        t = time.perf_counter()
        read_records(path, rtype, errors=[], warn=False)
        out[f"{name}_store_read_records_s"] = round(time.perf_counter() - t, 3)
    return out


def browser_first_render(home: Path) -> dict:
    """Fresh server (nothing imported, nothing cached) -> seconds until the default section is drawn."""
    import socket
    import subprocess
    import urllib.request

    from playwright.sync_api import expect, sync_playwright

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    repo = Path(__file__).resolve().parents[2]
    t_start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, str(repo / "run_dashboard.py"), "--port", str(port), "--root", str(home)],
                            cwd=repo, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2):
                    break
            except OSError:
                if proc.poll() is not None or time.perf_counter() - t_start > 120:
                    raise RuntimeError("dashboard server did not start")
                time.sleep(0.2)
        server_s = time.perf_counter() - t_start
        with sync_playwright() as pw, tempfile.TemporaryDirectory() as profile:
            ctx = pw.chromium.launch_persistent_context(
                profile, executable_path="/usr/bin/chromium", headless=True,
                args=["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                      "--disable-component-update", "--disable-sync"])
            page = ctx.new_page()
            t = time.perf_counter()
            page.goto(f"http://127.0.0.1:{port}", timeout=120_000)
            expect(page.get_by_role("heading", name="Error distribution by domain")).to_be_visible(timeout=120_000)
            expect(page.locator(".vega-embed").first).to_be_visible(timeout=120_000)
            first = time.perf_counter() - t
            page.reload()
            t = time.perf_counter()
            expect(page.get_by_role("heading", name="Error distribution by domain")).to_be_visible(timeout=120_000)
            expect(page.locator(".vega-embed").first).to_be_visible(timeout=120_000)
            reload_s = time.perf_counter() - t
            ctx.close()
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    return {"server_start_s": round(server_s, 2), "browser_first_render_s": round(first, 2),
            "browser_reload_s": round(reload_s, 2)}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    setup_logging(args)

    def body() -> int:
        cfg = config_from_args(BenchConfig, args)
        import logging

        import streamlit as st

        logging.getLogger("streamlit").setLevel(logging.ERROR)
        from interface.dashboard_core import SECTIONS

        tmp = tempfile.TemporaryDirectory(prefix="dash_bench_")
        home = Path(cfg.root) if cfg.root else Path(tmp.name) / "home"
        counts = ensure_data(cfg, home)
        empty = Path(tmp.name) / "empty"
        (empty / "data").mkdir(parents=True)
        (empty / "models").mkdir()
        os.environ["RLHF_PROMPTS_DIR"] = str(home / "prompts")
        import altair  # noqa: F401  (run_dashboard.py imports it at start-up: warm_caches)
        for name, _ in SECTIONS:  # warm the imports, as in a running server
            render_once(name, empty)

        rows = []
        for name, _ in SECTIONS:
            st.cache_data.clear()
            st.cache_resource.clear()
            cold, errors, cold_cpu = render_once(name, home)
            warm, _, warm_cpu = render_once(name, home)
            rows.append({"section": name, "cold_s": round(cold, 3), "warm_s": round(warm, 3), "errors": errors,
                         "cold_cpu_s": round(cold_cpu, 3), "warm_cpu_s": round(warm_cpu, 3)})
        loads = time_loads(home)
        browser = browser_first_render(home) if cfg.browser else None
        first = rows[0]["cold_s"]
        first_cpu = rows[0]["cold_cpu_s"]
        result = {"votes": counts["votes"], "predictions": counts["predictions"], "pairs": counts["pairs"],
                  "cpu_count": os.cpu_count(), "load_average_1m": round(os.getloadavg()[0], 2), "first_render_s": first, "first_render_cpu_s": first_cpu, "target_s": TARGET_S,
                  "meets_target": first < TARGET_S, "sections": rows, "loads": loads, "browser": browser, "config": asdict(cfg)}
        print(f"\nAttunement Dashboard, {counts['votes']:,} votes + {counts['predictions']:,} predictions, "
              f"{counts['pairs']:,} pairs, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
        print(f"{'section':32s} {'cold (s)':>9s} {'cold CPU':>9s} {'warm (s)':>9s} {'warm CPU':>9s}")
        for r in rows:
            print(f"{r['section']:32s} {r['cold_s']:9.2f} {r['cold_cpu_s']:9.2f} {r['warm_s']:9.2f} {r['warm_cpu_s']:9.2f}")
        print(f"first render (default section, cold caches): {first:.2f}s wall, {first_cpu:.2f}s CPU (all threads); "
              f"target < {TARGET_S}s  {'OK' if first < TARGET_S else 'MISSED'}")
        print("(CPU seconds do not grow when other processes share the cores; wall seconds do: "
              "compare both with the load average above)")
        print("loads: " + ", ".join(f"{k} {v}s" for k, v in loads.items()))
        if browser:
            print("browser (fresh server, cold): " + ", ".join(f"{k} {v}s" for k, v in browser.items()))
        if cfg.out:
            from utils.store import write_json_atomic
            write_json_atomic(cfg.out, result)
        tmp.cleanup()
        return 0

    return run_cli(body, prog="bench_dashboard.py")


if __name__ == "__main__":
    sys.exit(main())
