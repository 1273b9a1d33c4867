#!/usr/bin/env python3
"""Check the vote predictor and its data for drift; write models/drift_analysis/ and list alerts.

    python interface/run_drift_analysis.py --window 1d --generate-report
    python interface/run_drift_analysis.py --window-size 200 --embedding tfidf --fail-on-drift   # exit 3 on drift
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as `python path/to/script.py`: make the repo root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # parents[k]: k = depth below repo root

from utils.cli import config_from_args, run_cli, script_parser, setup_logging
from utils.paths import Paths
from utils.vote_predictor.drift_monitor import DriftConfig, run_drift_analysis

EXIT_DRIFT = 3


def build_parser() -> argparse.ArgumentParser:
    parser = script_parser(__doc__, DriftConfig)
    parser.add_argument("--fail-on-drift", action="store_true",
                        help=f"exit with code {EXIT_DRIFT} when any alert fires (for CI / cron)")
    return parser


def format_summary(report: dict) -> str:
    """Plain-text alert table plus where the files went."""
    lines = [f"drift analysis: {report['n_predictions']} predictions, {report['n_windows']} windows "
             f"({report['windowing']}), reference: {report['reference']['source']}, "
             f"{report['tests']['n_tests']} tests at family-wise alpha {report['tests']['alpha']}"]
    alerts = report["alerts"]
    if not alerts:
        lines.append("no drift detected")
    else:
        lines.append(f"{len(alerts)} alert(s):")
        lines.append(f"  {'window':<17} {'kind':<11} {'metric':<23} {'p / value':>10}  message")
        for a in alerts:
            lines.append(f"  {a['window_label']:<17} {a['kind']:<11} {a['metric']:<23} "
                         f"{a['p_value_or_value']:>10.3g}  {a['message']}")
    zones = report["summary"]["error_zones"]
    if zones:
        rows = {c["id"]: c for c in report["clusters"]["clusters"]}
        for z in zones:
            c = rows[z]
            lines.append(f"error zone: cluster {z} ({', '.join(c['top_terms'][:4])}) accuracy {c['accuracy']:.2f} "
                         f"vs overall {report['clusters']['overall_accuracy']:.2f} on {c['n_labelled']} votes")
    files = report["files"]
    lines.append(f"report: {files.get('html', files['json'])}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    setup_logging(args)

    def body() -> int:
        cfg = config_from_args(DriftConfig, args)
        report = run_drift_analysis(cfg, Paths.from_args(args))
        print(format_summary(report))
        return EXIT_DRIFT if (args.fail_on_drift and report["alerts"]) else 0

    return run_cli(body, prog="run_drift_analysis.py")


if __name__ == "__main__":
    sys.exit(main())
