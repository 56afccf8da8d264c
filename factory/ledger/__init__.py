"""The ledger: the only source of truth of the line.

Owns: the state machine of an application and the life of a blank
(``states``, pure), intake validation (``intake``, pure), the shift clock
(``shifts``), the SQLite store (``store``: WAL, synchronous=FULL, one
transition per savepoint, batched commits, an append-only event log) and the
audit (``audit``: blanks taken = good + spoiled + returned per machine and
shift; at most one issued document per application; replay of every
application's events through the state machine).

May import ``factory.errors``, ``factory.config``, ``factory.records``,
``factory.scheduler`` (deadlines and class ranks) and sqlite3 (``store`` only).
Never imports zmq: the pipeline moves messages, the ledger keeps the work.
"""

from factory.ledger.audit import AuditReport, Finding, audit_ledger, audit_rows
from factory.ledger.decide import Request, decide
from factory.ledger.intake import Admission, Rejection, canonical_json, prepare_intake, read_jsonl
from factory.ledger.shifts import ShiftClock, shift_clock
from factory.ledger.states import (
    BLANK_EFFECTS,
    BLANK_TRANSITIONS,
    HAS_DOCUMENT,
    IN_FLIGHT,
    TRANSITIONS,
    VOID_REASONS,
    BlankState,
    Event,
    JobState,
    allowed_events,
    next_blank_state,
    next_state,
    replay,
)
from factory.ledger.store import (
    Change,
    InFlightJob,
    IntakeResult,
    Ledger,
    PrintedJob,
    QueuedJob,
    UnknownApplication,
)

__all__ = [
    "JobState",
    "Event",
    "BlankState",
    "TRANSITIONS",
    "BLANK_EFFECTS",
    "BLANK_TRANSITIONS",
    "VOID_REASONS",
    "IN_FLIGHT",
    "HAS_DOCUMENT",
    "next_state",
    "allowed_events",
    "next_blank_state",
    "replay",
    "Admission",
    "Rejection",
    "read_jsonl",
    "prepare_intake",
    "canonical_json",
    "ShiftClock",
    "shift_clock",
    "Ledger",
    "Request",
    "decide",
    "Change",
    "IntakeResult",
    "QueuedJob",
    "InFlightJob",
    "PrintedJob",
    "UnknownApplication",
    "AuditReport",
    "Finding",
    "audit_ledger",
    "audit_rows",
]
