"""The wire: the messages of the pipeline and their byte form.

Owns: one frozen dataclass per message kind and ``WIRE_VERSION``
(``schema``), the pure msgpack codec that turns any bad frame into
``WireError(field, reason)`` (``codec``), and the upgrades of older versions
(``upgrade``). The prose spec is ``docs/wire.md``.

Pure: imports ``factory.errors`` and msgpack only. Never imports zmq, sqlite3
or a clock; sockets live in ``factory.pipeline``.
"""

from factory.wire.codec import MAX_FRAME_BYTES, Frame, decode, decode_frame, encode, to_body
from factory.wire.schema import (
    CONTROL_ACTIONS,
    INTAKE_OUTCOMES,
    KINDS,
    RECONCILE_OUTCOMES,
    ROLES,
    WIRE_VERSION,
    Control,
    Credit,
    Heartbeat,
    Hello,
    IntakeBatch,
    IntakeItem,
    IntakeReply,
    IntakeRequest,
    IntakeVerdict,
    IntakeVerdicts,
    JobAccepted,
    JobDone,
    JobOffer,
    JobRef,
    JobRefused,
    Message,
    QaBatch,
    QaCheckResult,
    QaItem,
    QaVerdict,
    QaVerdicts,
    Reconcile,
    ReconcileItem,
    ReconcileReport,
    Refused,
    Reregister,
    Welcome,
)
from factory.wire.upgrade import OLDEST_VERSION, UPGRADES, upgrade_body

__all__ = [
    "WIRE_VERSION",
    "OLDEST_VERSION",
    "KINDS",
    "ROLES",
    "RECONCILE_OUTCOMES",
    "CONTROL_ACTIONS",
    "INTAKE_OUTCOMES",
    "MAX_FRAME_BYTES",
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
    "Frame",
    "encode",
    "decode",
    "decode_frame",
    "to_body",
    "UPGRADES",
    "upgrade_body",
]
