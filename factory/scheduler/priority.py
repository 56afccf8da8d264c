"""Priority: the service-class order and the run-time choice of the next job for a free machine.

Green first, then same day, urgent, normal (``service_classes.toml``
``priority``, 0 first); inside a class the earliest production deadline, then
the earliest acceptance, then the queue row.

``pick_next`` is what the controller calls when a machine becomes free. A
document is never interrupted, so priority acts at document boundaries: a
green job waits at most the rest of the current print cycle (plus the green
jobs ahead of it in class order). Green jobs go first whatever the plan says,
overdue ones too, the most overdue first; after them, the machine takes the
jobs the plan put on the current day (or earlier), in priority order, and only
when those are done does it work ahead, in the same order. The plan pins the
same rule (``plan`` objective 0): green jobs, then same-day jobs due today or
overdue, take the first slots of day 0, so following the plan prints those
same-day jobs next, and a day's picks come in the plan's order of start time.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

import numpy as np

from factory.config import Config

__all__ = ["class_ranks", "priority_order", "pick_next"]


def class_ranks(config: Config) -> Mapping[str, int]:
    """Service class name -> rank 0, 1, ... in priority order (green is 0 in the shipped configs)."""
    names = sorted(config.service_classes, key=lambda c: config.service_classes[c].priority)
    return MappingProxyType({name: rank for rank, name in enumerate(names)})


def priority_order(priority: np.ndarray, deadline_day: np.ndarray, accepted_s: np.ndarray) -> np.ndarray:
    """(n,) int64 permutation: class, then deadline, then acceptance, then row.

    Parameters
    ----------
    priority : (n,) int
    deadline_day : (n,) int
    accepted_s : (n,) int
    """
    return np.lexsort((np.arange(len(priority)), accepted_s, deadline_day, priority)).astype(np.int64)


def pick_next(
    pool: np.ndarray,
    priority: np.ndarray,
    deadline_day: np.ndarray,
    accepted_s: np.ndarray,
    *,
    machine_pool: int,
    planned_day: np.ndarray | None = None,
    today: int = 0,
    waiting: np.ndarray | None = None,
    green_rank: int = 0,
) -> int:
    """Row of the job a free machine of ``machine_pool`` should print next, or -1.

    Parameters
    ----------
    pool, priority, deadline_day, accepted_s : (n,) int
        The queue (``QueueArrays`` fields).
    machine_pool : int
        Pool index of the free machine; only jobs of that pool are eligible.
    planned_day : (n,) int, optional
        The plan's day per job (-1 unplanned). Without it, the whole eligible
        queue is taken in priority order.
    today : int
        The current plan day.
    waiting : (n,) bool, optional
        Jobs still waiting (not leased or printed); all by default.
    green_rank : int
        The class rank of the green channel (``class_ranks(config)["green"]``).

    Returns
    -------
    int
        A row of the queue, or -1 when nothing is eligible.
    """
    pool = np.asarray(pool)
    eligible = pool == machine_pool
    if waiting is not None:
        eligible &= np.asarray(waiting, dtype=bool)
    if not eligible.any():
        return -1
    priority = np.asarray(priority)
    candidates = eligible & (priority == green_rank)
    if not candidates.any() and planned_day is not None:
        planned_day = np.asarray(planned_day)
        candidates = eligible & (planned_day >= 0) & (planned_day <= today)
    if not candidates.any():
        candidates = eligible
    rows = np.flatnonzero(candidates)
    best = priority_order(priority[rows], np.asarray(deadline_day)[rows], np.asarray(accepted_s)[rows])[0]
    return int(rows[best])
