"""The working-day calendar: chinese-calendar wrapped so that it fails closed.

A ``WorkingCalendar`` is built once (``build_calendar(config.calendar)``) and
passed in. It holds one entry per day over the covered years and a sorted
table of working-day ordinals, so that deadlines for a whole queue are one
``searchsorted``.

Sources, in order:

1. ``configs/calendar.toml`` entries for a year override the library for the
   dates they list (``holidays`` are days off, ``workdays`` are days worked,
   e.g. a make-up Saturday, 调休).
2. chinese-calendar (2004-2026 in 1.11): its holidays and its make-up
   working days; other weekdays work, other weekend days rest.
3. A year the library lacks is covered only when ``calendar.toml`` lists it
   with ``complete = true``: then weekends plus the listed dates decide.

Any question touching a day of an uncovered year raises
``CalendarNotCovered(year)``: a deadline is never a silent guess.

We read the library's ``holidays`` and ``workdays`` tables (its own
``is_workday`` rule, applied in bulk) rather than calling ``is_workday`` per
day; ``get_workdays(include_weekends=False)`` would drop make-up weekend days.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from factory.config import CalendarOverrides
from factory.errors import CalendarNotCovered

__all__ = [
    "WorkingCalendar",
    "build_calendar",
    "library_calendar_data",
    "is_working_day",
    "add_working_days",
    "working_day_index",
    "working_day_at",
    "working_days_between",
    "next_working_day_index",
    "last_working_day_index",
    "shift_working_day_index",
]


@dataclass(frozen=True, slots=True, eq=False)
class WorkingCalendar:
    """Working days over the covered years, as arrays (read-only).

    Day ``i`` of the tables is the date with ordinal ``first_ordinal + i``
    (``datetime.date.toordinal``).
    """

    first_ordinal: int
    """Ordinal of 1 January of the first year in the tables."""
    covered: np.ndarray
    """(days,) bool: the day's year is covered (library or complete override)."""
    working: np.ndarray
    """(days,) bool: the day is a working day (False on uncovered days)."""
    working_ordinals: np.ndarray
    """(w,) int32, sorted: ordinals of every working day in the tables."""
    uncovered_before: np.ndarray
    """(days + 1,) int32: number of uncovered days before day i (prefix count)."""
    covered_years: frozenset[int]

    @property
    def last_ordinal(self) -> int:
        return self.first_ordinal + len(self.working) - 1

    @property
    def first_date(self) -> dt.date:
        return dt.date.fromordinal(self.first_ordinal)

    @property
    def last_date(self) -> dt.date:
        return dt.date.fromordinal(self.last_ordinal)


def library_calendar_data() -> tuple[range, Mapping[dt.date, object], Mapping[dt.date, object]]:
    """The years chinese-calendar covers, its holidays and its make-up working days."""
    import chinese_calendar

    holidays = chinese_calendar.holidays
    workdays = chinese_calendar.workdays
    # The library's own coverage check: years between its first and last holiday.
    years = range(min(holidays).year, max(holidays).year + 1)
    return years, holidays, workdays


def build_calendar(
    overrides: CalendarOverrides,
    *,
    library: tuple[range, Mapping[dt.date, object], Mapping[dt.date, object]] | None = None,
) -> WorkingCalendar:
    """Build the working-day tables from the library and the overrides.

    Parameters
    ----------
    overrides : CalendarOverrides
        ``config.calendar``: per-year holidays and workdays, and whether the
        year is complete.
    library : (years, holidays, workdays), optional
        The library's data; ``library_calendar_data()`` by default. Tests pass
        their own to check the fail-closed rules.

    Returns
    -------
    WorkingCalendar
    """
    lib_years, lib_holidays, lib_workdays = library if library is not None else library_calendar_data()
    covered_years = set(lib_years)
    covered_years.update(y for y, entry in overrides.years.items() if entry.complete)
    if not covered_years:
        raise CalendarNotCovered(min(overrides.years, default=dt.date.min.year))
    first_year, last_year = min(covered_years), max(covered_years)
    first = dt.date(first_year, 1, 1).toordinal()
    last = dt.date(last_year, 12, 31).toordinal()
    ordinals = np.arange(first, last + 1, dtype=np.int64)
    # date.toordinal() of 0001-01-01 is 1, a Monday: weekday = (ordinal - 1) % 7, 0 = Monday.
    weekday = (ordinals - 1) % 7
    working = weekday <= 4
    years = _years_of(first_year, last_year)
    covered = np.isin(years, np.fromiter(covered_years, dtype=np.int64))

    def mark(days: Iterable[dt.date], value: bool) -> None:
        index = np.fromiter((d.toordinal() - first for d in days), dtype=np.int64)
        index = index[(index >= 0) & (index < len(working))]
        working[index] = value

    mark((d for d in lib_holidays if d.year in lib_years), False)
    mark((d for d in lib_workdays if d.year in lib_years), True)
    for entry in overrides.years.values():
        mark(entry.holidays, False)
        mark(entry.workdays, True)
    working &= covered

    uncovered_before = np.zeros(len(working) + 1, dtype=np.int32)
    np.cumsum(~covered, out=uncovered_before[1:])
    for array in (covered, working, uncovered_before):
        array.setflags(write=False)
    working_ordinals = (np.flatnonzero(working) + first).astype(np.int32)
    working_ordinals.setflags(write=False)
    return WorkingCalendar(
        first_ordinal=first,
        covered=covered,
        working=working,
        working_ordinals=working_ordinals,
        uncovered_before=uncovered_before,
        covered_years=frozenset(covered_years),
    )


def _years_of(first_year: int, last_year: int) -> np.ndarray:
    parts = [
        np.full(dt.date(y, 12, 31).toordinal() - dt.date(y, 1, 1).toordinal() + 1, y, dtype=np.int64)
        for y in range(first_year, last_year + 1)
    ]
    return np.concatenate(parts)


# --------------------------------------------------------------------------- checks


def _check_span(cal: WorkingCalendar, low: np.ndarray, high: np.ndarray) -> None:
    """Raise ``CalendarNotCovered`` unless every day in [low, high] (ordinals) is covered."""
    low = np.asarray(low, dtype=np.int64)
    high = np.asarray(high, dtype=np.int64)
    if low.size == 0:
        return
    below = low < cal.first_ordinal
    if below.any():
        raise CalendarNotCovered(dt.date.fromordinal(int(low[below].min())).year)
    above = high > cal.last_ordinal
    if above.any():
        # The earliest question that runs off the tables names the first year past them.
        raise CalendarNotCovered(cal.last_date.year + 1)
    lo = low - cal.first_ordinal
    hi = high - cal.first_ordinal
    gaps = cal.uncovered_before[hi + 1] - cal.uncovered_before[lo]
    if gaps.any():
        bad = int(np.flatnonzero(gaps)[0])
        uncovered_days = np.flatnonzero(~cal.covered[lo[bad] : hi[bad] + 1])
        day = dt.date.fromordinal(int(lo[bad] + uncovered_days[0] + cal.first_ordinal))
        raise CalendarNotCovered(day.year)


def _ordinals(days: dt.date | Iterable[dt.date] | np.ndarray) -> np.ndarray:
    if isinstance(days, dt.datetime):
        raise TypeError("pass a date, not a datetime")
    if isinstance(days, dt.date):
        return np.array([days.toordinal()], dtype=np.int64)
    if isinstance(days, np.ndarray):
        return days.astype(np.int64, copy=False)
    return np.fromiter((d.toordinal() for d in days), dtype=np.int64)


# --------------------------------------------------------------------------- questions


def is_working_day(cal: WorkingCalendar, day: dt.date) -> bool:
    """Whether ``day`` is a working day; ``CalendarNotCovered`` if its year is not covered."""
    ordinal = day.toordinal()
    _check_span(cal, np.array([ordinal]), np.array([ordinal]))
    return bool(cal.working[ordinal - cal.first_ordinal])


def next_working_day_index(cal: WorkingCalendar, ordinals: np.ndarray) -> np.ndarray:
    """Index in ``cal.working_ordinals`` of the first working day on or after each ordinal.

    Parameters
    ----------
    ordinals : (n,) int array
        Day ordinals.

    Returns
    -------
    (n,) int64 indices into ``cal.working_ordinals``.

    Raises
    ------
    CalendarNotCovered
        When a day, or the search for the next working day, leaves the covered years.
    """
    ordinals = np.asarray(ordinals, dtype=np.int64)
    index = np.searchsorted(cal.working_ordinals, ordinals, side="left")
    if index.size and (index >= len(cal.working_ordinals)).any():
        raise CalendarNotCovered(cal.last_date.year + 1)
    _check_span(cal, ordinals, cal.working_ordinals[index])
    return index


def last_working_day_index(cal: WorkingCalendar, ordinals: np.ndarray) -> np.ndarray:
    """Index in ``cal.working_ordinals`` of the last working day on or before each ordinal."""
    ordinals = np.asarray(ordinals, dtype=np.int64)
    index = np.searchsorted(cal.working_ordinals, ordinals, side="right") - 1
    if index.size and (index < 0).any():
        raise CalendarNotCovered(cal.first_date.year - 1)
    _check_span(cal, cal.working_ordinals[index], ordinals)
    return index


def shift_working_day_index(cal: WorkingCalendar, index: np.ndarray, n: np.ndarray | int) -> np.ndarray:
    """``index + n`` in ``cal.working_ordinals``, checked: every day crossed must be covered.

    A gap year inside the tables (a later year entered as complete, an earlier
    one not) is crossed by the plain index arithmetic, so the span is checked.
    """
    index = np.asarray(index, dtype=np.int64)
    target = index + np.asarray(n, dtype=np.int64)
    start_ord = working_day_at(cal, index)
    target_ord = working_day_at(cal, target)
    _check_span(cal, np.minimum(start_ord, target_ord), np.maximum(start_ord, target_ord))
    return target


def working_day_at(cal: WorkingCalendar, index: np.ndarray) -> np.ndarray:
    """Ordinals of the working days at ``index`` (checked against the table's ends)."""
    index = np.asarray(index, dtype=np.int64)
    if index.size and (index >= len(cal.working_ordinals)).any():
        raise CalendarNotCovered(cal.last_date.year + 1)
    if index.size and (index < 0).any():
        raise CalendarNotCovered(cal.first_date.year - 1)
    return cal.working_ordinals[index].astype(np.int64)


def working_day_index(cal: WorkingCalendar, days: dt.date | Iterable[dt.date] | np.ndarray) -> np.ndarray:
    """Index of each working day in ``cal.working_ordinals``; a non-working day is an error.

    Returns (n,) int64. Raises ``ValueError`` for a day that is not a working
    day and ``CalendarNotCovered`` for an uncovered one.
    """
    ordinals = _ordinals(days)
    index = next_working_day_index(cal, ordinals)
    wrong = cal.working_ordinals[index] != ordinals
    if wrong.any():
        day = dt.date.fromordinal(int(ordinals[wrong][0]))
        raise ValueError(f"{day.isoformat()} is not a working day")
    return index


def add_working_days(cal: WorkingCalendar, day: dt.date, n: int) -> dt.date:
    """The ``n``-th working day after ``day`` (``day`` itself not counted).

    ``n = 0`` gives ``day`` when it is a working day, else the next one (as
    chinese-calendar's ``find_workday(0)``); negative ``n`` counts backwards.
    ``add_working_days(cal, date(2026, 9, 28), 7)`` is 2026-10-13.

    Raises
    ------
    CalendarNotCovered
        When the count reaches a day of a year that is not covered.
    """
    ordinal = np.array([day.toordinal()], dtype=np.int64)
    _check_span(cal, ordinal, ordinal)
    if n > 0:
        start = np.searchsorted(cal.working_ordinals, ordinal, side="right") - 1 + n
    elif n < 0:
        start = np.searchsorted(cal.working_ordinals, ordinal, side="left") + n
    else:
        start = np.searchsorted(cal.working_ordinals, ordinal, side="left")
    if start[0] < 0:
        raise CalendarNotCovered(cal.first_date.year - 1)
    if start[0] >= len(cal.working_ordinals):
        # A gap year before the end of the tables is the first one the count reaches.
        _check_span(cal, ordinal, np.array([cal.last_ordinal]))
        raise CalendarNotCovered(cal.last_date.year + 1)
    target = cal.working_ordinals[start].astype(np.int64)
    _check_span(cal, np.minimum(ordinal, target), np.maximum(ordinal, target))
    return dt.date.fromordinal(int(target[0]))


def working_days_between(cal: WorkingCalendar, start: dt.date, end: dt.date) -> list[dt.date]:
    """Every working day from ``start`` to ``end``, both included (make-up weekend days too)."""
    if end < start:
        return []
    low, high = start.toordinal(), end.toordinal()
    _check_span(cal, np.array([low]), np.array([high]))
    lo = np.searchsorted(cal.working_ordinals, low, side="left")
    hi = np.searchsorted(cal.working_ordinals, high, side="right")
    return [dt.date.fromordinal(int(o)) for o in cal.working_ordinals[lo:hi]]
