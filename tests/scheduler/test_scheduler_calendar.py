"""The working-day calendar: chinese-calendar's days, make-up days, overrides, failing closed."""

from __future__ import annotations

import datetime as dt
from types import MappingProxyType

import chinese_calendar
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from factory.config import CalendarOverrides, CalendarYear
from factory.errors import CalendarNotCovered
from factory.scheduler.calendar import (
    add_working_days,
    build_calendar,
    is_working_day,
    next_working_day_index,
    shift_working_day_index,
    working_day_index,
    working_days_between,
)

D = dt.date


def overrides(*years: CalendarYear) -> CalendarOverrides:
    return CalendarOverrides(years=MappingProxyType({y.year: y for y in years}))


def year(y: int, *, complete: bool, holidays=(), workdays=()) -> CalendarYear:
    return CalendarYear(year=y, complete=complete, holidays=frozenset(holidays), workdays=frozenset(workdays))


def test_seven_working_days_over_national_day_2026(cal):
    # Research notes: Mon 2026-09-28 + 7 working days = Tue 2026-10-13 (the make-up Saturday 10-10 counts).
    assert add_working_days(cal, D(2026, 9, 28), 7) == D(2026, 10, 13)
    assert add_working_days(cal, D(2026, 10, 13), -7) == D(2026, 9, 28)


def test_zero_is_the_day_itself_or_the_next_working_day(cal):
    assert add_working_days(cal, D(2026, 9, 28), 0) == D(2026, 9, 28)
    assert add_working_days(cal, D(2026, 10, 1), 0) == D(2026, 10, 8)
    assert add_working_days(cal, D(2026, 10, 3), 1) == D(2026, 10, 8)


@pytest.mark.parametrize("day", ["2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20", "2026-10-10"])
def test_make_up_weekend_days_are_working_days(cal, day):
    assert is_working_day(cal, D.fromisoformat(day))


def test_spring_festival_2026_is_rest(cal):
    assert not any(is_working_day(cal, D(2026, 2, d)) for d in range(15, 24))
    assert is_working_day(cal, D(2026, 2, 24))


def test_between_keeps_make_up_sunday(cal):
    # get_workdays(include_weekends=False) would lose Sunday 09-20.
    assert working_days_between(cal, D(2026, 9, 18), D(2026, 9, 22)) == [
        D(2026, 9, 18), D(2026, 9, 20), D(2026, 9, 21), D(2026, 9, 22)
    ]
    assert working_days_between(cal, D(2026, 9, 22), D(2026, 9, 18)) == []


def test_agrees_with_the_library_on_every_covered_day(cal):
    day, end = D(2004, 1, 1), D(2026, 12, 31)
    ordinals = np.arange(day.toordinal(), end.toordinal() + 1)
    ours = cal.working[ordinals - cal.first_ordinal]
    theirs = np.array([chinese_calendar.is_workday(D.fromordinal(int(o))) for o in ordinals])
    assert (ours == theirs).all()


def test_late_december_2026_deadline_fails_closed_naming_2027(cal):
    with pytest.raises(CalendarNotCovered) as err:
        add_working_days(cal, D(2026, 12, 24), 7)
    assert err.value.year == 2027
    assert "2027" in str(err.value) and "calendar.toml" in str(err.value)
    assert add_working_days(cal, D(2026, 12, 21), 7) == D(2026, 12, 30)


def test_uncovered_days_fail_for_every_question(cal):
    with pytest.raises(CalendarNotCovered, match="2027"):
        is_working_day(cal, D(2027, 1, 4))
    with pytest.raises(CalendarNotCovered, match="2003"):
        is_working_day(cal, D(2003, 6, 2))
    with pytest.raises(CalendarNotCovered, match="2027"):
        working_days_between(cal, D(2026, 12, 30), D(2027, 1, 5))
    with pytest.raises(CalendarNotCovered, match="2027"):
        next_working_day_index(cal, np.array([D(2026, 12, 31).toordinal() + 1]))


def test_shipped_2027_entry_is_incomplete_so_not_covered(config, cal):
    assert 2027 in config.calendar.years and not config.calendar.years[2027].complete
    assert 2027 not in cal.covered_years


def test_complete_override_covers_a_year_with_weekends_and_listed_days():
    cal = build_calendar(
        overrides(year(2027, complete=True, holidays=[D(2027, 1, 1)], workdays=[D(2027, 1, 9)]))
    )
    assert not is_working_day(cal, D(2027, 1, 1))  # a Friday, listed as a holiday
    assert is_working_day(cal, D(2027, 1, 9))  # a Saturday, listed as worked
    assert not is_working_day(cal, D(2027, 1, 10))  # a plain Sunday
    assert is_working_day(cal, D(2027, 1, 4))
    # Thu 12-24: 12-25, 28, 29, 30, 31, (Fri 01-01 off), 01-04, 01-05.
    assert add_working_days(cal, D(2026, 12, 24), 7) == D(2027, 1, 5)


def test_override_for_a_covered_year_wins_over_the_library():
    cal = build_calendar(overrides(year(2026, complete=False, holidays=[D(2026, 10, 12)], workdays=[D(2026, 10, 11)])))
    assert not is_working_day(cal, D(2026, 10, 12))
    assert is_working_day(cal, D(2026, 10, 11))
    assert add_working_days(cal, D(2026, 9, 28), 7) == D(2026, 10, 13)


def test_a_gap_year_inside_the_tables_fails_closed():
    cal = build_calendar(overrides(year(2027, complete=False), year(2028, complete=True)))
    assert is_working_day(cal, D(2028, 1, 3))
    with pytest.raises(CalendarNotCovered) as err:
        add_working_days(cal, D(2026, 12, 30), 10)
    assert err.value.year == 2027
    start = working_day_index(cal, D(2026, 12, 31))
    with pytest.raises(CalendarNotCovered, match="2027"):
        shift_working_day_index(cal, start, 5)


def test_fake_library_data_is_honoured():
    library = (range(2030, 2031), {D(2030, 1, 1): "New Year"}, {D(2030, 1, 5): "make-up"})
    cal = build_calendar(overrides(), library=library)
    assert cal.covered_years == {2030}
    assert not is_working_day(cal, D(2030, 1, 1))
    assert is_working_day(cal, D(2030, 1, 5))
    with pytest.raises(CalendarNotCovered, match="2031"):
        add_working_days(cal, D(2030, 12, 30), 5)


def test_working_day_index_refuses_rest_days(cal):
    with pytest.raises(ValueError, match="not a working day"):
        working_day_index(cal, D(2026, 10, 1))


@settings(max_examples=200, deadline=None)
@given(
    start=st.dates(min_value=D(2004, 3, 1), max_value=D(2026, 6, 30)),
    n=st.integers(min_value=1, max_value=120),
)
def test_add_then_count_back(cal, start, n):
    end = add_working_days(cal, start, n)
    assert is_working_day(cal, end)
    # Exactly n working days in (start, end].
    assert len(working_days_between(cal, start + dt.timedelta(days=1), end)) == n
    if is_working_day(cal, start):
        assert add_working_days(cal, end, -n) == start
