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
from factory.ledger.decide import AppRow, BlankRow, Change, Decision, Request, UnknownApplication, decide
from factory.ledger.intake import Admission, Rejection
from factory.ledger.shifts import ShiftClock
from factory.ledger.states import BlankState, Event, JobState, next_blank_state
from factory.records import FREE_MAIL_AGE, age_on

__all__ = [
    "SCHEMA_VERSION",
    "UnknownApplication",
    "Change",
    "Request",
    "IntakeResult",
    "QueuedJob",
    "InFlightJob",
    "PrintedJob",
    "Ledger",
    "check_results",
]

SCHEMA_VERSION = 2
"""1: the first. 2: ``qa_results.mrz_read``, and ``checks`` as a list of check results (old rows stay maps)."""
_UTC_SHIFTS = ShiftClock(timezone="UTC", start=dt.time(0, 0))


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
    printed_at: float | None
    """Unix seconds the device reported the print."""
    issued_on: str | None
    """Date of issue the device printed, when it said."""


_CHUNK = 500


def _chunks(items: list, size: int = _CHUNK) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _migrate(db: sqlite3.Connection, version: int) -> None:
    """Bring a ledger of an older schema to ``SCHEMA_VERSION`` in one transaction (rows are kept as they are)."""
    db.execute("BEGIN IMMEDIATE")
    try:
        if version < 2:
            columns = {r[1] for r in db.execute("PRAGMA table_info(qa_results)")}
            if "mrz_read" not in columns:
                db.execute("ALTER TABLE qa_results ADD COLUMN mrz_read TEXT")
        db.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION),))
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise


def check_results(checks: Mapping[str, bool] | Iterable[Any]) -> list[dict[str, Any]]:
    """QA checks as the ledger keeps them: ``[{name, ok, value, detail, zone}]``.

    Takes a map name -> passed, or check results (mappings or objects with
    those attributes, e.g. ``factory.wire.QaCheckResult``); absent fields are
    None / ''.
    """
    if isinstance(checks, Mapping):
        checks = [{"name": name, **value} if isinstance(value, Mapping) else {"name": name, "ok": value}
                  for name, value in checks.items()]
    out = []
    for check in checks:
        get = check.get if isinstance(check, Mapping) else (lambda key, default=None, c=check: getattr(c, key, default))
        value = get("value", None)
        out.append({"name": str(get("name")), "ok": bool(get("ok", False)),
                    "value": None if value is None else float(value), "detail": get("detail", "") or "",
                    "zone": get("zone", "") or ""})
    return out


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
            # Checkpoint the WAL every 64 MiB rather than every 4 MiB: batched commits of a busy line
            # otherwise checkpoint every other commit. A larger page cache keeps the hot B-tree pages.
            db.execute("PRAGMA wal_autocheckpoint=16384")
            db.execute("PRAGMA cache_size=-65536")
            db.execute("PRAGMA foreign_keys=ON")
            db.execute(f"PRAGMA busy_timeout={int(busy_timeout_s * 1000)}")
            schema = resources.files("factory.ledger").joinpath("schema.sql").read_text(encoding="utf-8")
            db.executescript("BEGIN IMMEDIATE;" + schema + "COMMIT;")
            db.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
            row = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            if int(row[0]) > SCHEMA_VERSION:
                db.close()
                raise LedgerError(f"{path}: schema version {row[0]} is newer than this program's {SCHEMA_VERSION}")
            if int(row[0]) < SCHEMA_VERSION:
                _migrate(db, int(row[0]))
        except sqlite3.Error as err:
            raise LedgerError(f"{path}: cannot open the ledger ({err})") from err
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

    def add_applications(self, admissions: Sequence[Admission], *, station: str, now: float,
                         hold: bool = False) -> IntakeResult:
        """Store validated applications (``accepted`` then ``queued``), all in one transaction.

        An id already stored with the identical record is skipped (re-running an
        intake is harmless); with a different record it is rejected. With
        ``hold`` they stay ``accepted`` for the before-printing checks
        (``record_intake`` moves them on).
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
                if not hold:
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
        issued_on: str | None = None,
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
        issued_on : str, optional
            Date of issue the device printed, YYYY-MM-DD.

        Raises
        ------
        UnknownApplication, IllegalTransition, StaleState, LedgerError, InvalidField
            Raised before anything is written: a refused change leaves no trace.
        """
        request = Request(application_id, (event,), station, attempt, machine, blank_serial, reason, lease_s, page,
                          issued_on, detail)
        result = self.apply_batch([request], now=now)[0]
        if isinstance(result, Exception):
            raise result
        return result[-1]

    def read_rows(self, ids: Iterable[str]) -> dict[str, AppRow]:
        """Application id -> its current row (state, version, attempt, machine, blank, lease), for those present.

        Read inside a write transaction, the rows can be handed to ``apply_batch``
        (``rows=``) so that it does not read them again.
        """
        return {r[0]: AppRow(*r[1:]) for r in self._by_ids(
            "SELECT application_id, state, version, attempt, machine, blank_serial, lease_expires_at"
            " FROM applications WHERE application_id IN ({marks})", ids)}

    def apply_batch(
        self, requests: Sequence[Request], *, now: float, rows: Mapping[str, AppRow] | None = None
    ) -> list[list[Change] | Exception]:
        """Apply many requests in one transaction (the caller's, or a new one).

        Reads every row they touch in a few queries (or takes ``rows`` read in
        this same transaction), decides in ``decide.decide`` (pure), writes with
        one ``executemany`` per table. Returns, per request, its changes or the
        error that refused it (that request wrote nothing).

        Raises
        ------
        LedgerError
            Only when the database itself fails or a write guard finds a row
            moved under the write lock (the whole transaction is then rolled back).
        """
        if not requests:
            return []
        if self._depth:
            return self._apply_batch(requests, now, rows)
        if rows is not None:
            raise LedgerError("rows= is only valid inside the transaction that read them")
        with self.transaction():
            return self._apply_batch(requests, now, None)

    def _apply_batch(self, requests: Sequence[Request], now: float, rows: Mapping[str, AppRow] | None
                     ) -> list[list[Change] | Exception]:
        db = self._db
        try:
            if rows is None:
                apps = self.read_rows(r.application_id for r in requests)
            else:
                apps = rows
            serials = {r.blank_serial for r in requests if r.blank_serial}
            serials.update(a.blank_serial for a in apps.values() if a.blank_serial)
            blanks: dict[str, BlankRow] = {}
            for chunk in _chunks(sorted(serials)):
                marks = ",".join("?" * len(chunk))
                for row in db.execute(
                    "SELECT blank_serial, state, version, machine, shift, application_id, attempt, reason"
                    f" FROM blanks WHERE blank_serial IN ({marks})", chunk,
                ):
                    blanks[row[0]] = BlankRow(*row[1:])
            decision = decide(requests, apps, blanks, now=now, shift=self.shifts.shift_of(now))
            self._write(decision, now)
        except sqlite3.Error as err:
            raise LedgerError(f"{self.path}: {err}") from err
        return decision.results

    def _write(self, decision: Decision, now: float) -> None:
        db = self._db
        if decision.apps:
            cursor = db.executemany(
                "UPDATE applications SET state = ?, version = ?, attempt = ?, machine = ?, blank_serial = ?,"
                " lease_expires_at = ?, updated_at = ? WHERE application_id = ? AND state = ? AND version = ?",
                [(new.state, new.version, new.attempt, new.machine, new.blank_serial, new.lease_expires_at, now,
                  app_id, old.state, old.version) for app_id, (old, new) in decision.apps.items()],
            )
            if cursor.rowcount != len(decision.apps):  # cannot happen under BEGIN IMMEDIATE: the optimistic guard
                raise StaleState("batch", "the states read at the start of the batch")
        inserts = [(serial, new) for serial, (old, new) in decision.blanks.items() if old is None]
        updates = [(serial, old, new) for serial, (old, new) in decision.blanks.items() if old is not None]
        if inserts:
            db.executemany(
                "INSERT INTO blanks (blank_serial, state, version, machine, shift, application_id, attempt, reason,"
                " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(serial, b.state, b.version, b.machine, b.shift, b.application_id, b.attempt, b.reason, now)
                 for serial, b in inserts],
            )
        if updates:
            cursor = db.executemany(
                "UPDATE blanks SET state = ?, version = ?, machine = ?, shift = ?, application_id = ?, attempt = ?,"
                " reason = ?, updated_at = ? WHERE blank_serial = ? AND version = ?",
                [(b.state, b.version, b.machine, b.shift, b.application_id, b.attempt, b.reason, now, serial,
                  old.version) for serial, old, b in updates],
            )
            if cursor.rowcount != len(updates):
                raise StaleState("batch", "the blanks read at the start of the batch")
        if decision.attempt_inserts:
            db.executemany(
                "INSERT INTO attempts (application_id, attempt, machine, leased_at, lease_expires_at)"
                " VALUES (?, ?, ?, ?, ?)", decision.attempt_inserts,
            )
        if decision.attempt_updates:
            db.executemany(
                "UPDATE attempts SET outcome = ?, reason = COALESCE(?, reason), blank_serial = COALESCE(?, blank_serial),"
                " ended_at = ?, page = COALESCE(?, page), issued_on = COALESCE(?, issued_on)"
                " WHERE application_id = ? AND attempt = ?", decision.attempt_updates,
            )
        if decision.events:
            db.executemany(
                "INSERT INTO events (at, station, kind, subject, seq, event, from_state, to_state, machine, attempt,"
                " blank_serial, blank_state, shift, reason, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                decision.events,
            )

    def _take_blank_for_test(self, serial: str, machine: str, now: float) -> str:
        row = self._db.execute("SELECT state FROM blanks WHERE blank_serial = ?", (serial,)).fetchone()
        state = BlankState.IN_STOCK if row is None else BlankState(row[0])
        next_blank_state(serial, state, BlankState.BOUND)
        next_blank_state(serial, BlankState.BOUND, BlankState.VOIDED)
        shift = self.shifts.shift_of(now)
        self._db.execute(
            "INSERT INTO blanks (blank_serial, state, version, machine, shift, application_id, attempt, reason,"
            " updated_at) VALUES (?, 'voided', 2, ?, ?, NULL, NULL, 'test', ?) ON CONFLICT (blank_serial) DO UPDATE"
            " SET state = 'voided', version = blanks.version + 2, machine = excluded.machine, shift = excluded.shift,"
            " application_id = NULL, attempt = NULL, reason = 'test', updated_at = excluded.updated_at",
            (serial, machine, shift, now),
        )
        return shift

    def record_test_print(self, blank_serial: str, *, machine: str, station: str, now: float) -> None:
        """A blank taken for a test print: taken and voided (reason ``test``) at once."""
        with self.transaction(), self._sql():
            shift = self._take_blank_for_test(blank_serial, machine, now)
            self._insert_event(now, station, "blank", blank_serial, None, "taken", None, "bound",
                               machine=machine, blank_serial=blank_serial, blank_state="bound", shift=shift)
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
        self, application_id: str, attempt: int, *, passed: bool, checks: Mapping[str, bool] | Iterable[Any],
        reasons: Sequence[str], station: str, now: float, mrz_read: Sequence[str] = (),
    ) -> Change:
        """A QA verdict: ``qa_passed`` or ``qa_flagged``, with its checks kept in ``qa_results``.

        ``checks``: each check's name, ok, measured value, detail and zone (see
        ``check_results``; a bare map name -> passed is accepted too);
        ``mrz_read``: the MRZ lines the QA worker read back off the page.
        """
        with self.transaction():
            change = self.apply(application_id, Event.QA_PASSED if passed else Event.QA_FLAGGED, attempt=attempt,
                                reason=None if passed else "; ".join(reasons)[:500], station=station, now=now)
            with self._sql():
                blank = self._db.execute("SELECT blank_serial FROM applications WHERE application_id = ?",
                                         (application_id,)).fetchone()[0]
                self._store_checks(application_id, attempt, blank, station, passed, checks, reasons, now, mrz_read)
        return change

    def _store_checks(self, application_id: str, attempt: int, blank: str | None, station: str, passed: bool,
                      checks: Mapping[str, bool] | Iterable[Any], reasons: Sequence[str], now: float,
                      mrz_read: Sequence[str] = ()) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO qa_results (application_id, attempt, blank_serial, station, passed,"
            " checks, reasons, at, mrz_read) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (application_id, attempt, blank, station, int(passed),
             json.dumps(check_results(checks), ensure_ascii=False, sort_keys=True),
             json.dumps(list(reasons), ensure_ascii=False), now,
             json.dumps(list(mrz_read)) if mrz_read else None),
        )

    def record_intake(
        self, application_id: str, outcome: str, *, checks: Mapping[str, bool] | Iterable[Any],
        reasons: Sequence[str], station: str, now: float,
    ) -> Change:
        """The before-printing verdict of an ``accepted`` application, kept in ``qa_results`` as attempt 0.

        ``outcome``: ``passed`` (``intake_passed``: queued for a printer),
        ``review`` (``intake_flagged``: a reviewer decides) or ``return``
        (``returned``: back to its acceptance point, the reasons in the event's
        reason and detail with the acceptance point).

        Raises
        ------
        InvalidField
            An unknown outcome, or ``return`` without a reason.
        UnknownApplication, IllegalTransition, LedgerError
            As ``apply`` (e.g. a verdict for an application no longer ``accepted``).
        """
        events = {"passed": Event.INTAKE_PASSED, "review": Event.INTAKE_FLAGGED, "return": Event.RETURNED}
        if outcome not in events:
            raise InvalidField("outcome", "must be passed, review or return", outcome)
        if outcome == "return" and not any(r.strip() for r in reasons):
            raise InvalidField("reasons", "are required to return an application to its acceptance point")
        with self.transaction():
            row = self.application(application_id)
            detail = None
            if outcome != "passed":
                failed = [c["name"] for c in check_results(checks) if not c["ok"]]
                detail = {"failed": failed, "reasons": list(reasons)}
                if outcome == "return":
                    detail["return_to"] = row["acceptance_point"]
            change = self.apply(application_id, events[outcome], station=station, now=now,
                                reason=None if outcome == "passed" else "; ".join(reasons)[:500], detail=detail)
            with self._sql():
                self._store_checks(application_id, 0, None, station, outcome == "passed", checks, reasons, now)
        return change

    def review_intake(self, application_id: str, *, approve: bool, reviewer: str, reason: str,
                      now: float) -> Change:
        """A reviewer's decision on an application held before printing (``intake_flagged``).

        Approved: queued for a printer. Returned: back to its acceptance point with the reason.
        """
        if not reason.strip() and not approve:
            raise InvalidField("reason", "is required to return an application")
        with self.transaction():
            change = self.apply(application_id, Event.APPROVED if approve else Event.RETURNED, reason=reason or None,
                                station=f"reviewer:{reviewer}", now=now)
            with self._sql():
                self._db.execute(
                    "INSERT INTO reviews (application_id, attempt, reviewer, decision, reason, at)"
                    " VALUES (?, 0, ?, ?, ?, ?)",
                    (application_id, reviewer, "approved" if approve else "returned", reason, now),
                )
        return change

    def accepted_ids(self) -> list[str]:
        """Applications waiting in ``accepted`` for the before-printing checks, oldest first."""
        with self._sql():
            return [r[0] for r in self._db.execute(
                "SELECT application_id FROM applications WHERE state = 'accepted' ORDER BY received_at,"
                " application_id").fetchall()]

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

    def in_flight(self, machine: str | None = None, *, with_reconcile: bool = False) -> list[InFlightJob]:
        """Jobs a machine holds (leased or printing; also needs_reconcile with ``with_reconcile``)."""
        states = "'leased', 'printing', 'needs_reconcile'" if with_reconcile else "'leased', 'printing'"
        sql = ("SELECT application_id, attempt, state, machine, blank_serial, lease_expires_at FROM applications"
               f" WHERE state IN ({states})")
        with self._sql():
            if machine is None:
                rows = self._db.execute(sql).fetchall()
            else:
                rows = self._db.execute(sql + " AND machine = ?", (machine,)).fetchall()
        return [InFlightJob(*r) for r in rows]

    _PRINTED = ("SELECT a.application_id, a.attempt, a.machine, a.blank_serial, a.record, t.page, t.ended_at,"
                " t.issued_on FROM applications a LEFT JOIN attempts t ON t.application_id = a.application_id"
                " AND t.attempt = a.attempt WHERE a.state = 'printed'")

    def printed_job(self, application_id: str) -> PrintedJob | None:
        """The printed document awaiting QA, or None when it is not (or no longer) in ``printed``."""
        with self._sql():
            row = self._db.execute(self._PRINTED + " AND a.application_id = ?", (application_id,)).fetchone()
        return None if row is None else PrintedJob(*row)

    def _by_ids(self, sql: str, ids: Iterable[str]) -> list[tuple]:
        rows: list[tuple] = []
        unique = list(dict.fromkeys(ids))
        with self._sql():
            for chunk in _chunks(unique):
                rows.extend(self._db.execute(sql.format(marks=",".join("?" * len(chunk))), chunk).fetchall())
        return rows

    def job_states(self, ids: Iterable[str]) -> dict[str, tuple[str, int, str | None]]:
        """Application id -> (state, attempt, machine), for the ids present."""
        return {r[0]: (r[1], r[2], r[3]) for r in self._by_ids(
            "SELECT application_id, state, attempt, machine FROM applications WHERE application_id IN ({marks})", ids)}

    def queued_jobs_of(self, ids: Iterable[str]) -> list[QueuedJob]:
        """The queue keys of those of ``ids`` that are queued."""
        return [QueuedJob(*r) for r in self._by_ids(
            "SELECT application_id, pool, priority, COALESCE(deadline_ordinal, 0), accepted_s FROM applications"
            " WHERE state = 'queued' AND application_id IN ({marks})", ids)]

    def queued_since(self, since_s: float) -> list[QueuedJob]:
        """Queued applications whose row changed at or after ``since_s`` (what other processes queued)."""
        with self._sql():
            rows = self._db.execute(
                "SELECT application_id, pool, priority, COALESCE(deadline_ordinal, 0), accepted_s FROM applications"
                " WHERE state = 'queued' AND updated_at >= ?", (since_s,)).fetchall()
        return [QueuedJob(*r) for r in rows]

    def printed_since(self, since_s: float) -> list[str]:
        """Ids of printed applications whose row changed at or after ``since_s``."""
        with self._sql():
            return [r[0] for r in self._db.execute(
                "SELECT application_id FROM applications WHERE state = 'printed' AND updated_at >= ?",
                (since_s,)).fetchall()]

    def last_event_id(self) -> int:
        with self._sql():
            return int(self._db.execute("SELECT COALESCE(MAX(event_id), 0) FROM events").fetchone()[0])

    def station_events(self, after_event_id: int = 0, *, names: Iterable[str] | None = None) -> list[dict[str, Any]]:
        """Station events (connections, machine pause/drain/resume from the panel...) after an event id, in order."""
        sql = ("SELECT event_id, at, station, event, machine, reason FROM events WHERE kind = 'station'"
               " AND event_id > ?")
        params: list[Any] = [after_event_id]
        if names is not None:
            names = list(names)
            sql += f" AND event IN ({','.join('?' * len(names))})"
            params += names
        with self._sql():
            cursor = self._db.execute(sql + " ORDER BY event_id", params)
            columns = [d[0] for d in cursor.description]
            return [dict(zip(columns, r)) for r in cursor.fetchall()]

    def records_of(self, ids: Iterable[str]) -> dict[str, str]:
        """Application id -> its record (JSON text)."""
        return dict(self._by_ids("SELECT application_id, record FROM applications WHERE application_id IN ({marks})",
                                 ids))

    def job_state(self, application_id: str) -> tuple[str, int, str | None] | None:
        """(state, attempt, machine) of an application, or None when absent: the cheap look-up of the hot path."""
        with self._sql():
            return self._db.execute(
                "SELECT state, attempt, machine FROM applications WHERE application_id = ?", (application_id,)
            ).fetchone()

    def printed_jobs(self, limit: int | None = None, *, exclude: Iterable[str] = ()) -> list[PrintedJob]:
        """Printed documents awaiting QA, oldest first, skipping ``exclude`` (already out for QA)."""
        excluded = set(exclude)
        out: list[PrintedJob] = []
        with self._sql():
            cursor = self._db.execute(self._PRINTED + " ORDER BY a.updated_at")
            for row in cursor:
                if row[0] in excluded:
                    continue
                out.append(PrintedJob(*row))
                if limit is not None and len(out) >= limit:
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

    def pragma(self, name: str) -> Any:
        """The value of a read-only PRAGMA (journal_mode, synchronous, ...)."""
        if not name.isidentifier():
            raise LedgerError(f"not a pragma name: {name!r}")
        with self._sql():
            return self._db.execute(f"PRAGMA {name}").fetchone()[0]

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        """Read-only SQL for reports and the audit (a write raises ``LedgerError``)."""
        with self._sql():
            if not sql.lstrip().upper().startswith(("SELECT", "WITH")):
                raise LedgerError("query() is for SELECT statements")
            return self._db.execute(sql, params).fetchall()
