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
0. **Emergencies first (pinned).** Product rule (issue 4): a green-channel
   job is produced at once and waits at most one print cycle for the first
   free eligible machine. So the green jobs of a pool take the pool's first
   slots, day 0's and then day 1's when day 0 is full of them, *whatever
   their deadline*, in class order: earliest production deadline (the most
   overdue first), then acceptance. An overdue green job is late either way,
   and the fewest-late count alone would print it only in capacity no other
   job needs (in a saturated peak, behind all on-time work); here it prints
   first. Right after the greens come the same-day jobs due today or already
   overdue (promised for the end of their day's shift), in the same order.
   Together these are the *pinned* jobs: the ``i``-th pinned job of a pool
   takes slot ``i`` of the pool's horizon, so their days and lateness follow
   from their order alone. The price shows only in a saturated pool, where
   each pinned job takes a slot the fewest-late plan gives a job that can
   still be on time. On the benchmark instance (1,000,000 jobs, 1 %
   overdue) at 14.5 h shifts 45 overdue green and 213 overdue same-day jobs print on day 0
   instead of day 2, and 258 normal jobs due on day 0 print on day 2: 83,124
   late jobs instead of 82,866 (82,911 when only green is pinned,
   ``same_day_rank=None``). We pin same-day jobs too: one normal job two
   days late for each same-day job that would otherwise be three days late
   on a same-day promise. Same-day jobs due later (none with the shipped
   deadlines) and the other classes are not pinned.
1. **The fewest late jobs among the rest.** Pools are independent (a job's
   pool is fixed), and the pinned jobs leave each day of a pool a capacity
   ``C_d`` (the day's slots less the pinned jobs printed on it: the pinned
   jobs fill the days in order, so the capacity left through day ``k`` is
   ``max(0, cap(k) - P)`` with ``P`` pinned jobs). On that, the rest is unit
   jobs in day buckets. With ``N(k)`` jobs due by day ``k`` (overdue jobs
   due "before day 0") and ``cap(k)`` the capacity left in days ``0..k``, no
   plan has fewer than ``L = max(0, max_k N(k) - cap(k))`` late jobs among
   the rest, since the jobs due by ``k`` can at most fill ``cap(k)``.
   Moore-Hodgson for unit jobs reaches it: go through the deadlines in order
   and, whenever the kept jobs due by ``k`` exceed ``cap(k)``, give up the
   excess; each give-up keeps the set feasible, and the number given up
   after day ``k`` is ``max(0, max_{k'<=k} N(k') - cap(k'))``, so ``L`` in
   all. The job given up is the *least urgent* one due by ``k`` still kept:
   the lowest service class (largest priority), then the latest deadline,
   then the latest acceptance. The kept set is printed in
   earliest-deadline-first order (EDF), which meets every kept deadline
   because it passes the demand-bound test. A plan's late count is then the
   pinned jobs' (fixed by objective 0) plus ``L``, and no plan that keeps
   objective 0 has fewer: ``pool_load().min_late`` is that number.
2. **Late jobs as early as possible.** A late job of the rest is printed in
   the earliest capacity it can take without making a kept job late: by
   day ``t`` the late jobs may use ``min_{k >= t} (cap(k) - kept due by k)``
   slots. (A late job printed early never becomes on time: that would beat
   ``L``.)
3. **Priority inside the day.** The jobs of one pool and day are printed
   pinned first (green, then same day), then by class: same day, urgent,
   normal; inside a class by production deadline, then acceptance time. So
   no job of another class starts before a green one, and a green job with
   no other green ahead of it takes its pool's first free slot: it waits at
   most one print cycle.
4. **Machines share the work evenly.** Slot ``k`` of machine ``m`` starts
   ``k * 3600 / rated_per_hour[m]`` seconds after the shift starts; the jobs of
   a pool-day take the slots in order of start time (ties by machine), so every
   machine of the pool finishes at about the same time.

Demand bound
------------
The issue's feasibility test is the demand-bound one: the jobs due by day
``D`` fit in the capacity of days ``0..D``, for every ``D``. Taken on the
production deadlines it ignores objective 0, and then it can pass while the
plan has late jobs: 480 normal jobs due today and 10 green due tomorrow fit a
pool of 480 a day (480 <= 480, 490 <= 960), but the greens print first and
push 10 normal jobs to tomorrow. So the test is taken on each job's
*demand-bound deadline*, which says what the print order already implies:

- a job that is not pinned: its production deadline (overdue ones are left
  out: they are late whatever the capacity, and Moore-Hodgson gives them up
  before any other, so they take no slot an on-time job needs);
- a pinned job: the earliest deadline, not yet passed, among itself and the
  jobs printed after it (the later pinned jobs and every job not pinned). It
  prints before them, so it must be printed by the time they are due. A
  green job due tomorrow ahead of normal jobs due today is due today; this
  is the issue's "a green job is produced at once": in practice its bound is
  today, while a burst of green jobs larger than a day, due tomorrow, with
  nothing else due before, still counts as due tomorrow, as the plan prints
  it. Overdue pinned jobs get the same bound, as they still hold their slots.

Counted per day that is ``PoolLoad.bound_demand``; through day ``k`` it is
``R(k) = max(H(k), N(k) + P if N(k) > 0)``, ``H(k)`` the end slot of the
last pinned job due by ``k``, ``N(k)`` the other jobs due by ``k``, ``P`` all
the pinned jobs. Then the plain test on these deadlines and the plan agree
both ways: ``cumsum(capacity) >= R`` on every day iff no job that is not
overdue is late (a pinned job is late iff ``H`` passes the capacity at its
deadline; the rest iff ``N(k) > cap(k) - P``, objective 1's bound), so with
nothing overdue, "zero late whenever the demand-bound test passes" holds
literally and ``feasible`` is that test. ``first_break_day`` is the first day
``R`` exceeds the capacity; ``factory plan`` prints ``R`` and flags the same
days, and ``plan_overtime`` adds capacity until ``R`` fits. Moving the green
jobs' production deadline itself to today instead would make a green job
printed tomorrow (because today is full of green jobs) late, which is not the
24-hour promise, and it would leave the test stricter than the plan; the
requirement above changes no deadline and no late count.

Service classes are ranks (``class_ranks``): ``green_rank`` (0 in the shipped
configuration) and ``same_day_rank`` (1; ``None``: pin green only) say which
ones are pinned.

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
# Print order looks at how far overdue a job is, up to this many working days.
_OVERDUE_ORDER_DAYS = 1 << 11
_DEADLINE_BITS = 13  # days + 1 + _OVERDUE_ORDER_DAYS < 2 ** 13 for every horizon _BUCKET_BITS allows
_TIER_BITS = 2
_PRIORITY_BITS = 4
_ACCEPT_BITS = 40
_POOL_BITS = 63 - _DEADLINE_BITS - _TIER_BITS - _PRIORITY_BITS - _ACCEPT_BITS
# Tiers: pinned green jobs, pinned same-day jobs (due today or overdue), the rest.
_GREEN, _SAME_DAY, _REST = 0, 1, 2
_TIERS = 3
# Order inside a pool-day: the two pinned tiers, then the rest by class (0..15).
_DAY_CLASSES = 2 + 16


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
    pinned: np.ndarray
    """(pools,) int64: green jobs plus same-day jobs due today or overdue, printed before the rest."""
    min_late: np.ndarray
    """(pools,) int64: the fewest late jobs of any plan that prints the pinned jobs first (overdue included)."""
    first_break_day: np.ndarray
    """(pools,) int64: first day a job due then, not yet overdue, must be late (-1: none).

    The first day ``D`` on which ``bound_demand`` through ``D`` exceeds ``capacity`` through ``D``."""
    bound_demand: np.ndarray
    """(pools, days) int64: jobs due each day in the demand-bound arithmetic (module docstring, "Demand bound").

    Like ``demand``, except that each pinned job is due by the earliest deadline, not yet passed, among
    itself and the jobs printed after it, and overdue jobs that are not pinned are left out (``overdue``)."""

    @property
    def feasible(self) -> np.ndarray:
        """(pools,) bool: the demand-bound test passes (every deadline can be met).

        Nothing is overdue and ``cumsum(bound_demand) <= cumsum(capacity)`` on every day; then, and only
        then, the plan has no late job (``min_late == 0``).
        """
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


def _tiers(priority: np.ndarray, deadline_day: np.ndarray, green_rank: int, same_day_rank: int | None) -> np.ndarray:
    """(n,) int64: 0 green, 1 same day due today or overdue (both pinned first), 2 the rest."""
    tier = np.full(len(priority), _REST, dtype=np.int64)
    if same_day_rank is not None:
        tier[(priority == same_day_rank) & (deadline_day <= 0)] = _SAME_DAY
    tier[priority == green_rank] = _GREEN
    return tier


def pool_load(
    queue: QueueArrays,
    capacity: np.ndarray,
    machine_pool: np.ndarray,
    *,
    green_rank: int = 0,
    same_day_rank: int | None = 1,
) -> PoolLoad:
    """Demand, capacity and the demand-bound test per pool (no assignment).

    Parameters
    ----------
    queue : QueueArrays
    capacity : (days, machines) int
        Documents per machine per plan day.
    machine_pool : (machines,) int
        Pool index of each machine.
    green_rank, same_day_rank : int
        Class ranks of the pinned classes (see ``plan_queue``).

    Returns
    -------
    PoolLoad
    """
    capacity = np.asarray(capacity, dtype=np.int64)
    machine_pool = np.asarray(machine_pool, dtype=np.int64)
    days = capacity.shape[0]
    tier = _tiers(queue.priority, queue.deadline_day, green_rank, same_day_rank)
    bucket = _buckets(queue.deadline_day, days)
    return _pool_load(queue.pool.astype(np.int64), bucket, tier, capacity, machine_pool, len(queue.pools))


def _pool_load(
    pool: np.ndarray, bucket: np.ndarray, tier: np.ndarray, capacity: np.ndarray, machine_pool: np.ndarray, pools: int
) -> PoolLoad:
    days = capacity.shape[0]
    pool_capacity = np.zeros((pools, days), dtype=np.int64)
    for p in range(pools):
        pool_capacity[p] = capacity[:, machine_pool == p].sum(axis=1)
    counts = np.bincount((pool * _TIERS + tier) * (days + 2) + bucket, minlength=pools * _TIERS * (days + 2))
    counts = counts.reshape(pools, _TIERS, days + 2)
    min_late = np.zeros(pools, dtype=np.int64)
    first_break = np.full(pools, -1, dtype=np.int64)
    bound = np.zeros((pools, days), dtype=np.int64)
    for p in range(pools):
        capacity_by = np.concatenate(([0], np.cumsum(pool_capacity[p])))  # capacity of days < t
        # Objective 0: the pinned jobs, in (tier, bucket) order, hold positions lo..hi - 1 of the
        # pool's slots; a job in bucket b (due on day b - 1) is on time in positions < capacity_by[b],
        # and one due after the horizon is never late.
        pinned = counts[p, :_REST].ravel()
        hi = np.cumsum(pinned)
        lo = hi - pinned
        due_by = np.tile(np.append(capacity_by, np.iinfo(np.int64).max), _REST)
        pinned_late = np.maximum(0, hi - np.maximum(lo, due_by))
        # Objective 1: the rest against the capacity the pinned jobs leave.
        left = _left_for_rest(pool_capacity[p], int(counts[p, :_REST].sum()))
        rest = counts[p, _REST]
        excess = _excess(rest, left)
        min_late[p] = int(pinned_late.sum()) + max(0, int(excess.max()))
        # Deadlines break where a job that is not yet overdue can no longer make it: the first day the
        # demand bound exceeds the capacity (the same arithmetic as ``feasible`` and the CLI's table).
        need = _requirement(counts[p], days)
        bound[p] = np.diff(need, prepend=0)
        broken = np.flatnonzero(need > capacity_by[1:])
        first_break[p] = int(broken[0]) if broken.size else -1
    totals = counts.sum(axis=1)
    return PoolLoad(
        capacity=pool_capacity,
        demand=totals[:, 1 : days + 1].copy(),
        overdue=totals[:, 0].copy(),
        beyond=totals[:, days + 1].copy(),
        pinned=counts[:, :_REST].sum(axis=(1, 2)),
        min_late=min_late,
        first_break_day=first_break,
        bound_demand=bound,
    )


def _requirement(counts: np.ndarray, days: int, *, on_time: np.ndarray | None = None, rest_late: int = 0) -> np.ndarray:
    """(days,) int64: slots a pool needs through each day so that no job not yet overdue is late.

    ``counts`` is the pool's (tiers, days + 2) job counts by tier and bucket; the
    pinned jobs print in (tier, bucket) order from slot 0. ``R(k) = max(H(k),
    N(k) + P if N(k) > 0)``: ``H(k)`` is the end position of the last pinned job
    due by day ``k`` (it needs every slot before it), ``N(k)`` the other jobs
    due by day ``k`` (not overdue), ``P`` all the pinned jobs (they print before
    those). ``R(k)`` counts the jobs due by ``k`` in the demand-bound arithmetic,
    so its differences are ``PoolLoad.bound_demand``. A plan is free of late
    jobs that are not overdue iff the capacity through each day ``k`` is at
    least ``R(k)``.

    For ``plan_overtime``: ``on_time`` (pinned segments, ``counts[:_REST].ravel()``
    order) says how many of each segment's jobs (its first ones) must be on time,
    and ``rest_late`` how many of the others may be late, the rest still on time.
    """
    pinned = counts[:_REST].ravel()
    bucket = np.tile(np.arange(days + 2), _REST)
    keep = pinned if on_time is None else on_time
    end = np.cumsum(pinned) - pinned + keep
    fresh = (bucket >= 1) & (bucket <= days) & (keep > 0)
    last_end = np.zeros(days, dtype=np.int64)
    np.maximum.at(last_end, bucket[fresh] - 1, end[fresh])
    rest = np.cumsum(counts[_REST, 1 : days + 1]) - rest_late
    need = np.maximum(np.maximum.accumulate(last_end), np.where(rest > 0, rest + int(pinned.sum()), 0))
    return need.astype(np.int64)


def _left_for_rest(day_capacity: np.ndarray, pinned: int) -> np.ndarray:
    """(days,) int64: each day's capacity less the pinned jobs, which fill the days in order."""
    capacity_by = np.concatenate(([0], np.cumsum(day_capacity)))
    return np.diff(np.maximum(0, capacity_by - pinned))


def _excess(bucket_counts: np.ndarray, day_capacity: np.ndarray) -> np.ndarray:
    """(days + 1,): jobs due by bucket k less the capacity of the days before bucket k's end."""
    days = len(day_capacity)
    capacity_by = np.concatenate(([0], np.cumsum(day_capacity)))
    return np.cumsum(bucket_counts[: days + 1]) - capacity_by


def min_late_count(
    queue: QueueArrays,
    capacity: np.ndarray,
    machine_pool: np.ndarray,
    *,
    green_rank: int = 0,
    same_day_rank: int | None = 1,
) -> int:
    """The fewest late jobs of any plan printing the pinned jobs first (demand-bound arithmetic, all pools)."""
    load = pool_load(queue, capacity, machine_pool, green_rank=green_rank, same_day_rank=same_day_rank)
    return int(load.min_late.sum())


def plan_queue(
    queue: QueueArrays,
    capacity: np.ndarray,
    machine_pool: np.ndarray,
    rated_per_hour: np.ndarray,
    *,
    green_rank: int = 0,
    same_day_rank: int | None = 1,
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
    green_rank : int
        Class rank of the green channel (``class_ranks(config)["green"]``):
        its jobs take their pool's first slots, whatever their deadline.
    same_day_rank : int or None
        Class rank of the same-day class (``class_ranks(config)["same_day"]``):
        its jobs due today or overdue come right after the green ones.
        ``None`` pins green jobs only.

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
    bucket = _buckets(queue.deadline_day, days)
    priority = queue.priority.astype(np.int64)
    pool = queue.pool.astype(np.int64)
    tier = _tiers(priority, queue.deadline_day, green_rank, same_day_rank)
    load = _pool_load(pool, bucket, tier, capacity, machine_pool, len(queue.pools))

    order = _edf_order(pool, tier, queue.deadline_day, priority, queue.accepted_s, days)
    pool_counts = np.bincount(pool, minlength=len(queue.pools))
    pool_start = np.concatenate(([0], np.cumsum(pool_counts)))
    bucket_s, priority_s, tier_s = bucket[order], priority[order], tier[order]

    day_s = np.full(n, -1, dtype=np.int64)  # plan day of each job, in EDF order
    for p in range(len(queue.pools)):
        lo, hi = pool_start[p], pool_start[p + 1]
        if hi == lo:
            continue
        # Objective 0: the pinned jobs open the pool's segment (tier, then EDF) and take its slots in order.
        mid = lo + int(load.pinned[p])
        pinned_day = np.searchsorted(np.cumsum(load.capacity[p]), np.arange(mid - lo), side="right")
        day_s[lo:mid] = np.where(pinned_day < days, pinned_day, -1)
        # Objective 1 and 2: Moore-Hodgson on what the pinned jobs leave.
        left = _left_for_rest(load.capacity[p], mid - lo)
        dropped = _give_up(bucket_s[mid:hi], priority_s[mid:hi], left, days)
        day_s[mid:hi] = _days_for(bucket_s[mid:hi], dropped, left, days)

    # Inside a pool-day: pinned tiers first, then class, then EDF position (deadline, acceptance).
    # The jobs are in EDF order, so a stable sort on (pool, day, tier or class) keeps it.
    pool_s = np.repeat(np.arange(len(queue.pools)), pool_counts)
    day_class = np.where(tier_s == _REST, _REST + priority_s, tier_s)
    group = (pool_s * (days + 1) + (day_s + 1)) * _DAY_CLASSES + day_class
    group_count = np.bincount(group, minlength=len(queue.pools) * (days + 1) * _DAY_CLASSES)
    permutation = np.argsort(group.astype(_narrowest(len(group_count))), kind="stable")
    within = order[permutation]
    # Pool-day segments of ``within``: the class groups of one pool-day are adjacent.
    segment_count = group_count.reshape(len(queue.pools), days + 1, _DAY_CLASSES).sum(axis=2)
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


def _edf_order(
    pool: np.ndarray, tier: np.ndarray, deadline_day: np.ndarray, priority: np.ndarray, accepted_s: np.ndarray, days: int
) -> np.ndarray:
    """Permutation grouping each pool's jobs: pinned tiers first, each in EDF order (deadline, class, acceptance, row).

    Deadlines past the horizon count as one, and so do overdue ones past
    ``_OVERDUE_ORDER_DAYS``; otherwise the most overdue job comes first. This
    refines the day buckets, so each bucket's jobs stay together. The key
    packs the fields into one int64; when the row index fits too, the key is
    unique and the (faster) unstable sort gives the stable order.
    """
    n = len(pool)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    accepted = accepted_s - int(accepted_s.min())
    accept_bits = max(1, int(accepted.max()).bit_length())
    deadline = np.clip(deadline_day.astype(np.int64), -_OVERDUE_ORDER_DAYS, days)
    deadline -= int(deadline.min())
    deadline_bits = max(1, int(deadline.max()).bit_length())
    row_bits = max(1, (n - 1).bit_length())
    fields = (
        (pool, _POOL_BITS),
        (tier, _TIER_BITS),
        (deadline, deadline_bits),
        (priority, _PRIORITY_BITS),
        (accepted, accept_bits),
    )
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
