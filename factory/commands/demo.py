"""``factory demo``: what ``make demo`` runs — the whole line through a generated peak day."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

from factory.demo.runner import DemoOptions, run_demo

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    defaults = DemoOptions()
    parser = subparsers.add_parser(
        "demo", help="run the whole line through a generated peak day (what `make demo` runs)",
        description="Start the controller, eight simulated printers with their workers, two QA workers and "
        "Prometheus (if installed); feed a generated peak day through intake in accelerated time; print a "
        "progress line and, at the end, a summary and the audit.",
    )
    parser.add_argument("--count", type=int, default=defaults.count,
                        help=f"applications in the day (default {defaults.count:,})")
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--date", type=dt.date.fromisoformat, default=defaults.day,
                        help=f"acceptance day (default {defaults.day}, in the Spring Festival peak)")
    parser.add_argument("--out", type=Path, default=defaults.out,
                        help=f"working directory, replaced on each run (default {defaults.out})")
    parser.add_argument("--config", type=Path, default=None, help="configuration directory (default configs/)")
    parser.add_argument("--speed", type=float, default=defaults.speed,
                        help=f"line seconds per real second (default {defaults.speed:g})")
    parser.add_argument("--batch", type=int, default=defaults.batch, help="applications sent to intake at a time")
    parser.add_argument("--qa-workers", type=int, default=defaults.qa_workers)
    parser.add_argument("--no-prometheus", action="store_true", help="do not start Prometheus")
    parser.add_argument("--prometheus-port", type=int, default=defaults.prometheus_port)
    parser.add_argument("--panel-port", type=int, default=defaults.panel_port,
                        help=f"control panel port on 127.0.0.1 (default {defaults.panel_port}; -1: off)")
    parser.add_argument("--timeout", type=float, default=defaults.timeout_s, help="seconds to wait for the line")
    parser.add_argument("--keep-running", action="store_true",
                        help="keep the line up after the summary (to look around); Ctrl-C stops it")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.count < 1:
        raise SystemExit("factory demo: --count must be at least 1")
    return run_demo(DemoOptions(
        count=args.count, seed=args.seed, day=args.date, out=args.out, config_dir=args.config, speed=args.speed,
        batch=args.batch, qa_workers=args.qa_workers, prometheus=not args.no_prometheus,
        prometheus_port=args.prometheus_port, panel_port=args.panel_port, timeout_s=args.timeout, keep_running=args.keep_running,
    ))
