"""The snapshot as metric families: names, labels, values, and nothing personal in a label."""

from __future__ import annotations

import math
import re
import subprocess

import numpy as np
import pytest
from metrics_prom import PROMTOOL
from prometheus_client import CollectorRegistry, Counter, generate_latest
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.registry import DuplicateTimeseries

from factory.metrics import (
    DUE_BINS,
    MACHINE_STATES,
    SNAPSHOT_METRICS,
    ControllerInstruments,
    LatestSnapshot,
    LineCollector,
    LineSnapshot,
    MachineStatus,
    PrinterInstruments,
    QaInstruments,
    snapshot_families,
)

POOLS = ("booklet", "card")
CLASSES = ("green", "same_day", "urgent", "normal")

ALLOWED_LABELS = {
    "machine", "pool", "state", "service_class", "due_in_working_days", "working_day", "doc_type",
    "reason", "check", "result", "verdict", "le",
}
"""Every label a factory metric may carry: closed sets, nothing that names a person or a document."""


def full_snapshot(now: float = 1_772_000_000.0) -> LineSnapshot:
    backlog = np.arange(2 * 4 * len(DUE_BINS), dtype=np.int64).reshape(2, 4, len(DUE_BINS))
    slack = np.array([[0.0, np.nan, 1.0, 3.0], [-1.0, 0.0, np.nan, 6.0]])
    return LineSnapshot(
        taken_at_s=now,
        pools=POOLS,
        service_classes=CLASSES,
        machines=(
            MachineStatus(machine="B01", pool="booklet", state="busy", rated_per_hour=60.0, has_work=True,
                          last_printed_s=now - 40),
            MachineStatus(machine="C01", pool="card", state="paused", rated_per_hour=90.0, has_work=False,
                          last_printed_s=now - 4000),
        ),
        backlog=backlog,
        least_slack_days=slack,
        projected_late=np.array([[0, 0, 2, 5], [0, 0, 0, 0]]),
        plan_demand=np.cumsum(np.full((2, 20), 100), axis=1),
        plan_capacity=np.cumsum(np.full((2, 20), 120), axis=1),
        green_waiting=np.array([1, 0]),
        green_oldest_wait_s=np.array([1900.0, 0.0]),
        review_queue=3,
        review_oldest_age_s=600.0,
        blanks_in_stock=np.array([5000, 20000]),
        blanks_needed_per_day=np.array([6720.0, 5760.0]),
        overtime_planned_hours=np.array([1.5, 0.0]),
        overtime_used_hours=np.array([0.25, 0.0]),
    )


def samples(snapshot: LineSnapshot) -> dict[str, dict[tuple, float]]:
    out: dict[str, dict[tuple, float]] = {}
    for family in snapshot_families(snapshot):
        for s in family.samples:
            out.setdefault(s.name, {})[tuple(sorted(s.labels.items()))] = s.value
    return out


def test_every_snapshot_metric_is_exported_with_its_labels():
    families = {f.name: f for f in snapshot_families(full_snapshot())}
    assert set(families) == set(SNAPSHOT_METRICS)
    for name, family in families.items():
        assert family.type == "gauge" and family.documentation
        assert name.startswith("factory_")
        for sample in family.samples:
            assert tuple(sample.labels) == SNAPSHOT_METRICS[name][1]


def test_values():
    s = samples(full_snapshot())
    state = s["factory_machine_state"]
    assert len(state) == 2 * len(MACHINE_STATES)
    assert state[(("machine", "B01"), ("pool", "booklet"), ("state", "busy"))] == 1.0
    assert sum(v for k, v in state.items() if ("machine", "B01") in k) == 1.0
    assert s["factory_machine_has_work"][(("machine", "C01"), ("pool", "card"))] == 0.0
    backlog = s["factory_backlog_applications"]
    assert len(backlog) == 2 * 4 * len(DUE_BINS)  # the whole grid, zeros included
    assert backlog[(("due_in_working_days", "overdue"), ("pool", "booklet"), ("service_class", "green"))] == 0.0
    assert backlog[(("due_in_working_days", "11+"), ("pool", "card"), ("service_class", "normal"))] == 2 * 4 * 13 - 1
    slack = s["factory_deadline_least_slack_workdays"]
    assert len(slack) == 6  # NaN (no backlog) is left out, not exported
    assert slack[(("pool", "card"), ("service_class", "green"))] == -1.0
    demand = s["factory_plan_demand_applications"]
    assert len(demand) == 2 * 15  # three working weeks of the curve
    assert demand[(("pool", "card"), ("working_day", "14"))] == 1500.0
    assert s["factory_green_channel_oldest_wait_seconds"][(("pool", "booklet"),)] == 1900.0
    assert s["factory_overtime_planned_seconds"][(("pool", "booklet"),)] == 5400.0
    assert s["factory_overtime_used_seconds"][(("pool", "booklet"),)] == 900.0
    assert s["factory_review_queue_documents"][()] == 3.0
    assert s["factory_line_snapshot_timestamp_seconds"][()] == 1_772_000_000.0


def test_a_minimal_snapshot_exports_only_what_it_has():
    names = {f.name for f in snapshot_families(LineSnapshot(taken_at_s=5.0, pools=POOLS, service_classes=CLASSES))}
    assert names == {"factory_line_snapshot_timestamp_seconds", "factory_review_queue_documents",
                     "factory_review_queue_oldest_age_seconds"}


def test_collector_serves_the_latest_snapshot_and_nothing_before_the_first():
    latest = LatestSnapshot()
    registry = CollectorRegistry()
    registry.register(LineCollector(latest))
    assert generate_latest(registry) == b""
    latest.set(full_snapshot(now=100.0))
    assert registry.get_sample_value("factory_line_snapshot_timestamp_seconds") == 100.0
    latest.set(full_snapshot(now=200.0))
    assert registry.get_sample_value("factory_line_snapshot_timestamp_seconds") == 200.0
    with pytest.raises(TypeError):
        latest.set({"taken_at_s": 1})


def test_the_registry_refuses_an_instrument_that_clashes_with_the_snapshot():
    registry = CollectorRegistry()
    registry.register(LineCollector(LatestSnapshot()))
    with pytest.raises(DuplicateTimeseries):
        Counter("factory_blanks_in_stock", "clash", registry=registry)


def test_no_personal_data_or_unbounded_label_in_any_metric():
    registry = CollectorRegistry()
    registry.register(LineCollector(LatestSnapshot(full_snapshot())))
    printer = PrinterInstruments(registry, machine="B01", pool="booklet", doc_types=["passport"])
    printer.record_printed("passport", 31.0)
    QaInstruments(registry, checks=["mrz_readback"]).record_verdict({"mrz_readback": False})
    ControllerInstruments(registry).record_green_wait(120.0)
    text = generate_latest(registry).decode()
    labels = set()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels |= set(sample.labels)
            for name, value in sample.labels.items():
                # Application ids (A20260224-000001), document numbers (E12345678) and names stay out.
                assert name == "le" or not re.search(r"\d{5,}", value), (sample.name, value)
    assert labels <= ALLOWED_LABELS, labels - ALLOWED_LABELS


def test_the_exposition_passes_promtool_lint():
    registry = CollectorRegistry()
    registry.register(LineCollector(LatestSnapshot(full_snapshot())))
    PrinterInstruments(registry, machine="B01", pool="booklet", doc_types=["passport"]).record_printed("passport", 31.0)
    QaInstruments(registry, checks=["mrz_readback"])
    ControllerInstruments(registry)
    result = subprocess.run([PROMTOOL, "check", "metrics"], input=generate_latest(registry),
                            capture_output=True, timeout=30)
    assert result.returncode == 0, result.stdout.decode() + result.stderr.decode()


def test_exposition_round_trips_through_the_parser():
    registry = CollectorRegistry()
    registry.register(LineCollector(LatestSnapshot(full_snapshot())))
    parsed = {f.name: f for f in text_string_to_metric_families(generate_latest(registry).decode())}
    value = next(s.value for s in parsed["factory_deadline_least_slack_workdays"].samples
                 if s.labels == {"pool": "booklet", "service_class": "green"})
    assert value == 0.0 and not any(math.isnan(s.value) for f in parsed.values() for s in f.samples)
