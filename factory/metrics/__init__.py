"""Capacity monitoring: Prometheus metrics of the line, served by each process on loopback.

Owns: the line snapshot (``snapshot``: what the controller knows about
machines, backlog, deadlines, plan, green channel, reviewers, blanks and
overtime, as plain data built by pure functions), its metric families
(``collectors``: client_python's Collector protocol into a registry passed
in), and the ``/metrics`` endpoint with the live instruments of each process
(``exporter``: counters and histograms the printer workers, QA workers and
controller update as events happen, and the default ports) and the
controller's snapshot from the ledger (``ledger_snapshot``: read-only
queries through ``Ledger.query``, the scheduler's plan), and adapters that
count what a worker already does (``observe``: a printer driver's device
events, a QA check's verdicts), and the one call per kind of process that
the commands make (``process``: ``controller_metrics``, ``printer_metrics``,
``qa_metrics``, ``add_metrics_port``). Prometheus
configuration, recording and alert rules, their promtool tests and the
Grafana dashboard live in ``configs/``; ``docs/monitoring.md`` lists every
metric and alert.

Imports ``factory.errors``, ``factory.config``, ``factory.scheduler`` (plan
and queue types), numpy and prometheus_client; ``exporter`` opens a socket
and ``ledger_snapshot`` reads a ``Ledger`` it is given; nothing else does I/O. No zmq, sqlite3 or web framework; no multiprocess
directory: one process, one registry, one port.
"""

from factory.metrics.collectors import SNAPSHOT_METRICS, LatestSnapshot, LineCollector, snapshot_families
from factory.metrics.exporter import (
    CONTROLLER_METRICS_PORT,
    GREEN_WAIT_BUCKETS_S,
    PRINT_CYCLE_BUCKETS_S,
    PRINTER_METRICS_PORT_BASE,
    QA_METRICS_PORT_BASE,
    SPOIL_REASONS,
    ControllerInstruments,
    MetricsServer,
    PrinterInstruments,
    QaInstruments,
    new_registry,
    printer_metrics_port,
    qa_metrics_port,
    serve_metrics,
)
from factory.metrics.ledger_snapshot import (
    OPERATOR_MODES,
    LedgerSnapshotter,
    MachineReport,
    machine_state,
    reports_from_status,
)
from factory.metrics.observe import ObservedDriver, observed_qa_check
from factory.metrics.snapshot import (
    DUE_BINS,
    MACHINE_STATES,
    LineSnapshot,
    MachineStatus,
    backlog_grid,
    cumulative_load,
    due_bin,
    least_slack_days,
    machine_has_work,
    oldest_wait_s,
    overtime_used_hours,
    projected_late_grid,
    snapshot_from_plan,
)

__all__ = [
    "MACHINE_STATES",
    "DUE_BINS",
    "MachineStatus",
    "LineSnapshot",
    "due_bin",
    "backlog_grid",
    "least_slack_days",
    "projected_late_grid",
    "cumulative_load",
    "oldest_wait_s",
    "machine_has_work",
    "overtime_used_hours",
    "snapshot_from_plan",
    "SNAPSHOT_METRICS",
    "snapshot_families",
    "LineCollector",
    "LatestSnapshot",
    "CONTROLLER_METRICS_PORT",
    "PRINTER_METRICS_PORT_BASE",
    "QA_METRICS_PORT_BASE",
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
    "OPERATOR_MODES",
    "MachineReport",
    "machine_state",
    "reports_from_status",
    "LedgerSnapshotter",
    "ObservedDriver",
    "observed_qa_check",
]
