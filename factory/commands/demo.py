"""``factory demo``: what ``make demo`` runs.

For now it generates a sample day of the Spring Festival peak (applications,
portraits, signatures) into ``var/demo`` and prints its summary; the whole
line (scheduler, printers, QA, panel) joins it as those parts land.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import time
from pathlib import Path

from factory.commands.sample import summarize, write_sample
from factory.config import load_config

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("demo", help="run the demonstration (what `make demo` runs)")
    parser.add_argument("--count", type=int, default=2000, help="applications in the sample day (default 2000)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--date", type=dt.date.fromisoformat, default=dt.date(2026, 2, 24))
    parser.add_argument("--out", type=Path, default=Path("var/demo"), help="working directory (default var/demo)")
    parser.add_argument("--config", type=Path, default=None)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    peak = config.seasons.peak_on(args.date)
    print(f"factory demo: a sample day of intake, {args.date} "
          f"({'peak: ' + peak.name + f', x{peak.volume_factor:g} volume' if peak else 'no peak'})")
    started = time.perf_counter()
    samples = write_sample(args.out, args.count, args.seed, config, day=args.date, workers=os.cpu_count() or 1)
    elapsed = time.perf_counter() - started
    print(summarize(samples))
    pools = {}
    for machine in config.line.machines:
        pools.setdefault(machine.pool, []).append(machine)
    for pool, machines in sorted(pools.items()):
        per_day = sum(m.rated_per_hour for m in machines) * config.line.shifts.normal_hours
        print(f"  {pool} line: {len(machines)} machines, {per_day:,.0f} documents in an "
              f"{config.line.shifts.normal_hours:g} h shift")
    print(f"generated in {elapsed:.1f} s into {args.out}/ (applications.jsonl, photos/, signatures/)")
    return 0
