"""The line at one moment, as plain data: what the controller's ``/metrics`` shows.

A ``LineSnapshot`` is built by the controller (from the ledger, the plan and
the machines' heartbeats) every few seconds and handed to the collector; the
collector only formats it. Everything here is pure: arrays and frozen
dataclasses in, arrays and frozen dataclasses out, ``now_s`` passed in.

Axes used throughout:

- pools: ``LineSnapshot.pools`` (``booklet``, ``card``);
- service classes: ``LineSnapshot.service_classes`` in rank order (rank 0,
  the green channel, first), the same ranks ``QueueArrays.priority`` holds;
- due bins: ``DUE_BINS``, working days from today to the production deadline.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from factory.errors import InvalidField, InvalidRecord
from factory.scheduler import Overtime, Plan, QueueArrays

__all__ = [
    "MACHINE_STATES",
    "IDLE_BY_CHOICE",
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
]

MACHINE_STATES = ("busy", "idle", "draining", "paused", "maintenance", "off_shift", "fault", "offline")
"""States of a printing machine: the Entrust PB8500 list (Busy, Idle, Pausing as
draining, Paused, Offline), plus a scheduled maintenance window, outside the
shift, and a device fault."""

IDLE_BY_CHOICE = frozenset({"draining", "paused", "maintenance", "off_shift"})
"""States in which a machine takes no new job on purpose: queued work is not its work."""

_LAST_DAY_BIN = 10
DUE_BINS = ("overdue", *(str(d) for d in range(_LAST_DAY_BIN + 1)), f"{_LAST_DAY_BIN + 1}+")
"""Labels of the backlog bins: past the production deadline, due in 0 (today) .. 10
working days, and later. Normal passports are due within 7, residence permits 10 and
HMT residence permits 20, so the last bin holds only those."""


@dataclass(frozen=True, slots=True, kw_only=True)
class MachineStatus:
    """One printing machine as the controller sees it."""

    machine: str
    """Machine id from ``configs/line.toml`` (``B01``)."""
    pool: str
    state: str
    """One of ``MACHINE_STATES``."""
    rated_per_hour: float
    """Nameplate documents per hour."""
    has_work: bool
    """It holds a job, or its pool has queued jobs and it is not idle by choice
    (``machine_has_work``). The stalled-machine alert needs it 1 for 10 minutes,
    so a machine coming back from a pause or a night gets its first 10 minutes."""
    last_printed_s: float
    """Unix seconds of its last printed document; when it printed none since the
    controller started watching, the time watching started."""


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class LineSnapshot:
    """Everything the controller exports, one frozen value per scrape."""

    taken_at_s: float
    """Unix seconds the snapshot describes."""
    pools: tuple[str, ...]
    service_classes: tuple[str, ...]
    """Service class names in rank order (rank 0 first)."""
    machines: tuple[MachineStatus, ...] = ()
    backlog: np.ndarray | None = None
    """(pools, classes, len(DUE_BINS)) int64: applications not yet printed, by pool,
    service class and working days to their production deadline. None: zeros."""
    least_slack_days: np.ndarray | None = None
    """(pools, classes) float64: working days to the nearest production deadline among
    the unprinted applications (negative: overdue); NaN when there are none."""
    projected_late: np.ndarray | None = None
    """(pools, classes) int64: applications the current plan prints after their deadline."""
    plan_demand: np.ndarray | None = None
    """(pools, days) int64: cumulative applications due by plan day d (overdue ones in day 0)."""
    plan_capacity: np.ndarray | None = None
    """(pools, days) int64: cumulative documents the pool can print by the end of plan day d."""
    green_waiting: np.ndarray | None = None
    """(pools,) int64: green-channel applications accepted and not yet printed."""
    green_oldest_wait_s: np.ndarray | None = None
    """(pools,) float64: seconds the longest-waiting of them has waited (0 when none)."""
    review_queue: int = 0
    """Documents flagged by QA and waiting for a reviewer."""
    review_oldest_age_s: float = 0.0
    """Seconds the oldest of them has waited (0 when none)."""
    blanks_in_stock: np.ndarray | None = None
    """(pools,) int64: blank booklets / cards in stock."""
    blanks_needed_per_day: np.ndarray | None = None
    """(pools,) float64: blanks a working day of production takes at the planned shift."""
    overtime_planned_hours: np.ndarray | None = None
    """(pools,) float64: overtime the plan needs today, on top of the normal shift."""
    overtime_used_hours: np.ndarray | None = None
    """(pools,) float64: overtime worked so far today."""

    def __post_init__(self) -> None:
        problems = _check_snapshot(self)
        if problems:
            raise InvalidRecord(problems, where="line snapshot")


def _check_snapshot(snap: LineSnapshot) -> list[InvalidField]:
    problems: list[InvalidField] = []
    p, c = len(snap.pools), len(snap.service_classes)
    if not math.isfinite(snap.taken_at_s):
        problems.append(InvalidField("taken_at_s", "must be a finite number of seconds", snap.taken_at_s))
    if len(set(snap.pools)) != p or not p:
        problems.append(InvalidField("pools", "must be distinct and not empty", snap.pools))
    if len(set(snap.service_classes)) != c or not c:
        problems.append(InvalidField("service_classes", "must be distinct and not empty", snap.service_classes))
    seen: set[str] = set()
    for i, m in enumerate(snap.machines):
        where = f"machines[{i}]"
        if m.machine in seen:
            problems.append(InvalidField(f"{where}.machine", "appears twice", m.machine))
        seen.add(m.machine)
        if m.state not in MACHINE_STATES:
            problems.append(InvalidField(f"{where}.state", f"must be one of {', '.join(MACHINE_STATES)}", m.state))
        if m.pool not in snap.pools:
            problems.append(InvalidField(f"{where}.pool", f"must be one of {', '.join(snap.pools)}", m.pool))
        if not (math.isfinite(m.rated_per_hour) and m.rated_per_hour >= 0):
            problems.append(InvalidField(f"{where}.rated_per_hour", "must be a number >= 0", m.rated_per_hour))
        if not math.isfinite(m.last_printed_s):
            problems.append(InvalidField(f"{where}.last_printed_s", "must be finite Unix seconds", m.last_printed_s))
    shapes = {
        "backlog": (p, c, len(DUE_BINS)),
        "least_slack_days": (p, c),
        "projected_late": (p, c),
        "green_waiting": (p,),
        "green_oldest_wait_s": (p,),
        "blanks_in_stock": (p,),
        "blanks_needed_per_day": (p,),
        "overtime_planned_hours": (p,),
        "overtime_used_hours": (p,),
    }
    for name, shape in shapes.items():
        array = getattr(snap, name)
        if array is not None and np.shape(array) != shape:
            problems.append(InvalidField(name, f"must have shape {shape}", np.shape(array)))
    for name in ("plan_demand", "plan_capacity"):
        array = getattr(snap, name)
        if array is not None and (np.ndim(array) != 2 or np.shape(array)[0] != p):
            problems.append(InvalidField(name, f"must have shape ({p}, days)", np.shape(array)))
    if (snap.plan_demand is None) != (snap.plan_capacity is None) or (
        snap.plan_demand is not None and np.shape(snap.plan_demand) != np.shape(snap.plan_capacity)
    ):
        problems.append(InvalidField("plan_capacity", "must be given with plan_demand, in the same shape"))
    for name in ("backlog", "projected_late", "green_waiting", "blanks_in_stock", "plan_demand", "plan_capacity"):
        array = getattr(snap, name)
        if array is not None and np.size(array) and np.min(array) < 0:
            problems.append(InvalidField(name, "must not be negative"))
    if snap.review_queue < 0:
        problems.append(InvalidField("review_queue", "must not be negative", snap.review_queue))
    return problems


# --------------------------------------------------------------------------- pure aggregations


def due_bin(deadline_day: np.ndarray) -> np.ndarray:
    """Index into ``DUE_BINS`` of each production deadline.

    Parameters
    ----------
    deadline_day : (n,) int
        Working days from today (plan day 0) to the production deadline.

    Returns
    -------
    (n,) int64: 0 for overdue, ``1 + d`` for ``d`` in 0..10, the last bin beyond.
    """
    days = np.asarray(deadline_day, dtype=np.int64)
    return np.clip(days, -1, _LAST_DAY_BIN + 1) + 1


def backlog_grid(queue: QueueArrays, n_classes: int) -> np.ndarray:
    """Applications by pool, service class and due bin.

    Parameters
    ----------
    queue : QueueArrays
        The unprinted applications, planned from today.
    n_classes : int
        Number of service classes (ranks are ``0 .. n_classes - 1``).

    Returns
    -------
    (pools, n_classes, len(DUE_BINS)) int64
    """
    shape = (len(queue.pools), n_classes, len(DUE_BINS))
    _check_ranks(queue, n_classes)
    flat = np.ravel_multi_index((queue.pool.astype(np.int64), queue.priority.astype(np.int64), due_bin(queue.deadline_day)), shape)
    return np.bincount(flat, minlength=int(np.prod(shape))).reshape(shape).astype(np.int64)


def least_slack_days(queue: QueueArrays, n_classes: int) -> np.ndarray:
    """(pools, n_classes) float64: the nearest production deadline in working days; NaN when empty."""
    _check_ranks(queue, n_classes)
    out = np.full((len(queue.pools), n_classes), np.inf)
    np.minimum.at(out, (queue.pool.astype(np.int64), queue.priority.astype(np.int64)), queue.deadline_day.astype(np.float64))
    out[np.isinf(out)] = np.nan
    return out


def projected_late_grid(queue: QueueArrays, plan: Plan, n_classes: int) -> np.ndarray:
    """(pools, n_classes) int64: jobs the plan prints late (or cannot fit before their deadline)."""
    _check_ranks(queue, n_classes)
    if plan.late.shape != (len(queue),):
        raise InvalidField("plan.late", f"must have one row per queued job ({len(queue)})", plan.late.shape)
    out = np.zeros((len(queue.pools), n_classes), dtype=np.int64)
    np.add.at(out, (queue.pool[plan.late].astype(np.int64), queue.priority[plan.late].astype(np.int64)), 1)
    return out


def cumulative_load(plan: Plan) -> tuple[np.ndarray, np.ndarray]:
    """Demand due by each plan day against the capacity up to it: the demand-bound curves.

    Returns
    -------
    demand, capacity : (pools, days) int64
        Cumulative jobs due by the end of day ``d`` (the overdue ones count on day
        0) and cumulative documents the pool prints by then. Where demand exceeds
        capacity, some deadline up to that day will be missed.
    """
    load = plan.load
    demand = np.cumsum(load.demand, axis=1)
    demand = demand + load.overdue[:, None]
    return demand.astype(np.int64), np.cumsum(load.capacity, axis=1).astype(np.int64)


def oldest_wait_s(accepted_s: np.ndarray, pool: np.ndarray, n_pools: int, now_s: float) -> tuple[np.ndarray, np.ndarray]:
    """How many wait and how long the longest has waited, per pool.

    Parameters
    ----------
    accepted_s : (n,) float or int
        Unix seconds each waiting application was accepted.
    pool : (n,) int
        Pool index of each.
    n_pools : int
    now_s : float

    Returns
    -------
    waiting : (n_pools,) int64
    oldest_wait_s : (n_pools,) float64, 0 where none waits (never negative)
    """
    accepted = np.asarray(accepted_s, dtype=np.float64)
    pool = np.asarray(pool, dtype=np.int64)
    waiting = np.bincount(pool, minlength=n_pools).astype(np.int64)
    oldest = np.zeros(n_pools)
    np.maximum.at(oldest, pool, now_s - accepted)
    return waiting, np.maximum(oldest, 0.0)


def machine_has_work(state: str, holds_job: bool, pool_queued: int) -> bool:
    """A machine has work when it holds a job, or its pool has queued jobs and it is not idle by choice."""
    return bool(holds_job) or (pool_queued > 0 and state not in IDLE_BY_CHOICE)


def overtime_used_hours(shift_elapsed_h: float, normal_hours: float, planned_overtime_h: float) -> float:
    """Overtime worked so far today: shift time past the normal shift, up to the planned overtime."""
    return float(min(max(shift_elapsed_h - normal_hours, 0.0), max(planned_overtime_h, 0.0)))


def _check_ranks(queue: QueueArrays, n_classes: int) -> None:
    if len(queue) and int(queue.priority.max()) >= n_classes:
        raise InvalidField("queue.priority", f"must be a rank below {n_classes}", int(queue.priority.max()))


def snapshot_from_plan(
    *,
    now_s: float,
    queue: QueueArrays,
    service_classes: Sequence[str],
    plan: Plan | None = None,
    overtime: Overtime | None = None,
    machines: Sequence[MachineStatus] = (),
    green_rank: int = 0,
    review_entered_s: np.ndarray | Sequence[float] = (),
    blanks_in_stock: Mapping[str, int] | None = None,
    blanks_needed_per_day: Mapping[str, float] | None = None,
    overtime_used: Mapping[str, float] | None = None,
) -> LineSnapshot:
    """The controller's snapshot from its queue, plan and machine states.

    Parameters
    ----------
    now_s : float
        Unix seconds now.
    queue : QueueArrays
        Every application not yet printed (queued, leased, printing, spoiled and
        waiting for a reprint), planned from today; ``accepted_s`` is acceptance time.
    service_classes : sequence of str
        Class names by rank (``class_ranks`` inverted): rank 0 first.
    plan : Plan, optional
        ``plan_queue`` of that queue: projected late jobs and the demand-bound curves.
    overtime : Overtime, optional
        ``plan_overtime`` of that queue: today's overtime per pool is ``hours[:, 0]``.
    machines : sequence of MachineStatus
    green_rank : int
        Rank of the green channel.
    review_entered_s : (r,) float
        Unix seconds each document waiting for a reviewer was flagged.
    blanks_in_stock, blanks_needed_per_day, overtime_used : mapping pool -> number, optional
        Missing pools count 0.

    Returns
    -------
    LineSnapshot
    """
    pools = tuple(queue.pools)
    classes = tuple(service_classes)
    n_classes = len(classes)
    green = queue.priority == green_rank
    green_waiting, green_oldest = oldest_wait_s(queue.accepted_s[green], queue.pool[green], len(pools), now_s)
    demand = capacity = late = planned_overtime = None
    if plan is not None:
        late = projected_late_grid(queue, plan, n_classes)
        demand, capacity = cumulative_load(plan)
    if overtime is not None:
        planned_overtime = np.asarray(overtime.hours, dtype=np.float64)[:, 0] if overtime.hours.shape[1] else np.zeros(len(pools))
    entered = np.asarray(review_entered_s, dtype=np.float64)
    return LineSnapshot(
        taken_at_s=float(now_s),
        pools=pools,
        service_classes=classes,
        machines=tuple(machines),
        backlog=backlog_grid(queue, n_classes),
        least_slack_days=least_slack_days(queue, n_classes),
        projected_late=late,
        plan_demand=demand,
        plan_capacity=capacity,
        green_waiting=green_waiting,
        green_oldest_wait_s=green_oldest,
        review_queue=int(entered.size),
        review_oldest_age_s=float(max(now_s - entered.min(), 0.0)) if entered.size else 0.0,
        blanks_in_stock=_per_pool(blanks_in_stock, pools, np.int64),
        blanks_needed_per_day=_per_pool(blanks_needed_per_day, pools, np.float64),
        overtime_planned_hours=planned_overtime,
        overtime_used_hours=_per_pool(overtime_used, pools, np.float64),
    )


def _per_pool(values: Mapping[str, float] | None, pools: tuple[str, ...], dtype: type) -> np.ndarray | None:
    if values is None:
        return None
    unknown = sorted(set(values) - set(pools))
    if unknown:
        raise InvalidField("pool", f"must be one of {', '.join(pools)}", unknown[0])
    return np.array([values.get(p, 0) for p in pools], dtype=dtype)
