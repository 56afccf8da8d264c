"""What a printer's news means for the ledger: (state in the ledger, outcome) -> events, pure.

A worker reports what its device did (``accepted``, ``refused``, ``executed``,
``failed``) and, after a restart, what the device's job log says
(``not_accepted``, ``pending``, ``printed``, ``failed``, ``unknown``). The
controller turns each report into the events to apply to the application in
the state the ledger holds, so late, repeated or contradictory news is
harmless: news that does not fit the state gives no event (and is logged).

- never received (``not_accepted``) while leased: back to the queue; while
  ``printing`` it contradicts the device's acceptance, so an operator decides.
- ``unknown``: ``needs_reconcile``; nothing is retried blindly.
- a failed print spoils its blank and the job is requeued on a new one.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from factory.ledger.states import Event, JobState

__all__ = ["OUTCOMES", "DEVICE_OUTCOMES", "events_for"]

E, S = Event, JobState

DEVICE_OUTCOMES = ("accepted", "refused", "executed", "failed")
"""What a live worker reports as its device answers."""

OUTCOMES: Mapping[tuple[str, str], tuple[Event, ...]] = MappingProxyType({
    # live device news
    (S.LEASED, "accepted"): (E.PRINT_STARTED,),
    (S.LEASED, "refused"): (E.REFUSED,),
    (S.LEASED, "executed"): (E.PRINT_STARTED, E.DEVICE_EXECUTED),
    (S.PRINTING, "executed"): (E.DEVICE_EXECUTED,),
    (S.NEEDS_RECONCILE, "executed"): (E.RECONCILED_PRINTED,),
    (S.LEASED, "failed"): (E.PRINT_STARTED, E.DEVICE_FAILED, E.REQUEUED),
    (S.PRINTING, "failed"): (E.DEVICE_FAILED, E.REQUEUED),
    (S.NEEDS_RECONCILE, "failed"): (E.RECONCILED_SPOILED, E.REQUEUED),
    # the device's job log, read on reconnect
    (S.LEASED, "not_accepted"): (E.NOT_ACCEPTED,),
    (S.PRINTING, "not_accepted"): (E.DEVICE_UNKNOWN,),
    (S.NEEDS_RECONCILE, "not_accepted"): (E.RECONCILED_NOT_PRINTED,),
    (S.LEASED, "pending"): (E.PRINT_STARTED,),
    (S.LEASED, "printed"): (E.PRINT_STARTED, E.DEVICE_EXECUTED),
    (S.PRINTING, "printed"): (E.DEVICE_EXECUTED,),
    (S.NEEDS_RECONCILE, "printed"): (E.RECONCILED_PRINTED,),
    (S.LEASED, "unknown"): (E.DEVICE_UNKNOWN,),
    (S.PRINTING, "unknown"): (E.DEVICE_UNKNOWN,),
})
"""(ledger state, reported outcome) -> events to apply in order; absent pairs change nothing."""


def events_for(state: str, outcome: str) -> tuple[Event, ...]:
    """Events that a report ``outcome`` causes for a job in ``state`` (empty: nothing to do)."""
    return OUTCOMES.get((state, outcome), ())
