"""The simulated device's own durable memory: its job log, event log and blank stock (SQLite).

A real personalization machine keeps its job database on its own disk; the
simulator keeps this file in its state directory, so the job log survives a
worker crash and a restart of the simulator itself. Every change the machine
reports is written in one transaction (``synchronous=FULL``, WAL) before the
device answers or publishes it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path

from factory.devices.driver import DeviceEvent, JobRecord

__all__ = ["DeviceStore"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY,
    at REAL NOT NULL,
    kind TEXT NOT NULL,
    job_id TEXT NOT NULL DEFAULT '',
    attempt INTEGER NOT NULL DEFAULT 0,
    blank_serial TEXT NOT NULL DEFAULT '',
    spoiled INTEGER NOT NULL DEFAULT 0,
    reason TEXT NOT NULL DEFAULT '',
    state TEXT NOT NULL DEFAULT '',
    page TEXT NOT NULL DEFAULT '',
    date_of_issue TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS jobs (
    job_id TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    state TEXT NOT NULL,
    doc_type TEXT NOT NULL,
    application_id TEXT NOT NULL,
    blank_serial TEXT NOT NULL,
    spoiled INTEGER NOT NULL,
    reason TEXT NOT NULL,
    page TEXT NOT NULL,
    date_of_issue TEXT NOT NULL,
    accepted_at REAL NOT NULL,
    started_at REAL NOT NULL,
    finished_at REAL NOT NULL,
    PRIMARY KEY (job_id, attempt)
);
CREATE TABLE IF NOT EXISTS blanks (
    serial TEXT PRIMARY KEY,
    state TEXT NOT NULL,          -- in_stock, in_machine, printed, spoiled
    job_id TEXT NOT NULL DEFAULT '',
    attempt INTEGER NOT NULL DEFAULT 0,
    loaded_order INTEGER NOT NULL
);
CREATE TRIGGER IF NOT EXISTS events_append_only_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'the device event log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS events_append_only_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'the device event log is append-only'); END;
"""

_JOB_COLUMNS = ("job_id", "attempt", "state", "doc_type", "application_id", "blank_serial", "spoiled", "reason",
                "page", "date_of_issue", "accepted_at", "started_at", "finished_at")
_EVENT_COLUMNS = ("seq", "at", "kind", "job_id", "attempt", "blank_serial", "spoiled", "reason", "state", "page",
                  "date_of_issue")


class DeviceStore:
    """The device's SQLite file; one writer (the simulator process)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        # One process owns the file; it may be built in one thread and served from another.
        self._db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)
        self._loaded_order = int(self._db.execute("SELECT COALESCE(MAX(loaded_order), 0) FROM blanks").fetchone()[0])

    def close(self) -> None:
        self._db.close()

    # ------------------------------------------------------------------ reading

    def load(self) -> tuple[list[JobRecord], int, float, list[str], list[str]]:
        """(job records, last event seq, last device time, serials in stock in load order, every known serial)."""
        records = [self._record(row) for row in self._db.execute(
            f"SELECT {', '.join(_JOB_COLUMNS)} FROM jobs ORDER BY accepted_at, job_id, attempt")]
        last_seq, last_at = self._db.execute("SELECT COALESCE(MAX(seq), 0), COALESCE(MAX(at), 0) FROM events").fetchone()
        in_stock = [r[0] for r in self._db.execute(
            "SELECT serial FROM blanks WHERE state = 'in_stock' ORDER BY loaded_order")]
        known = [r[0] for r in self._db.execute("SELECT serial FROM blanks")]
        return records, int(last_seq), float(last_at), in_stock, known

    def events_after(self, after: int, limit: int) -> list[DeviceEvent]:
        rows = self._db.execute(
            f"SELECT {', '.join(_EVENT_COLUMNS)} FROM events WHERE seq > ? ORDER BY seq LIMIT ?", (after, limit))
        return [DeviceEvent(**dict(zip(_EVENT_COLUMNS, row), spoiled=bool(row[6]))) for row in rows]

    def blank_states(self) -> dict[str, str]:
        return dict(self._db.execute("SELECT serial, state FROM blanks"))

    @staticmethod
    def _record(row: Sequence) -> JobRecord:
        values = dict(zip(_JOB_COLUMNS, row))
        values["spoiled"] = bool(values["spoiled"])
        return JobRecord(**values)

    # ------------------------------------------------------------------ writing

    def append(
        self,
        events: Iterable[DeviceEvent],
        records: Iterable[JobRecord],
        blanks: Iterable[tuple[str, str, str, int]],
    ) -> None:
        """Write one batch of the machine's reports atomically."""
        events, records, blanks = list(events), list(records), list(blanks)
        if not (events or records or blanks):
            return
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            db.executemany(
                f"INSERT INTO events ({', '.join(_EVENT_COLUMNS)}) VALUES ({', '.join('?' * len(_EVENT_COLUMNS))})",
                [tuple(int(getattr(e, c)) if c == "spoiled" else getattr(e, c) for c in _EVENT_COLUMNS) for e in events])
            db.executemany(
                f"INSERT OR REPLACE INTO jobs ({', '.join(_JOB_COLUMNS)}) "
                f"VALUES ({', '.join('?' * len(_JOB_COLUMNS))})",
                [tuple(int(getattr(r, c)) if c == "spoiled" else getattr(r, c) for c in _JOB_COLUMNS) for r in records])
            for serial, state, job_id, attempt in blanks:
                if state == "in_stock":
                    self._loaded_order += 1
                    db.execute("INSERT OR IGNORE INTO blanks (serial, state, job_id, attempt, loaded_order) "
                               "VALUES (?, ?, ?, ?, ?)", (serial, state, job_id, attempt, self._loaded_order))
                else:
                    db.execute("UPDATE blanks SET state = ?, job_id = ?, attempt = ? WHERE serial = ?",
                               (state, job_id, attempt, serial))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
