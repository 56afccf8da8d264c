"""The public names of factory.metrics, and what importing it pulls in."""

from __future__ import annotations

import subprocess
import sys

import factory.metrics

PUBLIC = [
    "MACHINE_STATES", "DUE_BINS", "MachineStatus", "LineSnapshot", "due_bin", "backlog_grid", "least_slack_days",
    "projected_late_grid", "cumulative_load", "oldest_wait_s", "machine_has_work", "overtime_used_hours",
    "snapshot_from_plan", "SNAPSHOT_METRICS", "snapshot_families", "LineCollector", "LatestSnapshot",
    "CONTROLLER_METRICS_PORT", "PRINTER_METRICS_PORT_BASE", "QA_METRICS_PORT_BASE", "PRINT_CYCLE_BUCKETS_S",
    "GREEN_WAIT_BUCKETS_S", "SPOIL_REASONS", "printer_metrics_port", "qa_metrics_port", "new_registry",
    "MetricsServer", "serve_metrics", "PrinterInstruments", "QaInstruments", "ControllerInstruments",
    "OPERATOR_MODES", "MachineReport", "machine_state", "reports_from_status", "LedgerSnapshotter",
    "ObservedDriver", "observed_qa_check",
]


def test_public_names_are_pinned():
    assert factory.metrics.__all__ == PUBLIC
    for name in PUBLIC:
        assert getattr(factory.metrics, name) is not None


def test_package_says_what_it_owns():
    doc = factory.metrics.__doc__
    assert "Owns:" in doc and "Imports" in doc and "multiprocess" in doc


def test_importing_metrics_pulls_in_no_zmq_database_or_web_framework():
    probe = ("import sys, factory.metrics, factory.metrics.ledger_snapshot; "
             "print(','.join(m for m in ('zmq', 'sqlite3', 'fastapi', 'starlette') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60)
    assert result.stdout.strip() == ""
