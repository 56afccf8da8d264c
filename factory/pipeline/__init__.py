"""The pipeline: ZeroMQ between the controller, the printer workers and the QA workers.

Owns: the controller (``controller``: a ROUTER in front of the ledger and the
scheduler's queue; every dispatch committed before it is sent), the printer
worker (``worker``: credit from the device's free slots, reconciliation from
the device's job log), the QA worker (``qa_worker``: batches in, verdicts
out, the check a parameter), a station's link to the controller (``link``:
hello, heartbeats, reconnection with back-off), intake through the pipeline
(``intake_client``), CURVE keys (``keys``), and pure bookkeeping:
``liveness`` (heartbeats, back-off), ``credit`` (grants, round-robin
offers), ``outcomes`` (a device's news -> ledger events), ``jobqueue`` (the
priority heaps). ``instant`` is a device with no print time, for benchmarks.

May import ``factory.ledger``, ``factory.wire``, ``factory.scheduler``,
``factory.records``, ``factory.config``, ``factory.devices`` (driver and
client), ``factory.mrz`` (QA's record checks), ``factory.pngio`` (the QA
worker's reading of captures), zmq and msgpack (through the wire). ZeroMQ
moves messages and never holds work: the ledger does.
"""

from factory.pipeline.controller import Controller, ControllerSettings
from factory.pipeline.credit import MAX_CREDIT, grant, plan_offers, spend
from factory.pipeline.instant import InstantDevice
from factory.pipeline.intake_client import send_intake
from factory.pipeline.jobqueue import JobQueue
from factory.pipeline.keys import (
    ClientKeys,
    ServerKeys,
    load_client_keys,
    load_server_keys,
    make_keys,
    start_authenticator,
)
from factory.pipeline.link import Link, StationRefused
from factory.pipeline.liveness import Backoff, Pulse, dead_peers, heard, heartbeat_due, is_alive, next_backoff
from factory.pipeline.outcomes import OUTCOMES, events_for
from factory.pipeline.qa_worker import IntakeCheck, QaCheck, QaWorker, intake_check, printed_check, record_check
from factory.pipeline.worker import PrinterWorker, reconcile_outcome

__all__ = [
    "Controller",
    "ControllerSettings",
    "PrinterWorker",
    "reconcile_outcome",
    "QaWorker",
    "QaCheck",
    "IntakeCheck",
    "intake_check",
    "record_check",
    "printed_check",
    "Link",
    "StationRefused",
    "send_intake",
    "InstantDevice",
    "ServerKeys",
    "ClientKeys",
    "make_keys",
    "load_server_keys",
    "load_client_keys",
    "start_authenticator",
    "Pulse",
    "Backoff",
    "heard",
    "is_alive",
    "dead_peers",
    "heartbeat_due",
    "next_backoff",
    "MAX_CREDIT",
    "grant",
    "spend",
    "plan_offers",
    "OUTCOMES",
    "events_for",
    "JobQueue",
]
