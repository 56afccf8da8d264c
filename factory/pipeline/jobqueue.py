"""The controller's view of the ledger's queue: one heap per pool, in the scheduler's priority order.

Order: service class (green first, ``factory.scheduler.class_ranks``), then
the production deadline (``factory.scheduler.compute_deadlines``, computed at
intake), then acceptance time, then the id: the keys of
``factory.scheduler.priority_order``. A green job pushed now is popped by the
next free slot of its pool, ahead of everything queued before it.

This is a cache: the ledger is the truth. It is rebuilt from
``Ledger.queued_jobs()`` at start, and a popped job is leased through the
ledger, whose state guard refuses a job that someone else moved meanwhile.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable

from factory.ledger.store import QueuedJob

__all__ = ["JobQueue"]


class JobQueue:
    def __init__(self, jobs: Iterable[QueuedJob] = ()) -> None:
        self._heaps: dict[str, list[tuple[int, int, float, str]]] = {}
        self._queued: dict[str, str] = {}  # application id -> pool, for the jobs really in the queue
        self._counts: dict[str, int] = {}
        for job in jobs:
            if job.application_id in self._queued:
                continue
            self._queued[job.application_id] = job.pool
            self._counts[job.pool] = self._counts.get(job.pool, 0) + 1
            self._heaps.setdefault(job.pool, []).append(
                (job.priority, job.deadline_ordinal, job.accepted_s, job.application_id))
        for heap in self._heaps.values():
            heapq.heapify(heap)

    def push(self, job: QueuedJob) -> None:
        if job.application_id in self._queued:
            return
        self._queued[job.application_id] = job.pool
        self._counts[job.pool] = self._counts.get(job.pool, 0) + 1
        heapq.heappush(self._heaps.setdefault(job.pool, []),
                       (job.priority, job.deadline_ordinal, job.accepted_s, job.application_id))

    def pop(self, pool: str) -> str | None:
        """The best job of ``pool`` (removed), or None."""
        heap = self._heaps.get(pool)
        while heap:
            *_, app_id = heapq.heappop(heap)
            if self._queued.get(app_id) == pool:
                del self._queued[app_id]
                self._counts[pool] -= 1
                return app_id
        return None

    def discard(self, application_id: str) -> None:
        """Forget a job (it left the queue some other way); its heap entry is skipped lazily."""
        pool = self._queued.pop(application_id, None)
        if pool is not None:
            self._counts[pool] -= 1

    def waiting(self) -> dict[str, int]:
        """Pool -> number of queued jobs."""
        return {pool: n for pool, n in self._counts.items() if n}

    def __len__(self) -> int:
        return len(self._queued)

    def __contains__(self, application_id: str) -> bool:
        return application_id in self._queued
