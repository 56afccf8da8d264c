"""Intake, the pure half: rows in, validated admissions and reasoned rejections out.

A row is admitted only when ``parse_application`` accepts it and its deadline
can be computed (the calendar fails closed: a year without working-day data
rejects the row, naming the year). An invalid row is rejected with every
reason and stores nothing; the valid rows beside it are admitted. The store
(``Ledger.add_applications``) writes the admissions.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from factory.config import Config
from factory.errors import CalendarNotCovered, InvalidField, InvalidRecord
from factory.records import Application, parse_application
from factory.scheduler import WorkingCalendar, class_ranks, compute_deadlines, deadline_rules

__all__ = ["Admission", "Rejection", "read_jsonl", "prepare_intake", "canonical_json"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Admission:
    """A validated application ready to be stored, with its queue keys."""

    application: Application
    record_json: str
    """The validated record (``Application.to_json``), canonical JSON."""
    pool: str
    priority: int
    """Service-class rank, 0 (green) first."""
    production_date: dt.date
    """Last working day on which it may be printed."""
    due_at: dt.datetime
    """Procedure deadline (local time)."""
    where: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Rejection:
    where: str
    """Where the row came from, e.g. ``line 3``."""
    application_id: str | None
    error: InvalidRecord

    def as_dict(self) -> dict[str, Any]:
        return {"where": self.where, "application_id": self.application_id, "errors": self.error.as_list()}


def canonical_json(mapping: dict[str, Any]) -> str:
    """Stable JSON text of a record: equal records give equal text."""
    return json.dumps(mapping, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def read_jsonl(lines: Iterable[str]) -> list[tuple[str, Any]]:
    """``(where, value)`` per non-blank line; a line that is not JSON gives an ``InvalidRecord`` as value."""
    rows: list[tuple[str, Any]] = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"line {number}"
        try:
            rows.append((where, json.loads(line)))
        except ValueError as err:
            rows.append((where, InvalidRecord([InvalidField("record", f"is not valid JSON ({err.msg})")], where=where)))
    return rows


def _application_id(value: Any) -> str | None:
    if isinstance(value, dict) and isinstance(value.get("application_id"), str):
        return value["application_id"]
    return None


def prepare_intake(
    rows: Sequence[tuple[str, Any]], config: Config, cal: WorkingCalendar
) -> tuple[list[Admission], list[Rejection]]:
    """Validate rows and compute their queue keys.

    Parameters
    ----------
    rows : sequence of (where, mapping)
        ``where`` names the row in errors (``line 3``); a value that is already
        an ``InvalidRecord`` (unreadable JSON) is passed through as a rejection.
    config : Config
    cal : WorkingCalendar
        The working-day calendar (``factory.scheduler.build_calendar``).

    Returns
    -------
    admissions, rejections
        In row order. An application id seen twice in ``rows`` rejects the later row.
    """
    parsed: list[tuple[str, Application]] = []
    rejections: list[Rejection] = []
    seen: set[str] = set()
    for where, value in rows:
        if isinstance(value, InvalidRecord):
            rejections.append(Rejection(where=where, application_id=None, error=value))
            continue
        try:
            app = parse_application(value, config, where=where)
        except InvalidRecord as err:
            rejections.append(Rejection(where=where, application_id=_application_id(value), error=err))
            continue
        if app.application_id in seen:
            error = InvalidRecord([InvalidField("application_id", "appears twice in this intake", app.application_id)], where=where)
            rejections.append(Rejection(where=where, application_id=app.application_id, error=error))
            continue
        seen.add(app.application_id)
        parsed.append((where, app))

    rules = deadline_rules(config)
    ranks = class_ranks(config)
    deadlines: list[tuple[dt.date, dt.datetime] | InvalidField] = []
    try:
        batch = compute_deadlines([a for _, a in parsed], rules, cal)
        dates = batch.production_dates(cal) if parsed else []
        deadlines = list(zip(dates, batch.procedure_deadline))
    except CalendarNotCovered:
        # Fail closed per row: the rows whose dates the calendar covers still go in.
        for _, app in parsed:
            try:
                one = compute_deadlines([app], rules, cal)
                deadlines.append((one.production_dates(cal)[0], one.procedure_deadline[0]))
            except CalendarNotCovered as err:
                deadlines.append(InvalidField("accepted_at", str(err), app.accepted_at.isoformat()))

    admissions: list[Admission] = []
    for (where, app), deadline in zip(parsed, deadlines):
        if isinstance(deadline, InvalidField):
            rejections.append(Rejection(where=where, application_id=app.application_id,
                                        error=InvalidRecord([deadline], where=where)))
            continue
        production_date, due_at = deadline
        admissions.append(Admission(
            application=app,
            record_json=canonical_json(app.to_json()),
            pool=config.documents[app.doc_type].pool,
            priority=ranks[app.service_class],
            production_date=production_date,
            due_at=due_at,
            where=where,
        ))
    return admissions, rejections
