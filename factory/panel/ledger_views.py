"""What the panel reads from the ledger: read-only queries shaped as plain data.

Every function takes a ``Ledger`` and uses only ``Ledger.query`` (SELECT) and
its public look-ups; the panel serialises its own use of the connection.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from typing import Any

from factory.config import Config
from factory.ledger import Ledger
from factory.panel.planning import QueueRow

__all__ = [
    "WAITING_STATES",
    "REVIEW_STATES",
    "UNPRINTED_STATES",
    "queue_rows",
    "review_queue",
    "review_item",
    "spoilage",
    "handover",
    "handover_stations",
    "printed_in_last_hour",
    "last_machine_events",
]

WAITING_STATES = ("accepted", "queued", "spoiled")
"""Applications waiting for a machine (a spoiled one is requeued on a new blank)."""
UNPRINTED_STATES = (*WAITING_STATES, "leased", "printing", "needs_reconcile")

_MACHINE_EVENTS = ("machine_paused", "machine_draining", "machine_resumed")


def _in(values: Sequence[str]) -> str:
    return ", ".join("?" for _ in values)


def queue_rows(ledger: Ledger, states: Sequence[str] = WAITING_STATES) -> list[QueueRow]:
    """Applications in ``states`` with their queue keys, in acceptance order."""
    rows = ledger.query(
        "SELECT application_id, pool, priority, COALESCE(deadline_ordinal, 0), accepted_s, service_class, doc_type,"
        f" state FROM applications WHERE state IN ({_in(states)}) ORDER BY accepted_s, application_id",
        tuple(states),
    )
    return [QueueRow(*r) for r in rows]


def _checks(raw: str | None) -> list[dict[str, Any]]:
    """QA checks as stored: ``{name: bool}`` or the verdict's list of check dicts (with zones)."""
    if not raw:
        return []
    data = json.loads(raw)
    if isinstance(data, Mapping):
        out = []
        for name, value in data.items():
            if isinstance(value, Mapping):
                out.append({"name": name, **value})
            else:
                out.append({"name": name, "ok": bool(value)})
        return out
    if isinstance(data, list):
        return [c for c in data if isinstance(c, Mapping) and "name" in c]
    return []


REVIEW_STATES = {"qa_flagged": "printed", "intake_flagged": "intake"}
"""States a reviewer clears -> the stage that flagged them (a printed document, or an application before printing)."""


def review_queue(ledger: Ledger, *, limit: int = 500) -> list[dict[str, Any]]:
    """Flagged documents and applications held before printing, waiting for a reviewer, oldest deadline first.

    An application held at intake has no attempt yet: its checks are the ``qa_results`` row of attempt 0.
    """
    rows = ledger.query(
        "SELECT a.application_id, a.state, a.doc_type, a.service_class, a.production_date, a.due_at, a.updated_at,"
        " a.machine, a.blank_serial, q.checks, q.reasons FROM applications a LEFT JOIN qa_results q"
        " ON q.application_id = a.application_id AND q.attempt = a.attempt"
        f" WHERE a.state IN ({_in(REVIEW_STATES)})"
        " ORDER BY a.due_at, a.deadline_ordinal, a.accepted_s, a.application_id LIMIT ?",
        (*REVIEW_STATES, limit),
    )
    out = []
    for (app_id, state, doc_type, service_class, production_date, due_at, flagged_at, machine, blank, checks,
         reasons) in rows:
        failed = [c["name"] for c in _checks(checks) if not c.get("ok", True)]
        out.append({
            "application_id": app_id, "stage": REVIEW_STATES[state], "doc_type": doc_type,
            "service_class": service_class, "production_date": production_date, "due_at": due_at,
            "flagged_at": flagged_at, "machine": machine, "blank_serial": blank, "failed": failed,
            "reasons": json.loads(reasons) if reasons else [],
        })
    return out


def review_item(ledger: Ledger, application_id: str, config: Config | None = None) -> dict[str, Any]:
    """One application with its record, current attempt's page and QA result (``UnknownApplication``)."""
    app = ledger.application(application_id)
    columns = {r[0] for r in ledger.query("SELECT name FROM pragma_table_info('attempts')")}
    issued = "issued_on" if "issued_on" in columns else "NULL"  # the column came with ledger schema 1's later edit
    attempt = ledger.query(
        f"SELECT machine, blank_serial, page, {issued}, ended_at FROM attempts WHERE application_id = ? AND attempt = ?",
        (application_id, app["attempt"]),
    )
    qa = ledger.query(
        "SELECT checks, reasons, station, at, mrz_read FROM qa_results WHERE application_id = ? AND attempt = ?",
        (application_id, app["attempt"]),
    )
    machine, blank, page, issued_on, printed_at = attempt[0] if attempt else (None, None, None, None, None)
    checks, reasons, station, qa_at, mrz_read = qa[0] if qa else (None, None, None, None, None)
    if issued_on is None and printed_at is not None:
        # Without the device's word, the document was issued on the local date it was printed.
        issued_on = dt.datetime.fromtimestamp(printed_at, config.line.tz).date().isoformat() if config else None
    return {
        "application_id": application_id,
        "state": app["state"],
        "attempt": app["attempt"],
        "doc_type": app["doc_type"],
        "service_class": app["service_class"],
        "due_at": app["due_at"],
        "production_date": app["production_date"],
        "record": json.loads(app["record"]),
        "machine": machine,
        "blank_serial": blank or app["blank_serial"],
        "page": page,
        "issued_on": issued_on,
        "printed_at": printed_at,
        "checks": _checks(checks),
        "reasons": json.loads(reasons) if reasons else [],
        "qa_station": station,
        "qa_at": qa_at,
        "mrz_read": tuple(json.loads(mrz_read)) if mrz_read else None,
        "stage": REVIEW_STATES.get(app["state"], "printed"),
    }


def spoilage(ledger: Ledger, config: Config, *, since_s: float | None = None) -> dict[str, Any]:
    """Voided blanks by pool and reason (all time, and since ``since_s`` when given)."""
    pool_of = {m.id: m.pool for m in config.line.machines}
    reasons: dict[str, dict[str, dict[str, int]]] = {}
    for label, clause, params in (("total", "", ()), ("recent", " AND updated_at >= ?", (since_s,))):
        if label == "recent" and since_s is None:
            continue
        for machine, reason, count in ledger.query(
            "SELECT machine, COALESCE(reason, 'unknown'), COUNT(*) FROM blanks WHERE state = 'voided'"
            f"{clause} GROUP BY machine, reason", params,
        ):
            pool = pool_of.get(machine, "unknown")
            cell = reasons.setdefault(reason, {}).setdefault(pool, {"total": 0, "recent": 0})
            cell[label] += count
    issued = dict(ledger.query("SELECT machine, COUNT(*) FROM blanks WHERE state = 'issued' GROUP BY machine"))
    issued_by_pool: dict[str, int] = {}
    for machine, count in issued.items():
        issued_by_pool[pool_of.get(machine, "unknown")] = issued_by_pool.get(pool_of.get(machine, "unknown"), 0) + count
    return {"reasons": reasons, "issued": issued_by_pool}


def handover(
    ledger: Ledger,
    *,
    station: str = "",
    event: str = "",
    subject: str = "",
    since_s: float | None = None,
    before_id: int | None = None,
    limit: int = 200,
) -> list[dict[str, Any]]:
    """The hand-over log, newest first; ``station`` matches exactly or as a prefix ending in ``:``."""
    clauses, params = [], []
    if station:
        if station.endswith(":"):
            clauses.append("substr(station, 1, ?) = ?")
            params += [len(station), station]
        else:
            clauses.append("station = ?")
            params.append(station)
    if event:
        clauses.append("event = ?")
        params.append(event)
    if subject:
        clauses.append("subject = ?")
        params.append(subject)
    if since_s is not None:
        clauses.append("at >= ?")
        params.append(since_s)
    if before_id is not None:
        clauses.append("event_id < ?")
        params.append(before_id)
    where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
    rows = ledger.query(
        "SELECT event_id, at, station, kind, subject, event, from_state, to_state, machine, attempt, blank_serial,"
        f" blank_state, reason FROM events{where} ORDER BY event_id DESC LIMIT ?",
        (*params, max(1, min(int(limit), 1000))),
    )
    names = ("event_id", "at", "station", "kind", "subject", "event", "from_state", "to_state", "machine", "attempt",
             "blank_serial", "blank_state", "reason")
    return [dict(zip(names, r)) for r in rows]


def handover_stations(ledger: Ledger) -> list[str]:
    return [r[0] for r in ledger.query("SELECT DISTINCT station FROM events ORDER BY station")]


def printed_in_last_hour(ledger: Ledger, now_s: float) -> dict[str, int]:
    """Documents each machine printed in the hour before ``now_s``."""
    return dict(ledger.query(
        "SELECT machine, COUNT(*) FROM events WHERE kind = 'application' AND event IN ('device_executed',"
        " 'reconciled_printed') AND at > ? AND at <= ? GROUP BY machine", (now_s - 3600.0, now_s),
    ))


def last_machine_events(ledger: Ledger) -> dict[str, tuple[str, str]]:
    """Per machine, the last pause/drain/resume event and the station (user) that recorded it."""
    rows = ledger.query(
        "SELECT machine, event, station FROM events WHERE kind = 'station' AND event IN"
        f" ({_in(_MACHINE_EVENTS)}) ORDER BY event_id", _MACHINE_EVENTS,
    )
    last: dict[str, tuple[str, str]] = {}
    for machine, event, station in rows:
        last[machine] = (event, station)
    return last


def today_bounds(config: Config, now_s: float) -> tuple[dt.date, float]:
    """Today's local date and the Unix time of today's shift start."""
    now = dt.datetime.fromtimestamp(now_s, config.line.tz)
    start = dt.datetime.combine(now.date(), config.line.shifts.start, tzinfo=config.line.tz)
    return now.date(), start.timestamp()
