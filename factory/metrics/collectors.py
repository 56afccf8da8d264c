"""A ``LineSnapshot`` as Prometheus metric families (client_python's Collector protocol).

``snapshot_families(snapshot)`` is pure: one snapshot in, metric families out.
``LineCollector`` wraps a zero-argument callable returning the latest snapshot
(``LatestSnapshot``, which the controller's snapshot loop sets) so that a
registry passed in can serve it: ``registry.register(LineCollector(latest))``.

Every snapshot metric is a gauge: the ledger is the source of truth, so the
values survive a controller restart. Labels are drawn from closed sets
(machines, pools, service classes, states, due bins); no application id,
document number, blank serial or name ever becomes a label.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterable, Iterator

import numpy as np
from prometheus_client.metrics_core import GaugeMetricFamily, Metric

from factory.metrics.snapshot import DUE_BINS, MACHINE_STATES, LineSnapshot

__all__ = ["SNAPSHOT_METRICS", "PLAN_DAYS_EXPORTED", "snapshot_families", "LineCollector", "LatestSnapshot"]

PLAN_DAYS_EXPORTED = 15
"""Plan days of the demand-bound curves that are exported (three working weeks)."""

SNAPSHOT_METRICS: dict[str, tuple[str, tuple[str, ...]]] = {
    "factory_line_snapshot_timestamp_seconds": ("Unix time of the line snapshot the controller exports.", ()),
    "factory_machine_state": (
        "1 for the state the machine is in, 0 for the others (" + ", ".join(MACHINE_STATES) + ").",
        ("machine", "pool", "state"),
    ),
    "factory_machine_rated_per_hour": ("Nameplate documents per hour of the machine.", ("machine", "pool")),
    "factory_machine_has_work": (
        "1 when the machine holds a job, or its pool has queued jobs and it is not paused, draining, in maintenance or off shift.",
        ("machine", "pool"),
    ),
    "factory_machine_last_printed_timestamp_seconds": (
        "Unix time of the machine's last printed document (the controller's start when none since).",
        ("machine", "pool"),
    ),
    "factory_backlog_applications": (
        "Applications not yet printed, by working days to their production deadline.",
        ("pool", "service_class", "due_in_working_days"),
    ),
    "factory_deadline_least_slack_workdays": (
        "Working days to the nearest production deadline among unprinted applications (negative: overdue).",
        ("pool", "service_class"),
    ),
    "factory_projected_late_applications": (
        "Applications the current plan prints after their production deadline.",
        ("pool", "service_class"),
    ),
    "factory_plan_demand_applications": (
        "Cumulative applications due by the end of plan working day N (overdue ones counted on day 0).",
        ("pool", "working_day"),
    ),
    "factory_plan_capacity_documents": (
        "Cumulative documents the pool can print by the end of plan working day N at the planned shifts.",
        ("pool", "working_day"),
    ),
    "factory_green_channel_waiting_applications": (
        "Green-channel applications accepted and not yet printed.",
        ("pool",),
    ),
    "factory_green_channel_oldest_wait_seconds": (
        "Seconds the longest-waiting unprinted green-channel application has waited since acceptance.",
        ("pool",),
    ),
    "factory_review_queue_documents": ("Documents flagged by QA waiting for a reviewer.", ()),
    "factory_review_queue_oldest_age_seconds": ("Seconds the oldest document in the reviewer queue has waited.", ()),
    "factory_blanks_in_stock": ("Blank booklets or cards in stock.", ("pool",)),
    "factory_blanks_needed_per_day": ("Blanks one working day of production takes at the planned shift.", ("pool",)),
    "factory_overtime_planned_seconds": ("Overtime the plan needs today on top of the normal shift.", ("pool",)),
    "factory_overtime_used_seconds": ("Overtime worked so far today.", ("pool",)),
}
"""Name -> (help, label names) of every metric a snapshot produces."""


def _family(name: str) -> GaugeMetricFamily:
    documentation, labels = SNAPSHOT_METRICS[name]
    return GaugeMetricFamily(name, documentation, labels=list(labels))


def _hours_to_s(hours: np.ndarray | None) -> np.ndarray | None:
    return None if hours is None else np.asarray(hours, dtype=np.float64) * 3600.0


def snapshot_families(snapshot: LineSnapshot) -> list[Metric]:
    """The metric families of one snapshot.

    Grids are exported whole (zeros included) so that every dashboard query
    and every rate has a series from the first scrape; an optional part that
    is None in the snapshot is left out, and a NaN slack (no backlog) is left
    out rather than exported as NaN.
    """
    fam = {name: _family(name) for name in SNAPSHOT_METRICS}
    fam["factory_line_snapshot_timestamp_seconds"].add_metric([], snapshot.taken_at_s)
    for m in snapshot.machines:
        for state in MACHINE_STATES:
            fam["factory_machine_state"].add_metric([m.machine, m.pool, state], 1.0 if m.state == state else 0.0)
        fam["factory_machine_rated_per_hour"].add_metric([m.machine, m.pool], m.rated_per_hour)
        fam["factory_machine_has_work"].add_metric([m.machine, m.pool], 1.0 if m.has_work else 0.0)
        fam["factory_machine_last_printed_timestamp_seconds"].add_metric([m.machine, m.pool], m.last_printed_s)

    pools, classes = snapshot.pools, snapshot.service_classes
    if snapshot.backlog is not None:
        for (p, c, b), count in np.ndenumerate(snapshot.backlog):
            fam["factory_backlog_applications"].add_metric([pools[p], classes[c], DUE_BINS[b]], float(count))
    if snapshot.least_slack_days is not None:
        for (p, c), days in np.ndenumerate(snapshot.least_slack_days):
            if not math.isnan(days):
                fam["factory_deadline_least_slack_workdays"].add_metric([pools[p], classes[c]], float(days))
    if snapshot.projected_late is not None:
        for (p, c), count in np.ndenumerate(snapshot.projected_late):
            fam["factory_projected_late_applications"].add_metric([pools[p], classes[c]], float(count))
    if snapshot.plan_demand is not None and snapshot.plan_capacity is not None:
        days = min(snapshot.plan_demand.shape[1], PLAN_DAYS_EXPORTED)
        for p, pool in enumerate(pools):
            for d in range(days):
                fam["factory_plan_demand_applications"].add_metric([pool, str(d)], float(snapshot.plan_demand[p, d]))
                fam["factory_plan_capacity_documents"].add_metric([pool, str(d)], float(snapshot.plan_capacity[p, d]))
    per_pool = {
        "factory_green_channel_waiting_applications": snapshot.green_waiting,
        "factory_green_channel_oldest_wait_seconds": snapshot.green_oldest_wait_s,
        "factory_blanks_in_stock": snapshot.blanks_in_stock,
        "factory_blanks_needed_per_day": snapshot.blanks_needed_per_day,
        # Hours in the snapshot (the planner's unit), seconds on the wire (Prometheus base unit).
        "factory_overtime_planned_seconds": _hours_to_s(snapshot.overtime_planned_hours),
        "factory_overtime_used_seconds": _hours_to_s(snapshot.overtime_used_hours),
    }
    for name, values in per_pool.items():
        if values is not None:
            for p, pool in enumerate(pools):
                fam[name].add_metric([pool], float(values[p]))
    fam["factory_review_queue_documents"].add_metric([], float(snapshot.review_queue))
    fam["factory_review_queue_oldest_age_seconds"].add_metric([], snapshot.review_oldest_age_s)
    return [f for f in fam.values() if f.samples]


class LatestSnapshot:
    """The most recent snapshot, set by the controller's loop and read by scrapes (thread-safe)."""

    def __init__(self, snapshot: LineSnapshot | None = None) -> None:
        self._lock = threading.Lock()
        self._snapshot = snapshot

    def set(self, snapshot: LineSnapshot) -> None:
        if not isinstance(snapshot, LineSnapshot):
            raise TypeError(f"expected a LineSnapshot, got {type(snapshot).__name__}")
        with self._lock:
            self._snapshot = snapshot

    def __call__(self) -> LineSnapshot | None:
        with self._lock:
            return self._snapshot


class LineCollector:
    """Collector serving whatever snapshot ``source()`` returns at scrape time (nothing while None)."""

    def __init__(self, source: Callable[[], LineSnapshot | None]) -> None:
        self._source = source

    def describe(self) -> Iterable[Metric]:
        # Declares the names so that the registry refuses a live instrument that clashes.
        return [_family(name) for name in SNAPSHOT_METRICS]

    def collect(self) -> Iterator[Metric]:
        snapshot = self._source()
        if snapshot is not None:
            yield from snapshot_families(snapshot)
