"""The panel's numbers from the queue: backlog, at-risk list, the plan picture, green placement. Pure.

Rows come from the ledger as plain tuples (``QueueRow``); the calendar, the
configuration and ``today``/``now`` are passed in. The planning itself is the
scheduler's (``plan_queue``, ``plan_overtime``, ``admit_green``); this module
only shapes its arrays into what the screens draw.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from factory.config import POOLS, Config
from factory.scheduler import (
    QueueArrays,
    WorkingCalendar,
    admit_green,
    class_ranks,
    line_arrays,
    plan_day_zero,
    plan_overtime,
    plan_queue,
    queue_arrays,
    remaining_capacity,
    shift_hours_for,
)

__all__ = [
    "DUE_BINS",
    "QueueRow",
    "queue_of",
    "backlog_view",
    "plan_report",
    "place_green",
    "shift_start",
]

_LAST_DAY_BIN = 10
DUE_BINS = ("overdue", *(str(d) for d in range(_LAST_DAY_BIN + 1)), f"{_LAST_DAY_BIN + 1}+")
"""Backlog columns: past the production deadline, due in 0 (today) .. 10 working days, later
(the same bins as ``factory.metrics.DUE_BINS``)."""

_MIN_PLAN_DAYS = 5
_MAX_PLAN_DAYS = 60
_LIST_LIMIT = 200


@dataclass(frozen=True, slots=True)
class QueueRow:
    """An application not yet printed, as the ledger holds it."""

    application_id: str
    pool: str
    priority: int
    """Service-class rank, 0 (green) first."""
    production_ordinal: int
    """Last day it may be printed, as a date ordinal."""
    accepted_s: float
    service_class: str
    doc_type: str
    state: str


def shift_start(config: Config, day: dt.date) -> dt.datetime:
    """The local moment the production shift of ``day`` starts."""
    return dt.datetime.combine(day, config.line.shifts.start, tzinfo=config.line.tz)


def queue_of(rows: Sequence[QueueRow], cal: WorkingCalendar, today: dt.date) -> QueueArrays:
    """The rows as the scheduler's arrays, planned from ``today``.

    ``deadline_day`` is the working-day index of the production date less that
    of plan day 0 (today, or the next working day); a production date that is
    not a working day counts as the next one.

    Raises
    ------
    CalendarNotCovered
        When a production date lies in a year the calendar does not cover.
    """
    pool_index = {name: i for i, name in enumerate(POOLS)}
    day_zero = plan_day_zero(cal, today)
    ordinals = np.fromiter((r.production_ordinal for r in rows), dtype=np.int64, count=len(rows))
    index = np.searchsorted(cal.working_ordinals, ordinals, side="left")
    return queue_arrays(
        (index - day_zero).astype(np.int64),
        np.fromiter((min(max(r.priority, 0), 15) for r in rows), dtype=np.int64, count=len(rows)),
        np.fromiter((pool_index[r.pool] for r in rows), dtype=np.int64, count=len(rows)),
        np.fromiter((int(r.accepted_s) for r in rows), dtype=np.int64, count=len(rows)),
        application_id=[r.application_id for r in rows],
    )


def backlog_view(rows: Sequence[QueueRow], queue: QueueArrays, config: Config) -> dict[str, Any]:
    """Applications not yet printed by pool, service class and working days to the production deadline.

    Returns
    -------
    dict
        ``{"bins": DUE_BINS, "classes": [...], "pools": {pool: {"grid": [[count per bin] per class],
        "total": n}}, "total": n}``; classes in priority order.
    """
    classes = list(class_ranks(config))
    rank = {name: i for i, name in enumerate(classes)}
    bins = np.clip(queue.deadline_day.astype(np.int64), -1, _LAST_DAY_BIN + 1) + 1
    cls = np.fromiter((rank.get(r.service_class, len(classes) - 1) for r in rows), dtype=np.int64, count=len(rows))
    pools: dict[str, Any] = {}
    for p, name in enumerate(POOLS):
        members = queue.pool == p
        grid = np.bincount(cls[members] * len(DUE_BINS) + bins[members], minlength=len(classes) * len(DUE_BINS))
        pools[name] = {"grid": grid.reshape(len(classes), len(DUE_BINS)).tolist(), "total": int(members.sum())}
    return {"bins": list(DUE_BINS), "classes": classes, "pools": pools, "total": len(rows)}


def _dates(cal: WorkingCalendar, today: dt.date, days: int) -> list[dt.date]:
    day_zero = plan_day_zero(cal, today)
    end = min(day_zero + days, len(cal.working_ordinals))
    return [dt.date.fromordinal(int(o)) for o in cal.working_ordinals[day_zero:end]]


def _horizon(queue: QueueArrays, per_day: np.ndarray, available: int) -> int:
    days = int(queue.deadline_day.max(initial=-1)) + 2
    counts = np.bincount(queue.pool.astype(np.int64), minlength=len(POOLS))
    fit = np.ceil(counts / np.maximum(per_day, 1)).max(initial=0)
    return int(min(max(days, int(fit) + 1, _MIN_PLAN_DAYS), _MAX_PLAN_DAYS, available))


def plan_report(
    rows: Sequence[QueueRow],
    config: Config,
    cal: WorkingCalendar,
    *,
    today: dt.date,
    peak_shifts: bool,
    down: Collection[str] = (),
) -> dict[str, Any]:
    """The plan of the queue as the plan and queue screens draw it.

    Parameters
    ----------
    rows : sequence of QueueRow
        Applications not yet printed.
    config : Config
    cal : WorkingCalendar
    today : date
        Plan day 0 is today, or the next working day.
    peak_shifts : bool
        Plan with the seasons' peak shift lengths instead of the normal shift.
    down : collection of str
        Machines out for the whole plan (paused, faulty, offline).

    Returns
    -------
    dict
        JSON-ready: ``dates``; per pool the daily ``demand`` (jobs due that day;
        overdue ones on day 0), ``capacity`` at the chosen shifts, the
        ``overtime_hours`` and ``overtime_capacity`` that meet every deadline that
        can be met (up to the peak shift), ``planned``, and the counts; ``late``
        and ``at_risk`` (on time with no day to spare), most urgent first.
    """
    queue = queue_of(rows, cal, today)
    available = len(cal.working_ordinals) - plan_day_zero(cal, today)
    probe_dates = _dates(cal, today, 1)
    probe = line_arrays(config.line, probe_dates, down=down)
    probe = probe.with_shift_hours(shift_hours_for(config.line, config.seasons, probe_dates, peak_shifts=peak_shifts))
    days = _horizon(queue, probe.pool_capacity()[:, 0], available)
    dates = _dates(cal, today, days)
    hours = shift_hours_for(config.line, config.seasons, dates, peak_shifts=peak_shifts)
    line = line_arrays(config.line, dates, shift_hours=hours, down=down)
    plan = plan_queue(queue, line.capacity, line.machine_pool, line.rated_per_hour)
    overtime = plan_overtime(queue, line, max_shift_hours=max(config.line.shifts.peak_hours, float(hours.max(initial=0))))
    load = plan.load

    pools: dict[str, Any] = {}
    for p, name in enumerate(POOLS):
        demand = load.demand[p].copy()
        if days:
            demand[0] += load.overdue[p]
        pools[name] = {
            "machines": int((line.machine_pool == p).sum()),
            "machines_up": int(((line.machine_pool == p) & line.up[0]).sum()) if days else 0,
            "jobs": int((queue.pool == p).sum()),
            "demand": demand.tolist(),
            "capacity": load.capacity[p].tolist(),
            "overtime_hours": [round(float(h), 2) for h in overtime.hours[p]],
            "overtime_capacity": overtime.extra_capacity[p].tolist(),
            "planned": plan.planned[p].tolist(),
            "overdue": int(load.overdue[p]),
            "late": int((plan.late & (queue.pool == p)).sum()),
            "min_late": int(load.min_late[p]),
            "feasible": bool(load.feasible[p]),
            "late_even_with_overtime": int(overtime.still_late[p] + overtime.overdue[p]),
            "overtime_total_hours": round(float(overtime.hours[p].sum()), 2),
        }

    by_id = rows
    deadline = queue.deadline_day.astype(np.int64)
    at_risk = np.flatnonzero(plan.late | ((plan.day == deadline) & (plan.day >= 0)))
    at_risk = at_risk[np.lexsort((at_risk, deadline[at_risk], -plan.days_late[at_risk]))]

    def item(i: int) -> dict[str, Any]:
        row = by_id[i]
        planned = int(plan.day[i])
        return {
            "application_id": row.application_id,
            "pool": row.pool,
            "doc_type": row.doc_type,
            "service_class": row.service_class,
            "state": row.state,
            "production_date": dt.date.fromordinal(row.production_ordinal).isoformat(),
            "planned_date": dates[planned].isoformat() if 0 <= planned < len(dates) else None,
            "late": bool(plan.late[i]),
            "days_late": int(plan.days_late[i]),
        }

    late_count = int(plan.late.sum())
    return {
        "today": today.isoformat(),
        "shifts": "peak" if peak_shifts else "normal",
        "shift_hours": [float(h) for h in hours],
        "max_shift_hours": config.line.shifts.peak_hours,
        "dates": [d.isoformat() for d in dates],
        "pools": pools,
        "jobs": len(rows),
        "late_count": late_count,
        "at_risk_count": int(at_risk.size),
        "at_risk": [item(i) for i in at_risk[:_LIST_LIMIT].tolist()],
        "next_up": _next_up(plan, rows, queue),
    }


def _next_up(plan, rows: Sequence[QueueRow], queue: QueueArrays, per_pool: int = 8) -> dict[str, list[dict[str, Any]]]:
    """Each pool's first jobs in print order (day, then slot start time)."""
    out: dict[str, list[dict[str, Any]]] = {}
    for p, name in enumerate(POOLS):
        members = np.flatnonzero((queue.pool == p) & (plan.day >= 0))
        order = members[np.lexsort((members, plan.machine[members], plan.start_s[members], plan.day[members]))][:per_pool]
        out[name] = [{"application_id": rows[i].application_id, "service_class": rows[i].service_class,
                      "day": int(plan.day[i])} for i in order.tolist()]
    return out


def place_green(
    rows: Sequence[QueueRow],
    config: Config,
    cal: WorkingCalendar,
    *,
    pool: str,
    now: dt.datetime,
    peak_shifts: bool,
    down: Collection[str] = (),
    busy_until: dict[str, dt.datetime] | None = None,
) -> dict[str, Any]:
    """Where a green-channel job of ``pool`` admitted at ``now`` prints, and who becomes late.

    ``rows`` is the queue without the green job (it is appended, as the
    scheduler's ``admit_green`` does). The rest of today's shift is what is
    left of day 0 when today is a working day.

    Returns
    -------
    dict
        ``machine`` (id or None), ``starts_at`` (local datetime or None),
        ``wait_s``, ``queue_position`` (0: next in its pool), ``late_before``,
        ``late_after``, ``newly_late`` (application ids).
    """
    today = now.astimezone(config.line.tz).date()
    queue = queue_of(rows, cal, today)
    dates = _dates(cal, today, max(_MIN_PLAN_DAYS, int(queue.deadline_day.max(initial=0)) + 2))
    hours = shift_hours_for(config.line, config.seasons, dates, peak_shifts=peak_shifts)
    line = line_arrays(config.line, dates, shift_hours=hours, down=down)
    capacity = line.capacity.copy()
    works_today = bool(dates) and dates[0] == today
    start = shift_start(config, dates[0]) if dates else now
    now_s = (now - start).total_seconds() if works_today else 0.0
    if works_today:
        capacity[0] = remaining_capacity(capacity[0], line.rated_per_hour, now_s)
    busy = None
    if busy_until:
        busy = np.array([(busy_until[m] - start).total_seconds() if m in busy_until else now_s
                         for m in line.machine_ids])
    ranks = class_ranks(config)
    green_rank = ranks.get("green", 0)
    result = admit_green(queue, capacity, line.machine_pool, line.rated_per_hour, pool=POOLS.index(pool),
                         now_s=now_s, busy_until_s=busy, day_capacity=line.capacity[0], green_rank=green_rank)
    after = result.plan_after
    g = len(queue)
    same_pool = np.flatnonzero((after.day == after.day[g]) & (np.append(queue.pool, POOLS.index(pool)) == POOLS.index(pool)))
    position = int(((after.start_s[same_pool] < after.start_s[g]) & (same_pool != g)).sum()) if after.day[g] >= 0 else -1
    if result.machine >= 0:
        machine = line.machine_ids[result.machine]
        starts_at = start + dt.timedelta(seconds=float(result.start_s))
        wait_s = float(result.wait_s)
    elif after.day[g] >= 0:
        machine = line.machine_ids[int(after.machine[g])]
        day = dates[int(after.day[g])]
        starts_at = shift_start(config, day) + dt.timedelta(seconds=float(after.start_s[g]))
        wait_s = max(0.0, (starts_at - now).total_seconds())
    else:
        machine, starts_at, wait_s = None, None, None
    ids = queue.application_id
    return {
        "machine": machine,
        "starts_at": starts_at,
        "wait_s": wait_s,
        "queue_position": position,
        "late_before": result.late_before,
        "late_after": result.late_after,
        "newly_late": [ids[i] for i in result.newly_late.tolist()],
    }
