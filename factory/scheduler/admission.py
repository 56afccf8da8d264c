"""Green-channel admission: where an emergency job prints, and whether anyone else becomes late.

A green job is produced at once and counts as due today: it takes the first
eligible machine to finish its current document (printing is never
interrupted, so the wait is at most one print cycle). Green jobs of the same
pool already waiting with an earlier production deadline (overdue ones) or
the same deadline and an earlier acceptance go first, as ``pick_next`` takes
them: the new job takes the free slot after theirs, in order of start time
(ties by machine). The queue is then re-planned
with the capacity that is left; green jobs are pinned first in every plan
(``plan`` objective 0), so the new one is planned on day 0 right after the
green jobs already waiting in its pool, before any other class. The plans
before and after are compared, so ``newly_late`` names the applications that
the insertion pushes past their deadlines (none when the demand-bound test
still passes with one more job today).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from factory.scheduler.plan import Plan, plan_queue
from factory.scheduler.queue import QueueArrays, queue_arrays

__all__ = ["GreenAdmission", "admit_green", "remaining_capacity"]


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class GreenAdmission:
    machine: int
    """Index of the machine that prints it (-1: no slot of the pool is left for it today)."""
    slot: int
    """Slot on that machine's day (slot k starts k * 3600 / rated_per_hour s after the shift start)."""
    start_s: float
    """Seconds after the shift start when printing starts."""
    wait_s: float
    """Seconds from admission to the start: at most one print cycle when no other green job of the pool waits."""
    greens_ahead: int
    """Green jobs of the pool waiting in the queue that print before it (earlier deadline or acceptance)."""
    late_before: int
    late_after: int
    newly_late: np.ndarray
    """(k,) int64: queue rows late after the insertion that were not late before."""
    plan_after: Plan
    """The plan of the queue with the green job appended as its last row."""

    @property
    def anyone_becomes_late(self) -> bool:
        return self.newly_late.size > 0


def remaining_capacity(day_capacity: np.ndarray, rated_per_hour: np.ndarray, now_s: float) -> np.ndarray:
    """(m,) int64: slots each machine still has today at ``now_s`` seconds after the shift start.

    A slot that has started is taken (printing is not interrupted).
    """
    day_capacity = np.asarray(day_capacity, dtype=np.int64)
    started = np.ceil(np.asarray(rated_per_hour, dtype=np.float64) * max(now_s, 0.0) / 3600.0 - 1e-9)
    return np.maximum(0, day_capacity - started.astype(np.int64))


def admit_green(
    queue: QueueArrays,
    capacity: np.ndarray,
    machine_pool: np.ndarray,
    rated_per_hour: np.ndarray,
    *,
    pool: int,
    now_s: float,
    busy_until_s: np.ndarray | None = None,
    day_capacity: np.ndarray | None = None,
    green_rank: int = 0,
    same_day_rank: int | None = 1,
    accepted_s: int | None = None,
) -> GreenAdmission:
    """Insert one green-channel job now and say where it prints and who becomes late.

    Parameters
    ----------
    queue : QueueArrays
        The jobs still waiting (not yet printing).
    capacity : (days, m) int
        What is left of each machine's days; row 0 is the rest of today
        (``remaining_capacity``).
    machine_pool : (m,) int
    rated_per_hour : (m,) float
    pool : int
        Pool index of the green job's document type.
    now_s : float
        Seconds after today's shift start.
    busy_until_s : (m,) float, optional
        When each machine finishes the document it is printing (seconds after
        the shift start); free machines may give ``now_s`` or less.
    day_capacity : (m,) int, optional
        Each machine's full-day slots today, to tell whether its day is over;
        ``capacity[0]`` plus the slots already started by default.
    green_rank : int
        Class rank of the green channel.
    same_day_rank : int or None
        Class rank of the same-day class, pinned after green in the plans
        (``plan_queue``).
    accepted_s : int, optional
        Its acceptance time; later than every queued job by default.

    Returns
    -------
    GreenAdmission
    """
    capacity = np.asarray(capacity, dtype=np.int64)
    machine_pool = np.asarray(machine_pool, dtype=np.int64)
    rated = np.asarray(rated_per_hour, dtype=np.float64)
    cycle_s = 3600.0 / rated
    started = np.ceil(max(now_s, 0.0) / cycle_s - 1e-9)
    # Without busy times, each machine is printing the slot under way and frees at its end.
    free_at = started * cycle_s if busy_until_s is None else np.maximum(np.asarray(busy_until_s, float), now_s)
    full_day = (
        capacity[0] + np.where(capacity[0] > 0, started.astype(np.int64), 0)
        if day_capacity is None
        else np.asarray(day_capacity, dtype=np.int64)
    )
    slot_at_free = np.ceil(free_at / cycle_s - 1e-9).astype(np.int64)
    eligible = (machine_pool == pool) & (capacity[0] > 0) & (slot_at_free < full_day)

    ranks = {"green_rank": green_rank, "same_day_rank": same_day_rank}
    before = plan_queue(queue, capacity, machine_pool, rated, **ranks)
    order_key = accepted_s if accepted_s is not None else (int(queue.accepted_s.max()) + 1 if len(queue) else 0)
    with_green = queue_arrays(
        np.append(queue.deadline_day, 0),
        np.append(queue.priority, green_rank),
        np.append(queue.pool, pool),
        np.append(queue.accepted_s, order_key),
        np.append(queue.effective_day, 0),
        pools=queue.pools,
        application_id=(*queue.application_id, "green") if queue.application_id else (),
    )
    after = plan_queue(with_green, capacity, machine_pool, rated, **ranks)
    newly_late = np.flatnonzero(after.late[:-1] & ~before.late).astype(np.int64)

    # Class order (``priority_order``): earlier deadline, then acceptance; the new job is the last row.
    waiting_green = (queue.pool == pool) & (queue.priority == green_rank)
    deadline = queue.deadline_day.astype(np.int64)
    ahead = int((waiting_green & ((deadline < 0) | ((deadline == 0) & (queue.accepted_s <= order_key)))).sum())
    # The free slots of today in order of start time (ties by machine): the greens ahead take the first ones.
    columns = np.flatnonzero(eligible)
    k = np.arange(ahead + 1)
    slots = slot_at_free[columns, None] + k
    starts = free_at[columns, None] + k * cycle_s[columns, None]
    fits = slots < full_day[columns, None]
    machines = np.broadcast_to(columns[:, None], fits.shape)[fits]
    order = np.lexsort((machines, starts[fits]))
    if order.size > ahead:
        pick = order[ahead]
        machine, slot, start_s = int(machines[pick]), int(slots[fits][pick]), float(starts[fits][pick])
    else:
        machine, slot, start_s = -1, -1, float("nan")
    return GreenAdmission(
        machine=machine,
        slot=slot,
        start_s=start_s,
        wait_s=float(start_s - now_s) if machine >= 0 else float("nan"),
        greens_ahead=ahead,
        late_before=before.late_count,
        late_after=int(after.late[:-1].sum()),
        newly_late=newly_late,
        plan_after=after,
    )
