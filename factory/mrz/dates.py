"""MRZ dates: YYMMDD in and out, with the century resolved against a reference date.

ICAO 9303 Part 3, 4.8: dates in the MRZ are six digits, YYMMDD; unknown parts
of a date of birth are written with fillers (``<``). The two-digit year is
resolved against a date the caller passes in (this package reads no clock):
a date of birth lies in the 100 years up to the reference date, a date of
expiry within 50 years of it either way.
"""

from __future__ import annotations

import datetime as dt

from factory.errors import MrzError

__all__ = ["format_date", "parse_date", "resolve_birth_year", "resolve_expiry_year"]

_DIGITS = frozenset("0123456789")


def format_date(value: dt.date | str, *, field: str, allow_unknown: bool = False) -> str:
    """A date as the six MRZ characters YYMMDD.

    Parameters
    ----------
    value : datetime.date or str
        A date, or six characters already in MRZ form (``"740812"``; with
        ``allow_unknown``, fillers for unknown parts: ``"7408<<"``).
    field : str
        The field named in the error.
    allow_unknown : bool
        Accept fillers for unknown parts (dates of birth only, ICAO 9303 Part 3, 4.8).

    Raises
    ------
    MrzError
        When ``value`` is neither a date nor six valid MRZ date characters.
    """
    if isinstance(value, dt.date):
        iso = value.isoformat()  # YYYY-MM-DD, faster than formatting three numbers
        return iso[2:4] + iso[5:7] + iso[8:10]
    if isinstance(value, str) and len(value) == 6:
        parts = (value[0:2], value[2:4], value[4:6])
        if all(set(p) <= _DIGITS or (allow_unknown and p == "<<") for p in parts):
            yy, mm, dd = parts
            reason = _month_day_reason(yy, mm, dd)
            if reason is None:
                return value
            raise MrzError(field, reason, value)
    raise MrzError(field, "must be a date or six characters YYMMDD", value)


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _month_day_reason(yy: str, mm: str, dd: str) -> str | None:
    """Why YY MM DD cannot be a date in any century, or None."""
    month = int(mm) if mm != "<<" else None
    day = int(dd) if dd != "<<" else None
    if month is not None and not 1 <= month <= 12:
        return f"month {mm} is not 01-12"
    if day is not None:
        limit = _DAYS[month - 1] if month is not None else 31
        if not 1 <= day <= limit:
            return f"day {dd} is not a day of month {mm}" if month else f"day {dd} is not 01-31"
        if month == 2 and day == 29 and yy != "<<":
            # 29 February needs a leap year: YY 00 is one in 2000, not in 1900.
            y = int(yy)
            if not (_is_leap(1900 + y) or _is_leap(2000 + y)):
                return f"{yy}0229 is not a date: 29 February in a year that is not a leap year"
    return None


def resolve_birth_year(yy: int, month: int, day: int, reference_date: dt.date) -> int:
    """The four-digit year of a date of birth: the latest not after ``reference_date``."""
    year = reference_date.year // 100 * 100 + yy
    if (year, month, day) > (reference_date.year, reference_date.month, reference_date.day):
        year -= 100
    return year


def resolve_expiry_year(yy: int, reference_date: dt.date) -> int:
    """The four-digit year of a date of expiry: within 50 years of ``reference_date``."""
    year = reference_date.year // 100 * 100 + yy
    if year < reference_date.year - 50:
        year += 100
    elif year >= reference_date.year + 50:
        year -= 100
    return year


def parse_date(
    raw: str,
    *,
    kind: str,
    reference_date: dt.date | None = None,
    century: int | None = None,
) -> tuple[dt.date | None, str | None]:
    """Read six MRZ characters as a date.

    Parameters
    ----------
    raw : str
        ``"YYMMDD"``; for a date of birth, ``"<<"`` in place of unknown parts.
    kind : {"birth", "expiry"}
        Which rule resolves the century (birth: in the past; expiry: within 50
        years of the reference date).
    reference_date : datetime.date, optional
        The day the two-digit year is resolved against (e.g. the day of issue
        or of inspection). Without it, and without ``century``, the date stays
        unresolved (None) but is still checked for an impossible month or day.
    century : int, optional
        The century when the document states it (the PRC passport's personal
        number does): 19 for 19YY.

    Returns
    -------
    tuple of (datetime.date or None, str or None)
        The date (None when unknown or unresolved) and the reason the text is
        not a date (None when it is one).
    """
    if len(raw) != 6:
        return None, "must be six characters YYMMDD"
    if raw.isascii() and raw.isdigit():
        # The common case, kept short: QA decodes whole batches.
        y, m, d = int(raw[0:2]), int(raw[2:4]), int(raw[4:6])
        if 1 <= m <= 12 and 1 <= d <= _DAYS[m - 1] and not (m == 2 and d == 29):
            if century is not None:
                year = century * 100 + y
            elif reference_date is None:
                return None, None
            elif kind == "birth":
                year = reference_date.year // 100 * 100 + y
                if (year, m, d) > (reference_date.year, reference_date.month, reference_date.day):
                    year -= 100
            else:
                year = resolve_expiry_year(y, reference_date)
            return dt.date(year, m, d), None
    yy, mm, dd = raw[0:2], raw[2:4], raw[4:6]
    unknown_ok = kind == "birth"
    for part in (yy, mm, dd):
        if not (set(part) <= _DIGITS or (unknown_ok and part == "<<")):
            return None, "must be six digits YYMMDD" + (" (<< for an unknown part)" if unknown_ok else "")
    reason = _month_day_reason(yy, mm, dd)
    if reason is not None:
        return None, reason
    if "<" in raw:
        return None, None  # partly unknown date of birth: valid, but no calendar date
    y, m, d = int(yy), int(mm), int(dd)
    if century is not None:
        year = century * 100 + y
    elif reference_date is None:
        return None, None
    elif kind == "birth":
        year = resolve_birth_year(y, m, d, reference_date)
    else:
        year = resolve_expiry_year(y, reference_date)
    try:
        return dt.date(year, m, d), None
    except ValueError:  # 29 February of a resolved year that is not a leap year
        return None, f"{raw} is not a date in {year}"
