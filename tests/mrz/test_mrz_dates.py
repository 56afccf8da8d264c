"""MRZ dates: YYMMDD (ICAO 9303 Part 3, 4.8), centuries resolved against a reference date."""

from __future__ import annotations

import datetime as dt

import pytest

from factory.errors import MrzError
from factory.mrz import format_date, parse_date

REF = dt.date(2025, 6, 1)


def test_format_date():
    assert format_date(dt.date(1942, 7, 12), field="date_of_birth") == "420712"
    assert format_date("740812", field="date_of_birth") == "740812"
    assert format_date("7408<<", field="date_of_birth", allow_unknown=True) == "7408<<"


@pytest.mark.parametrize("bad", ["7408<<", "741312", "740230", "74081", "19740812", 740812, None])
def test_format_date_rejects(bad):
    with pytest.raises(MrzError) as info:
        format_date(bad, field="date_of_expiry")
    assert info.value.field == "date_of_expiry"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("740812", dt.date(1974, 8, 12)),
        ("250601", dt.date(2025, 6, 1)),  # born on the reference day
        ("250602", dt.date(1925, 6, 2)),  # a day later would be in the future
        ("000229", dt.date(2000, 2, 29)),
        ("990101", dt.date(1999, 1, 1)),
    ],
)
def test_birth_is_in_the_past(raw, expected):
    assert parse_date(raw, kind="birth", reference_date=REF) == (expected, None)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("120415", dt.date(2012, 4, 15)),  # expired specimen
        ("350101", dt.date(2035, 1, 1)),
        ("741231", dt.date(2074, 12, 31)),
        ("751231", dt.date(1975, 12, 31)),
    ],
)
def test_expiry_is_within_fifty_years(raw, expected):
    assert parse_date(raw, kind="expiry", reference_date=REF) == (expected, None)


def test_century_stated_by_the_document_wins():
    assert parse_date("030918", kind="birth", century=20) == (dt.date(2003, 9, 18), None)
    assert parse_date("850320", kind="birth", century=19, reference_date=REF) == (dt.date(1985, 3, 20), None)


def test_without_reference_the_date_is_checked_but_not_resolved():
    assert parse_date("740812", kind="birth") == (None, None)
    assert parse_date("741312", kind="birth")[1] == "month 13 is not 01-12"


@pytest.mark.parametrize(
    ("raw", "kind", "reason"),
    [
        ("741312", "birth", "month 13"),
        ("740230", "birth", "day 30"),
        ("740431", "expiry", "day 31"),
        ("010229", "birth", "leap year"),
        ("7408AB", "birth", "six digits"),
        ("7408<<", "expiry", "six digits"),
        ("74081", "birth", "six characters"),
    ],
)
def test_impossible_dates(raw, kind, reason):
    when, why = parse_date(raw, kind=kind, reference_date=REF)
    assert when is None
    assert reason in why


def test_unknown_parts_of_a_date_of_birth_are_fillers():
    assert parse_date("74<<<<", kind="birth", reference_date=REF) == (None, None)
    assert parse_date("<<<<<<", kind="birth", reference_date=REF) == (None, None)
