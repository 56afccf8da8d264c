"""The one state machine of an application, and the life of a blank: transition tables, pure.

Every state change anywhere (store, pipeline, panel) is asked of this table.
An application moves

    accepted → queued → leased(machine, attempt, lease expiry) → printing(blank serial)
             → printed → qa_passed | qa_flagged → approved | rejected → dispatched

When the controller runs intake QA (``factory serve --intake-qa``) an
application waits in ``accepted`` for the before-printing checks:
``intake_passed`` queues it, ``returned`` sends it back to its acceptance
point with the reasons (``returned_to_acceptance``, no blank spent), and
``intake_flagged`` (a signature that matches a look-alike of the name) holds
it for a reviewer, who approves it (queued) or returns it.

with the detours a production line needs: a device that refuses or never
received the job sends it back to the queue; a jam spoils the blank and the
job is requeued on a new one (attempt + 1); a job whose device *may* have
executed it while its worker was gone goes to ``needs_reconcile`` and is
never retried blindly; a rejected document is reprinted on a new blank.

A blank serial is ``in_stock`` until a device takes it (``bound`` to one
application attempt); it then ends ``issued`` (a document was printed on it),
``voided`` with a reason (jam, qa_reject, test, ...) or ``returned`` to stock
(taken but never printed on; it may be taken again). An issued blank is
voided when its document is rejected.

Why ``lease_expired`` leads to ``needs_reconcile`` and not back to the queue
(STYLE.md's first sketch had ``queued``): the controller cannot tell whether a
worker that vanished had already handed the job to its device. Returning it to
the queue could print it twice; only the device's job log, read by the
restarted worker, can say "never received" (``not_accepted`` → queued).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType

from factory.errors import IllegalTransition

__all__ = [
    "JobState",
    "Event",
    "BlankState",
    "VOID_REASONS",
    "TRANSITIONS",
    "BLANK_EFFECTS",
    "BLANK_TRANSITIONS",
    "IN_FLIGHT",
    "HAS_DOCUMENT",
    "TERMINAL",
    "next_state",
    "allowed_events",
    "next_blank_state",
    "replay",
]


class JobState(StrEnum):
    """States of an application (past participles)."""

    ACCEPTED = "accepted"
    QUEUED = "queued"
    LEASED = "leased"
    PRINTING = "printing"
    PRINTED = "printed"
    SPOILED = "spoiled"
    NEEDS_RECONCILE = "needs_reconcile"
    QA_PASSED = "qa_passed"
    QA_FLAGGED = "qa_flagged"
    APPROVED = "approved"
    REJECTED = "rejected"
    DISPATCHED = "dispatched"
    RETURNED_TO_ACCEPTANCE = "returned_to_acceptance"
    INTAKE_FLAGGED = "intake_flagged"
    """Held before printing for a reviewer (a look-alike signature)."""


class Event(StrEnum):
    """What happened to an application; each moves it along one row of ``TRANSITIONS``."""

    RECEIVED = "received"
    """Intake stored the record: creates the application in ``accepted`` (no table row: there is no before)."""
    VALIDATED = "validated"
    """Intake stored the record and computed its deadline."""
    RETURNED = "returned"
    """Sent back to the acceptance point before printing (a pre-print check failed), with the reasons."""
    INTAKE_PASSED = "intake_passed"
    """The before-printing checks passed: fit to print."""
    INTAKE_FLAGGED = "intake_flagged"
    """The before-printing checks want a reviewer (a signature matches a look-alike of the name)."""
    LEASED = "leased"
    """The controller committed a dispatch to a machine (attempt + 1)."""
    REFUSED = "refused"
    """The device refused the job before taking a blank (out of blanks, offline, not ready)."""
    NOT_ACCEPTED = "not_accepted"
    """The device never received the job (its job log says so, or the offer could not be delivered)."""
    PRINT_STARTED = "print_started"
    """The device accepted the job; the blank it took may be named now or at the end."""
    LEASE_EXPIRED = "lease_expired"
    """The worker vanished and did not come back to reconcile within the lease."""
    DEVICE_UNKNOWN = "device_unknown"
    """The device's job log cannot say what became of the job (log lost, device unreachable)."""
    DEVICE_EXECUTED = "device_executed"
    DEVICE_FAILED = "device_failed"
    RECONCILED_PRINTED = "reconciled_printed"
    RECONCILED_SPOILED = "reconciled_spoiled"
    RECONCILED_NOT_PRINTED = "reconciled_not_printed"
    REQUEUED = "requeued"
    QA_PASSED = "qa_passed"
    QA_FLAGGED = "qa_flagged"
    APPROVED = "approved"
    REJECTED = "rejected"
    DISPATCHED = "dispatched"


class BlankState(StrEnum):
    IN_STOCK = "in_stock"
    BOUND = "bound"
    ISSUED = "issued"
    VOIDED = "voided"
    RETURNED = "returned"


VOID_REASONS = ("jam", "device_fault", "qa_reject", "test", "damaged", "operator")
"""Reasons a blank may be voided with (the audit refuses any other)."""

S, E = JobState, Event

TRANSITIONS: Mapping[tuple[JobState, Event], JobState] = MappingProxyType({
    (S.ACCEPTED, E.VALIDATED): S.QUEUED,
    (S.ACCEPTED, E.RETURNED): S.RETURNED_TO_ACCEPTANCE,
    (S.ACCEPTED, E.INTAKE_PASSED): S.QUEUED,
    (S.ACCEPTED, E.INTAKE_FLAGGED): S.INTAKE_FLAGGED,
    (S.INTAKE_FLAGGED, E.APPROVED): S.QUEUED,
    (S.INTAKE_FLAGGED, E.RETURNED): S.RETURNED_TO_ACCEPTANCE,
    (S.QUEUED, E.RETURNED): S.RETURNED_TO_ACCEPTANCE,
    (S.QUEUED, E.LEASED): S.LEASED,
    (S.LEASED, E.REFUSED): S.QUEUED,
    (S.LEASED, E.NOT_ACCEPTED): S.QUEUED,
    (S.LEASED, E.PRINT_STARTED): S.PRINTING,
    (S.LEASED, E.LEASE_EXPIRED): S.NEEDS_RECONCILE,
    (S.PRINTING, E.DEVICE_EXECUTED): S.PRINTED,
    (S.PRINTING, E.DEVICE_FAILED): S.SPOILED,
    (S.PRINTING, E.LEASE_EXPIRED): S.NEEDS_RECONCILE,
    (S.LEASED, E.DEVICE_UNKNOWN): S.NEEDS_RECONCILE,
    (S.PRINTING, E.DEVICE_UNKNOWN): S.NEEDS_RECONCILE,
    (S.PRINTING, E.RECONCILED_NOT_PRINTED): S.QUEUED,
    (S.NEEDS_RECONCILE, E.RECONCILED_PRINTED): S.PRINTED,
    (S.NEEDS_RECONCILE, E.RECONCILED_SPOILED): S.SPOILED,
    (S.NEEDS_RECONCILE, E.RECONCILED_NOT_PRINTED): S.QUEUED,
    (S.SPOILED, E.REQUEUED): S.QUEUED,
    (S.PRINTED, E.QA_PASSED): S.QA_PASSED,
    (S.PRINTED, E.QA_FLAGGED): S.QA_FLAGGED,
    (S.QA_FLAGGED, E.APPROVED): S.APPROVED,
    (S.QA_FLAGGED, E.REJECTED): S.REJECTED,
    (S.REJECTED, E.REQUEUED): S.QUEUED,
    (S.QA_PASSED, E.DISPATCHED): S.DISPATCHED,
    (S.APPROVED, E.DISPATCHED): S.DISPATCHED,
})
"""(state, event) -> next state: every allowed transition, and only those."""

B = BlankState

BLANK_EFFECTS: Mapping[Event, BlankState] = MappingProxyType({
    E.PRINT_STARTED: B.BOUND,
    E.DEVICE_EXECUTED: B.ISSUED,
    E.DEVICE_FAILED: B.VOIDED,
    E.RECONCILED_PRINTED: B.ISSUED,
    E.RECONCILED_SPOILED: B.VOIDED,
    E.RECONCILED_NOT_PRINTED: B.RETURNED,
    E.REJECTED: B.VOIDED,
})
"""Event -> the state the application's current blank moves to (when it has one)."""

BLANK_TRANSITIONS: Mapping[BlankState, frozenset[BlankState]] = MappingProxyType({
    B.IN_STOCK: frozenset({B.BOUND, B.VOIDED}),
    B.RETURNED: frozenset({B.BOUND, B.VOIDED}),
    B.BOUND: frozenset({B.ISSUED, B.VOIDED, B.RETURNED}),
    B.ISSUED: frozenset({B.VOIDED}),
    B.VOIDED: frozenset(),
})
"""Blank state -> the states it may move to."""

IN_FLIGHT = frozenset({S.LEASED, S.PRINTING})
"""States in which a machine holds the job."""
HAS_DOCUMENT = frozenset({S.PRINTED, S.QA_PASSED, S.QA_FLAGGED, S.APPROVED, S.DISPATCHED})
"""States in which exactly one issued blank carries the application's document."""
TERMINAL = frozenset({S.DISPATCHED, S.RETURNED_TO_ACCEPTANCE})


def next_state(state: str, event: str, *, job_id: str = "") -> JobState:
    """The state after ``event`` in ``state``.

    Raises
    ------
    IllegalTransition
        When the table has no such row (also for unknown state or event names).
    """
    # StrEnum members hash and compare as their values: plain strings look up directly.
    to = TRANSITIONS.get((state, event))
    if to is None:
        raise IllegalTransition(job_id, str(state), str(event))
    return to


def allowed_events(state: str) -> tuple[Event, ...]:
    """Events the table allows in ``state`` (for panels and error messages)."""
    return tuple(e for (s, e) in TRANSITIONS if s == state)


def next_blank_state(serial: str, state: str, to: str) -> BlankState:
    """``to`` when a blank in ``state`` may move there; raises ``IllegalTransition`` otherwise."""
    try:
        current, target = BlankState(state), BlankState(to)
    except ValueError:
        raise IllegalTransition(serial, str(state), f"blank -> {to}") from None
    if target not in BLANK_TRANSITIONS[current]:
        raise IllegalTransition(serial, current.value, f"blank -> {target.value}")
    return target


def replay(events: list[str], *, job_id: str = "", start: str = JobState.ACCEPTED) -> JobState:
    """The state reached by applying ``events`` in order from ``start`` (the audit's check)."""
    state = JobState(start)
    for event in events:
        state = next_state(state, event, job_id=job_id)
    return state
