"""Deadlines per application: the procedure deadline and the production deadline.

The rules (``configs/service_classes.toml``, ``documents.toml``, ``line.toml``):

- **Effective day.** An application accepted on a working day up to the daily
  cut-off (``line.daily_cutoff``, local time) counts from that day; one
  accepted after the cut-off, or on a rest day, counts from the next working
  day.
- **Procedure deadline** by the service class's rule:

  ``working_days``
      the document type's limit for the class (normal 7, urgent 2, residence
      permit 10, HMT residence permit 20), counted in working days after the
      effective day (the effective day itself is not counted): accepted Monday
      2026-09-28, 7 working days, due Tuesday 2026-10-13. The document is due
      at the end of that day's normal shift.
  ``end_of_shift``
      the end of the effective day's normal shift (same day).
  ``wall_clock``
      ``wall_clock_hours`` after acceptance, day or night (green channel: 24 h).

- **Production deadline**: the last working day on which printing still
  leaves the downstream budget. For ``working_days`` classes the budget is
  ``dispatch_working_days`` plus ``mail_transit_working_days`` for mail
  delivery, in working days, then ``qa_hours`` before the end of the shift.
  Same-day and green documents are handed over at the centre, so only the QA
  hours come off their deadline. The day is the last working day whose date is
  on or before the resulting moment (QA runs after printing on the same day
  when the hours allow it; more QA hours than the time from midnight to the end
  of the shift push the day back).

A production deadline may fall before the effective day (urgent with mail
delivery: 2 working days cannot hold 1 dispatch and 2 transit days): such an
application is late from the start, and the plan says so.

Every calendar question goes through ``factory.scheduler.calendar``, so a day
of an uncovered year raises ``CalendarNotCovered`` naming it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

from zoneinfo import ZoneInfo

import numpy as np

from factory.config import Config, DocumentType, ServiceClass
from factory.records import Application
from factory.scheduler.calendar import (
    WorkingCalendar,
    last_working_day_index,
    next_working_day_index,
    shift_working_day_index,
    working_day_at,
)

__all__ = [
    "RULE_CODES",
    "DeadlineRules",
    "Deadlines",
    "deadline_rules",
    "compute_deadlines",
    "effective_day_index",
]

RULE_CODES = MappingProxyType({"working_days": 0, "end_of_shift": 1, "wall_clock": 2})
_DAY_S = 86_400


@dataclass(frozen=True, slots=True, kw_only=True)
class DeadlineRules:
    """The slice of the configuration that deadlines depend on."""

    tz: ZoneInfo
    cutoff_s: int
    """Daily cut-off, seconds after local midnight; accepted later counts from the next working day."""
    shift_end_s: int
    """End of the normal shift, seconds after local midnight (procedure deadlines fall there)."""
    qa_s: int
    dispatch_working_days: int
    mail_transit_working_days: int
    documents: Mapping[str, DocumentType]
    service_classes: Mapping[str, ServiceClass]


def deadline_rules(config: Config) -> DeadlineRules:
    """Compile the deadline rules from a validated ``Config``."""
    line = config.line
    start = line.shifts.start
    cutoff = line.daily_cutoff
    return DeadlineRules(
        tz=line.tz,
        cutoff_s=cutoff.hour * 3600 + cutoff.minute * 60 + cutoff.second,
        shift_end_s=int(round(start.hour * 3600 + start.minute * 60 + line.shifts.normal_hours * 3600)),
        qa_s=int(round(line.downstream.qa_hours * 3600)),
        dispatch_working_days=line.downstream.dispatch_working_days,
        mail_transit_working_days=line.downstream.mail_transit_working_days,
        documents=config.documents,
        service_classes=config.service_classes,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Deadlines:
    """Deadlines of a batch of applications; day fields index ``cal.working_ordinals``."""

    effective_day: np.ndarray
    """(n,) int64: working day the time limit counts from."""
    procedure_deadline: tuple[dt.datetime, ...]
    """When the document is due to the applicant (aware, local time)."""
    production_day: np.ndarray
    """(n,) int64: last working day on which the document may be printed."""

    def production_dates(self, cal: WorkingCalendar) -> list[dt.date]:
        return [dt.date.fromordinal(int(o)) for o in working_day_at(cal, self.production_day)]


def _local_seconds(moment: dt.datetime, tz: ZoneInfo) -> tuple[int, int]:
    local = moment.astimezone(tz)
    return local.date().toordinal(), local.hour * 3600 + local.minute * 60 + local.second


def effective_day_index(
    cal: WorkingCalendar, accepted_ordinal: np.ndarray, accepted_local_s: np.ndarray, cutoff_s: int
) -> np.ndarray:
    """Working day each acceptance counts from.

    Parameters
    ----------
    accepted_ordinal : (n,) int
        Local date of acceptance (``date.toordinal``).
    accepted_local_s : (n,) int
        Local time of acceptance, seconds after midnight.
    cutoff_s : int
        The daily cut-off, seconds after midnight; strictly later counts from
        the next working day.

    Returns
    -------
    (n,) int64 indices into ``cal.working_ordinals``.
    """
    accepted_ordinal = np.asarray(accepted_ordinal, dtype=np.int64)
    after_cutoff = np.asarray(accepted_local_s) > cutoff_s
    return next_working_day_index(cal, accepted_ordinal + after_cutoff)


def compute_deadlines(applications: Sequence[Application], rules: DeadlineRules, cal: WorkingCalendar) -> Deadlines:
    """Procedure and production deadlines of every application (see the module docstring).

    Parameters
    ----------
    applications : sequence of Application
        Validated records (``parse_application``).
    rules : DeadlineRules
        ``deadline_rules(config)``.
    cal : WorkingCalendar

    Returns
    -------
    Deadlines

    Raises
    ------
    CalendarNotCovered
        When any deadline needs a day of a year the calendar does not cover.
    """
    n = len(applications)
    accepted_ordinal = np.empty(n, dtype=np.int64)
    accepted_s = np.empty(n, dtype=np.int64)
    rule = np.empty(n, dtype=np.int8)
    limit = np.zeros(n, dtype=np.int64)
    downstream_days = np.zeros(n, dtype=np.int64)
    wall_ordinal = np.zeros(n, dtype=np.int64)
    wall_moments: list[dt.datetime | None] = [None] * n
    for i, app in enumerate(applications):
        accepted_ordinal[i], accepted_s[i] = _local_seconds(app.accepted_at, rules.tz)
        service = rules.service_classes[app.service_class]
        rule[i] = RULE_CODES[service.rule]
        if service.rule == "working_days":
            limit[i] = rules.documents[app.doc_type].time_limit_working_days[app.service_class]
            downstream_days[i] = rules.dispatch_working_days + (
                rules.mail_transit_working_days if app.delivery == "mail" else 0
            )
        elif service.rule == "wall_clock":
            due = app.accepted_at + dt.timedelta(hours=service.wall_clock_hours)
            wall_moments[i] = due.astimezone(rules.tz)
            wall_ordinal[i] = (due - dt.timedelta(seconds=rules.qa_s)).astimezone(rules.tz).date().toordinal()

    effective = effective_day_index(cal, accepted_ordinal, accepted_s, rules.cutoff_s)
    is_working_rule = rule == RULE_CODES["working_days"]
    # The procedure day: limit working days after the effective day (0 for same day).
    procedure_day = effective.copy()
    if is_working_rule.any():
        procedure_day[is_working_rule] = shift_working_day_index(
            cal, effective[is_working_rule], limit[is_working_rule]
        )
    shift_day = procedure_day.copy()
    if is_working_rule.any():
        shift_day[is_working_rule] = shift_working_day_index(
            cal, procedure_day[is_working_rule], -downstream_days[is_working_rule]
        )
    # QA hours before the end of that day's shift: the date the moment falls on.
    qa_day_shift = np.floor_divide(rules.shift_end_s - rules.qa_s, _DAY_S)
    moment_ordinal = np.where(rule == RULE_CODES["wall_clock"], wall_ordinal, 0)
    on_shift = rule != RULE_CODES["wall_clock"]
    if on_shift.any():
        moment_ordinal[on_shift] = working_day_at(cal, shift_day[on_shift]) + qa_day_shift
    production_day = last_working_day_index(cal, moment_ordinal) if n else np.zeros(0, dtype=np.int64)

    procedure_dates = working_day_at(cal, procedure_day) if n else np.zeros(0, dtype=np.int64)
    end_h, end_rest = divmod(rules.shift_end_s, 3600)
    procedure: list[dt.datetime] = []
    for i in range(n):
        moment = wall_moments[i]
        if moment is None:
            day = dt.date.fromordinal(int(procedure_dates[i]))
            moment = dt.datetime.combine(day, dt.time(0), tzinfo=rules.tz) + dt.timedelta(
                hours=end_h, seconds=end_rest
            )
        procedure.append(moment)
    return Deadlines(
        effective_day=effective,
        procedure_deadline=tuple(procedure),
        production_day=production_day.astype(np.int64),
    )
