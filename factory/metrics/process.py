"""One call per kind of process: its registry, its instruments and its ``/metrics`` server.

The commands (``factory serve``, ``factory worker``, ``factory qa-worker``) add
``--metrics-port`` with ``add_metrics_port`` and start their metrics with
``controller_metrics``, ``printer_metrics`` or ``qa_metrics``; this module is
the whole of their wiring. ``--metrics-port -1`` turns metrics off, ``0``
picks a free port (logged). A port that is taken is logged as an error and
the process runs without ``/metrics`` (the start functions return None):
monitoring must never stop the line, and Prometheus reports the target down.
"""

from __future__ import annotations

import argparse
import logging
import re
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from factory.config import Config
from factory.metrics.collectors import LatestSnapshot, LineCollector
from factory.metrics.exporter import (
    CONTROLLER_METRICS_PORT,
    ControllerInstruments,
    MetricsServer,
    PrinterInstruments,
    QaInstruments,
    new_registry,
    printer_metrics_port,
    qa_metrics_port,
    serve_metrics,
)
from factory.metrics.ledger_snapshot import LedgerSnapshotter, reports_from_status
from factory.metrics.observe import ObservedDriver, observed_qa_check
from factory.scheduler import WorkingCalendar

if TYPE_CHECKING:
    from factory.ledger import Ledger

__all__ = [
    "add_metrics_port",
    "qa_worker_index",
    "ControllerMetrics",
    "controller_metrics",
    "PrinterMetrics",
    "printer_metrics",
    "QaMetrics",
    "qa_metrics",
]

log = logging.getLogger("factory.metrics")


def add_metrics_port(parser: argparse.ArgumentParser, default: str) -> None:
    """Add ``--metrics-port`` to a command; ``default`` says in words what the default port is."""
    parser.add_argument(
        "--metrics-port", type=int, default=None,
        help=f"serve Prometheus /metrics on 127.0.0.1:PORT (default {default}; 0: any free port; -1: off)",
    )


def qa_worker_index(name: str) -> int:
    """Index of a QA worker from its station name: ``qa1`` is 0, ``qa2`` is 1; other names 0."""
    match = re.search(r"(\d+)$", name)
    return max(int(match.group(1)) - 1, 0) if match else 0


def _serve(registry: Any, port: int, what: str) -> MetricsServer | None:
    # A taken port must not stop the line: it runs blind, and Prometheus's FactoryProcessDown says so.
    try:
        server = serve_metrics(registry, port)
    except OSError as err:
        log.error("%s metrics: cannot serve on 127.0.0.1:%d (%s); running without /metrics", what, port, err)
        return None
    log.info("%s metrics on %s", what, server.url)
    return server


class ControllerMetrics:
    """The controller's ``/metrics``: the line snapshot, rebuilt by ``refresh`` from the controller's loop."""

    def __init__(self, snapshotter: LedgerSnapshotter, latest: LatestSnapshot, instruments: ControllerInstruments,
                 server: MetricsServer, every_s: float) -> None:
        self.snapshotter, self.latest, self.instruments, self.server = snapshotter, latest, instruments, server
        self.every_s = every_s
        self._next_s = 0.0
        self.failures = 0

    def due(self, now_s: float) -> bool:
        """Whether ``refresh`` would rebuild the snapshot now (so the caller can skip gathering ``stations``)."""
        return now_s >= self._next_s

    def refresh(self, ledger: Ledger, stations: Mapping[str, Mapping[str, Any]], *, now_s: float,
                force: bool = False) -> bool:
        """Rebuild the snapshot when ``every_s`` has passed; call it from the loop that owns ``ledger``.

        ``stations`` is ``Controller.status()["stations"]``. A failure is logged and
        the last snapshot stays (its age fires ``FactoryLineSnapshotStale``): the
        controller's loop never dies of its metrics.
        """
        if not force and now_s < self._next_s:
            return False
        self._next_s = now_s + self.every_s
        try:
            self.latest.set(self.snapshotter.snapshot(ledger, now_s=now_s, machines=reports_from_status(stations)))
        except Exception:  # noqa: BLE001 (the shell's loop: log and carry on)
            self.failures += 1
            log.exception("metrics: line snapshot failed (%d so far); the last one stays", self.failures)
            return False
        return True

    def close(self) -> None:
        self.server.close()


def controller_metrics(
    config: Config,
    calendar: WorkingCalendar,
    *,
    port: int | None,
    every_s: float = 5.0,
    started_s: float | None = None,
    peak_shifts: bool = False,
    blanks_in_store: Mapping[str, int] | None = None,
) -> ControllerMetrics | None:
    """Start the controller's metrics (``port`` None: 9400; -1: off, returns None)."""
    port = CONTROLLER_METRICS_PORT if port is None else port
    if port < 0:
        return None
    registry = new_registry()
    latest = LatestSnapshot()
    registry.register(LineCollector(latest))
    instruments = ControllerInstruments(registry)
    server = _serve(registry, port, "controller")
    if server is None:
        return None
    snapshotter = LedgerSnapshotter(config, calendar, started_s=time.time() if started_s is None else started_s,
                                    peak_shifts=peak_shifts, blanks_in_store=blanks_in_store, instruments=instruments)
    return ControllerMetrics(snapshotter, latest, instruments, server, every_s)


class PrinterMetrics:
    """A printer worker's ``/metrics``; ``wrap(driver)`` counts what the device does."""

    def __init__(self, instruments: PrinterInstruments, server: MetricsServer) -> None:
        self.instruments, self.server = instruments, server

    def wrap(self, driver: Any) -> ObservedDriver:
        return ObservedDriver(driver, self.instruments)

    def close(self) -> None:
        self.server.close()


def printer_metrics(config: Config, machine: str, *, port: int | None) -> PrinterMetrics | None:
    """Start a printer worker's metrics (``port`` None: 9410 + the machine's index; -1: off)."""
    port = printer_metrics_port(config.line, machine) if port is None else port
    if port < 0:
        return None
    spec = next(m for m in config.line.machines if m.id == machine)
    registry = new_registry()
    instruments = PrinterInstruments(
        registry, machine=machine, pool=spec.pool,
        doc_types=[name for name, doc in config.documents.items() if doc.pool == spec.pool],
    )
    server = _serve(registry, port, f"printer {machine}")
    return None if server is None else PrinterMetrics(instruments, server)


class QaMetrics:
    """A QA worker's ``/metrics``; ``wrap(check)`` counts every verdict."""

    def __init__(self, instruments: QaInstruments, server: MetricsServer) -> None:
        self.instruments, self.server = instruments, server

    def wrap(self, check: Callable[[Sequence[Any]], list[Any]]) -> Callable[[Sequence[Any]], list[Any]]:
        return observed_qa_check(check, self.instruments)

    def close(self) -> None:
        self.server.close()


def qa_metrics(name: str, *, port: int | None, checks: Sequence[str] = ()) -> QaMetrics | None:
    """Start a QA worker's metrics (``port`` None: 9450 + ``qa_worker_index(name)``; -1: off)."""
    port = qa_metrics_port(qa_worker_index(name)) if port is None else port
    if port < 0:
        return None
    registry = new_registry()
    instruments = QaInstruments(registry, checks=checks)
    server = _serve(registry, port, f"QA worker {name}")
    return None if server is None else QaMetrics(instruments, server)
