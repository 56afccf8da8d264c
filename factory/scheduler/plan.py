"""The capacity plan: which machine prints each queued application, on which day, in which slot.

Model
-----
Every document is one unit of work on one machine of its pool (booklet or
card); printing is never interrupted. ``capacity[d, m]`` is the number of
documents machine ``m`` prints on plan day ``d`` (working days: 0 is today).
A job is on time when it is printed on or before its production deadline day;
``days_late`` counts working days past it.

Objective, in order
-------------------
1. **The fewest late jobs.** Pools are independent (a job's pool is fixed), so
   per pool this is unit jobs in day buckets with capacities ``C_d``. With
   ``N(k)`` jobs due by day ``k`` (overdue jobs due "before day 0") and
   ``cap(k)`` the capacity of days ``0..k``, no plan has fewer than
   ``L = max(0, max_k N(k) - cap(k))`` late jobs, since the jobs due by ``k``
   can at most fill ``cap(k)``. Moore-Hodgson for unit jobs reaches it: go
   through the deadlines in order and, whenever the kept jobs due by ``k``
   exceed ``cap(k)``, give up the excess; each give-up keeps the set feasible,
   and the number given up after day ``k`` is ``max(0, max_{k'<=k} N(k') -
   cap(k'))``, so ``L`` in all. The job given up is the *least urgent* one due
   by ``k`` still kept: the lowest service class (largest priority), then the
   latest deadline, then the latest acceptance. The kept set is printed in
   earliest-deadline-first order (EDF), which meets every kept deadline
   because it passes the demand-bound test.
2. **Late jobs as early as possible.** A late job is printed in the earliest
   capacity it can take without making a kept job late: by day ``t`` the late
   jobs may use ``min_{k >= t} (cap(k) - kept due by k)`` slots. (A late job
   printed early never becomes on time: that would beat ``L``.)
3. **Priority inside the day.** The jobs of one pool and day are printed green
   first, then same day, urgent, normal; inside a class by production
   deadline, then acceptance time. So a green job planned today takes the first
   free slot: it waits at most one print cycle.
4. **Machines share the work evenly.** Slot ``k`` of machine ``m`` starts
   ``k * 3600 / rated_per_hour[m]`` seconds after the shift starts; the jobs of
   a pool-day take the slots in order of start time (ties by machine), so every
   machine of the pool finishes at about the same time.

Maintenance hours come off the end of a machine's day, so slot start times
keep their rhythm. Jobs that do not fit in the days given are ``unplanned``:
they get no machine and, when their deadline lies inside the horizon, count as
late by at least ``days - deadline``.

The whole plan is sorting and cumulative sums over arrays: two sorts of the
queue and a loop over pools and days.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from factory.scheduler.queue import QueueArrays

__all__ = ["Plan", "PoolLoad", "plan_queue", "pool_load", "min_late_count"]

_BUCKET_BITS = 12
_PRIORITY_BITS = 4
_ACCEPT_BITS = 40
_POOL_BITS = 63 - _BUCKET_BITS - _PRIORITY_BITS - _ACCEPT_BITS


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class PoolLoad:
    """Demand against capacity per pool and day, and what the plan makes of it."""

    capacity: np.ndarray
    """(pools, days) int64: documents the pool can print each day."""
    demand: np.ndarray
    """(pools, days) int64: jobs whose production deadline is that day."""
    overdue: np.ndarray
    """(pools,) int64: jobs already past their production deadline on day 0."""
    beyond: np.ndarray
    """(pools,) int64: jobs due after the last plan day."""
    min_late: np.ndarray
    """(pools,) int64: the fewest late jobs any plan can have (overdue included)."""
    first_break_day: np.ndarray
    """(pools,) int64: first day whose cumulative demand exceeds cumulative capacity (-1: none)."""

    @property
    def feasible(self) -> np.ndarray:
        """(pools,) bool: the demand-bound test passes (every deadline can be met)."""
        return self.min_late == 0


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Plan:
    """One row per queued job (same order as the queue), plus the per-pool load."""

    day: np.ndarray
    """(n,) int32: plan day it is printed on; -1 when it does not fit (unplanned)."""
    machine: np.ndarray
    """(n,) int32: index of the machine; -1 when unplanned."""
    slot: np.ndarray
    """(n,) int32: slot on that machine's day (0 first); -1 when unplanned."""
    start_s: np.ndarray
    """(n,) float64: seconds after the shift start the slot begins; NaN when unplanned."""
    late: np.ndarray
    """(n,) bool: printed after its production deadline (or unplanned with a deadline inside the horizon)."""
    days_late: np.ndarray
    """(n,) int32: working days past the production deadline (a lower bound when unplanned)."""
    planned: np.ndarray
    """(pools, days) int64: jobs printed per pool and day."""
    load: PoolLoad

    @property
    def unplanned(self) -> np.ndarray:
        return self.day < 0

    @property
    def late_count(self) -> int:
        return int(self.late.sum())


def _buckets(deadline_day: np.ndarray, days: int) -> np.ndarray:
    # 0: overdue, 1 + d: due on day d, days + 1: due after the horizon.
    return (np.clip(deadline_day, -1, days) + 1).astype(np.int64)


def _check_inputs(queue: QueueArrays, capacity: np.ndarray, machine_pool: np.ndarray, rated_per_hour: np.ndarray) -> None:
    if capacity.ndim != 2:
        raise ValueError(f"capacity: must be (days, machines), got shape {capacity.shape}")
    days, machines = capacity.shape
    if machine_pool.shape != (machines,) or rated_per_hour.shape != (machines,):
        raise ValueError("machine_pool, rated_per_hour: must have one entry per capacity column")
    if days >= (1 << _BUCKET_BITS) - 2:
        raise ValueError(f"capacity: at most {(1 << _BUCKET_BITS) - 3} days")
    if (capacity < 0).any():
        raise ValueError("capacity: must not be negative")
    if len(queue.pools) > (1 << _POOL_BITS):
        raise ValueError("pools: too many")
    if len(queue) and int(queue.accepted_s.max()) - int(queue.accepted_s.min()) >= (1 << _ACCEPT_BITS):
        raise ValueError("accepted_s: span too large")


def pool_load(queue: QueueArrays, capacity: np.ndarray, machine_pool: np.ndarray) -> PoolLoad:
    """Demand, capacity and the demand-bound test per pool (no assignment).

    Parameters
    ----------
    queue : QueueArrays
    capacity : (days, machines) int
        Documents per machine per plan day.
    machine_pool : (machines,) int
        Pool index of each machine.

    Returns
    -------
    PoolLoad
    """
    capacity = np.asarray(capacity, dtype=np.int64)
    days = capacity.shape[0]
    pools = len(queue.pools)
    pool_capacity = np.zeros((pools, days), dtype=np.int64)
    for p in range(pools):
        pool_capacity[p] = capacity[:, machine_pool == p].sum(axis=1)
    bucket = _buckets(queue.deadline_day, days)
    counts = np.bincount(queue.pool.astype(np.int64) * (days + 2) + bucket, minlength=pools * (days + 2))
    counts = counts.reshape(pools, days + 2)
    min_late = np.zeros(pools, dtype=np.int64)
    first_break = np.full(pools, -1, dtype=np.int64)
    for p in range(pools):
        excess = _excess(counts[p], pool_capacity[p])
        min_late[p] = max(0, int(excess.max()))
        # Deadlines break where a job that is not yet overdue can no longer make it.
        fresh = np.cumsum(counts[p, 1 : days + 1]) - np.cumsum(pool_capacity[p])
        broken = np.flatnonzero(fresh > 0)
        first_break[p] = broken[0] if broken.size else -1
    return PoolLoad(
        capacity=pool_capacity,
        demand=counts[:, 1 : days + 1].copy(),
        overdue=counts[:, 0].copy(),
        beyond=counts[:, days + 1].copy(),
        min_late=min_late,
        first_break_day=first_break,
    )


def _excess(bucket_counts: np.ndarray, day_capacity: np.ndarray) -> np.ndarray:
    """(days + 1,): jobs due by bucket k less the capacity of the days before bucket k's end."""
    days = len(day_capacity)
    capacity_by = np.concatenate(([0], np.cumsum(day_capacity)))
    return np.cumsum(bucket_counts[: days + 1]) - capacity_by


def min_late_count(queue: QueueArrays, capacity: np.ndarray, machine_pool: np.ndarray) -> int:
    """The fewest late jobs of any plan (the demand-bound arithmetic, summed over pools)."""
    return int(pool_load(queue, capacity, machine_pool).min_late.sum())


def plan_queue(
    queue: QueueArrays,
    capacity: np.ndarray,
    machine_pool: np.ndarray,
    rated_per_hour: np.ndarray,
) -> Plan:
    """Assign every queued job a machine, a day and a slot (see the module docstring).

    Parameters
    ----------
    queue : QueueArrays
        ``deadline_day`` (n,) int32 in working days after day 0, ``priority``
        (n,) int8, ``pool`` (n,) int8, ``accepted_s`` (n,) int64.
    capacity : (days, machines) int
        Documents each machine prints on each plan day (0 when down).
    machine_pool : (machines,) int
        Pool index of each machine.
    rated_per_hour : (machines,) float
        Documents per hour, which sets the slot rhythm.

    Returns
    -------
    Plan
        Same order as the queue. Deterministic for the same input.
    """
    capacity = np.asarray(capacity, dtype=np.int64)
    machine_pool = np.asarray(machine_pool, dtype=np.int64)
    rated_per_hour = np.asarray(rated_per_hour, dtype=np.float64)
    _check_inputs(queue, capacity, machine_pool, rated_per_hour)
    n = len(queue)
    days = capacity.shape[0]
    load = pool_load(queue, capacity, machine_pool)

    bucket = _buckets(queue.deadline_day, days)
    priority = queue.priority.astype(np.int64)
    pool = queue.pool.astype(np.int64)
    order = _edf_order(pool, bucket, priority, queue.accepted_s, days)
    pool_counts = np.bincount(pool, minlength=len(queue.pools))
    pool_start = np.concatenate(([0], np.cumsum(pool_counts)))
    bucket_s, priority_s = bucket[order], priority[order]

    day_s = np.full(n, -1, dtype=np.int64)  # plan day of each job, in EDF order
    for p in range(len(queue.pools)):
        lo, hi = pool_start[p], pool_start[p + 1]
        if hi == lo:
            continue
        dropped = _give_up(bucket_s[lo:hi], priority_s[lo:hi], load.capacity[p], days)
        day_s[lo:hi] = _days_for(bucket_s[lo:hi], dropped, load.capacity[p], days)

    # Inside a pool-day: class first, then EDF position (deadline, acceptance).
    # The jobs are in EDF order, so a stable sort on (pool, day, class) keeps it.
    pool_s = np.repeat(np.arange(len(queue.pools)), pool_counts)
    group = (pool_s * (days + 1) + (day_s + 1)) * 16 + priority_s
    group_count = np.bincount(group, minlength=len(queue.pools) * (days + 1) * 16)
    permutation = np.argsort(group.astype(_narrowest(len(group_count))), kind="stable")
    within = order[permutation]
    # Pool-day segments of ``within``: the class groups of one pool-day are adjacent.
    segment_count = group_count.reshape(len(queue.pools), days + 1, 16).sum(axis=2)
    segment_end = np.cumsum(segment_count.ravel()).reshape(segment_count.shape)
    planned = segment_count[:, 1:].copy()
    machine_w = np.full(n, -1, dtype=np.int32)
    slot_w = np.full(n, -1, dtype=np.int32)
    start_w = np.full(n, np.nan)
    cache: dict[bytes, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    for p in range(len(queue.pools)):
        columns = np.flatnonzero(machine_pool == p)
        for d in range(days):
            count = int(segment_count[p, d + 1])
            if not count:
                continue
            e = int(segment_end[p, d + 1])
            slot_machine, slot_index, slot_start = _slot_order(capacity[d, columns], rated_per_hour[columns], cache)
            machine_w[e - count : e] = columns[slot_machine[:count]]
            slot_w[e - count : e] = slot_index[:count]
            start_w[e - count : e] = slot_start[:count]
    day = np.empty(n, dtype=np.int64)
    day[order] = day_s
    machine = np.empty(n, dtype=np.int32)
    machine[within] = machine_w
    slot = np.empty(n, dtype=np.int32)
    slot[within] = slot_w
    start_s = np.empty(n)
    start_s[within] = start_w

    deadline = queue.deadline_day.astype(np.int64)
    unplanned = day < 0
    late = np.where(unplanned, deadline < days, day > deadline)
    days_late = np.where(unplanned, days - deadline, day - deadline)
    days_late = np.where(late, np.maximum(days_late, 1), 0)
    return Plan(
        day=day.astype(np.int32),
        machine=machine.astype(np.int32),
        slot=slot.astype(np.int32),
        start_s=start_s,
        late=late,
        days_late=days_late.astype(np.int32),
        planned=planned,
        load=load,
    )


def _edf_order(pool: np.ndarray, bucket: np.ndarray, priority: np.ndarray, accepted_s: np.ndarray, days: int) -> np.ndarray:
    """Permutation putting each pool's jobs together in EDF order: deadline, class, acceptance, row.

    The key packs the fields into one int64; when the row index fits too, the
    key is unique and the (faster) unstable sort gives the stable order.
    """
    n = len(pool)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    accepted = accepted_s - int(accepted_s.min())
    accept_bits = max(1, int(accepted.max()).bit_length())
    bucket_bits = (days + 2).bit_length()
    row_bits = max(1, (n - 1).bit_length())
    fields = ((pool, _POOL_BITS), (bucket, bucket_bits), (priority, _PRIORITY_BITS), (accepted, accept_bits))
    with_row = sum(bits for _, bits in fields) + row_bits <= 63
    key = np.zeros(n, dtype=np.int64)
    for values, bits in fields:
        key <<= bits
        key |= values
    if with_row:
        key <<= row_bits
        key |= np.arange(n, dtype=np.int64)
        return np.argsort(key)
    return np.argsort(key, kind="stable")


def _narrowest(largest: int) -> type:
    # NumPy's stable sort is a radix sort for 16-bit keys: linear time.
    return np.int16 if largest < (1 << 15) else np.int64


def _give_up(bucket: np.ndarray, priority: np.ndarray, day_capacity: np.ndarray, days: int) -> np.ndarray:
    """Moore-Hodgson for unit jobs in day buckets: which jobs (EDF order) are given up as late.

    ``bucket`` and ``priority`` are one pool's jobs in EDF order.
    Returns (n,) bool in the same order.
    """
    n = len(bucket)
    counts = np.bincount(bucket, minlength=days + 2)
    excess = _excess(counts, day_capacity)
    total = np.maximum.accumulate(np.maximum(excess, 0))
    new = np.diff(np.concatenate(([0], total)))
    dropped = np.zeros(n, dtype=bool)
    events = np.flatnonzero(new > 0)
    if events.size == 0:
        return dropped
    prefix_end = np.cumsum(counts)
    # Least urgent first: largest class number, then latest deadline, then latest
    # acceptance. Inside one class, EDF order is (deadline, acceptance), so the
    # least urgent are the last positions: a stable sort of the reversed order
    # by class, largest first, is the whole ranking (and makes it unique).
    reversed_class = (15 - priority[::-1]).astype(np.int16)
    worst_first = (n - 1) - np.argsort(reversed_class, kind="stable")
    worst_rank = np.empty(n, dtype=np.int64)
    worst_rank[worst_first] = np.arange(n)
    for k in events.tolist():
        need = int(new[k])
        prefix = np.arange(prefix_end[k])
        candidates = prefix[~dropped[: prefix_end[k]]]
        if need >= candidates.size:
            dropped[candidates] = True
            continue
        ranks = worst_rank[candidates]
        chosen = np.argpartition(ranks, need - 1)[:need]
        dropped[candidates[chosen]] = True
    return dropped


def _days_for(bucket: np.ndarray, dropped: np.ndarray, day_capacity: np.ndarray, days: int) -> np.ndarray:
    """Plan day of each job (EDF order): kept jobs EDF in the room the late ones leave.

    Returns (n,) int64, -1 where the horizon is full.
    """
    capacity_by = np.concatenate(([0], np.cumsum(day_capacity)))  # (days + 1,) capacity of days < t
    kept_counts = np.bincount(bucket[~dropped], minlength=days + 2)
    kept_due_by = np.cumsum(kept_counts[: days + 1])  # kept jobs due by bucket k (= by day k - 1)
    # Slack of constraint k: capacity of days 0..k-1 less the kept jobs due by day k-1.
    slack = capacity_by - kept_due_by
    late_total = int(dropped.sum())
    # Late jobs allowed in days < t: the tightest constraint at or after t.
    late_room = np.minimum.accumulate(slack[::-1])[::-1]
    late_room = np.minimum(np.maximum(late_room, 0), late_total)
    late_room[0] = 0
    late_per_day = np.diff(late_room)  # (days,)
    kept_per_day = day_capacity - late_per_day
    day = np.full(len(bucket), -1, dtype=np.int64)
    late_positions = np.arange(late_total)
    late_day = np.searchsorted(late_room[1:], late_positions, side="right")
    late_day[late_day >= days] = -1
    day[dropped] = late_day
    kept_positions = np.arange(len(bucket) - late_total)
    kept_day = np.searchsorted(np.cumsum(kept_per_day), kept_positions, side="right")
    kept_day[kept_day >= days] = -1
    day[~dropped] = kept_day
    return day


def _slot_order(
    machine_capacity: np.ndarray,
    rated_per_hour: np.ndarray,
    cache: dict[bytes, tuple[np.ndarray, np.ndarray, np.ndarray]],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A pool-day's slots in order of start time: (machine column, slot index, start seconds)."""
    key = machine_capacity.tobytes() + rated_per_hour.tobytes()
    found = cache.get(key)
    if found is not None:
        return found
    columns = np.repeat(np.arange(len(machine_capacity)), machine_capacity)
    first = np.repeat(np.cumsum(machine_capacity) - machine_capacity, machine_capacity)
    index = np.arange(len(columns)) - first
    start = index * (3600.0 / rated_per_hour[columns])
    order = np.lexsort((columns, start))
    found = (columns[order], index[order], start[order])
    cache[key] = found
    return found
