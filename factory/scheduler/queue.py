"""The queue in compact array form, and its conversion from application records.

The planning core never sees dataclasses: one row per queued application,
``deadline_day`` in working days after plan day 0 (0 = today, negative =
already past its production deadline), ``priority`` (service class, 0 first),
``pool`` (index into ``factory.config.POOLS``), ``accepted_s`` (the tie-break
order inside a class and deadline).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from factory.config import POOLS, Config
from factory.records import Application
from factory.scheduler.calendar import WorkingCalendar, next_working_day_index
from factory.scheduler.deadlines import Deadlines, compute_deadlines, deadline_rules
from factory.scheduler.priority import class_ranks

__all__ = ["QueueArrays", "queue_arrays", "queue_from_applications", "plan_day_zero"]


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class QueueArrays:
    """A queue as parallel arrays, one row per application."""

    deadline_day: np.ndarray
    """(n,) int32: production deadline, working days after plan day 0."""
    priority: np.ndarray
    """(n,) int8: service-class rank (``class_ranks``), 0 (green) first."""
    pool: np.ndarray
    """(n,) int8: index into ``pools``: the machines that may print it."""
    accepted_s: np.ndarray
    """(n,) int64: acceptance time, seconds since the epoch (order inside a class and deadline)."""
    effective_day: np.ndarray
    """(n,) int32: working day the time limit counts from, after plan day 0 (negative: earlier)."""
    pools: tuple[str, ...] = POOLS
    application_id: tuple[str, ...] = ()
    """Identifiers, when the queue came from records; empty for generated arrays."""

    def __len__(self) -> int:
        return len(self.deadline_day)

    def take(self, index: np.ndarray) -> QueueArrays:
        """The rows at ``index`` (a new queue; this one is not changed)."""
        ids = tuple(self.application_id[i] for i in np.asarray(index)) if self.application_id else ()
        return QueueArrays(
            deadline_day=self.deadline_day[index],
            priority=self.priority[index],
            pool=self.pool[index],
            accepted_s=self.accepted_s[index],
            effective_day=self.effective_day[index],
            pools=self.pools,
            application_id=ids,
        )


def queue_arrays(
    deadline_day,
    priority,
    pool,
    accepted_s=None,
    effective_day=None,
    *,
    pools: tuple[str, ...] = POOLS,
    application_id: Sequence[str] = (),
) -> QueueArrays:
    """Validate and convert plain arrays to a ``QueueArrays`` (dtypes converted once).

    Raises ``ValueError`` naming the array when shapes differ or values are
    out of range.
    """
    deadline = np.asarray(deadline_day)
    n = deadline.shape[0] if deadline.ndim == 1 else -1
    if deadline.ndim != 1:
        raise ValueError("deadline_day: must be one-dimensional")
    arrays = {
        "deadline_day": (deadline, np.int32),
        "priority": (np.asarray(priority), np.int8),
        "pool": (np.asarray(pool), np.int8),
        "accepted_s": (np.arange(max(n, 0)) if accepted_s is None else np.asarray(accepted_s), np.int64),
        "effective_day": (np.zeros(max(n, 0), dtype=np.int32) if effective_day is None else np.asarray(effective_day), np.int32),
    }
    out = {}
    for name, (array, dtype) in arrays.items():
        if array.shape != (n,):
            raise ValueError(f"{name}: shape {array.shape} does not match deadline_day {(n,)}")
        if n and not np.issubdtype(array.dtype, np.integer):
            raise ValueError(f"{name}: must be integers, got {array.dtype}")
        out[name] = array.astype(dtype, copy=False)
    if n and (out["priority"].min() < 0 or out["priority"].max() > 15):
        raise ValueError("priority: must be between 0 and 15")
    if n and (out["pool"].min() < 0 or out["pool"].max() >= len(pools)):
        raise ValueError(f"pool: must index pools {pools}")
    if application_id and len(application_id) != n:
        raise ValueError("application_id: length does not match deadline_day")
    return QueueArrays(**out, pools=tuple(pools), application_id=tuple(application_id))


def plan_day_zero(cal: WorkingCalendar, today: dt.date) -> int:
    """Index in ``cal.working_ordinals`` of plan day 0: today, or the next working day."""
    return int(next_working_day_index(cal, np.array([today.toordinal()]))[0])


def queue_from_applications(
    applications: Sequence[Application], config: Config, cal: WorkingCalendar, *, today: dt.date
) -> tuple[QueueArrays, Deadlines]:
    """The array form of validated applications, planned from ``today``.

    Returns the queue and the ``Deadlines`` it was built from (absolute
    working-day indices, procedure deadlines for reports).

    Raises
    ------
    CalendarNotCovered
        When a deadline (or today) needs a year the calendar does not cover.
    """
    day_zero = plan_day_zero(cal, today)
    deadlines = compute_deadlines(applications, deadline_rules(config), cal)
    pool_index = {name: i for i, name in enumerate(POOLS)}
    ranks = class_ranks(config)
    priority = np.fromiter((ranks[a.service_class] for a in applications), dtype=np.int64, count=len(applications))
    pool = np.fromiter(
        (pool_index[config.documents[a.doc_type].pool] for a in applications), dtype=np.int64, count=len(applications)
    )
    accepted = np.fromiter(
        (int(a.accepted_at.timestamp()) for a in applications), dtype=np.int64, count=len(applications)
    )
    queue = queue_arrays(
        deadlines.production_day - day_zero,
        priority,
        pool,
        accepted,
        deadlines.effective_day - day_zero,
        application_id=[a.application_id for a in applications],
    )
    return queue, deadlines
