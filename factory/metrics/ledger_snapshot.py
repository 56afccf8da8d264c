"""The controller's ``LineSnapshot`` from the ledger, the planner and what the workers report.

The controller calls ``LedgerSnapshotter.snapshot(ledger, now_s=..., machines=...)``
from its own loop (the thread that owns the ledger connection) every few
seconds and hands the result to ``LatestSnapshot.set``; scrapes read that.
It reads only through ``Ledger.query`` (SELECT) on indexed columns: the
unprinted and flagged applications by state, and the print events after the
last one it has seen (by ``event_id``), so each call costs the queue, not the
history. The plan is the scheduler's, made the way the panel's plan screen
makes it (same horizon and shifts), except that only machines an operator
took out (paused, maintenance) are down for the whole horizon; the panel's
what-if of "now" also drops faulty and offline ones.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from factory.config import POOLS, Config
from factory.errors import InvalidField
from factory.metrics.snapshot import LineSnapshot, MachineStatus, machine_has_work, overtime_used_hours
from factory.metrics.exporter import ControllerInstruments
from factory.metrics.snapshot import snapshot_from_plan
from factory.scheduler import (
    WorkingCalendar,
    class_ranks,
    line_arrays,
    plan_day_zero,
    plan_overtime,
    plan_queue,
    queue_arrays,
    shift_hours_for,
)

if TYPE_CHECKING:
    from factory.ledger import Ledger

__all__ = [
    "UNPRINTED_STATES",
    "OPERATOR_MODES",
    "MachineReport",
    "machine_state",
    "reports_from_status",
    "LedgerSnapshotter",
]

UNPRINTED_STATES = ("accepted", "queued", "spoiled", "leased", "printing", "needs_reconcile")
"""Application states that still need a printed document: the backlog."""

_PRINTED_EVENTS = ("device_executed", "reconciled_printed")
_MODE_EVENTS = {"machine_paused": "paused", "machine_draining": "draining", "machine_resumed": "running"}
"""The panel's station events (``LedgerLine``): an operator's pause, drain and resume of a machine."""
_HELD_STATES = ("leased", "printing")
_TAKEN_OUT = ("paused", "maintenance")
"""Machines planned as down for the whole horizon: an operator took them out. A fault, an
offline worker or the night are not: the stalled-machine and process-down alerts page for
those, and a projection that dropped them would page "projected late" at every restart."""
_MIN_PLAN_DAYS = 5
_MAX_PLAN_DAYS = 60

OPERATOR_MODES = ("running", "paused", "draining", "maintenance", "off_shift")
"""What an operator (or the shift clock) has decided for a machine."""

_DEVICE_STATES = {
    "idle": "idle", "busy": "busy", "ready": "idle", "printing": "busy",
    "pausing": "draining", "paused": "paused", "stopping": "draining",
    "offline": "offline", "fault": "fault",
}
"""The device's word (PB8500: Idle, Busy, Pausing, Paused, Stopping, Offline; plus Fault) -> our state."""


@dataclass(frozen=True, slots=True, kw_only=True)
class MachineReport:
    """What the controller knows of one machine besides the ledger."""

    connected: bool
    """Its worker said hello and keeps its heartbeats."""
    device_state: str = ""
    """The device's own state from the last heartbeat (Idle, Busy, Pausing, Paused, Stopping, Offline, Fault)."""
    blanks_left: int = -1
    """Blanks in the device's hopper; -1 when unknown."""
    mode: str = "running"
    """One of ``OPERATOR_MODES``."""


def machine_state(report: MachineReport | None, *, holds_job: bool) -> str:
    """One of ``MACHINE_STATES`` for a machine: no worker is offline; the device's fault or
    offline wins; then the operator's pause, drain or maintenance; then busy when it holds a job."""
    if report is None or not report.connected:
        return "offline"
    if report.mode not in OPERATOR_MODES:
        raise InvalidField("mode", f"must be one of {', '.join(OPERATOR_MODES)}", report.mode)
    device = _DEVICE_STATES.get(report.device_state.strip().lower(), "")
    if device in ("fault", "offline"):
        return device
    if report.mode != "running":
        return "paused" if report.mode == "draining" and not holds_job else report.mode
    if device in ("paused", "draining"):
        return device
    return "busy" if holds_job or device == "busy" else "idle"


def reports_from_status(stations: Mapping[str, Mapping[str, object]]) -> dict[str, MachineReport]:
    """Machine reports from the controller's ``status()["stations"]``: its connected printer workers."""
    reports = {}
    for station, info in stations.items():
        if info.get("role") != "printer":
            continue
        blanks = info.get("blanks_left")
        reports[station] = MachineReport(
            connected=True,
            device_state=str(info.get("device_state") or ""),
            blanks_left=int(blanks) if isinstance(blanks, int) else -1,
        )
    return reports


class LedgerSnapshotter:
    """Builds snapshots for one controller; remembers the last print event it has read.

    Parameters
    ----------
    config : Config
    calendar : WorkingCalendar
    started_s : float
        Unix seconds the controller started watching: the floor of every
        machine's last-printed time, so a restart does not look like a stall.
    peak_shifts : bool
        Plan with the seasons' peak shift lengths (as the panel's switch).
    blanks_in_store : mapping pool -> int, optional
        Blanks in the store room; the devices' hoppers are added.
    instruments : ControllerInstruments, optional
        Green-channel applications printed since the last call are observed
        into its wait histogram (acceptance to printed).
    """

    def __init__(
        self,
        config: Config,
        calendar: WorkingCalendar,
        *,
        started_s: float,
        peak_shifts: bool = False,
        blanks_in_store: Mapping[str, int] | None = None,
        instruments: ControllerInstruments | None = None,
    ) -> None:
        self.config = config
        self.instruments = instruments
        self.calendar = calendar
        self.peak_shifts = peak_shifts
        self.blanks_in_store = {pool: int((blanks_in_store or {}).get(pool, 0)) for pool in POOLS}
        ranks = class_ranks(config)
        self._classes = tuple(sorted(ranks, key=ranks.get))
        self._green_rank = min((ranks[name] for name, c in config.service_classes.items() if c.rule == "wall_clock"),
                               default=0)
        self._last_printed = {m.id: float(started_s) for m in config.line.machines}
        self._modes = {m.id: "running" for m in config.line.machines}
        self._seen: set[str] = set()
        self._last_event_id: int | None = None

    def _read_events(self, ledger: Ledger) -> None:
        marks = ", ".join("?" * len(_MODE_EVENTS))
        if self._last_event_id is None:
            # Prints before the controller started are older than ``started_s``: skip that history.
            # An operator's pause of yesterday still holds: read the machines' last mode event.
            for machine, event in ledger.query(
                f"SELECT machine, event FROM events WHERE kind = 'station' AND event IN ({marks}) ORDER BY event_id",
                tuple(_MODE_EVENTS),
            ):
                if machine in self._modes:
                    self._modes[machine] = _MODE_EVENTS[event]
            self._last_event_id = int(ledger.query("SELECT COALESCE(MAX(event_id), 0) FROM events")[0][0])
            return
        rows = ledger.query(
            "SELECT e.event_id, e.kind, e.event, e.machine, e.at, a.priority, a.accepted_s FROM events e"
            " LEFT JOIN applications a ON e.kind = 'application' AND a.application_id = e.subject"
            " WHERE e.event_id > ? AND ((e.kind = 'application' AND e.event IN (?, ?))"
            f" OR (e.kind = 'station' AND e.event IN ({marks}))) ORDER BY e.event_id",
            (self._last_event_id, *_PRINTED_EVENTS, *_MODE_EVENTS),
        )
        newest = ledger.query("SELECT COALESCE(MAX(event_id), 0) FROM events")[0][0]
        for _, kind, event, machine, at, priority, accepted_s in rows:
            if kind == "station":
                if machine in self._modes:
                    self._modes[machine] = _MODE_EVENTS[event]
                continue
            if machine in self._last_printed:
                self._last_printed[machine] = max(self._last_printed[machine], float(at))
            if self.instruments is not None and priority == self._green_rank and accepted_s is not None:
                self.instruments.record_green_wait(max(float(at) - float(accepted_s), 0.0))
        self._last_event_id = max(int(newest), self._last_event_id)

    def snapshot(self, ledger: Ledger, *, now_s: float, machines: Mapping[str, MachineReport] | None = None) -> LineSnapshot:
        """The line now. ``machines`` maps machine id -> its report; a machine missing is offline.

        An operator's pause or drain recorded in the ledger (the panel's station events)
        applies to a report whose ``mode`` is ``running``.
        """
        machines = machines or {}
        self._read_events(ledger)
        config, cal = self.config, self.calendar
        # Grouped in SQL: jobs alike in pool, class, deadline and hold are alike to the plan's
        # counts, so one row per group (with its count and earliest acceptance) is enough.
        pool_case = " ".join(f"WHEN ? THEN {i}" for i in range(len(POOLS)))
        rows = ledger.query(
            f"SELECT CASE pool {pool_case} END AS p, MIN(MAX(priority, 0), 15) AS c, COALESCE(deadline_ordinal, 0) AS d,"
            " state IN ('leased', 'printing') AS h, MIN(accepted_s), COUNT(*) FROM applications"
            f" WHERE state IN ({', '.join('?' * len(UNPRINTED_STATES))}) GROUP BY p, c, d, h",
            (*POOLS, *UNPRINTED_STATES),
        )
        held = {r[0] for r in ledger.query(
            "SELECT DISTINCT machine FROM applications WHERE state IN ('leased', 'printing') AND machine IS NOT NULL")}
        flagged = ledger.query("SELECT updated_at FROM applications WHERE state = 'qa_flagged'")

        local_now = dt.datetime.fromtimestamp(now_s, config.line.tz)
        today = local_now.date()
        pool_index = {name: i for i, name in enumerate(POOLS)}
        groups = np.array(rows, dtype=np.float64).reshape(len(rows), 6)
        table = np.repeat(groups[:, :5], groups[:, 5].astype(np.int64), axis=0)
        day_zero = plan_day_zero(cal, today)
        ordinals = table[:, 2].astype(np.int64)
        deadline = np.searchsorted(cal.working_ordinals, ordinals, side="left").astype(np.int64) - day_zero
        queue = queue_arrays(
            deadline, table[:, 1].astype(np.int64), table[:, 0].astype(np.int64), table[:, 4].astype(np.int64)
        )
        waiting = table[:, 3] == 0
        queued_per_pool = np.bincount(queue.pool[waiting].astype(np.int64), minlength=len(POOLS))
        statuses, down = [], []
        for machine in config.line.machines:
            report = machines.get(machine.id)
            if report is not None and report.connected:
                self._seen.add(machine.id)
            # Queued work is the work of the machines in today's line: those whose worker has
            # connected since the controller started. One never seen is not stalled (its
            # missing process is FactoryProcessDown's); one seen and lost is.
            queued = int(queued_per_pool[pool_index[machine.pool]])
            if report is not None and report.mode == "running" and self._modes[machine.id] != "running":
                report = replace(report, mode=self._modes[machine.id])
            state = machine_state(report, holds_job=machine.id in held)
            if state in _TAKEN_OUT:
                down.append(machine.id)
            statuses.append(MachineStatus(
                machine=machine.id, pool=machine.pool, state=state, rated_per_hour=machine.rated_per_hour,
                has_work=machine_has_work(state, machine.id in held, queued if machine.id in self._seen else 0),
                last_printed_s=self._last_printed[machine.id],
            ))

        available = len(cal.working_ordinals) - day_zero
        days = int(min(max(int(deadline.max(initial=-1)) + 2, _MIN_PLAN_DAYS), _MAX_PLAN_DAYS, available))
        dates = [dt.date.fromordinal(int(o)) for o in cal.working_ordinals[day_zero:day_zero + days]]
        hours = shift_hours_for(config.line, config.seasons, dates, peak_shifts=self.peak_shifts)
        line = line_arrays(config.line, dates, shift_hours=hours, down=down)
        plan = plan_queue(queue, line.capacity, line.machine_pool, line.rated_per_hour)
        overtime = plan_overtime(queue, line, max_shift_hours=max(config.line.shifts.peak_hours,
                                                                  float(hours.max(initial=0))))
        # A day's blanks: every machine of the pool (down or not) at today's planned shift.
        all_up = line_arrays(config.line, dates[:1], shift_hours=hours[:1]).pool_capacity()[:, 0] if dates else \
            np.zeros(len(POOLS))
        in_machines = {pool: 0 for pool in POOLS}
        for machine in config.line.machines:
            report = machines.get(machine.id)
            if report is not None and report.blanks_left > 0:
                in_machines[machine.pool] += report.blanks_left

        used = {}
        is_working_today = bool(dates) and dates[0] == today
        shift_start = dt.datetime.combine(today, config.line.shifts.start, tzinfo=config.line.tz)
        elapsed_h = (local_now - shift_start).total_seconds() / 3600.0
        for p, pool in enumerate(POOLS):
            planned = float(overtime.hours[p, 0]) if is_working_today and overtime.hours.shape[1] else 0.0
            used[pool] = overtime_used_hours(elapsed_h, float(hours[0]) if dates else 0.0, planned) \
                if is_working_today else 0.0

        return snapshot_from_plan(
            now_s=now_s,
            queue=queue,
            service_classes=self._classes,
            plan=plan,
            overtime=overtime,
            machines=statuses,
            green_rank=self._green_rank,
            review_entered_s=np.array([r[0] for r in flagged], dtype=np.float64),
            blanks_in_stock={pool: self.blanks_in_store[pool] + in_machines[pool] for pool in POOLS},
            blanks_needed_per_day={pool: float(all_up[p]) for p, pool in enumerate(POOLS)},
            overtime_used=used,
        )
