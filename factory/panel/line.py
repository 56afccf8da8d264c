"""What the panel asks of the running line: the ``LineControl`` protocol and the values it returns.

The controller (``factory serve``) implements ``LineControl``; the panel only
calls it. Every method is called from the panel's request threads, so an
implementation must be safe to call from several threads at once. Methods
that change something take ``by``, the logged-in user's name, and record the
change in the ledger's event log under that name.

Reviewers' decisions do not go through here: they are ledger transitions
(``Ledger.review``), which the panel applies itself.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

__all__ = [
    "MACHINE_STATES",
    "MachineStatus",
    "GreenPlacement",
    "PoolStock",
    "LineControl",
]

MACHINE_STATES = ("idle", "busy", "draining", "paused", "fault", "offline")
"""What the line screen shows per machine: the Entrust PB8500's Idle, Busy, Pausing
(here ``draining``: finishing its document, taking no more), Paused and Offline, plus
``fault`` with the device's fault text. A subset of ``factory.metrics.MACHINE_STATES``."""


@dataclass(frozen=True, slots=True, kw_only=True)
class MachineStatus:
    """One print machine as the line screen shows it."""

    id: str
    pool: str
    state: str
    """One of ``MACHINE_STATES``."""
    rated_per_hour: float
    """Nameplate documents per hour."""
    documents_per_hour: float = 0.0
    """Documents printed in the last hour."""
    current_job: str | None = None
    """Application id the machine holds (leased or printing)."""
    fault: str = ""
    """The device's fault text when ``state`` is ``fault``."""
    blanks_left: int | None = None
    """Blanks in the machine's hopper; None when the device does not say."""
    changed_by: str = ""
    """Who last paused, drained or resumed it."""

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "pool": self.pool, "state": self.state, "rated_per_hour": self.rated_per_hour,
            "documents_per_hour": round(self.documents_per_hour, 1), "current_job": self.current_job,
            "fault": self.fault, "blanks_left": self.blanks_left, "changed_by": self.changed_by,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class GreenPlacement:
    """Where and when an admitted green-channel application prints, and who becomes late."""

    application_id: str
    pool: str
    machine: str | None
    """The machine that prints it; None when no machine of its pool is up today."""
    starts_at: dt.datetime | None
    """Local time printing starts."""
    wait_s: float | None
    """Seconds from admission to the start (at most one print cycle when a machine is free)."""
    queue_position: int
    """Its place in its pool's print order: 0 is next."""
    late_before: int
    late_after: int
    newly_late: tuple[str, ...] = ()
    """Applications that the insertion pushes past their deadlines (none when the demand-bound test holds)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "application_id": self.application_id, "pool": self.pool, "machine": self.machine,
            "starts_at": self.starts_at.isoformat(timespec="seconds") if self.starts_at else None,
            "wait_s": None if self.wait_s is None else round(self.wait_s, 1),
            "queue_position": self.queue_position, "late_before": self.late_before,
            "late_after": self.late_after, "newly_late": list(self.newly_late),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class PoolStock:
    """Blanks of one pool: in the store room and in the machines, against what a day takes."""

    pool: str
    in_store: int
    in_machines: int
    needed_per_day: float
    """Blanks a working day of production takes at the current shifts."""

    @property
    def total(self) -> int:
        return self.in_store + self.in_machines

    @property
    def days_of_cover(self) -> float | None:
        return None if self.needed_per_day <= 0 else self.total / self.needed_per_day

    def to_json(self) -> dict[str, Any]:
        cover = self.days_of_cover
        return {"pool": self.pool, "in_store": self.in_store, "in_machines": self.in_machines, "total": self.total,
                "needed_per_day": round(self.needed_per_day, 1),
                "days_of_cover": None if cover is None else round(cover, 1)}


@runtime_checkable
class LineControl(Protocol):
    """The running line, as the panel steers it. Thread-safe; ``by`` is the acting user's name."""

    def machines(self) -> Sequence[MachineStatus]:
        """Every configured machine, in configuration order."""
        ...

    def pause(self, machine_id: str, by: str) -> MachineStatus:
        """Stop taking jobs; the document under way finishes (printing is never interrupted)."""
        ...

    def drain(self, machine_id: str, by: str) -> MachineStatus:
        """Finish the current job, take no more (shown as ``draining`` until it is done, then ``paused``)."""
        ...

    def resume(self, machine_id: str, by: str) -> MachineStatus:
        """Take jobs again."""
        ...

    def submit_green(self, record: Mapping[str, Any], by: str) -> GreenPlacement:
        """Admit an emergency application: validated like intake (``InvalidRecord`` names every bad
        field and nothing is stored), stored in the ledger, placed first in its pool."""
        ...

    def plan(self, peak_shifts: bool) -> Mapping[str, Any]:
        """The capacity plan of the current queue with normal or peak shifts
        (``factory.panel.planning.plan_report``'s JSON form)."""
        ...

    def peak_shifts(self) -> bool:
        """Whether the line runs the seasons' peak shift lengths now."""
        ...

    def set_peak_shifts(self, on: bool, by: str) -> None:
        """Switch peak-season shifts on or off (a supervisor's decision, recorded with ``by``)."""
        ...

    def stock(self) -> Sequence[PoolStock]:
        """Blank stock per pool."""
        ...

