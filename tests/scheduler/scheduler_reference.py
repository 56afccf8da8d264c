"""An independent solver for the planner's tests: OR-Tools min-cost flow on aggregated counts.

The rule modelled (issue 4): green-channel jobs take their pool's first
slots whatever their deadline, earliest deadline first; same-day jobs due
today or overdue come right after them; then the fewest late jobs among the
rest. Nothing here is shared with factory.scheduler.

Jobs are grouped by (pool, tier, deadline day), tier 0 green, 1 same day due
by day 0, 2 the rest. Each group sends its count to the pool's days or to an
overflow node past the horizon. Day nodes drain to the sink with the pool's
capacity. The costs are lexicographic, so one solve settles the three
objectives in order:

- a tier-0 job on day ``t`` costs ``W0 * w * t``, a tier-1 job ``W1 * w * t``,
  where ``w`` is larger for earlier deadlines (inside a tier, an earlier
  deadline gets an earlier day: swapping two jobs the other way costs more)
  and the overflow node counts as day ``days``. ``W1`` exceeds any late
  count and ``W0`` any tier-1 cost plus late count, so the optimum puts tier
  0 in the pool's earliest capacity, tier 1 in the earliest capacity after
  it, each in deadline order, whatever that costs the rest;
- every job adds 1 when the day is after its deadline (or it overflows with
  its deadline inside the horizon).

The late count is read from the optimal flow: the units on late arcs.
"""

from __future__ import annotations

import numpy as np
from ortools.graph.python import min_cost_flow


def pinned_tier(deadline_day, priority, *, green_rank: int = 0, same_day_rank: int | None = 1) -> np.ndarray:
    """(n,) int: 0 green, 1 same day due today or overdue, 2 the rest."""
    deadline_day = np.asarray(deadline_day)
    priority = np.asarray(priority)
    tier = np.full(len(priority), 2)
    if same_day_rank is not None:
        tier[(priority == same_day_rank) & (deadline_day <= 0)] = 1
    tier[priority == green_rank] = 0
    return tier


def ortools_min_late(deadline_day, priority, pool, pool_capacity, *, green_rank: int = 0, same_day_rank: int | None = 1) -> int:
    """Fewest late jobs with the pinned jobs first. ``pool_capacity`` is (pools, days) documents per pool and day."""
    deadline_day = np.asarray(deadline_day, dtype=np.int64)
    pool = np.asarray(pool, dtype=np.int64)
    pool_capacity = np.asarray(pool_capacity, dtype=np.int64)
    tier = pinned_tier(deadline_day, priority, green_rank=green_rank, same_day_rank=same_day_rank)
    pools, days = pool_capacity.shape
    n = len(deadline_day)
    if n == 0:
        return 0
    clipped = np.clip(deadline_day, -1, days)
    keys, counts = np.unique(np.stack([pool, tier, clipped], axis=1), axis=0, return_counts=True)
    # Deadline weight per tier: 1 for its latest deadline, up to the number of its deadlines.
    weight = {}
    for t in (0, 1):
        deadlines = sorted(set(keys[keys[:, 1] == t, 2].tolist()), reverse=True)
        weight.update({(t, d): w for w, d in enumerate(deadlines, start=1)})
    n1 = int((tier == 1).sum())
    w1_max = max((w for (t, _), w in weight.items() if t == 1), default=0)
    scale1 = n + 1
    scale0 = scale1 * (w1_max * days * n1 + 2)

    flow = min_cost_flow.SimpleMinCostFlow()
    source, sink = 0, 1
    first_group = 2
    first_day = first_group + len(keys)

    def day_node(p: int, t: int) -> int:  # t == days: past the horizon
        return first_day + p * (days + 1) + t

    late_arcs = []
    for g, ((p, t_pin, d), c) in enumerate(zip(keys.tolist(), counts.tolist())):
        flow.add_arc_with_capacity_and_unit_cost(source, first_group + g, c, 0)
        scale = {0: scale0, 1: scale1}.get(t_pin, 0)
        for t in range(days + 1):
            on_time = t <= d if t < days else d >= days
            cost = (0 if on_time else 1) + (scale * weight[t_pin, d] * t if scale else 0)
            arc = flow.add_arc_with_capacity_and_unit_cost(first_group + g, day_node(p, t), c, cost)
            if not on_time:
                late_arcs.append(arc)
    for p in range(pools):
        for t in range(days):
            flow.add_arc_with_capacity_and_unit_cost(day_node(p, t), sink, int(pool_capacity[p, t]), 0)
        flow.add_arc_with_capacity_and_unit_cost(day_node(p, days), sink, n, 0)
    flow.set_node_supply(source, n)
    flow.set_node_supply(sink, -n)
    status = flow.solve()
    if status != flow.OPTIMAL:
        raise RuntimeError(f"min-cost flow status {status}")
    return int(sum(flow.flow(a) for a in late_arcs))


def ortools_min_late_unpinned(deadline_day, pool, pool_capacity) -> int:
    """Fewest late jobs with no class pinned: the plain fewest-late optimum, a lower bound for the rule."""
    deadline_day = np.asarray(deadline_day)
    return ortools_min_late(deadline_day, np.full(len(deadline_day), 3), pool, pool_capacity, green_rank=-1, same_day_rank=None)
