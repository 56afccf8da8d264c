"""Write a generated peak queue as JSON lines: ``python tests/scheduler/make_peak_queue.py OUT``.

A stand-in for ``factory sample ... --no-images`` when that is not available:
``--count`` applications accepted over the ``--backlog-days`` working days
before ``--date`` (default: 90,000 over the 3 working days before 2026-02-24,
the first working day after the 2026 Spring Festival: 3x the normal intake of
10,000 a day).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
from pathlib import Path

import numpy as np

from factory.config import load_config
from factory.scheduler.calendar import build_calendar
from factory.scheduler.synthetic import peak_application_rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--count", type=int, default=90_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--date", type=dt.date.fromisoformat, default=dt.date(2026, 2, 24))
    parser.add_argument("--backlog-days", type=int, default=3)
    parser.add_argument("--config", type=Path, default=None)
    args = parser.parse_args()
    config = load_config(args.config)
    rows = peak_application_rows(
        np.random.default_rng(args.seed), config, build_calendar(config.calendar),
        today=args.date, count=args.count, backlog_days=args.backlog_days,
    )
    with args.out.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
