"""The printer driver interface: what a worker may ask of a personalization machine.

Commands are asynchronous, as in real personalization SDKs (the ixla XP25's
``valid`` then ``executed`` replies): ``submit`` answers at once whether the
machine *accepted* the job (or refused it, with the reason); what became of it
arrives later as events: ``started`` (the blank it took), then ``executed``
(a document is on that blank serial) or ``failed`` (the blank, if one was
taken, is spoiled). The device keeps a job log that survives a worker crash
and a device restart, so a worker that comes back asks ``job_log(job_id)``
instead of guessing.

Every job carries ``job_id`` and ``attempt``; submitting the same pair again
returns the stored outcome and never prints twice. A refusal is not stored as
an outcome: the same attempt may be submitted again once the machine is ready.

This module is pure: the ``PrinterDriver`` protocol, its plain-data messages,
and their conversion to and from msgpack-ready mappings. Implementations:
``factory.devices.client.SimulatorClient`` (the simulated printer over TCP).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol, TypeVar, runtime_checkable

from factory.errors import WireError

__all__ = [
    "DEVICE_PROTOCOL_VERSION",
    "MachineState",
    "FAULTS",
    "REFUSALS",
    "JOB_STATES",
    "EVENT_KINDS",
    "PrintJob",
    "Acceptance",
    "JobRecord",
    "DeviceEvent",
    "DeviceStatus",
    "BlankLoad",
    "PrinterDriver",
    "to_wire",
    "from_wire",
]

DEVICE_PROTOCOL_VERSION = 1
"""Version of the worker-device protocol (``docs/devices.md``), apart from the pipeline's wire."""


class MachineState(StrEnum):
    """The machine states of a personalization system (Entrust PB8500 operator's guide), plus Fault."""

    IDLE = "Idle"
    BUSY = "Busy"
    PAUSING = "Pausing"
    PAUSED = "Paused"
    STOPPING = "Stopping"
    OFFLINE = "Offline"
    FAULT = "Fault"


FAULTS = ("jam", "out_of_blanks", "laser_ribbon", "cover_open")
"""What a machine in state Fault reports as ``fault``."""

REFUSALS = (
    "not_ready",          # paused, pausing or stopping (detail says which)
    "offline",
    "fault",              # detail names the fault
    "out_of_blanks",      # no blank of the document's stock in the magazine
    "queue_full",         # the device-side queue holds queue_limit jobs already
    "wrong_pool",         # a card document on a booklet machine, or the reverse
    "invalid_job",        # the record does not validate, or its images cannot be read
    "attempt_in_progress",  # another attempt of the same job is queued or printing
)
"""Reasons a machine refuses a job."""

JOB_STATES = ("queued", "printing", "executed", "failed")
"""A job record's state: accepted and waiting, on the machine, done with a document, done without."""

EVENT_KINDS = ("accepted", "started", "executed", "failed", "state", "blanks_loaded")


@dataclass(frozen=True, slots=True, kw_only=True)
class PrintJob:
    job_id: str
    attempt: int
    record: Mapping[str, Any]
    """The application record, JSON form; the device binds it to the blank it takes."""
    date_of_issue: str = ""
    """ISO date to print as the date of issue; empty: the device's local date."""


@dataclass(frozen=True, slots=True, kw_only=True)
class JobRecord:
    """What the device knows of one attempt of a job: its entry in the device job log."""

    job_id: str
    attempt: int
    state: str
    """One of ``JOB_STATES``."""
    doc_type: str = ""
    application_id: str = ""
    blank_serial: str = ""
    """The blank taken (set from ``started`` on)."""
    spoiled: bool = False
    """True when the job failed after taking a blank: that serial is spoiled."""
    reason: str = ""
    """Why it failed (jam, laser_ribbon, interrupted, device_restarted, ...)."""
    page: str = ""
    """Path of the captured page image, when the device writes captures."""
    date_of_issue: str = ""
    accepted_at: float = 0.0
    """Device time (seconds) of each step."""
    started_at: float = 0.0
    finished_at: float = 0.0


@dataclass(frozen=True, slots=True, kw_only=True)
class Acceptance:
    """The first, immediate answer to ``submit``."""

    job_id: str
    attempt: int
    accepted: bool
    reason: str = ""
    """For a refusal: one of ``REFUSALS``."""
    detail: str = ""
    duplicate: bool = False
    """True when this job_id + attempt was accepted before: ``record`` is its stored outcome."""
    record: JobRecord | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class DeviceEvent:
    """One entry of the device's event stream; ``seq`` increases by one, from 1, forever."""

    seq: int
    kind: str
    """One of ``EVENT_KINDS``."""
    at: float
    """Device time in seconds (simulated time for the simulator)."""
    job_id: str = ""
    attempt: int = 0
    blank_serial: str = ""
    spoiled: bool = False
    reason: str = ""
    state: str = ""
    """For ``state`` events: the new machine state; ``reason`` holds the fault, if any."""
    page: str = ""
    date_of_issue: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class DeviceStatus:
    device_id: str
    pool: str
    """booklet or card: the blanks this machine prints on."""
    state: str
    """A ``MachineState`` value."""
    fault: str = ""
    """One of ``FAULTS`` in state Fault, else empty."""
    queued: int = 0
    queue_limit: int = 0
    printing: str = ""
    """``job_id/attempt`` on the machine now, or empty."""
    blanks: Mapping[str, int] = field(default_factory=dict)
    """Blanks in the magazine per serial prefix."""
    printed: int = 0
    spoiled: int = 0
    last_seq: int = 0
    """The newest event's ``seq``: ask ``events(after=last_seq)`` for what follows."""
    at: float = 0.0

    @property
    def blanks_left(self) -> int:
        return sum(self.blanks.values())

    @property
    def free_slots(self) -> int:
        """How many more jobs the machine would accept now (0 unless Idle or Busy)."""
        if self.state not in (MachineState.IDLE, MachineState.BUSY):
            return 0
        return max(0, self.queue_limit - self.queued)


@dataclass(frozen=True, slots=True, kw_only=True)
class BlankLoad:
    loaded: int
    """Serials added to the magazine."""
    duplicates: tuple[str, ...] = ()
    """Serials the device already knew (in stock, printed or spoiled): ignored."""
    blanks: Mapping[str, int] = field(default_factory=dict)


@runtime_checkable
class PrinterDriver(Protocol):
    """One personalization machine, as a worker drives it. Not thread-safe: one caller at a time."""

    device_id: str

    def submit(self, job: PrintJob) -> Acceptance:
        """Offer a job; accepted (queued on the device) or refused with the reason. Idempotent per attempt."""
        ...

    def events(self, after: int = 0, *, wait_s: float = 0.0, limit: int = 500) -> tuple[DeviceEvent, ...]:
        """Events with ``seq > after``, oldest first; waits up to ``wait_s`` for the first one."""
        ...

    def status(self) -> DeviceStatus: ...

    def job_log(self, job_id: str) -> tuple[JobRecord, ...]:
        """Every attempt of ``job_id`` the device accepted, oldest first; empty if it never did."""
        ...

    def pause(self) -> DeviceStatus:
        """Finish the document on the machine, then hold (Pausing, then Paused); queued jobs wait."""
        ...

    def resume(self) -> DeviceStatus: ...

    def drain(self) -> DeviceStatus:
        """Take no new jobs, finish the queued ones (Stopping), then hold (Paused)."""
        ...

    def clear_fault(self) -> DeviceStatus:
        """The operator's acknowledgement: clear a jam, close the cover, replace the ribbon."""
        ...

    def load_blanks(self, serials: Sequence[str]) -> BlankLoad:
        """Put blanks in the magazine; serials the device knew already are ignored (idempotent)."""
        ...

    def close(self) -> None: ...


# --------------------------------------------------------------------------- wire form

_T = TypeVar("_T")


def to_wire(message: Any) -> dict[str, Any]:
    """A message dataclass as a msgpack-ready mapping (nested records included)."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(message):
        value = getattr(message, f.name)
        if dataclasses.is_dataclass(value):
            value = to_wire(value)
        elif isinstance(value, Mapping):
            value = dict(value)
        elif isinstance(value, tuple):
            value = list(value)
        out[f.name] = value
    return out


_NESTED = {"record": JobRecord}


def _scalar(value: Any, type_name: str, path: str) -> Any:
    if type_name == "str" and isinstance(value, str):
        return value
    if type_name == "bool" and isinstance(value, bool):
        return value
    if type_name == "int" and isinstance(value, int) and not isinstance(value, bool):
        return value
    if type_name == "float" and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    raise WireError(path, f"must be {type_name}", value)


def from_wire(cls: type[_T], data: Any, *, where: str = "body") -> _T:
    """Rebuild a message of ``cls`` from its mapping; raises ``WireError(field, reason)``.

    Unknown keys are ignored (a newer peer may add optional fields); missing
    required ones and wrong types are errors.
    """
    if not isinstance(data, Mapping):
        raise WireError(where, "must be a map", type(data).__name__)
    values: dict[str, Any] = {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        path = f"{where}.{f.name}"
        if f.name not in data:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise WireError(path, "is required")
            continue
        value = data[f.name]
        if f.name == "record" and cls is PrintJob:
            if not isinstance(value, Mapping):
                raise WireError(path, "must be a map", type(value).__name__)
        elif f.name in _NESTED:
            value = None if value is None else from_wire(_NESTED[f.name], value, where=path)
        elif f.name == "blanks":
            if not isinstance(value, Mapping):
                raise WireError(path, "must be a map", type(value).__name__)
            value = {str(k): _scalar(v, "int", f"{path}.{k}") for k, v in value.items()}
        elif f.name == "duplicates":
            if not isinstance(value, list | tuple):
                raise WireError(path, "must be a list", type(value).__name__)
            value = tuple(_scalar(v, "str", f"{path}[]") for v in value)
        else:
            value = _scalar(value, str(f.type), path)
        values[f.name] = value
    return cls(**values)
