"""The ledger on SQLite: WAL, ``synchronous=FULL``, one transition per savepoint, batched commits.

``Ledger.open(path)`` creates or opens the file and applies ``schema.sql``.
Every state change goes through ``Ledger.apply``: it loads the application,
asks ``states.next_state`` (pure), then writes

- ``UPDATE applications ... WHERE application_id = :id AND state = :from AND version = :version``
  (no row: ``StaleState``, another process moved it first),
- the blank's move, checked against ``BLANK_TRANSITIONS``,
- the attempt's outcome,
- one ``INSERT`` into ``events`` (append-only: triggers abort UPDATE and DELETE),

inside a savepoint, so a refused change leaves nothing behind. Callers group
many changes in ``with ledger.transaction():`` to commit once per batch (a
``synchronous=FULL`` commit costs about 0.25 ms here); the pipeline commits
before it sends anything that depends on the change.

sqlite3 errors are turned into ``LedgerError`` in one place (``_sql``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from factory.errors import InvalidField, InvalidRecord, LedgerError, StaleState
from factory.ledger.intake import Admission, Rejection
from factory.ledger.shifts import ShiftClock
from factory.ledger.states import (
    BLANK_EFFECTS,
    BLANK_TRANSITIONS,
    VOID_REASONS,
    BlankState,
    Event,
    JobState,
    next_blank_state,
    next_state,
)
from factory.records import FREE_MAIL_AGE, age_on

__all__ = [
    "SCHEMA_VERSION",
    "UnknownApplication",
    "Change",
    "IntakeResult",
    "QueuedJob",
    "InFlightJob",
    "PrintedJob",
    "Ledger",
]

SCHEMA_VERSION = 1
_UTC_SHIFTS = ShiftClock(timezone="UTC", start=dt.time(0, 0))


class UnknownApplication(LedgerError):
    def __init__(self, application_id: str) -> None:
        self.application_id = application_id
        super().__init__(f"{application_id}: not in the ledger")


@dataclass(frozen=True, slots=True)
class Change:
    """One applied transition."""

    application_id: str
    event: str
    from_state: str
    to_state: str
    attempt: int
    machine: str | None
    blank_serial: str | None


@dataclass(frozen=True, slots=True)
class IntakeResult:
    added: tuple[str, ...]
    """Application ids stored now."""
    already_present: tuple[str, ...]
    """Ids whose identical record was stored before (intake is idempotent)."""
    rejected: tuple[Rejection, ...]


@dataclass(frozen=True, slots=True)
class QueuedJob:
    application_id: str
    pool: str
    priority: int
    deadline_ordinal: int
    accepted_s: float


@dataclass(frozen=True, slots=True)
class InFlightJob:
    application_id: str
    attempt: int
    state: str
    machine: str
    blank_serial: str | None
    lease_expires_at: float | None


@dataclass(frozen=True, slots=True)
class PrintedJob:
    application_id: str
    attempt: int
    machine: str
    blank_serial: str | None
    record: str
    """The record, JSON text."""
    page: str | None
    """Path of the printed page image, when the device wrote one."""


_CLEAR_LEASE, _SET_LEASE, _KEEP_LEASE = 0, 1, 2
_EVENTS = {e.value: e for e in Event}
_IN_FLIGHT = (JobState.LEASED, JobState.PRINTING)
_BLANK_SOURCES = {
    to: ", ".join(f"'{s.value}'" for s, tos in BLANK_TRANSITIONS.items() if to in tos) for to in BlankState
    if any(to in tos for tos in BLANK_TRANSITIONS.values())
}
_ATTEMPT_EVENTS = frozenset({
    Event.REFUSED, Event.NOT_ACCEPTED, Event.LEASE_EXPIRED, Event.DEVICE_EXECUTED,
    Event.DEVICE_FAILED, Event.RECONCILED_PRINTED, Event.RECONCILED_SPOILED, Event.RECONCILED_NOT_PRINTED,
})


def _void_reason(event: str, reason: str | None) -> str:
    """The blank's void reason: the one given when it is a known reason, else the event's default."""
    if reason in VOID_REASONS:
        return reason
    return {Event.REJECTED: "qa_reject", Event.DEVICE_FAILED: "jam"}.get(event, "device_fault")


class Ledger:
    """The durable store. One per process (sqlite3 connections are not shared between threads)."""

    def __init__(self, connection: sqlite3.Connection, path: str, shifts: ShiftClock) -> None:
        self._db = connection
        self.path = path
        self.shifts = shifts
        self._depth = 0
        self._savepoints = 0

    # ------------------------------------------------------------------ opening

    @classmethod
    def open(cls, path: str | Path, *, shifts: ShiftClock | None = None, busy_timeout_s: float = 30.0) -> Ledger:
        """Open (creating if needed) the ledger at ``path``: WAL, synchronous=FULL, schema applied."""
        path = str(path)
        try:
            db = sqlite3.connect(path, isolation_level=None, timeout=busy_timeout_s, check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
            db.execute("PRAGMA foreign_keys=ON")
            db.execute(f"PRAGMA busy_timeout={int(busy_timeout_s * 1000)}")
            schema = resources.files("factory.ledger").joinpath("schema.sql").read_text(encoding="utf-8")
            db.executescript("BEGIN IMMEDIATE;" + schema + "COMMIT;")
            db.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
        except sqlite3.Error as err:
            raise LedgerError(f"{path}: cannot open the ledger ({err})") from err
        row = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        if int(row[0]) > SCHEMA_VERSION:
            db.close()
            raise LedgerError(f"{path}: schema version {row[0]} is newer than this program's {SCHEMA_VERSION}")
        return cls(db, path, shifts or _UTC_SHIFTS)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ transactions

    @contextlib.contextmanager
    def _sql(self) -> Iterator[None]:
        """The one place sqlite3 errors become ledger errors."""
        try:
            yield
        except sqlite3.Error as err:
            raise LedgerError(f"{self.path}: {err}") from err

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Ledger]:
        """One commit for everything inside (nested calls become savepoints).

        The outer level starts with ``BEGIN IMMEDIATE`` so that a writer never
        upgrades a read lock midway (no ``SQLITE_BUSY`` on commit).
        """
        outer = self._depth == 0
        name = f"sp{self._savepoints}"
        with self._sql():
            if outer:
                self._db.execute("BEGIN IMMEDIATE")
            else:
                self._savepoints += 1
                self._db.execute(f"SAVEPOINT {name}")
        self._depth += 1
        try:
            yield self
        except BaseException:
            self._depth -= 1
            with self._sql():
                if outer:
                    self._db.execute("ROLLBACK")
                else:
                    self._db.execute(f"ROLLBACK TO {name}")
                    self._db.execute(f"RELEASE {name}")
            raise
        self._depth -= 1
        with self._sql():
            self._db.execute("COMMIT" if outer else f"RELEASE {name}")

    @property
    def in_transaction(self) -> bool:
        return self._depth > 0

    # ------------------------------------------------------------------ intake

    def add_applications(self, admissions: Sequence[Admission], *, station: str, now: float) -> IntakeResult:
        """Store validated applications (``accepted`` then ``queued``), all in one transaction.

        An id already stored with the identical record is skipped (re-running an
        intake is harmless); with a different record it is rejected.
        """
        added: list[str] = []
        present: list[str] = []
        rejected: list[Rejection] = []
        with self.transaction():
            for admission in admissions:
                app = admission.application
                row = self._db.execute(
                    "SELECT record FROM applications WHERE application_id = ?", (app.application_id,)
                ).fetchone()
                if row is not None:
                    if row[0] == admission.record_json:
                        present.append(app.application_id)
                    else:
                        error = InvalidField("application_id", "is already in the ledger with a different record",
                                             app.application_id)
                        rejected.append(Rejection(where=admission.where, application_id=app.application_id,
                                                  error=InvalidRecord([error], where=admission.where)))
                    continue
                with self._sql():
                    self._db.execute(
                        "INSERT INTO applications (application_id, state, version, doc_type, service_class, pool,"
                        " priority, production_date, deadline_ordinal, due_at, accepted_s, delivery,"
                        " acceptance_point, record, received_at, updated_at)"
                        " VALUES (?, 'accepted', 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (
                            app.application_id, app.doc_type, app.service_class, admission.pool,
                            admission.priority, admission.production_date.isoformat(),
                            admission.production_date.toordinal(), admission.due_at.isoformat(),
                            app.accepted_at.timestamp(), app.delivery, app.acceptance_point,
                            admission.record_json, now, now,
                        ),
                    )
                    self._insert_event(now, station, "application", app.application_id, 1, Event.RECEIVED,
                                       None, JobState.ACCEPTED)
                self.apply(app.application_id, Event.VALIDATED, station=station, now=now)
                added.append(app.application_id)
        return IntakeResult(tuple(added), tuple(present), tuple(rejected))

    # ------------------------------------------------------------------ transitions

    def _insert_event(
        self, at: float, station: str, kind: str, subject: str, seq: int | None, event: str,
        from_state: str | None, to_state: str | None, machine: str | None = None, attempt: int | None = None,
        blank_serial: str | None = None, blank_state: str | None = None, shift: str | None = None,
        reason: str | None = None, detail: Mapping[str, Any] | None = None,
    ) -> None:
        self._db.execute(
            "INSERT INTO events (at, station, kind, subject, seq, event, from_state, to_state, machine, attempt,"
            " blank_serial, blank_state, shift, reason, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (at, station, kind, subject, seq, str(event), from_state and str(from_state),
             to_state and str(to_state), machine, attempt, blank_serial, blank_state and str(blank_state), shift,
             reason, json.dumps(detail, ensure_ascii=False, sort_keys=True) if detail else None),
        )

    def apply(
        self,
        application_id: str,
        event: str,
        *,
        station: str,
        now: float,
        attempt: int | None = None,
        machine: str | None = None,
        blank_serial: str | None = None,
        reason: str | None = None,
        lease_s: float | None = None,
        page: str | None = None,
        detail: Mapping[str, Any] | None = None,
    ) -> Change:
        """Apply one event to one application; returns the change.

        Parameters
        ----------
        attempt : int, optional
            The attempt the sender was working on; a message about another
            attempt raises ``StaleState`` (an old worker's late news).
        machine : str, optional
            Required for ``leased``.
        blank_serial : str, optional
            The blank the device took (``print_started``, ``device_executed``,
            ``device_failed``, ``reconciled_*``); must agree with one bound before.
        reason : str, optional
            Why: the void reason of a blank (``jam``...), a refusal, a review.
        lease_s : float, optional
            Lease length for ``leased`` (seconds from ``now``; default 60).
        page : str, optional
            Path of the printed page image (``device_executed``).

        Raises
        ------
        UnknownApplication, IllegalTransition, StaleState, LedgerError
            Raised before anything is written: a refused change leaves no trace.
        """
        if self._depth:
            return self._apply(application_id, event, station, now, attempt, machine, blank_serial, reason,
                               lease_s, page, detail)
        with self.transaction():
            return self._apply(application_id, event, station, now, attempt, machine, blank_serial, reason,
                               lease_s, page, detail)

    def _apply(self, application_id, event, station, now, attempt, machine, blank_serial, reason, lease_s, page,
               detail) -> Change:
        # Checks first (reads only), then writes whose own guards cannot fail under our write lock:
        # a refused change therefore never leaves half its rows inside a batch.
        db = self._db
        try:
            row = db.execute(
                "SELECT state, version, attempt, machine, blank_serial FROM applications WHERE application_id = ?",
                (application_id,),
            ).fetchone()
            if row is None:
                raise UnknownApplication(application_id)
            state, version, current_attempt, current_machine, current_blank = row
            if attempt is not None and attempt != current_attempt:
                raise StaleState(application_id, f"attempt {attempt} (it is at attempt {current_attempt})")
            to = next_state(state, event, job_id=application_id)
            event = _EVENTS[event]

            new_attempt, new_machine, blank = current_attempt, current_machine, current_blank
            lease_mode, lease = (_KEEP_LEASE if to in _IN_FLIGHT else _CLEAR_LEASE), None
            if event is Event.LEASED:
                if not machine:
                    raise InvalidField("machine", "is required to lease a job")
                new_attempt, new_machine, blank = current_attempt + 1, machine, None
                lease_mode, lease = _SET_LEASE, now + (lease_s if lease_s is not None else 60.0)
            elif event is Event.REQUEUED:
                blank = None

            blank_to = BLANK_EFFECTS.get(event)
            blank_moved = blank_shift = None
            if blank_to is not None:
                if blank_serial and current_blank and blank_serial != current_blank:
                    raise LedgerError(f"{application_id}: the device reports blank {blank_serial}, "
                                      f"but {current_blank} was bound")
                serial = current_blank or blank_serial
                if serial is None and blank_to is BlankState.ISSUED:
                    raise InvalidField("blank_serial", f"is required for {event} (a document needs its blank)")
                if serial:
                    if current_blank is None and blank_to is not BlankState.BOUND:
                        # The device named the blank only at the end (or on reconcile): it was taken first.
                        self._move_blank(serial, BlankState.BOUND, application_id, new_attempt, new_machine, now,
                                         None, station)
                    void_reason = _void_reason(event, reason) if blank_to is BlankState.VOIDED else None
                    blank_shift = self._move_blank(serial, blank_to, application_id, new_attempt, new_machine, now,
                                                   void_reason, station)
                    blank_moved = serial
                    blank = serial if blank_to in (BlankState.BOUND, BlankState.ISSUED) else None

            cursor = db.execute(
                "UPDATE applications SET state = ?, version = ?, attempt = ?, machine = ?,"
                " lease_expires_at = CASE ? WHEN 0 THEN NULL WHEN 1 THEN ? ELSE lease_expires_at END,"
                " blank_serial = ?, updated_at = ? WHERE application_id = ? AND state = ? AND version = ?",
                (to.value, version + 1, new_attempt, new_machine, lease_mode, lease, blank, now, application_id,
                 state, version),
            )
            if cursor.rowcount != 1:  # cannot happen under BEGIN IMMEDIATE; kept as the optimistic guard
                raise StaleState(application_id, state)
            if event is Event.LEASED:
                db.execute(
                    "INSERT INTO attempts (application_id, attempt, machine, leased_at, lease_expires_at)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (application_id, new_attempt, new_machine, now, lease),
                )
            elif event in _ATTEMPT_EVENTS:
                db.execute(
                    "UPDATE attempts SET outcome = ?, reason = COALESCE(?, reason),"
                    " blank_serial = COALESCE(?, blank_serial), ended_at = ?, page = COALESCE(?, page)"
                    " WHERE application_id = ? AND attempt = ?",
                    (event.value, reason, blank_moved, now, page, application_id, new_attempt),
                )
            db.execute(
                "INSERT INTO events (at, station, kind, subject, seq, event, from_state, to_state, machine, attempt,"
                " blank_serial, blank_state, shift, reason, detail) VALUES (?, ?, 'application', ?, ?, ?, ?, ?, ?,"
                " ?, ?, ?, ?, ?, ?)",
                (now, station, application_id, version + 1, event.value, state, to.value,
                 new_machine if new_attempt else None, new_attempt or None, blank_moved,
                 blank_to.value if blank_moved else None, blank_shift, reason,
                 json.dumps(detail, ensure_ascii=False, sort_keys=True) if detail else None),
            )
        except sqlite3.Error as err:
            raise LedgerError(f"{self.path}: {err}") from err
        return Change(application_id, event.value, state, to.value, new_attempt, new_machine, blank_moved)

    def _move_blank(self, serial: str, to: BlankState, application_id: str | None, attempt: int | None,
                    machine: str | None, now: float, reason: str | None, station: str) -> str | None:
        """Move a blank, guarded by its allowed from-states; returns the shift it was taken in.

        Only the guard decides (one statement); the state is read back only to
        explain a refusal, which writes nothing.
        """
        db = self._db
        if to is BlankState.VOIDED and reason not in VOID_REASONS:
            raise LedgerError(f"blank {serial}: void reason must be one of {', '.join(VOID_REASONS)} (got {reason!r})")
        if to is BlankState.BOUND:
            shift = self.shifts.shift_of(now)
            cursor = db.execute(
                "INSERT INTO blanks (blank_serial, state, version, machine, shift, application_id, attempt, reason,"
                " updated_at) VALUES (?, 'bound', 1, ?, ?, ?, ?, NULL, ?) ON CONFLICT (blank_serial) DO UPDATE SET"
                " state = 'bound', version = blanks.version + 1, machine = excluded.machine, shift = excluded.shift,"
                " application_id = excluded.application_id, attempt = excluded.attempt, reason = NULL,"
                " updated_at = excluded.updated_at WHERE blanks.state IN ('in_stock', 'returned')",
                (serial, machine, shift, application_id, attempt, now),
            )
            if cursor.rowcount != 1:
                self._refuse_blank(serial, to)
            return shift
        sources = _BLANK_SOURCES[to]
        rows = db.execute(
            f"UPDATE blanks SET state = ?, version = version + 1, reason = ?, updated_at = ?"
            f" WHERE blank_serial = ? AND state IN ({sources}) AND application_id IS ? RETURNING shift",
            (to.value, reason, now, serial, application_id),
        ).fetchall()
        if not rows:
            self._refuse_blank(serial, to, application_id)
        return rows[0][0]

    def _refuse_blank(self, serial: str, to: BlankState, application_id: str | None = None) -> None:
        row = self._db.execute("SELECT state, application_id FROM blanks WHERE blank_serial = ?", (serial,)).fetchone()
        state = BlankState.IN_STOCK if row is None else BlankState(row[0])
        next_blank_state(serial, state, to)  # raises IllegalTransition when the table forbids it
        raise LedgerError(f"blank {serial}: is held by {row[1] if row else 'nobody'}, not {application_id}")

    def record_test_print(self, blank_serial: str, *, machine: str, station: str, now: float) -> None:
        """A blank taken for a test print: taken and voided (reason ``test``) at once."""
        with self.transaction(), self._sql():
            shift = self._move_blank(blank_serial, BlankState.BOUND, None, None, machine, now, None, station)
            self._insert_event(now, station, "blank", blank_serial, None, "taken", None, "bound",
                               machine=machine, blank_serial=blank_serial, blank_state="bound", shift=shift)
            self._move_blank(blank_serial, BlankState.VOIDED, None, None, machine, now, "test", station)
            self._insert_event(now, station, "blank", blank_serial, None, "voided", "bound", "voided",
                               machine=machine, blank_serial=blank_serial, blank_state="voided", shift=shift,
                               reason="test")

    def record_station_event(self, station: str, event: str, *, now: float, machine: str | None = None,
                             reason: str | None = None, detail: Mapping[str, Any] | None = None) -> None:
        """A station's own news (connected, lost, paused, out of blanks): kept in the hand-over log."""
        with self.transaction(), self._sql():
            self._insert_event(now, station, "station", station, None, event, None, None, machine=machine,
                               reason=reason, detail=detail)

    # ------------------------------------------------------------------ compound changes

    def lease(self, application_id: str, machine: str, *, lease_s: float, station: str, now: float) -> Change:
        return self.apply(application_id, Event.LEASED, machine=machine, lease_s=lease_s, station=station, now=now)

    def record_qa(
        self, application_id: str, attempt: int, *, passed: bool, checks: Mapping[str, bool],
        reasons: Sequence[str], station: str, now: float,
    ) -> Change:
        """A QA verdict: ``qa_passed`` or ``qa_flagged``, with its checks kept in ``qa_results``."""
        with self.transaction():
            change = self.apply(application_id, Event.QA_PASSED if passed else Event.QA_FLAGGED, attempt=attempt,
                                reason=None if passed else "; ".join(reasons)[:500], station=station, now=now)
            with self._sql():
                blank = self._db.execute("SELECT blank_serial FROM applications WHERE application_id = ?",
                                         (application_id,)).fetchone()[0]
                self._db.execute(
                    "INSERT OR REPLACE INTO qa_results (application_id, attempt, blank_serial, station, passed,"
                    " checks, reasons, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (application_id, attempt, blank, station, int(passed),
                     json.dumps(dict(checks), sort_keys=True), json.dumps(list(reasons), ensure_ascii=False), now),
                )
        return change

    def review(self, application_id: str, *, approve: bool, reviewer: str, reason: str, now: float) -> list[Change]:
        """A reviewer's decision on a flagged document.

        Rejected: the blank is voided (``qa_reject``) and the job is requeued
        for a reprint on a new blank, in the same transaction.
        """
        if not reason.strip() and not approve:
            raise InvalidField("reason", "is required to reject a document")
        with self.transaction():
            row = self.application(application_id)
            changes = [self.apply(application_id, Event.APPROVED if approve else Event.REJECTED, reason=reason,
                                  station=f"reviewer:{reviewer}", now=now)]
            with self._sql():
                self._db.execute(
                    "INSERT INTO reviews (application_id, attempt, reviewer, decision, reason, at)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    (application_id, row["attempt"], reviewer, changes[0].to_state, reason, now),
                )
            if not approve:
                changes.append(self.apply(application_id, Event.REQUEUED, station="controller", now=now))
        return changes

    def dispatch(self, application_id: str, *, manifest: str, station: str, now: float) -> Change:
        """Hand the document over: pick-up list of its acceptance point, or the mail manifest."""
        with self.transaction():
            row = self.application(application_id)
            record = json.loads(row["record"])
            change = self.apply(application_id, Event.DISPATCHED, station=station, now=now)
            method = record["delivery"]
            destination = record.get("mail_address") if method == "mail" else record["acceptance_point"]
            born = dt.date.fromisoformat(record["date_of_birth"])
            accepted = dt.datetime.fromisoformat(record["accepted_at"]).date()
            free_mail = method == "mail" and age_on(born, accepted) >= FREE_MAIL_AGE
            with self._sql():
                self._db.execute(
                    "INSERT INTO dispatches (application_id, blank_serial, method, destination, manifest, free_mail, at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (application_id, row["blank_serial"], method, destination or "", manifest, int(free_mail), now),
                )
        return change

    # ------------------------------------------------------------------ queries

    def application(self, application_id: str) -> dict[str, Any]:
        """The application's row as a dict (``UnknownApplication`` when absent)."""
        with self._sql():
            cursor = self._db.execute("SELECT * FROM applications WHERE application_id = ?", (application_id,))
            row = cursor.fetchone()
        if row is None:
            raise UnknownApplication(application_id)
        return dict(zip((d[0] for d in cursor.description), row))

    def state_of(self, application_id: str) -> str:
        return self.application(application_id)["state"]

    def counts(self) -> dict[str, int]:
        """Applications per state."""
        with self._sql():
            return dict(self._db.execute("SELECT state, COUNT(*) FROM applications GROUP BY state").fetchall())

    def queued_jobs(self) -> list[QueuedJob]:
        """Every queued application with its queue keys (the controller's queue on start)."""
        with self._sql():
            rows = self._db.execute(
                "SELECT application_id, pool, priority, COALESCE(deadline_ordinal, 0), accepted_s"
                " FROM applications WHERE state = 'queued'"
            ).fetchall()
        return [QueuedJob(*r) for r in rows]

    def queued_job(self, application_id: str) -> QueuedJob:
        with self._sql():
            row = self._db.execute(
                "SELECT application_id, pool, priority, COALESCE(deadline_ordinal, 0), accepted_s"
                " FROM applications WHERE application_id = ?", (application_id,)
            ).fetchone()
        if row is None:
            raise UnknownApplication(application_id)
        return QueuedJob(*row)

    def record_of(self, application_id: str) -> str:
        with self._sql():
            row = self._db.execute("SELECT record FROM applications WHERE application_id = ?",
                                   (application_id,)).fetchone()
        if row is None:
            raise UnknownApplication(application_id)
        return row[0]

    def in_flight(self, machine: str | None = None) -> list[InFlightJob]:
        """Jobs a machine holds (leased or printing), for reconciliation and lease expiry."""
        sql = ("SELECT application_id, attempt, state, machine, blank_serial, lease_expires_at FROM applications"
               " WHERE state IN ('leased', 'printing')")
        with self._sql():
            if machine is None:
                rows = self._db.execute(sql).fetchall()
            else:
                rows = self._db.execute(sql + " AND machine = ?", (machine,)).fetchall()
        return [InFlightJob(*r) for r in rows]

    def printed_jobs(self, limit: int, *, exclude: Iterable[str] = ()) -> list[PrintedJob]:
        """Printed documents awaiting QA, oldest first, skipping ``exclude`` (already out for QA)."""
        excluded = set(exclude)
        out: list[PrintedJob] = []
        with self._sql():
            cursor = self._db.execute(
                "SELECT a.application_id, a.attempt, a.machine, a.blank_serial, a.record, t.page"
                " FROM applications a LEFT JOIN attempts t ON t.application_id = a.application_id"
                " AND t.attempt = a.attempt WHERE a.state = 'printed' ORDER BY a.updated_at"
            )
            for row in cursor:
                if row[0] in excluded:
                    continue
                out.append(PrintedJob(*row))
                if len(out) >= limit:
                    break
        return out

    def ready_to_dispatch(self, limit: int) -> list[str]:
        with self._sql():
            rows = self._db.execute(
                "SELECT application_id FROM applications WHERE state IN ('qa_passed', 'approved')"
                " ORDER BY updated_at LIMIT ?", (limit,)
            ).fetchall()
        return [r[0] for r in rows]

    def events(self, subject: str | None = None, *, kind: str | None = None) -> list[dict[str, Any]]:
        """Events in order (all, or of one subject and/or kind)."""
        clauses, params = [], []
        if subject is not None:
            clauses.append("subject = ?")
            params.append(subject)
        if kind is not None:
            clauses.append("kind = ?")
            params.append(kind)
        where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
        with self._sql():
            cursor = self._db.execute(f"SELECT * FROM events{where} ORDER BY event_id", params)
            names = [d[0] for d in cursor.description]
            return [dict(zip(names, r)) for r in cursor.fetchall()]

    def audit_snapshot(self) -> tuple[list[dict], list[dict], list[dict], list[str]]:
        """Applications, blanks, events (in order) and the events table's triggers, read in one snapshot."""
        def rows(sql: str) -> list[dict[str, Any]]:
            cursor = self._db.execute(sql)
            names = [d[0] for d in cursor.description]
            return [dict(zip(names, r)) for r in cursor.fetchall()]

        with self._sql():
            own = not self.in_transaction
            if own:
                self._db.execute("BEGIN")  # one snapshot; WAL readers never block the writer
            try:
                apps = rows("SELECT application_id, state, version, attempt, machine, blank_serial FROM applications")
                blanks = rows("SELECT blank_serial, state, application_id, reason FROM blanks")
                events = rows("SELECT event_id, kind, subject, seq, event, from_state, to_state, machine,"
                              " blank_serial, blank_state, shift, reason FROM events ORDER BY event_id")
                triggers = [r[0] for r in self._db.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'events'").fetchall()]
            finally:
                if own:
                    self._db.execute("COMMIT")
        return apps, blanks, events, triggers

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        """Read-only SQL for reports and the audit (a write raises ``LedgerError``)."""
        with self._sql():
            if not sql.lstrip().upper().startswith(("SELECT", "WITH")):
                raise LedgerError("query() is for SELECT statements")
            return self._db.execute(sql, params).fetchall()
