"""``factory calendar``: working-day questions, answered from chinese-calendar and configs/calendar.toml.

``factory calendar add-workdays 2026-09-28 7`` prints 2026-10-13. A date in a
year neither source covers is an error naming the year (exit status 2).
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

from factory.config import load_config
from factory.errors import InvalidField
from factory.scheduler.calendar import add_working_days, build_calendar, is_working_day, working_days_between

__all__ = ["register"]


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date YYYY-MM-DD: {text!r}") from None


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("calendar", help="working days (Chinese public holidays and make-up days)")
    parser.add_argument("--config", type=Path, default=None, help="configuration directory (default: configs/)")
    commands = parser.add_subparsers(dest="calendar_command", metavar="QUESTION", required=True)

    add = commands.add_parser("add-workdays", help="the N-th working day after DATE (DATE not counted)")
    add.add_argument("date", type=_date)
    add.add_argument("n", type=int)
    add.set_defaults(run=_add_workdays)

    check = commands.add_parser("is-workday", help="whether DATE is a working day (exit 0) or not (exit 1)")
    check.add_argument("date", type=_date)
    check.set_defaults(run=_is_workday)

    between = commands.add_parser("workdays", help="every working day from START to END, both included")
    between.add_argument("start", type=_date)
    between.add_argument("end", type=_date)
    between.set_defaults(run=_workdays)

    coverage = commands.add_parser("coverage", help="the years the calendar covers")
    coverage.set_defaults(run=_coverage)


def _calendar(args: argparse.Namespace):
    return build_calendar(load_config(args.config).calendar)


def _add_workdays(args: argparse.Namespace) -> int:
    if abs(args.n) > 5000:
        raise InvalidField("n", "must be at most 5000 working days either way", args.n)
    print(add_working_days(_calendar(args), args.date, args.n).isoformat())
    return 0


def _is_workday(args: argparse.Namespace) -> int:
    working = is_working_day(_calendar(args), args.date)
    print(f"{args.date.isoformat()} {'working day' if working else 'rest day'}")
    return 0 if working else 1


def _workdays(args: argparse.Namespace) -> int:
    for day in working_days_between(_calendar(args), args.start, args.end):
        print(f"{day.isoformat()} {day:%a}")
    return 0


def _coverage(args: argparse.Namespace) -> int:
    years = sorted(_calendar(args).covered_years)
    runs: list[list[int]] = []
    for year in years:
        if runs and runs[-1][-1] == year - 1:
            runs[-1].append(year)
        else:
            runs.append([year])
    print(", ".join(f"{r[0]}-{r[-1]}" if len(r) > 1 else str(r[0]) for r in runs))
    return 0
