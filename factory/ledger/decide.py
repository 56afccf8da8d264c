"""Deciding a batch of state changes, pure: rows in, the rows to write and the changes out.

The store reads the rows a batch touches (applications and blanks) in a few
``IN (...)`` queries, calls ``decide``, and writes the result with one
``executemany`` per table, all inside its write transaction. ``decide`` walks
the requests in order on working copies of the rows, so two requests for the
same application in one batch chain correctly; a request that the state
machine or the blank's life refuses is reported with its error and changes
nothing (its working copies are dropped), while the others stand.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from factory.errors import InvalidField, LedgerError, StaleState
from factory.ledger.states import (
    BLANK_EFFECTS,
    BLANK_TRANSITIONS,
    TRANSITIONS,
    VOID_REASONS,
    BlankState,
    Event,
    JobState,
)
from factory.errors import IllegalTransition

__all__ = [
    "UnknownApplication",
    "DEFAULT_LEASE_S",
    "Request",
    "AppRow",
    "BlankRow",
    "Change",
    "Decision",
    "void_reason",
    "decide",
]

DEFAULT_LEASE_S = 60.0

# The tables again as plain strings: the hot path then touches no enum machinery.
_NEXT = {(s.value, e.value): t.value for (s, e), t in TRANSITIONS.items()}
_BLANK_EFFECT = {e.value: b.value for e, b in BLANK_EFFECTS.items()}
_BLANK_NEXT = {s.value: frozenset(t.value for t in targets) for s, targets in BLANK_TRANSITIONS.items()}
_IN_FLIGHT = frozenset({JobState.LEASED.value, JobState.PRINTING.value})
_LEASED, _REQUEUED = Event.LEASED.value, Event.REQUEUED.value
_BOUND, _ISSUED, _VOIDED, _IN_STOCK = (BlankState.BOUND.value, BlankState.ISSUED.value, BlankState.VOIDED.value,
                                       BlankState.IN_STOCK.value)
_ATTEMPT_EVENTS = frozenset(e.value for e in (
    Event.REFUSED, Event.NOT_ACCEPTED, Event.LEASE_EXPIRED, Event.DEVICE_UNKNOWN, Event.DEVICE_EXECUTED,
    Event.DEVICE_FAILED, Event.RECONCILED_PRINTED, Event.RECONCILED_SPOILED, Event.RECONCILED_NOT_PRINTED,
))


class UnknownApplication(LedgerError):
    def __init__(self, application_id: str) -> None:
        self.application_id = application_id
        super().__init__(f"{application_id}: not in the ledger")


class Request(NamedTuple):
    """Apply ``events`` in order to one application."""

    application_id: str
    events: tuple[str, ...]
    station: str
    attempt: int | None = None
    """The attempt the sender worked on; another attempt is ``StaleState`` (late news of an old attempt)."""
    machine: str | None = None
    """For ``leased``: the machine."""
    blank_serial: str | None = None
    reason: str | None = None
    lease_s: float | None = None
    page: str | None = None
    issued_on: str | None = None
    detail: Mapping[str, Any] | None = None


class AppRow(NamedTuple):
    state: str
    version: int
    attempt: int
    machine: str | None
    blank_serial: str | None
    lease_expires_at: float | None


class BlankRow(NamedTuple):
    state: str
    version: int
    machine: str | None
    shift: str | None
    application_id: str | None
    attempt: int | None
    reason: str | None


class Change(NamedTuple):
    """One applied transition (a named tuple: the hot path builds thousands a second)."""

    application_id: str
    event: str
    from_state: str
    to_state: str
    attempt: int
    machine: str | None
    blank_serial: str | None


@dataclass(slots=True)
class Decision:
    """What to write, and what happened to each request."""

    apps: dict[str, tuple[AppRow, AppRow]] = field(default_factory=dict)
    """Application id -> (row as read, row to write)."""
    blanks: dict[str, tuple[BlankRow | None, BlankRow]] = field(default_factory=dict)
    """Blank serial -> (row as read or None, row to write)."""
    attempt_inserts: list[tuple] = field(default_factory=list)
    """(application_id, attempt, machine, leased_at, lease_expires_at)."""
    attempt_updates: list[tuple] = field(default_factory=list)
    """(outcome, reason, blank_serial, ended_at, page, issued_on, application_id, attempt)."""
    events: list[tuple] = field(default_factory=list)
    """Rows of ``events`` (at, station, 'application', subject, seq, event, from, to, machine, attempt,
    blank_serial, blank_state, shift, reason, detail)."""
    results: list[list[Change] | Exception] = field(default_factory=list)
    """Per request: its changes, or the error that refused it."""


def void_reason(event: str, reason: str | None) -> str:
    """The blank's void reason: the one given when it is a known reason, else the event's default."""
    if reason in VOID_REASONS:
        return reason
    if event == Event.REJECTED.value:
        return "qa_reject"
    return "device_fault"  # laser or ribbon fault, power lost mid-print, ... (a jam names itself)


def _move_blank(
    serial: str, to: str, current: BlankRow | None, *, application_id: str, attempt: int,
    machine: str | None, shift: str, reason: str | None,
) -> BlankRow:
    state = _IN_STOCK if current is None else current.state
    if to not in _BLANK_NEXT[state]:
        raise IllegalTransition(serial, state, f"blank -> {to}")
    if to == _BOUND:
        return BlankRow(_BOUND, (current.version if current else 0) + 1, machine, shift, application_id, attempt, None)
    if current.application_id != application_id:
        raise LedgerError(f"blank {serial}: is held by {current.application_id}, not {application_id}")
    if to == _VOIDED and reason not in VOID_REASONS:
        raise LedgerError(f"blank {serial}: void reason must be one of {', '.join(VOID_REASONS)} (got {reason!r})")
    return BlankRow(to, current.version + 1, current.machine, current.shift, current.application_id,
                    current.attempt, reason if to == _VOIDED else None)


def decide(
    requests: Sequence[Request],
    apps: Mapping[str, AppRow],
    blanks: Mapping[str, BlankRow],
    *,
    now: float,
    shift: str,
) -> Decision:
    """Decide a batch.

    Parameters
    ----------
    requests : the changes asked for, in order
    apps : application id -> its row as read (absent: not in the ledger)
    blanks : blank serial -> its row as read, for every serial the requests
        name or the applications hold (absent: never taken, in stock)
    now : Unix seconds of the batch
    shift : the shift running at ``now`` (blanks taken now belong to it)
    """
    out = Decision()
    app_now: dict[str, AppRow] = dict(apps)
    blank_now: dict[str, BlankRow] = dict(blanks)
    events, attempt_inserts, attempt_updates, results = out.events, out.attempt_inserts, out.attempt_updates, out.results
    for request in requests:
        app_id = request.application_id
        row = app_now.get(app_id)
        # Rows go straight into the shared lists; a refused request cuts its own back off.
        marks = (len(events), len(attempt_inserts), len(attempt_updates))
        local_blanks: dict[str, BlankRow] | None = None
        changes: list[Change] = []
        try:
            if row is None:
                raise UnknownApplication(app_id)
            if request.attempt is not None and request.attempt != row.attempt:
                raise StaleState(app_id, f"attempt {request.attempt} (it is at attempt {row.attempt})")
            detail = json.dumps(request.detail, ensure_ascii=False, sort_keys=True) if request.detail else None
            for event in request.events:
                to = _NEXT.get((row.state, event))
                if to is None:
                    raise IllegalTransition(app_id, row.state, str(event))
                attempt, machine, blank, lease = row.attempt, row.machine, row.blank_serial, row.lease_expires_at
                if to not in _IN_FLIGHT:
                    lease = None
                if event == _LEASED:
                    if not request.machine:
                        raise InvalidField("machine", "is required to lease a job")
                    attempt, machine, blank = attempt + 1, request.machine, None
                    lease = now + (request.lease_s if request.lease_s is not None else DEFAULT_LEASE_S)
                    attempt_inserts.append((app_id, attempt, machine, now, lease))
                elif event == _REQUEUED:
                    blank = None

                blank_to = _BLANK_EFFECT.get(event)
                moved = moved_shift = None
                if blank_to is not None:
                    if request.blank_serial and row.blank_serial and request.blank_serial != row.blank_serial:
                        raise LedgerError(f"{app_id}: the device reports blank {request.blank_serial}, "
                                          f"but {row.blank_serial} was bound")
                    serial = row.blank_serial or request.blank_serial
                    if serial is None and blank_to == _ISSUED:
                        raise InvalidField("blank_serial", f"is required for {event} (a document needs its blank)")
                    if serial:
                        if local_blanks is None:
                            local_blanks = {}
                        current = local_blanks.get(serial) or blank_now.get(serial)
                        if row.blank_serial is None and blank_to != _BOUND:
                            # Named only at the end (or on reconcile): the device took it first; the take
                            # is logged as the blank's own event so that the audit counts it.
                            current = _move_blank(serial, _BOUND, current, application_id=app_id, attempt=attempt,
                                                  machine=machine, shift=shift, reason=None)
                            events.append((now, request.station, "blank", serial, None, "taken", None, _BOUND,
                                           machine, attempt or None, serial, _BOUND, current.shift, None,
                                           None))
                        reason = void_reason(event, request.reason) if blank_to == _VOIDED else None
                        current = _move_blank(serial, blank_to, current, application_id=app_id, attempt=attempt,
                                              machine=machine, shift=shift, reason=reason)
                        local_blanks[serial] = current
                        moved, moved_shift = serial, current.shift
                        blank = serial if blank_to == _BOUND or blank_to == _ISSUED else None

                if event in _ATTEMPT_EVENTS:
                    attempt_updates.append((event, request.reason, moved, now, request.page, request.issued_on,
                                            app_id, attempt))
                version = row.version + 1
                events.append((now, request.station, "application", app_id, version, event, row.state, to,
                               machine if attempt else None, attempt or None, moved, blank_to if moved else None,
                               moved_shift, request.reason, detail))
                changes.append(Change(app_id, event, row.state, to, attempt, machine, moved))
                row = AppRow(to, version, attempt, machine, blank, lease)
        except (LedgerError, InvalidField) as err:
            del events[marks[0]:], attempt_inserts[marks[1]:], attempt_updates[marks[2]:]
            results.append(err)
            continue
        # Accepted: fold the working copies in.
        previous = out.apps.get(app_id)
        out.apps[app_id] = (previous[0] if previous else apps[app_id], row)
        app_now[app_id] = row
        if local_blanks:
            for serial, blank_row in local_blanks.items():
                previous_blank = out.blanks.get(serial)
                out.blanks[serial] = (previous_blank[0] if previous_blank else blanks.get(serial), blank_row)
                blank_now[serial] = blank_row
        results.append(changes)
    return out
