"""Capacity: the line as arrays, overtime that meets every deadline, and the peak forecast.

Capacity of machine ``m`` on a day is ``floor(rated_per_hour[m] * hours)``
whole documents, ``hours`` being the shift less that day's maintenance (0 for
a machine that is down). Pools are independent: a job's document type fixes
its pool.

Overtime
--------
``plan_overtime`` finds, per pool, the extra shift hours per working day (in
steps of ``step_hours``, up to ``max_shift_hours``) that make every deadline
that can still be made (overdue jobs are late whatever the shift; they are
counted apart). It uses the plan's own arithmetic (``plan.py``, "Demand
bound"): the green and same-day jobs print first, so the capacity through each
day ``k`` must reach ``R(k)``, not just the jobs due by ``k``. When even
``max_shift_hours`` every day leaves jobs late, ``still_late`` is how many,
and ``R`` keeps on time exactly the jobs that capacity keeps (the pinned ones
on time then, and all but ``still_late`` of the others less the pinned late):
more capacity cannot save the others, so no hour is spent on them.

It first finds the smallest daily level ``h*`` such that capping every day's
overtime at ``h*`` meets ``R``, so no day carries more than it must; then,
under that cap, it adds hours as late as possible (just in time: a shortfall
at day ``D`` is met on ``D``, then ``D - 1``...), each day at the smallest
level that covers it, counting what that level's whole documents add beyond
the shortfall towards later days. That gives the least total under ``h*``,
and one step less on any day with overtime leaves a day short of ``R``: a
job late. With the overtime, ``plan_queue`` has exactly ``still_late +
overdue`` late jobs per pool.

Peak forecast
-------------
``forecast_breaks`` runs the days forward: each working day's arrivals
(expected intake, e.g. ``normal_daily_intake * volume_factor``, split by pool
and by lead time in working days as in the current queue) join the backlog,
the day's capacity prints in deadline order (EDF, optimal for unit jobs with
release days), and the first day on which a job is left past its production
deadline is when deadlines start to break. Overdue backlog is left out: it is
late whatever happens next. Run it with normal shifts and with peak shifts to
compare.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np

from factory.config import POOLS, Line, Seasons
from factory.errors import InvalidField
from factory.scheduler.plan import _REST, _TIERS, _buckets, _requirement, _tiers
from factory.scheduler.queue import QueueArrays

__all__ = [
    "LineArrays",
    "Overtime",
    "Forecast",
    "line_arrays",
    "machine_capacity",
    "plan_overtime",
    "queue_mix",
    "expected_arrivals",
    "backlog_by_deadline",
    "forecast_breaks",
    "shift_hours_for",
]

_EPS = 1e-9


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class LineArrays:
    """The machines over the plan days, as arrays."""

    pools: tuple[str, ...]
    machine_ids: tuple[str, ...]
    machine_pool: np.ndarray
    """(m,) int8: pool index of each machine."""
    rated_per_hour: np.ndarray
    """(m,) float64: documents per hour."""
    shift_hours: np.ndarray
    """(days,) float64: the shift length each day."""
    maintenance_hours: np.ndarray
    """(days, m) float64: hours each machine is out for maintenance."""
    up: np.ndarray
    """(days, m) bool: False when the machine is down all day."""

    @property
    def days(self) -> int:
        return len(self.shift_hours)

    @property
    def capacity(self) -> np.ndarray:
        """(days, m) int64: documents per machine per day."""
        return machine_capacity(self.rated_per_hour, self.shift_hours, self.maintenance_hours, self.up)

    def pool_capacity(self) -> np.ndarray:
        """(pools, days) int64."""
        capacity = self.capacity
        return np.stack([capacity[:, self.machine_pool == p].sum(axis=1) for p in range(len(self.pools))])

    def with_shift_hours(self, shift_hours: np.ndarray) -> LineArrays:
        """The same line with other shift lengths (per day)."""
        hours = np.broadcast_to(np.asarray(shift_hours, dtype=np.float64), self.shift_hours.shape).copy()
        return LineArrays(
            pools=self.pools,
            machine_ids=self.machine_ids,
            machine_pool=self.machine_pool,
            rated_per_hour=self.rated_per_hour,
            shift_hours=hours,
            maintenance_hours=self.maintenance_hours,
            up=self.up,
        )


def machine_capacity(
    rated_per_hour: np.ndarray, shift_hours: np.ndarray, maintenance_hours: np.ndarray, up: np.ndarray
) -> np.ndarray:
    """Whole documents per machine per day.

    Parameters
    ----------
    rated_per_hour : (m,) float
    shift_hours : (days,) float
    maintenance_hours : (days, m) float
    up : (days, m) bool

    Returns
    -------
    (days, m) int64: ``floor(rated * max(0, shift - maintenance))``, 0 when down.
    """
    hours = np.maximum(0.0, np.asarray(shift_hours, dtype=np.float64)[:, None] - maintenance_hours)
    docs = np.floor(hours * np.asarray(rated_per_hour, dtype=np.float64)[None, :] + _EPS).astype(np.int64)
    return np.where(up, docs, 0)


def line_arrays(
    line: Line,
    dates: Sequence[dt.date],
    *,
    shift_hours: float | Sequence[float] | np.ndarray | None = None,
    down: Collection[str] = (),
) -> LineArrays:
    """The line over ``dates`` (the plan's working days).

    Parameters
    ----------
    line : Line
        ``config.line``: machines, rates, maintenance windows, shifts.
    dates : sequence of date
        The plan days, in order.
    shift_hours : float or (days,) array, optional
        Shift length per day; ``line.shifts.normal_hours`` by default.
    down : collection of str
        Ids of machines that are down for the whole plan.

    Raises
    ------
    InvalidField
        ``down`` names a machine the line does not have.
    """
    ids = tuple(m.id for m in line.machines)
    unknown = sorted(set(down) - set(ids))
    if unknown:
        raise InvalidField("down", "is not a machine of the line", unknown[0])
    days = len(dates)
    hours = line.shifts.normal_hours if shift_hours is None else shift_hours
    hours = np.broadcast_to(np.asarray(hours, dtype=np.float64), (days,)).copy()
    index = {d: i for i, d in enumerate(dates)}
    maintenance = np.zeros((days, len(ids)), dtype=np.float64)
    for m, machine in enumerate(line.machines):
        for window in machine.maintenance:
            if window.date in index:
                maintenance[index[window.date], m] += window.hours
    up = np.ones((days, len(ids)), dtype=bool)
    up[:, [ids.index(i) for i in down]] = False
    pool_index = {name: i for i, name in enumerate(POOLS)}
    return LineArrays(
        pools=POOLS,
        machine_ids=ids,
        machine_pool=np.array([pool_index[m.pool] for m in line.machines], dtype=np.int8),
        rated_per_hour=np.array([m.rated_per_hour for m in line.machines], dtype=np.float64),
        shift_hours=hours,
        maintenance_hours=maintenance,
        up=up,
    )


def shift_hours_for(line: Line, seasons: Seasons, dates: Sequence[dt.date], *, peak_shifts: bool) -> np.ndarray:
    """(days,) float64: normal shifts, or each peak's ``shift_hours`` on the days it covers."""
    normal = line.shifts.normal_hours
    if not peak_shifts:
        return np.full(len(dates), normal)
    hours = []
    for day in dates:
        peak = seasons.peak_on(day)
        hours.append(max(normal, peak.shift_hours) if peak is not None else normal)
    return np.array(hours, dtype=np.float64)


# --------------------------------------------------------------------------- overtime


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Overtime:
    """Extra shift hours per pool and day that make every deadline that can be made."""

    hours: np.ndarray
    """(pools, days) float64: overtime on top of each day's shift."""
    extra_capacity: np.ndarray
    """(pools, days) int64: documents those hours add."""
    daily_cap_hours: np.ndarray
    """(pools,) float64: the smallest level no day's overtime has to exceed."""
    still_late: np.ndarray
    """(pools,) int64: jobs late even then (not counting the overdue ones)."""
    overdue: np.ndarray
    """(pools,) int64: jobs past their production deadline already."""

    @property
    def is_enough(self) -> np.ndarray:
        return self.still_late == 0


def plan_overtime(
    queue: QueueArrays,
    line: LineArrays,
    *,
    max_shift_hours: float | np.ndarray,
    step_hours: float = 0.25,
    green_rank: int = 0,
    same_day_rank: int | None = 1,
) -> Overtime:
    """The least overtime per pool and day that meets every deadline (see the module docstring).

    Parameters
    ----------
    queue : QueueArrays
    line : LineArrays
        The plan days' line with its base shifts.
    max_shift_hours : float or (days,) float
        The longest shift allowed (the peak shift, 14-15 hours).
    step_hours : float
        Overtime is given in these steps (a quarter hour by default).
    green_rank, same_day_rank : int
        The pinned classes, as for ``plan_queue`` (pass the same).

    Returns
    -------
    Overtime
        With ``hours`` added to the shifts, ``plan_queue`` has exactly
        ``still_late + overdue`` late jobs per pool; one step less on any day
        with overtime leaves more.
    """
    if step_hours <= 0:
        raise ValueError("step_hours: must be positive")
    days = line.days
    pools = len(line.pools)
    max_shift = np.broadcast_to(np.asarray(max_shift_hours, dtype=np.float64), (days,))
    headroom = np.maximum(0.0, max_shift - line.shift_hours)
    top = float(headroom.max(initial=0.0))
    levels = np.arange(0.0, top + step_hours / 2, step_hours)
    levels = levels[levels < top - _EPS]
    # The peak shift itself is always a level, even when the steps do not divide the headroom (6.5 h in 1 h steps).
    levels = np.append(levels, top)
    level_hours = np.minimum(levels[None, :], headroom[:, None])  # (days, levels)
    base = line.capacity
    hours = np.zeros((pools, days))
    extra = np.zeros((pools, days), dtype=np.int64)
    level_cap = np.zeros(pools)
    still_late = np.zeros(pools, dtype=np.int64)
    counts = _tier_counts(queue, days, green_rank, same_day_rank)
    overdue = counts[:, :, 0].sum(axis=1)
    for p in range(pools):
        columns = line.machine_pool == p
        base_day = base[:, columns].sum(axis=1)
        base_by = np.cumsum(base_day)
        # gain[d, s]: documents that overtime level s adds on day d (capped by the headroom).
        gain = np.stack(
            [
                machine_capacity(
                    line.rated_per_hour[columns],
                    line.shift_hours + level_hours[:, s],
                    line.maintenance_hours[:, columns],
                    line.up[:, columns],
                ).sum(axis=1)
                for s in range(len(levels))
            ],
            axis=1,
        ) - base_day[:, None]
        # What the plan can do at the longest shifts: those late even then are late whatever we add.
        need, still_late[p] = _need_at(counts[p], base_day + gain[:, -1])
        feasible = (base_by[:, None] + np.cumsum(gain, axis=0) >= need[:, None]).all(axis=0)
        chosen = int(np.argmax(feasible))  # the top level is feasible by construction
        level_cap[p] = levels[chosen]
        level = np.zeros(days, dtype=np.int64)
        added = np.zeros(days, dtype=np.int64)
        for k in range(days):
            # Just in time: a shortfall at day k is met on k, then k - 1, ...; each day gets the smallest
            # level that covers it, and what that level adds beyond the shortfall counts for later days.
            shortfall = int(need[k] - base_by[k] - added[: k + 1].sum())
            for d in range(k, -1, -1):
                if shortfall <= 0:
                    break
                target = min(int(added[d]) + shortfall, int(gain[d, chosen]))
                if target > added[d]:
                    s = int(np.argmax(gain[d] >= target))
                    shortfall -= int(gain[d, s] - added[d])
                    added[d], level[d] = gain[d, s], s
        extra[p] = added
        hours[p] = np.where(added > 0, level_hours[np.arange(days), level], 0.0)
    return Overtime(
        hours=hours,
        extra_capacity=extra,
        daily_cap_hours=level_cap,
        still_late=still_late,
        overdue=overdue,
    )


def _tier_counts(queue: QueueArrays, days: int, green_rank: int, same_day_rank: int | None) -> np.ndarray:
    """(pools, tiers, days + 2) int64: jobs by pool, pinned tier and deadline bucket, as ``pool_load`` counts them."""
    pools = len(queue.pools)
    tier = _tiers(queue.priority, queue.deadline_day, green_rank, same_day_rank)
    key = (queue.pool.astype(np.int64) * _TIERS + tier) * (days + 2) + _buckets(queue.deadline_day, days)
    return np.bincount(key, minlength=pools * _TIERS * (days + 2)).reshape(pools, _TIERS, days + 2)


def _need_at(counts: np.ndarray, day_capacity: np.ndarray) -> tuple[np.ndarray, int]:
    """Slots needed through each day to keep on time every job, not overdue, that ``day_capacity`` keeps.

    Returns ``(need, late)``: ``need`` (days,) as ``plan._requirement``, and
    ``late`` the jobs (not overdue) late even with ``day_capacity``. A
    capacity ``c <= day_capacity`` gives a plan with exactly ``late`` such
    jobs iff ``cumsum(c) >= need``: the pinned jobs on time at
    ``day_capacity`` (the first of each deadline group, as they print in
    order) must stay on time, and the others may lose no more than ``late``
    less the pinned ones late anyway (the fewest-late count is
    ``max(0, max_k N(k) - left(k))``, so a count, not a choice of jobs).
    """
    days = len(day_capacity)
    capacity_by = np.concatenate(([0], np.cumsum(day_capacity)))
    pinned = counts[:_REST].ravel()
    bucket = np.tile(np.arange(days + 2), _REST)
    start = np.cumsum(pinned) - pinned
    due_by = np.where((bucket >= 1) & (bucket <= days), capacity_by[np.minimum(bucket, days)], np.iinfo(np.int64).max)
    on_time = np.clip(due_by - start, 0, pinned)
    fresh = (bucket >= 1) & (bucket <= days)
    pinned_late = int((pinned - on_time)[fresh].sum())
    left_by = np.maximum(0, capacity_by[1:] - int(pinned.sum()))
    rest_late = max(0, int((np.cumsum(counts[_REST, 1 : days + 1]) - left_by).max(initial=0)))
    return _requirement(counts, days, on_time=np.where(fresh, on_time, pinned), rest_late=rest_late), pinned_late + rest_late


# --------------------------------------------------------------------------- forecast


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Forecast:
    """Days run forward from today's backlog with expected arrivals."""

    break_day: np.ndarray
    """(pools,) int64: first day a job is left past its deadline (-1: none in the horizon)."""
    arrivals: np.ndarray
    """(pools, days) int64: expected new applications per day."""
    capacity: np.ndarray
    """(pools, days) int64."""
    backlog_end: np.ndarray
    """(pools, days) int64: jobs waiting at the end of each day."""
    missed: np.ndarray
    """(pools, days) int64: jobs waiting past their deadline at the end of each day."""

    @property
    def first_break_day(self) -> int:
        """The earliest break over all pools (-1: none)."""
        broken = self.break_day[self.break_day >= 0]
        return int(broken.min()) if broken.size else -1


def queue_mix(queue: QueueArrays, *, max_lead: int = 60) -> np.ndarray:
    """(pools, leads) float64: share of the queue by pool and lead time in working days.

    The lead is ``deadline_day - effective_day``; negative leads (late from the
    start, whatever the capacity) are left out. Sums to 1 unless the queue has
    no job with a lead of 0 or more (then all zeros).
    """
    lead = queue.deadline_day.astype(np.int64) - queue.effective_day
    keep = lead >= 0
    lead = np.minimum(lead[keep], max_lead)
    pools = len(queue.pools)
    counts = np.bincount(queue.pool[keep].astype(np.int64) * (max_lead + 1) + lead, minlength=pools * (max_lead + 1))
    counts = counts.reshape(pools, max_lead + 1).astype(np.float64)
    total = counts.sum()
    return counts / total if total else counts


def expected_arrivals(daily_intake: np.ndarray, mix: np.ndarray) -> np.ndarray:
    """(days, pools, leads) int64: each day's intake split by ``mix``, in whole applications.

    Parameters
    ----------
    daily_intake : (days,) float
        Expected applications per working day (e.g. normal intake times the
        season's volume factor).
    mix : (pools, leads) float
        Shares summing to 1 (``queue_mix``).

    Largest-remainder rounding keeps each day's total.
    """
    daily_intake = np.asarray(daily_intake, dtype=np.float64)
    mix = np.asarray(mix, dtype=np.float64)
    totals = np.floor(daily_intake + 0.5).astype(np.int64)
    if not np.isclose(mix.sum(), 1.0):
        if totals.any():
            raise ValueError("mix: shares must sum to 1 (is the queue empty? pass a mix)")
        return np.zeros((len(totals), *mix.shape), dtype=np.int64)
    shares = totals[:, None] * mix.reshape(1, -1)
    whole = np.floor(shares).astype(np.int64)
    remainder = shares - whole
    short = totals - whole.sum(axis=1)
    order = np.argsort(-remainder, axis=1, kind="stable")
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.arange(order.shape[1])[None, :].repeat(len(totals), 0), axis=1)
    whole += ranks < short[:, None]
    return whole.reshape(len(totals), *mix.shape)


def backlog_by_deadline(queue: QueueArrays, days: int) -> np.ndarray:
    """(pools, days) int64: queued jobs per pool by production deadline day (overdue left out).

    Jobs due after the last day are counted on the last day.
    """
    deadline = queue.deadline_day.astype(np.int64)
    keep = deadline >= 0
    pools = len(queue.pools)
    due = np.minimum(deadline[keep], days - 1)
    counts = np.bincount(queue.pool[keep].astype(np.int64) * days + due, minlength=pools * days)
    return counts.reshape(pools, days)


def forecast_breaks(backlog: np.ndarray, arrivals: np.ndarray, capacity: np.ndarray) -> Forecast:
    """Run the days forward; the first day on which a deadline is missed, per pool.

    Parameters
    ----------
    backlog : (pools, days) int
        Queued jobs by production deadline day (``backlog_by_deadline``).
    arrivals : (days, pools, leads) int
        New jobs arriving on each day, by lead time: one arriving on day ``d``
        with lead ``l`` is due on day ``d + l`` and may be printed from day ``d``.
    capacity : (pools, days) int
        Documents each pool prints each day.

    Returns
    -------
    Forecast
    """
    backlog = np.asarray(backlog, dtype=np.int64)
    arrivals = np.asarray(arrivals, dtype=np.int64)
    capacity = np.asarray(capacity, dtype=np.int64)
    pools, days = capacity.shape
    if backlog.shape != (pools, days) or arrivals.shape[:2] != (days, pools):
        raise ValueError("backlog, arrivals and capacity must cover the same pools and days")
    leads = arrivals.shape[2]
    pending = np.zeros((pools, days + leads), dtype=np.int64)
    pending[:, :days] = backlog
    backlog_end = np.zeros((pools, days), dtype=np.int64)
    missed = np.zeros((pools, days), dtype=np.int64)
    for d in range(days):
        pending[:, d : d + leads] += arrivals[d]
        # Print the earliest deadlines first: each deadline takes what the earlier ones left.
        before = np.cumsum(pending, axis=1) - pending
        taken = np.clip(capacity[:, d : d + 1] - before, 0, pending)
        pending -= taken
        backlog_end[:, d] = pending.sum(axis=1)
        missed[:, d] = pending[:, : d + 1].sum(axis=1)
    broken = missed > 0
    break_day = np.where(broken.any(axis=1), np.argmax(broken, axis=1), -1)
    return Forecast(
        break_day=break_day.astype(np.int64),
        arrivals=arrivals.sum(axis=2).T.copy(),
        capacity=capacity,
        backlog_end=backlog_end,
        missed=missed,
    )
