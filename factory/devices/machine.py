"""The simulated personalization machine's behaviour: states, blank stock, cycle, faults.

``PrinterMachine`` is the decision core of the simulator. It holds no
sockets, files or clock: every method takes ``now`` (device seconds) and the
randomness comes from the generator it was built with, so a seeded machine
driven by the same calls at the same times behaves the same way. The shell
(``factory.devices.simulator``) persists what it reports (``take_events``,
``take_prints``) and renders the pages.

Behaviour, after real machines (production-anchors.md, section 1):

- One document at a time, each taking a cycle drawn from ``cycle_s``; a queue
  of at most ``queue_limit`` accepted jobs waits behind it (device-side credit).
- A blank is taken from the magazine when the print starts (``started`` event);
  the print ends ``executed`` on that serial, or ``failed`` with the blank
  spoiled (jam, laser/ribbon fault).
- Faults come from the ``FaultModel``: per document, a jam or a laser/ribbon
  fault spoils the blank in the machine; after a document the cover may be
  opened or the machine may go offline for a while; and the magazine runs out.
  A fault holds the machine (state Fault) until ``clear_fault`` (or
  ``load_blanks`` for out-of-blanks), or by itself after ``auto_clear_s``.
- ``pause`` finishes the document in the machine (Pausing) and holds (Paused);
  ``drain`` takes no more jobs, finishes the queue (Stopping), then holds.
"""

from __future__ import annotations

import dataclasses
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np

from factory.devices.driver import (
    FAULTS,
    Acceptance,
    BlankLoad,
    DeviceEvent,
    DeviceStatus,
    JobRecord,
    MachineState,
    PrintJob,
)
from factory.errors import InvalidField

__all__ = [
    "Refusal",
    "FaultModel",
    "MachineSpec",
    "PrintTask",
    "PrinterMachine",
    "serial_prefix_of",
]

_SERIAL_PREFIX_LENGTH = 1


class Refusal(Exception):
    """Raised by an ``admit`` function: the job is refused with ``reason`` (one of ``REFUSALS``)."""

    def __init__(self, reason: str, detail: str = "") -> None:
        self.reason, self.detail = reason, detail
        super().__init__(f"{reason}: {detail}" if detail else reason)


def serial_prefix_of(serial: str) -> str:
    """The stock a blank belongs to: the leading letter of its serial (E, C, L, R, H)."""
    return serial[:_SERIAL_PREFIX_LENGTH]


@dataclass(frozen=True, slots=True, kw_only=True)
class FaultModel:
    """How often things go wrong; rates are probabilities per document."""

    jam_rate: float = 0.0
    """A blank jams in the transport: the job fails, the blank is spoiled, state Fault(jam)."""
    laser_ribbon_rate: float = 0.0
    """The laser or the ribbon fails mid-print: the job fails, the blank is spoiled."""
    cover_open_rate: float = 0.0
    """After a document, an operator opens a cover: Fault(cover_open), nothing spoiled."""
    offline_rate: float = 0.0
    """After a document, the machine goes offline for ``offline_s``; nothing spoiled."""
    offline_s: tuple[float, float] = (60.0, 300.0)
    auto_clear_s: float | None = None
    """Device seconds after which a fault clears by itself (None: an operator must call ``clear_fault``)."""

    def validate(self) -> None:
        errors = []
        for name in ("jam_rate", "laser_ribbon_rate", "cover_open_rate", "offline_rate"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                errors.append(InvalidField(f"faults.{name}", "must be a probability between 0 and 1", value))
        if self.jam_rate + self.laser_ribbon_rate > 1.0:
            errors.append(InvalidField("faults", "jam_rate + laser_ribbon_rate must not exceed 1"))
        low, high = self.offline_s
        if not 0 < low <= high:
            errors.append(InvalidField("faults.offline_s", "must be 0 < low <= high", self.offline_s))
        if self.auto_clear_s is not None and self.auto_clear_s <= 0:
            errors.append(InvalidField("faults.auto_clear_s", "must be positive", self.auto_clear_s))
        if errors:
            raise errors[0] if len(errors) == 1 else _group(errors)


def _group(errors: list[InvalidField]) -> Exception:
    from factory.errors import InvalidRecord

    return InvalidRecord(errors, where="simulator")


@dataclass(frozen=True, slots=True, kw_only=True)
class MachineSpec:
    device_id: str
    pool: str
    """booklet or card."""
    cycle_s: tuple[float, float] = (45.0, 60.0)
    """Print cycle per document, drawn uniformly (device seconds)."""
    queue_limit: int = 2
    faults: FaultModel = field(default_factory=FaultModel)
    defect_rates: Mapping[str, float] = field(default_factory=dict)
    """Per-document probability of each print defect (``factory.devices.defects.DEFECT_KINDS``)."""

    def validate(self) -> None:
        if self.pool not in ("booklet", "card"):
            raise InvalidField("pool", "must be booklet or card", self.pool)
        low, high = self.cycle_s
        if not 0 < low <= high:
            raise InvalidField("cycle_s", "must be 0 < low <= high", self.cycle_s)
        if not 1 <= self.queue_limit <= 100:
            raise InvalidField("queue_limit", "must be between 1 and 100", self.queue_limit)
        for kind, rate in self.defect_rates.items():
            if not 0.0 <= rate <= 1.0:
                raise InvalidField(f"defects.{kind}", "must be a probability between 0 and 1", rate)
        self.faults.validate()


@dataclass(frozen=True, slots=True, kw_only=True)
class PrintTask:
    """A print the machine started: the shell renders its page if ``outcome`` is ``executed``."""

    job_id: str
    attempt: int
    record: Mapping[str, Any]
    blank_serial: str
    date_of_issue: str
    outcome: str
    """``executed``, or the fault that will spoil the blank (``jam``, ``laser_ribbon``)."""
    defects: tuple[str, ...]
    """Defect kinds drawn for this document (only meaningful when executed)."""
    page: str
    """Where the capture of this page goes (empty: no captures)."""


@dataclass(slots=True)
class _Queued:
    job: PrintJob
    doc_type: str
    prefix: str
    application_id: str


@dataclass(slots=True)
class _Current:
    queued: _Queued
    serial: str
    started_at: float
    finishes_at: float
    outcome: str
    date_of_issue: str


class PrinterMachine:
    """One simulated machine; every method takes the device time ``now`` in seconds.

    Parameters
    ----------
    spec : MachineSpec
        Pool, cycle, queue limit, fault model, defect rates.
    rng : np.random.Generator
        The only source of randomness.
    admit : callable
        ``admit(job) -> (doc_type, serial_prefix, application_id)`` validates a
        job's record, raising ``Refusal`` (``invalid_job``, ``wrong_pool``) when
        the machine cannot take it. The shell supplies it (it needs the
        configuration and may load the images).
    today : callable
        ``today(now) -> "YYYY-MM-DD"``, the date of issue for jobs that give none.
    page_path : callable
        ``page_path(serial) -> str``: where the capture goes ("" for none).
    """

    def __init__(
        self,
        spec: MachineSpec,
        rng: np.random.Generator,
        *,
        admit: Callable[[PrintJob], tuple[str, str, str]],
        today: Callable[[float], str],
        page_path: Callable[[str], str] = lambda serial: "",
    ) -> None:
        spec.validate()
        self.spec = spec
        self._rng = rng
        self._admit = admit
        self._today = today
        self._page_path = page_path
        self._state = MachineState.IDLE
        self._fault = ""
        self._fault_until: float | None = None
        self._offline_until = 0.0
        self._hold_after = ""  # "pause" | "drain": where the machine goes once the current print ends
        self._draining = False
        self._queue: deque[_Queued] = deque()
        self._current: _Current | None = None
        self._magazine: dict[str, deque[str]] = {}
        self._known_serials: set[str] = set()
        self._records: dict[tuple[str, int], JobRecord] = {}
        self._attempts: dict[str, list[int]] = {}
        self._events: list[DeviceEvent] = []
        self._changed: dict[tuple[str, int], JobRecord] = {}
        self._blank_changes: list[tuple[str, str, str, int]] = []
        self._prints: list[PrintTask] = []
        self._seq = 0
        self._printed = 0
        self._spoiled = 0

    # ------------------------------------------------------------------ restoring

    def restore(
        self,
        *,
        now: float,
        last_seq: int,
        records: Iterable[JobRecord],
        in_stock: Sequence[str],
        known_serials: Iterable[str],
    ) -> None:
        """Load what the device's store kept across a restart.

        Jobs that were queued fail with ``device_restarted`` (no blank taken);
        a job that was printing fails with ``interrupted`` and its blank is
        spoiled, as a machine that lost power mid-print spoils the document.
        """
        self._seq = last_seq
        for serial in in_stock:
            self._magazine.setdefault(serial_prefix_of(serial), deque()).append(serial)
        self._known_serials.update(known_serials)
        self._known_serials.update(in_stock)
        for record in records:
            key = (record.job_id, record.attempt)
            self._records[key] = record
            self._attempts.setdefault(record.job_id, []).append(record.attempt)
            if record.state == "executed":
                self._printed += 1
            elif record.state == "failed" and record.spoiled:
                self._spoiled += 1
        for key, record in list(self._records.items()):
            if record.state == "queued":
                self._finish(record, now, state="failed", reason="device_restarted", spoiled=False)
            elif record.state == "printing":
                self._finish(record, now, state="failed", reason="interrupted", spoiled=True)
        for attempts in self._attempts.values():
            attempts.sort()

    # ------------------------------------------------------------------ reports to the shell

    def take_events(self) -> list[DeviceEvent]:
        """Events since the last call, oldest first (the shell appends them to its log)."""
        events, self._events = self._events, []
        return events

    def take_changes(self) -> tuple[list[JobRecord], list[tuple[str, str, str, int]]]:
        """Job records changed, and blank changes ``(serial, state, job_id, attempt)``, since the last call."""
        changed, self._changed = list(self._changed.values()), {}
        blanks, self._blank_changes = self._blank_changes, []
        return changed, blanks

    def take_prints(self) -> list[PrintTask]:
        """Prints started since the last call: the shell renders the executed ones."""
        prints, self._prints = self._prints, []
        return prints

    # ------------------------------------------------------------------ queries

    @property
    def state(self) -> MachineState:
        return self._state

    @property
    def last_seq(self) -> int:
        return self._seq

    def status(self, now: float) -> DeviceStatus:
        current = self._current
        return DeviceStatus(
            device_id=self.spec.device_id,
            pool=self.spec.pool,
            state=str(self._state),
            fault=self._fault,
            queued=len(self._queue),
            queue_limit=self.spec.queue_limit,
            printing=f"{current.queued.job.job_id}/{current.queued.job.attempt}" if current else "",
            blanks=MappingProxyType({p: len(q) for p, q in sorted(self._magazine.items()) if q}),
            printed=self._printed,
            spoiled=self._spoiled,
            last_seq=self._seq,
            at=now,
        )

    def job_log(self, job_id: str) -> tuple[JobRecord, ...]:
        return tuple(self._records[(job_id, a)] for a in self._attempts.get(job_id, ()))

    def next_wakeup(self) -> float | None:
        """The next device time at which ``advance`` has something to do, if any."""
        times = []
        if self._current is not None:
            times.append(self._current.finishes_at)
        if self._state is MachineState.OFFLINE:
            times.append(self._offline_until)
        if self._state is MachineState.FAULT and self._fault_until is not None:
            times.append(self._fault_until)
        return min(times) if times else None

    # ------------------------------------------------------------------ commands

    def submit(self, job: PrintJob, now: float) -> Acceptance:
        self.advance(now)
        key = (job.job_id, job.attempt)
        stored = self._records.get(key)
        if stored is not None:
            return Acceptance(job_id=job.job_id, attempt=job.attempt, accepted=True, duplicate=True, record=stored)

        def refuse(reason: str, detail: str = "") -> Acceptance:
            return Acceptance(job_id=job.job_id, attempt=job.attempt, accepted=False, reason=reason, detail=detail)

        if not job.job_id or job.attempt < 1:
            return refuse("invalid_job", "job_id must be set and attempt >= 1")
        for other in self._attempts.get(job.job_id, ()):
            if self._records[(job.job_id, other)].state in ("queued", "printing"):
                return refuse("attempt_in_progress", f"attempt {other} is {self._records[(job.job_id, other)].state}")
        if self._state is MachineState.OFFLINE:
            return refuse("offline", f"back in about {max(0.0, self._offline_until - now):.0f} s")
        if self._state is MachineState.FAULT:
            return refuse("fault", self._fault)
        if self._state in (MachineState.PAUSING, MachineState.PAUSED, MachineState.STOPPING):
            return refuse("not_ready", str(self._state).lower())
        if len(self._queue) >= self.spec.queue_limit:
            return refuse("queue_full", f"{len(self._queue)} queued")
        try:
            doc_type, prefix, application_id = self._admit(job)
        except Refusal as refusal:
            return refuse(refusal.reason, refusal.detail)
        if not self._magazine.get(prefix):
            return refuse("out_of_blanks", f"no {prefix} blanks in the magazine")
        record = JobRecord(job_id=job.job_id, attempt=job.attempt, state="queued", doc_type=doc_type,
                           application_id=application_id, date_of_issue=job.date_of_issue, accepted_at=now)
        self._store(record)
        self._attempts.setdefault(job.job_id, []).append(job.attempt)
        self._queue.append(_Queued(job, doc_type, prefix, application_id))
        self._emit(now, "accepted", job_id=job.job_id, attempt=job.attempt)
        self.advance(now)
        return Acceptance(job_id=job.job_id, attempt=job.attempt, accepted=True, record=self._records[key])

    def pause(self, now: float) -> DeviceStatus:
        self.advance(now)
        if self._state is MachineState.BUSY:
            self._hold_after = "pause"
            self._set_state(now, MachineState.PAUSING)
        elif self._state in (MachineState.IDLE, MachineState.STOPPING):
            if self._current is not None:
                self._hold_after = "pause"
                self._set_state(now, MachineState.PAUSING)
            else:
                self._draining = False
                self._set_state(now, MachineState.PAUSED)
        else:  # offline, fault, pausing, paused: remember to hold once back
            self._hold_after = "pause"
        return self.status(now)

    def resume(self, now: float) -> DeviceStatus:
        self.advance(now)
        self._hold_after = ""
        self._draining = False
        if self._state in (MachineState.PAUSING, MachineState.PAUSED, MachineState.STOPPING):
            self._set_state(now, MachineState.BUSY if self._current else MachineState.IDLE)
        self.advance(now)
        return self.status(now)

    def drain(self, now: float) -> DeviceStatus:
        self.advance(now)
        self._draining = True
        if self._state in (MachineState.IDLE, MachineState.BUSY):
            self._set_state(now, MachineState.STOPPING)
        elif self._state is MachineState.PAUSING:
            self._hold_after = ""
            self._set_state(now, MachineState.STOPPING)
        self.advance(now)
        return self.status(now)

    def clear_fault(self, now: float) -> DeviceStatus:
        self.advance(now)
        if self._state is MachineState.FAULT:
            if self._fault == "out_of_blanks" and self._queue and not self._magazine.get(self._queue[0].prefix):
                return self.status(now)  # nothing to clear until blanks are loaded
            self._leave_fault(now)
        self.advance(now)
        return self.status(now)

    def load_blanks(self, serials: Sequence[str], now: float) -> BlankLoad:
        self.advance(now)
        loaded, duplicates = [], []
        for serial in serials:
            if not isinstance(serial, str) or not serial.isalnum() or not serial.isascii() or len(serial) < 2:
                raise InvalidField("serials", "must be letters and digits, e.g. E10000001", serial)
            if serial in self._known_serials:
                duplicates.append(serial)
                continue
            self._known_serials.add(serial)
            self._magazine.setdefault(serial_prefix_of(serial), deque()).append(serial)
            self._blank_changes.append((serial, "in_stock", "", 0))
            loaded.append(serial)
        if loaded:
            self._emit(now, "blanks_loaded", reason=f"{len(loaded)} blanks")
        if self._state is MachineState.FAULT and self._fault == "out_of_blanks":
            if self._queue and self._magazine.get(self._queue[0].prefix):
                self._leave_fault(now)
        self.advance(now)
        return BlankLoad(loaded=len(loaded), duplicates=tuple(duplicates),
                         blanks=MappingProxyType({p: len(q) for p, q in sorted(self._magazine.items()) if q}))

    # ------------------------------------------------------------------ time

    def advance(self, now: float) -> None:
        """Bring the machine up to device time ``now``: finish prints, start the next, recover."""
        for _ in range(10_000):  # each pass moves at least one step; a bound guards a logic slip
            if not self._step(now):
                return
        raise RuntimeError("machine did not settle")  # pragma: no cover

    def _step(self, now: float) -> bool:
        if self._state is MachineState.OFFLINE:
            if now < self._offline_until:
                return False
            self._back_from_hold(self._offline_until)
            return True
        if self._state is MachineState.FAULT:
            if self._fault_until is not None and now >= self._fault_until:
                if self._fault == "out_of_blanks" and self._queue and not self._magazine.get(self._queue[0].prefix):
                    self._fault_until = None  # waiting for blanks: auto-clear cannot help
                    return False
                self._leave_fault(self._fault_until)
                return True
            return False
        current = self._current
        if current is not None:
            if now < current.finishes_at:
                return False
            self._complete(current)
            return True
        if self._state in (MachineState.PAUSED, MachineState.PAUSING):
            if self._state is MachineState.PAUSING:
                self._set_state(now, MachineState.PAUSED)
                return True
            return False
        if not self._queue:
            if self._state is MachineState.BUSY:
                self._set_state(now, MachineState.IDLE)
                return True
            if self._state is MachineState.STOPPING:
                self._draining = False
                self._set_state(now, MachineState.PAUSED)
                return True
            return False
        self._start(now)
        return True

    def _start(self, now: float) -> None:
        queued = self._queue[0]
        stock = self._magazine.get(queued.prefix)
        if not stock:
            self._enter_fault(now, "out_of_blanks")
            return
        self._queue.popleft()
        serial = stock.popleft()
        low, high = self.spec.cycle_s
        cycle = float(self._rng.uniform(low, high))
        draw = float(self._rng.random())
        faults = self.spec.faults
        if draw < faults.jam_rate:
            outcome, finishes = "jam", now + cycle * float(self._rng.uniform(0.2, 0.8))
        elif draw < faults.jam_rate + faults.laser_ribbon_rate:
            outcome, finishes = "laser_ribbon", now + cycle * float(self._rng.uniform(0.3, 0.9))
        else:
            outcome, finishes = "executed", now + cycle
        defects = tuple(kind for kind, rate in sorted(self.spec.defect_rates.items())
                        if rate > 0 and float(self._rng.random()) < rate)
        issue = queued.job.date_of_issue or self._today(now)
        self._current = _Current(queued, serial, now, finishes, outcome, issue)
        page = self._page_path(serial) if outcome == "executed" else ""
        record = dataclasses.replace(self._records[(queued.job.job_id, queued.job.attempt)], state="printing",
                                     blank_serial=serial, started_at=now, date_of_issue=issue, page=page)
        self._store(record)
        self._blank_changes.append((serial, "in_machine", queued.job.job_id, queued.job.attempt))
        if self._state in (MachineState.IDLE,):
            self._set_state(now, MachineState.BUSY)
        self._emit(now, "started", job_id=queued.job.job_id, attempt=queued.job.attempt, blank_serial=serial,
                   date_of_issue=issue)
        self._prints.append(PrintTask(job_id=queued.job.job_id, attempt=queued.job.attempt, record=queued.job.record,
                                      blank_serial=serial, date_of_issue=issue, outcome=outcome, defects=defects,
                                      page=page))

    def _complete(self, current: _Current) -> None:
        now = current.finishes_at
        self._current = None
        record = self._records[(current.queued.job.job_id, current.queued.job.attempt)]
        if current.outcome == "executed":
            self._finish(record, now, state="executed")
            faults = self.spec.faults
            draw = float(self._rng.random())
            if draw < faults.cover_open_rate:
                self._enter_fault(now, "cover_open")
            elif draw < faults.cover_open_rate + faults.offline_rate:
                low, high = faults.offline_s
                self._offline_until = now + float(self._rng.uniform(low, high))
                self._set_state(now, MachineState.OFFLINE, reason="offline")
            elif self._hold_after == "pause":
                self._hold_after = ""
                self._set_state(now, MachineState.PAUSED)
        else:
            self._finish(record, now, state="failed", reason=current.outcome, spoiled=True)
            self._enter_fault(now, current.outcome)

    # ------------------------------------------------------------------ helpers

    def _finish(self, record: JobRecord, now: float, *, state: str, reason: str = "", spoiled: bool = False) -> None:
        record = dataclasses.replace(record, state=state, reason=reason, spoiled=spoiled, finished_at=now,
                                     page=record.page if state == "executed" else "")
        self._store(record)
        if state == "executed":
            self._printed += 1
            self._blank_changes.append((record.blank_serial, "printed", record.job_id, record.attempt))
            self._emit(now, "executed", job_id=record.job_id, attempt=record.attempt,
                       blank_serial=record.blank_serial, page=record.page, date_of_issue=record.date_of_issue)
        else:
            if spoiled:
                self._spoiled += 1
                self._blank_changes.append((record.blank_serial, "spoiled", record.job_id, record.attempt))
            self._emit(now, "failed", job_id=record.job_id, attempt=record.attempt,
                       blank_serial=record.blank_serial if spoiled else "", spoiled=spoiled, reason=reason)

    def _enter_fault(self, now: float, fault: str) -> None:
        assert fault in FAULTS
        self._fault = fault
        auto = self.spec.faults.auto_clear_s
        self._fault_until = None if auto is None else now + auto
        self._set_state(now, MachineState.FAULT, reason=fault)

    def _leave_fault(self, now: float) -> None:
        self._fault = ""
        self._fault_until = None
        self._back_from_hold(now)

    def _back_from_hold(self, now: float) -> None:
        """Leave Fault or Offline for the state the operator asked for last."""
        if self._hold_after == "pause":
            self._hold_after = ""
            self._set_state(now, MachineState.PAUSED)
        elif self._draining:
            self._set_state(now, MachineState.STOPPING)
        else:
            self._set_state(now, MachineState.BUSY if self._queue else MachineState.IDLE)

    def _set_state(self, now: float, state: MachineState, *, reason: str = "") -> None:
        if state is self._state and not reason:
            return
        if state is not MachineState.FAULT:
            self._fault = ""
        self._state = state
        self._emit(now, "state", state=str(state), reason=reason)

    def _store(self, record: JobRecord) -> None:
        key = (record.job_id, record.attempt)
        self._records[key] = record
        self._changed[key] = record

    def _emit(self, now: float, kind: str, **values: Any) -> None:
        self._seq += 1
        self._events.append(DeviceEvent(seq=self._seq, kind=kind, at=now, **values))
