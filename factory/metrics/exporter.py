"""Each factory process serves its own ``/metrics`` on loopback; live instruments it updates.

Ports (``configs/prometheus.yml`` scrapes exactly these):

==================  ===============================  ===========================
process             port                             function
==================  ===============================  ===========================
controller          9400                             ``CONTROLLER_METRICS_PORT``
printer worker      9410 + machine index in line     ``printer_metrics_port``
QA worker           9450 + worker index              ``qa_metrics_port``
==================  ===============================  ===========================

The machine index is the machine's position in ``configs/line.toml`` (B01 is
0, C08 is 21), so up to 40 printers fit below the QA range.

Live instruments are the facts only the process that sees the event knows:

- ``PrinterInstruments`` (printer worker): documents printed and spoiled, the
  print-cycle histogram;
- ``QaInstruments`` (QA worker): checks passed and failed per check, verdicts;
- ``ControllerInstruments`` (controller): the green-channel wait histogram, frames
  dropped by the receive loop.

No multiprocess directory: one process, one registry, one port.
"""

from __future__ import annotations

import ipaddress
import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, Counter, Histogram, PlatformCollector, ProcessCollector
from prometheus_client import start_http_server

from factory.config import Line
from factory.errors import InvalidField

__all__ = [
    "CONTROLLER_METRICS_PORT",
    "PRINTER_METRICS_PORT_BASE",
    "QA_METRICS_PORT_BASE",
    "MAX_PRINTERS",
    "MAX_QA_WORKERS",
    "PRINT_CYCLE_BUCKETS_S",
    "GREEN_WAIT_BUCKETS_S",
    "SPOIL_REASONS",
    "printer_metrics_port",
    "qa_metrics_port",
    "new_registry",
    "MetricsServer",
    "serve_metrics",
    "PrinterInstruments",
    "QaInstruments",
    "ControllerInstruments",
]

CONTROLLER_METRICS_PORT = 9400
PRINTER_METRICS_PORT_BASE = 9410
QA_METRICS_PORT_BASE = 9450
MAX_PRINTERS = QA_METRICS_PORT_BASE - PRINTER_METRICS_PORT_BASE
MAX_QA_WORKERS = 50

PRINT_CYCLE_BUCKETS_S = (15.0, 20.0, 25.0, 30.0, 35.0, 40.0, 45.0, 50.0, 55.0, 60.0, 75.0, 90.0, 105.0, 120.0)
"""Print-cycle buckets: a document takes 15-120 s (the default 5 ms-10 s buckets would hold nothing)."""

GREEN_WAIT_BUCKETS_S = (60.0, 120.0, 300.0, 600.0, 900.0, 1200.0, 1800.0, 2700.0, 3600.0, 7200.0, 14400.0, 28800.0, 86400.0)
"""Green-channel wait buckets, acceptance to printed: minutes (the 30-minute alert) up to the 24 h limit."""

SPOIL_REASONS = ("jam", "device_fault", "damaged", "test", "operator")
"""Why a blank is spoiled at the printer (the ledger's void reasons, less the reviewer's qa_reject)."""

_NAME = re.compile(r"[a-z][a-z0-9_]{0,39}")


def printer_metrics_port(line: Line, machine: str) -> int:
    """Default ``/metrics`` port of the worker driving ``machine``: 9410 + its index in the line.

    Raises
    ------
    InvalidField
        The line has no such machine, or too many machines for the port range.
    """
    ids = [m.id for m in line.machines]
    if machine not in ids:
        raise InvalidField("machine", "is not a machine of the line", machine)
    index = ids.index(machine)
    if index >= MAX_PRINTERS:
        raise InvalidField("machine", f"index {index} is past the {MAX_PRINTERS} printer metrics ports", machine)
    return PRINTER_METRICS_PORT_BASE + index


def qa_metrics_port(index: int) -> int:
    """Default ``/metrics`` port of QA worker number ``index`` (0 first): 9450 + index."""
    if not 0 <= index < MAX_QA_WORKERS:
        raise InvalidField("qa_worker", f"index must be 0..{MAX_QA_WORKERS - 1}", index)
    return QA_METRICS_PORT_BASE + index


def new_registry(*, process: bool = True) -> CollectorRegistry:
    """A fresh registry for one process, with its process and platform metrics by default."""
    registry = CollectorRegistry()
    if process:
        ProcessCollector(registry=registry)
        PlatformCollector(registry=registry)
    return registry


@dataclass(frozen=True, slots=True)
class MetricsServer:
    """A running ``/metrics`` endpoint; ``close()`` stops it."""

    server: WSGIServer
    thread: threading.Thread
    host: str

    @property
    def port(self) -> int:
        return int(self.server.server_port)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/metrics"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def _check_loopback(host: str) -> None:
    if host == "localhost":
        return
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise InvalidField("metrics.host", "must be a loopback address (127.0.0.1)", host)


def serve_metrics(registry: CollectorRegistry, port: int, *, host: str = "127.0.0.1") -> MetricsServer:
    """Serve ``registry`` at ``http://host:port/metrics`` from a daemon thread.

    Parameters
    ----------
    registry : CollectorRegistry
        The process's registry (``new_registry``), with its collectors and instruments.
    port : int
        0 picks a free port (read it back from ``MetricsServer.port``).
    host : str
        Loopback only.

    Raises
    ------
    InvalidField
        ``host`` is not loopback, or ``port`` is out of range.
    OSError
        The port is taken.
    """
    _check_loopback(host)
    if not isinstance(port, int) or not 0 <= port <= 65535:
        raise InvalidField("metrics.port", "must be an integer 0..65535", port)
    server, thread = start_http_server(port, addr=host, registry=registry)
    return MetricsServer(server=server, thread=thread, host=host)


def _known(field: str, value: str, allowed: Iterable[str]) -> str:
    allowed = tuple(allowed)
    if value not in allowed:
        raise InvalidField(field, f"must be one of {', '.join(allowed)}", value)
    return value


def _finite_seconds(field: str, value: float) -> float:
    value = float(value)
    if not value >= 0.0 or value == float("inf"):
        raise InvalidField(field, "must be a finite number of seconds >= 0", value)
    return value


class PrinterInstruments:
    """What a printer worker counts as its machine prints.

    Every label combination is created at zero up front, so ``rate()`` and the
    dashboard see the series before the first document.
    """

    def __init__(
        self,
        registry: CollectorRegistry,
        *,
        machine: str,
        pool: str,
        doc_types: Iterable[str],
        reasons: Iterable[str] = SPOIL_REASONS,
    ) -> None:
        self.machine, self.pool = machine, pool
        self.doc_types, self.reasons = tuple(doc_types), tuple(reasons)
        self._printed = Counter(
            "factory_documents_printed", "Documents printed.",
            ["machine", "pool", "doc_type"], registry=registry,
        )
        self._spoiled = Counter(
            "factory_documents_spoiled", "Blanks spoiled at the printer, by reason.",
            ["machine", "pool", "reason"], registry=registry,
        )
        self._cycle = Histogram(
            "factory_print_cycle_seconds", "Seconds from job start to the device's result, per document.",
            ["machine", "pool"], buckets=PRINT_CYCLE_BUCKETS_S, registry=registry,
        )
        for doc_type in self.doc_types:
            self._printed.labels(machine, pool, doc_type)
        for reason in self.reasons:
            self._spoiled.labels(machine, pool, reason)
        self._cycle_child = self._cycle.labels(machine, pool)

    def record_printed(self, doc_type: str, cycle_s: float | None) -> None:
        """One document printed in ``cycle_s`` seconds (None: cycle unknown, not observed)."""
        _known("doc_type", doc_type, self.doc_types)
        if cycle_s is not None:
            cycle_s = _finite_seconds("cycle_s", cycle_s)
        self._printed.labels(self.machine, self.pool, doc_type).inc()
        if cycle_s is not None:
            self._cycle_child.observe(cycle_s)

    def record_spoiled(self, reason: str, cycle_s: float | None = None) -> None:
        """One blank spoiled for ``reason``; its cycle time joins the histogram when known."""
        _known("reason", reason, self.reasons)
        if cycle_s is not None:
            cycle_s = _finite_seconds("cycle_s", cycle_s)
        self._spoiled.labels(self.machine, self.pool, reason).inc()
        if cycle_s is not None:
            self._cycle_child.observe(cycle_s)


class QaInstruments:
    """What a QA worker counts: every check's result and every document's verdict."""

    def __init__(self, registry: CollectorRegistry, *, checks: Iterable[str] = ()) -> None:
        self._checks = Counter(
            "factory_qa_checks", "QA checks run, by check and result (passed or failed).",
            ["check", "result"], registry=registry,
        )
        self._documents = Counter(
            "factory_qa_documents", "Documents through QA, by verdict (passed or flagged for a reviewer).",
            ["verdict"], registry=registry,
        )
        self._known: set[str] = set()
        for check in checks:
            self._start(self._check_name(check))
        for verdict in ("passed", "flagged"):
            self._documents.labels(verdict)

    @staticmethod
    def _check_name(check: str) -> str:
        # Check names come from code, not data: a pattern keeps a stray id out of the labels.
        if not isinstance(check, str) or not _NAME.fullmatch(check):
            raise InvalidField("check", "must be a snake_case check name of at most 40 characters", check)
        return check

    def _start(self, check: str) -> None:
        # Both results from the first sight of a check: a failure rate is 0, not missing.
        if check not in self._known:
            self._known.add(check)
            for result in ("passed", "failed"):
                self._checks.labels(check, result)

    def record_verdict(self, checks: Mapping[str, bool], *, flagged: bool | None = None) -> None:
        """One document's QA: ``checks`` maps check name -> passed; flagged defaults to any failure.

        Validates every name before counting anything, so a bad name counts nothing.
        """
        for check in checks:
            self._check_name(check)
        for check, passed in checks.items():
            self._start(check)
            self._checks.labels(check, "passed" if passed else "failed").inc()
        if flagged is None:
            flagged = not all(checks.values())
        self._documents.labels("flagged" if flagged else "passed").inc()


class ControllerInstruments:
    """What the controller counts as events happen (the rest comes from its snapshot)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self._green_wait = Histogram(
            "factory_green_channel_wait_seconds",
            "Seconds from acceptance to printed, per green-channel application.",
            buckets=GREEN_WAIT_BUCKETS_S, registry=registry,
        )
        self._dropped = Counter(
            "factory_frames_dropped", "Frames the receive loop could not decode and dropped, by reason.",
            ["reason"], registry=registry,
        )

    def record_green_wait(self, wait_s: float) -> None:
        """A green-channel application was printed ``wait_s`` seconds after acceptance."""
        self._green_wait.observe(_finite_seconds("wait_s", wait_s))

    def record_dropped_frame(self, reason: str) -> None:
        """The receive loop dropped a frame; ``reason`` is a short snake_case word (``bad_version``)."""
        if not isinstance(reason, str) or not _NAME.fullmatch(reason):
            raise InvalidField("reason", "must be a snake_case word of at most 40 characters", reason)
        self._dropped.labels(reason).inc()
