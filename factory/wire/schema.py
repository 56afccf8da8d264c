"""Every message of the pipeline: one frozen dataclass per kind, and the protocol version.

A frame is a msgpack map ``{v, kind, msg_id, sent_at, body}`` (``docs/wire.md``);
``body`` holds the fields of the kind's dataclass. Adding an optional field
with a default keeps ``WIRE_VERSION``; renaming, removing or re-meaning one
bumps it and adds an upgrade to ``upgrade.py``.

Who sends what:

=====================  ====================  ==============================================
kind                   direction             meaning
=====================  ====================  ==============================================
hello                  station → controller  I am this station (role, id, slots); first message
welcome                controller → station  registered; the heartbeat interval and liveness
refused                controller → station  not registered (unknown machine, wrong key) ; stop
reregister             controller → station  I do not know you (I restarted): say hello again
heartbeat              both                  I am alive (stations add their device state)
credit                 station → controller  n more free slots (jobs, or QA batches)
job_offer              controller → printer  print this (job id, attempt, record); committed first
job_accepted           printer → controller  the device accepted it (and took this blank)
job_refused            printer → controller  the device refused it before taking a blank
job_done               printer → controller  executed or failed, with the blank serial
reconcile              controller → printer  these jobs are yours in the ledger: what became of them?
reconcile_report       printer → controller  the device's job log says ...
qa_batch               controller → QA       check these printed documents
qa_verdicts            QA → controller       one verdict per document of a batch
intake_batch           controller → QA       check these applications before printing (photo, signature)
intake_verdicts        QA → controller       one intake verdict per application: passed, review or return
intake                 client → controller   store these application records
intake_reply           controller → client   what was stored, and why the rest was not
control                controller → printer  pause, resume or drain the machine
=====================  ====================  ==============================================
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

__all__ = [
    "WIRE_VERSION",
    "ROLES",
    "RECONCILE_OUTCOMES",
    "CONTROL_ACTIONS",
    "Message",
    "Hello",
    "Welcome",
    "Refused",
    "Reregister",
    "Heartbeat",
    "Credit",
    "JobOffer",
    "JobAccepted",
    "JobRefused",
    "JobDone",
    "JobRef",
    "Reconcile",
    "ReconcileItem",
    "ReconcileReport",
    "INTAKE_OUTCOMES",
    "QaItem",
    "QaBatch",
    "QaCheckResult",
    "QaVerdict",
    "QaVerdicts",
    "IntakeItem",
    "IntakeBatch",
    "IntakeVerdict",
    "IntakeVerdicts",
    "IntakeRequest",
    "IntakeReply",
    "Control",
    "KINDS",
]

WIRE_VERSION = 2
"""The protocol version every frame carries in ``v``; ``docs/wire.md`` states it too.

2: ``QaVerdict.checks`` is a list of ``QaCheckResult`` (name, ok, value, detail,
zone) instead of a map name -> passed; ``QaVerdict.mrz_read``; the kinds
``intake_batch`` and ``intake_verdicts``. ``upgrade.upgrade_v1_v2`` reads v1 frames."""

ROLES = ("printer", "qa", "intake")
RECONCILE_OUTCOMES = ("not_accepted", "pending", "printed", "failed", "unknown")
"""What a device's job log says of a job: never received it; accepted, not finished; printed; failed; cannot tell."""
CONTROL_ACTIONS = ("pause", "resume", "drain")
INTAKE_OUTCOMES = ("passed", "review", "return")
"""An intake verdict: fit to print (queued); a reviewer decides (a look-alike signature); back to the acceptance
point with the reasons (any other failed check)."""


@dataclass(frozen=True, slots=True)
class Message:
    """Base of every message kind; ``kind`` is the frame's ``kind``."""

    kind: ClassVar[str] = ""


@dataclass(frozen=True, slots=True)
class Hello(Message):
    kind: ClassVar[str] = "hello"
    role: str
    """printer, qa or intake."""
    station: str
    """Machine id (P01, B03), QA station or intake client; must be the name of the CURVE key used."""
    incarnation: str
    """Random per process start: tells a restarted station from a reconnecting one."""
    slots: int = 0
    """Device slots (printer) or batches (QA) it can hold at once."""
    pid: int = 0


@dataclass(frozen=True, slots=True)
class Welcome(Message):
    kind: ClassVar[str] = "welcome"
    controller: str
    """The controller's incarnation."""
    heartbeat_s: float = 1.0
    liveness: int = 3
    """Heartbeats a peer may miss before it is taken for dead."""


@dataclass(frozen=True, slots=True)
class Refused(Message):
    kind: ClassVar[str] = "refused"
    reason: str


@dataclass(frozen=True, slots=True)
class Reregister(Message):
    kind: ClassVar[str] = "reregister"
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Heartbeat(Message):
    kind: ClassVar[str] = "heartbeat"
    state: str = ""
    """The device's state: Idle, Busy, Pausing, Paused, Stopping, Offline, Fault (empty from the controller)."""
    blanks_left: int = -1
    """Blanks in the device's stock (-1: not known)."""
    in_flight: int = 0


@dataclass(frozen=True, slots=True)
class Credit(Message):
    kind: ClassVar[str] = "credit"
    slots: int
    """How many more jobs (or QA batches) the station can take now."""


@dataclass(frozen=True, slots=True)
class JobOffer(Message):
    kind: ClassVar[str] = "job_offer"
    job_id: str
    attempt: int
    record_json: str
    """The validated application record as the ledger keeps it (canonical JSON text, passed through
    untouched: the worker parses and validates it with ``factory.records.parse_application``)."""
    green: bool = False
    lease_expires_at: float = 0.0


@dataclass(frozen=True, slots=True)
class JobAccepted(Message):
    kind: ClassVar[str] = "job_accepted"
    job_id: str
    attempt: int
    blank_serial: str = ""
    """The blank the device took, when it says so at acceptance (else in job_done)."""


@dataclass(frozen=True, slots=True)
class JobRefused(Message):
    kind: ClassVar[str] = "job_refused"
    job_id: str
    attempt: int
    reason: str
    credit: int = 0
    """Slots this frees, granted at once."""


@dataclass(frozen=True, slots=True)
class JobDone(Message):
    kind: ClassVar[str] = "job_done"
    job_id: str
    attempt: int
    ok: bool
    """True: executed, a document is on ``blank_serial``; false: failed, that blank is spoiled."""
    blank_serial: str = ""
    reason: str = ""
    page: str = ""
    """Path of the printed page image, when the device wrote one."""
    issued_on: str = ""
    """Date of issue the device printed (YYYY-MM-DD); empty: the local date of the report."""
    credit: int = 0
    """Slots this frees, granted at once (saves a separate ``credit`` frame)."""


@dataclass(frozen=True, slots=True)
class JobRef:
    """An item of a list inside a message (not a frame of its own)."""

    job_id: str
    attempt: int
    state: str = ""
    blank_serial: str = ""


@dataclass(frozen=True, slots=True)
class Reconcile(Message):
    kind: ClassVar[str] = "reconcile"
    jobs: tuple[JobRef, ...] = ()


@dataclass(frozen=True, slots=True)
class ReconcileItem:
    """An item of a list inside a message (not a frame of its own)."""

    job_id: str
    attempt: int
    outcome: str
    """One of ``RECONCILE_OUTCOMES``."""
    blank_serial: str = ""
    reason: str = ""
    page: str = ""
    issued_on: str = ""


@dataclass(frozen=True, slots=True)
class ReconcileReport(Message):
    kind: ClassVar[str] = "reconcile_report"
    items: tuple[ReconcileItem, ...] = ()


@dataclass(frozen=True, slots=True)
class QaItem:
    """An item of a list inside a message (not a frame of its own)."""

    job_id: str
    attempt: int
    record: dict[str, Any]
    """The record as printed: document number, issue and expiry dates bound."""
    blank_serial: str = ""
    page: str = ""
    machine: str = ""


@dataclass(frozen=True, slots=True)
class QaBatch(Message):
    kind: ClassVar[str] = "qa_batch"
    batch_id: str
    items: tuple[QaItem, ...] = ()


@dataclass(frozen=True, slots=True)
class QaCheckResult:
    """One named check of one document (an item of a list inside a message)."""

    name: str
    ok: bool
    value: float | None = None
    """The measured value (``docs/qa.md`` gives each check's unit and threshold); None: not measured or n/a."""
    detail: str = ""
    """Why it failed (empty when it passed)."""
    zone: str = ""
    """On failure, the page zone (``factory.devices.layout``) or intake image to show the reviewer."""


@dataclass(frozen=True, slots=True)
class QaVerdict:
    """An item of a list inside a message (not a frame of its own)."""

    job_id: str
    attempt: int
    passed: bool
    checks: tuple[QaCheckResult, ...] = ()
    reasons: tuple[str, ...] = ()
    mrz_read: tuple[str, ...] = ()
    """The MRZ lines read back off the printed page, when the worker read them."""

    def check_map(self) -> dict[str, bool]:
        """Check name -> passed (metrics count these)."""
        return {c.name: c.ok for c in self.checks}


@dataclass(frozen=True, slots=True)
class QaVerdicts(Message):
    kind: ClassVar[str] = "qa_verdicts"
    batch_id: str
    verdicts: tuple[QaVerdict, ...] = ()


@dataclass(frozen=True, slots=True)
class IntakeItem:
    """An item of a list inside a message (not a frame of its own)."""

    job_id: str
    record: dict[str, Any]
    """The validated application record as the ledger keeps it (paths of its photo and signature)."""


@dataclass(frozen=True, slots=True)
class IntakeBatch(Message):
    kind: ClassVar[str] = "intake_batch"
    batch_id: str
    items: tuple[IntakeItem, ...] = ()


@dataclass(frozen=True, slots=True)
class IntakeVerdict:
    """An item of a list inside a message (not a frame of its own)."""

    job_id: str
    outcome: str
    """One of ``INTAKE_OUTCOMES``."""
    checks: tuple[QaCheckResult, ...] = ()
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class IntakeVerdicts(Message):
    kind: ClassVar[str] = "intake_verdicts"
    batch_id: str
    verdicts: tuple[IntakeVerdict, ...] = ()


@dataclass(frozen=True, slots=True)
class IntakeRequest(Message):
    kind: ClassVar[str] = "intake"
    request_id: str
    records: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True, slots=True)
class IntakeReply(Message):
    kind: ClassVar[str] = "intake_reply"
    request_id: str
    added: int = 0
    already_present: int = 0
    rejected: tuple[dict[str, Any], ...] = ()
    """One map per rejected row: where, application_id, errors (list of {field, reason})."""
    error: str = ""
    """Set when the whole request failed (e.g. the calendar does not cover a year)."""


@dataclass(frozen=True, slots=True)
class Control(Message):
    kind: ClassVar[str] = "control"
    action: str
    """One of ``CONTROL_ACTIONS``."""


KINDS: dict[str, type[Message]] = {
    cls.kind: cls
    for cls in (
        Hello, Welcome, Refused, Reregister, Heartbeat, Credit, JobOffer, JobAccepted, JobRefused, JobDone,
        Reconcile, ReconcileReport, QaBatch, QaVerdicts, IntakeBatch, IntakeVerdicts, IntakeRequest, IntakeReply,
        Control,
    )
}
"""Frame kinds -> message class (nested item classes are not frames)."""
