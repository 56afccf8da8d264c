"""Configuration: TOML files in ``configs/`` to validated, frozen dataclasses.

``load_config(directory)`` is the only function that reads files; it parses
each file with ``parse_section`` (pure, tests call it with dicts) and then
checks what spans files. Every problem is reported at once, each naming the
file, the key and the reason; nothing starts on a bad configuration.

Files (each is one section):

- ``documents.toml``: document types (pool, MRZ profile, validity, time limits)
- ``service_classes.toml``: normal, urgent, same_day, green
- ``line.toml``: time zone, cut-off, shifts, downstream budget, machines
- ``seasons.toml``: normal intake and the peak periods
- ``calendar.toml``: working-day overrides, for years the calendar library lacks
"""

from __future__ import annotations

import copy
import datetime as dt
import difflib
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from factory.errors import ConfigError, InvalidField

__all__ = [
    "POOLS",
    "MRZ_PROFILES",
    "DEADLINE_RULES",
    "SECTIONS",
    "DocumentType",
    "ServiceClass",
    "MaintenanceWindow",
    "Machine",
    "Shifts",
    "Downstream",
    "Line",
    "Peak",
    "Seasons",
    "CalendarYear",
    "CalendarOverrides",
    "Config",
    "parse_section",
    "parse_config",
    "load_config",
    "default_config_dir",
]

POOLS = ("booklet", "card")
MRZ_PROFILES = ("td3", "prc_permit", "none")
DEADLINE_RULES = ("working_days", "end_of_shift", "wall_clock")
SECTIONS = ("documents", "service_classes", "line", "seasons", "calendar")


@dataclass(frozen=True, slots=True, kw_only=True)
class DocumentType:
    name: str
    """Key used in records: passport, hk_macau_permit, ..."""
    title_cn: str
    title_en: str
    pool: str
    """The blank pool it prints on: booklet or card; decides which machines may print it."""
    mrz: str
    """MRZ profile: td3 (passport), prc_permit (one 30-character line), none."""
    mrz_code: str
    """ICAO document code, e.g. PO, CS, CD; empty when the document has no MRZ."""
    serial_prefix: str
    """Leading letter(s) of the blank serials, which become the document numbers."""
    validity_years: int
    validity_years_under_16: int
    service_classes: tuple[str, ...]
    """Service classes this document may be applied for with."""
    time_limit_working_days: Mapping[str, int]
    """Working days per service class whose deadline rule is working_days."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ServiceClass:
    name: str
    priority: int
    """0 is served first (green), larger later."""
    rule: str
    """working_days (limit from the document type), end_of_shift (same day), wall_clock."""
    wall_clock_hours: float = 0.0
    """For rule wall_clock: hours from acceptance, day or night (green channel: 24)."""
    title_cn: str = ""
    title_en: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class MaintenanceWindow:
    date: dt.date
    hours: float
    """Hours the machine is out of production on that date."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Machine:
    id: str
    pool: str
    rated_per_hour: float
    """Nameplate documents per hour (a document takes under a minute)."""
    maintenance: tuple[MaintenanceWindow, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Shifts:
    start: dt.time
    normal_hours: float
    peak_hours: float
    """Longest shift the centre runs in a peak (14-15 hours)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Downstream:
    """What comes after printing and must fit before the procedure deadline."""

    qa_hours: float
    dispatch_working_days: int
    mail_transit_working_days: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Line:
    timezone: str
    daily_cutoff: dt.time
    """Applications accepted after this time count from the next working day."""
    shifts: Shifts
    downstream: Downstream
    machines: tuple[Machine, ...]

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def machines_in(self, pool: str) -> tuple[Machine, ...]:
        return tuple(m for m in self.machines if m.pool == pool)


@dataclass(frozen=True, slots=True, kw_only=True)
class Peak:
    name: str
    start: tuple[int, int]
    """(month, day), inclusive; a peak may wrap over the new year."""
    end: tuple[int, int]
    volume_factor: float
    shift_hours: float

    def contains(self, day: dt.date) -> bool:
        key = (day.month, day.day)
        if self.start <= self.end:
            return self.start <= key <= self.end
        return key >= self.start or key <= self.end


@dataclass(frozen=True, slots=True, kw_only=True)
class Seasons:
    normal_daily_intake: int
    peaks: tuple[Peak, ...]

    def peak_on(self, day: dt.date) -> Peak | None:
        """The peak with the largest volume factor that covers ``day``, if any."""
        found = [p for p in self.peaks if p.contains(day)]
        return max(found, key=lambda p: p.volume_factor) if found else None


@dataclass(frozen=True, slots=True, kw_only=True)
class CalendarYear:
    year: int
    complete: bool
    """True once every holiday and make-up working day of the year is entered."""
    holidays: frozenset[dt.date]
    workdays: frozenset[dt.date]


@dataclass(frozen=True, slots=True, kw_only=True)
class CalendarOverrides:
    years: Mapping[int, CalendarYear] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True, slots=True, kw_only=True)
class Config:
    documents: Mapping[str, DocumentType]
    service_classes: Mapping[str, ServiceClass]
    line: Line
    seasons: Seasons
    calendar: CalendarOverrides


# --------------------------------------------------------------------------- reading


class _Reader:
    """Reads one mapping, collecting every problem instead of stopping at the first."""

    def __init__(self, data: Any, where: str, errors: list[InvalidField]) -> None:
        self.where = where
        self.errors = errors
        if not isinstance(data, Mapping):
            self.fail("", "must be a table", data)
            data = {}
        self.data = data
        self.used: set[str] = set()

    def path(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where and key else (self.where or key)

    def fail(self, key: str, reason: str, value: Any = None) -> None:
        if value is None:
            self.errors.append(InvalidField(self.path(key), reason))
        else:
            self.errors.append(InvalidField(self.path(key), reason, value))

    def get(self, key: str, convert: Callable[[Any], Any], default: Any = ..., *, what: str) -> Any:
        self.used.add(key)
        if key not in self.data:
            if default is ...:
                self.fail(key, "is required")
            return None if default is ... else default
        value = self.data[key]
        try:
            return convert(value)
        except (TypeError, ValueError) as err:
            reason = str(err) if isinstance(err, _Bad) else f"must be {what}"
            self.fail(key, reason, value)
            return None

    def sub(self, key: str, *, required: bool = True) -> _Reader | None:
        self.used.add(key)
        if key not in self.data:
            if required:
                self.fail(key, "is required")
            return None
        return _Reader(self.data[key], self.path(key), self.errors)

    def items(self, key: str) -> list[_Reader]:
        self.used.add(key)
        value = self.data.get(key, [])
        if not isinstance(value, list):
            self.fail(key, "must be an array of tables", value)
            return []
        return [_Reader(v, f"{self.path(key)}[{i}]", self.errors) for i, v in enumerate(value)]

    def finish(self, known: tuple[str, ...] = ()) -> None:
        """Reports keys nobody asked for, with a 'did you mean' hint."""
        for key in self.data:
            if key in self.used:
                continue
            options = difflib.get_close_matches(key, sorted(self.used | set(known)), n=1)
            hint = f"; did you mean {options[0]!r}?" if options else ""
            self.fail(key, f"is not a known key{hint}")


class _Bad(ValueError):
    """A conversion failure whose message is the reason to show."""


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise TypeError
    return value


def _int(low: int | None = None, high: int | None = None) -> Callable[[Any], int]:
    def convert(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError
        if low is not None and value < low or high is not None and value > high:
            raise _Bad(f"must be between {low} and {high}")
        return value

    return convert


def _number(low: float, high: float) -> Callable[[Any], float]:
    def convert(value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise TypeError
        if not low <= value <= high:
            raise _Bad(f"must be between {low:g} and {high:g}")
        return float(value)

    return convert


def _choice(options: tuple[str, ...]) -> Callable[[Any], str]:
    def convert(value: Any) -> str:
        if value not in options:
            raise _Bad("must be one of " + ", ".join(options))
        return value

    return convert


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError
    return value


def _time(value: Any) -> dt.time:
    if isinstance(value, dt.time):
        return value
    if not isinstance(value, str):
        raise TypeError
    try:
        return dt.time.fromisoformat(value)
    except ValueError:
        raise _Bad("must be a time HH:MM") from None


def _date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        raise TypeError
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str):
        raise TypeError
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise _Bad("must be a date YYYY-MM-DD") from None


def _month_day(value: Any) -> tuple[int, int]:
    if not isinstance(value, str):
        raise TypeError
    try:
        parsed = dt.date.fromisoformat(f"2000-{value}")  # a leap year admits 02-29
    except ValueError:
        raise _Bad("must be a month and day MM-DD") from None
    return parsed.month, parsed.day


def _dates(value: Any) -> frozenset[dt.date]:
    if not isinstance(value, list):
        raise TypeError
    return frozenset(_date(v) for v in value)


def _strings(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise TypeError
    return tuple(value)


def _timezone(value: Any) -> str:
    name = _text(value)
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise _Bad("is not a known IANA time zone") from None
    return name


# --------------------------------------------------------------------------- sections


def _parse_documents(data: Any, errors: list[InvalidField]) -> dict[str, DocumentType]:
    root = _Reader(data, "", errors)
    documents: dict[str, DocumentType] = {}
    for name in root.data:
        r = root.sub(name)
        assert r is not None
        mrz = r.get("mrz", _choice(MRZ_PROFILES), what="an MRZ profile")
        classes = r.get("service_classes", _strings, what="a list of service class names") or ()
        limits_reader = r.sub("time_limit_working_days")
        limits: dict[str, int] = {}
        if limits_reader is not None:
            for cls in limits_reader.data:
                value = limits_reader.get(cls, _int(0, 60), what="a whole number of working days")
                if value is not None:
                    limits[cls] = value
        doc = DocumentType(
            name=name,
            title_cn=r.get("title_cn", _text, what="text"),
            title_en=r.get("title_en", _text, what="text"),
            pool=r.get("pool", _choice(POOLS), what="a pool"),
            mrz=mrz,
            mrz_code=r.get("mrz_code", str, "", what="text"),
            serial_prefix=r.get("serial_prefix", _text, what="text"),
            validity_years=r.get("validity_years", _int(1, 20), what="a whole number of years"),
            validity_years_under_16=r.get(
                "validity_years_under_16", _int(1, 20), what="a whole number of years"
            ),
            service_classes=tuple(classes),
            time_limit_working_days=MappingProxyType(limits),
        )
        if mrz in ("td3", "prc_permit") and len(doc.mrz_code or "") != 2:
            r.fail("mrz_code", "must be two characters for a document with an MRZ", doc.mrz_code)
        r.finish()
        documents[name] = doc
    if not documents:
        root.fail("", "defines no document type")
    return documents


def _parse_service_classes(data: Any, errors: list[InvalidField]) -> dict[str, ServiceClass]:
    root = _Reader(data, "", errors)
    classes: dict[str, ServiceClass] = {}
    for name in root.data:
        r = root.sub(name)
        assert r is not None
        rule = r.get("rule", _choice(DEADLINE_RULES), what="a deadline rule")
        hours = r.get("wall_clock_hours", _number(0, 240), 0.0, what="a number of hours")
        if rule == "wall_clock" and not hours:
            r.fail("wall_clock_hours", "is required when rule is wall_clock")
        classes[name] = ServiceClass(
            name=name,
            priority=r.get("priority", _int(0, 99), what="a whole number"),
            rule=rule,
            wall_clock_hours=hours or 0.0,
            title_cn=r.get("title_cn", str, "", what="text"),
            title_en=r.get("title_en", str, "", what="text"),
        )
        r.finish()
    priorities = [c.priority for c in classes.values() if c.priority is not None]
    if len(priorities) != len(set(priorities)):
        root.fail("", "two service classes share a priority")
    return classes


def _parse_line(data: Any, errors: list[InvalidField]) -> Line:
    r = _Reader(data, "", errors)
    shifts_r = r.sub("shifts")
    shifts = None
    if shifts_r is not None:
        shifts = Shifts(
            start=shifts_r.get("start", _time, what="a time"),
            normal_hours=shifts_r.get("normal_hours", _number(1, 24), what="hours"),
            peak_hours=shifts_r.get("peak_hours", _number(1, 24), what="hours"),
        )
        if shifts.normal_hours and shifts.peak_hours and shifts.peak_hours < shifts.normal_hours:
            shifts_r.fail("peak_hours", "must not be shorter than normal_hours", shifts.peak_hours)
        if shifts.start and shifts.peak_hours:
            start_h = shifts.start.hour + shifts.start.minute / 60
            if start_h + shifts.peak_hours > 24:
                shifts_r.fail("peak_hours", "a shift must end before midnight", shifts.peak_hours)
        shifts_r.finish()
    down_r = r.sub("downstream")
    downstream = None
    if down_r is not None:
        downstream = Downstream(
            qa_hours=down_r.get("qa_hours", _number(0, 48), what="hours"),
            dispatch_working_days=down_r.get("dispatch_working_days", _int(0, 10), what="days"),
            mail_transit_working_days=down_r.get(
                "mail_transit_working_days", _int(0, 10), what="days"
            ),
        )
        down_r.finish()
    machines = []
    seen: set[str] = set()
    for m in r.items("machines"):
        windows = tuple(
            MaintenanceWindow(
                date=w.get("date", _date, what="a date"),
                hours=w.get("hours", _number(0, 24), what="hours"),
            )
            for w in m.items("maintenance")
        )
        machine = Machine(
            id=m.get("id", _text, what="text"),
            pool=m.get("pool", _choice(POOLS), what="a pool"),
            rated_per_hour=m.get("rated_per_hour", _number(1, 1000), what="documents per hour"),
            maintenance=windows,
        )
        if machine.id in seen:
            m.fail("id", "is used by another machine", machine.id)
        seen.add(machine.id)
        m.finish()
        machines.append(machine)
    if not machines:
        r.fail("machines", "must list at least one machine")
    line = Line(
        timezone=r.get("timezone", _timezone, what="a time zone"),
        daily_cutoff=r.get("daily_cutoff", _time, what="a time"),
        shifts=shifts,  # type: ignore[arg-type]
        downstream=downstream,  # type: ignore[arg-type]
        machines=tuple(machines),
    )
    r.finish()
    return line


def _parse_seasons(data: Any, errors: list[InvalidField]) -> Seasons:
    r = _Reader(data, "", errors)
    peaks = []
    for p in r.items("peaks"):
        peaks.append(
            Peak(
                name=p.get("name", _text, what="text"),
                start=p.get("start", _month_day, what="MM-DD"),
                end=p.get("end", _month_day, what="MM-DD"),
                volume_factor=p.get("volume_factor", _number(1, 10), what="a factor"),
                shift_hours=p.get("shift_hours", _number(1, 24), what="hours"),
            )
        )
        p.finish()
    seasons = Seasons(
        normal_daily_intake=r.get("normal_daily_intake", _int(1, 10_000_000), what="a count"),
        peaks=tuple(peaks),
    )
    r.finish()
    return seasons


def _parse_calendar(data: Any, errors: list[InvalidField]) -> CalendarOverrides:
    r = _Reader(data, "", errors)
    years: dict[int, CalendarYear] = {}
    for y in r.items("years"):
        year = y.get("year", _int(1949, 2200), what="a year")
        holidays = y.get("holidays", _dates, frozenset(), what="a list of dates") or frozenset()
        workdays = y.get("workdays", _dates, frozenset(), what="a list of dates") or frozenset()
        complete = y.get("complete", _bool, False, what="true or false")
        if year is not None:
            for key, days in (("holidays", holidays), ("workdays", workdays)):
                wrong = sorted(d for d in days if d.year != year)
                if wrong:
                    y.fail(key, f"has dates outside {year}", [d.isoformat() for d in wrong])
            both = sorted(holidays & workdays)
            if both:
                y.fail("workdays", "dates listed as both holiday and workday", [d.isoformat() for d in both])
            if year in years:
                y.fail("year", "is listed twice", year)
            years[year] = CalendarYear(
                year=year, complete=bool(complete), holidays=holidays, workdays=workdays
            )
        y.finish()
    r.finish()
    return CalendarOverrides(years=MappingProxyType(years))


_PARSERS: dict[str, Callable[[Any, list[InvalidField]], Any]] = {
    "documents": _parse_documents,
    "service_classes": _parse_service_classes,
    "line": _parse_line,
    "seasons": _parse_seasons,
    "calendar": _parse_calendar,
}


def parse_section(name: str, data: Mapping[str, Any]) -> Any:
    """Parse one section (one file's table); raises ``ConfigError`` with every problem."""
    errors: list[InvalidField] = []
    value = _PARSERS[name](data, errors)
    if errors:
        raise ConfigError(f"{name}.toml", errors)
    return value


def _cross_check(config: Config) -> list[tuple[str, InvalidField]]:
    """Checks spanning files: each returns (file, error)."""
    problems: list[tuple[str, InvalidField]] = []
    pools_with_machines = {m.pool for m in config.line.machines}
    for doc in config.documents.values():
        if doc.pool not in pools_with_machines:
            problems.append(
                ("documents.toml", InvalidField(f"{doc.name}.pool", "no machine in line.toml prints this pool", doc.pool))
            )
        for cls in doc.service_classes:
            service = config.service_classes.get(cls)
            if service is None:
                problems.append(
                    ("documents.toml", InvalidField(f"{doc.name}.service_classes", "names an unknown service class", cls))
                )
            elif service.rule == "working_days" and cls not in doc.time_limit_working_days:
                problems.append(
                    ("documents.toml", InvalidField(f"{doc.name}.time_limit_working_days.{cls}", "is required for this service class"))
                )
        for cls in doc.time_limit_working_days:
            if cls not in doc.service_classes:
                problems.append(
                    ("documents.toml", InvalidField(f"{doc.name}.time_limit_working_days.{cls}", "is not one of service_classes", cls))
                )
    for i, peak in enumerate(config.seasons.peaks):
        if peak.shift_hours > config.line.shifts.peak_hours:
            problems.append(
                ("seasons.toml", InvalidField(f"peaks[{i}].shift_hours", f"exceeds line.toml shifts.peak_hours ({config.line.shifts.peak_hours:g})", peak.shift_hours))
            )
    return problems


def parse_config(sections: Mapping[str, Mapping[str, Any]]) -> Config:
    """Build a ``Config`` from one mapping per section (as read from each file).

    Raises ``ConfigError`` naming the first file with problems, listing all of
    that file's problems.
    """
    parsed: dict[str, Any] = {}
    failures: dict[str, list[InvalidField]] = {}
    for name in SECTIONS:
        if name not in sections:
            failures.setdefault(f"{name}.toml", []).append(InvalidField(name, "file is missing"))
            continue
        try:
            parsed[name] = parse_section(name, sections[name])
        except ConfigError as err:
            failures.setdefault(err.path, []).extend(err.errors)
    if failures:
        raise _all_failures(failures)
    config = Config(**parsed)
    cross = _cross_check(config)
    if cross:
        grouped: dict[str, list[InvalidField]] = {}
        for path, err in cross:
            grouped.setdefault(path, []).append(err)
        raise _all_failures(grouped)
    return config


def _all_failures(failures: Mapping[str, list[InvalidField]]) -> ConfigError:
    if len(failures) == 1:
        ((path, errors),) = failures.items()
        return ConfigError(path, errors)
    # Several files: name each error's file in its field so that none is lost.
    merged = []
    for path, errors in failures.items():
        for e in errors:
            renamed = copy.copy(e)
            renamed.field = f"{Path(path).name}:{e.field}"
            merged.append(renamed)
    return ConfigError(", ".join(failures), merged)


def default_config_dir() -> Path:
    """``configs/`` beside the package (the checkout's own)."""
    return Path(__file__).resolve().parent.parent / "configs"


def load_config(directory: str | Path | None = None) -> Config:
    """Read and validate every section file in ``directory`` (default: ``configs/``)."""
    base = Path(directory) if directory is not None else default_config_dir()
    sections: dict[str, Mapping[str, Any]] = {}
    for name in SECTIONS:
        path = base / f"{name}.toml"
        try:
            with path.open("rb") as handle:
                sections[name] = tomllib.load(handle)
        except FileNotFoundError:
            raise ConfigError(str(path), [InvalidField(name, "file is missing")]) from None
        except tomllib.TOMLDecodeError as err:
            raise ConfigError(str(path), [InvalidField("(syntax)", str(err))]) from None
    try:
        return parse_config(sections)
    except ConfigError as err:
        if err.path.endswith(".toml") and "," not in err.path:
            raise ConfigError(str(base / err.path), err.errors) from None
        raise ConfigError(str(base), err.errors) from None
