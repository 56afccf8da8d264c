"""An independent solver for the planner's tests: OR-Tools min-cost flow on aggregated counts.

Jobs are grouped by (pool, deadline day); each group sends its count to the
pool's days (cost 0 on or before the deadline, 1 after) or to an overflow node
past the horizon (cost 1 when the deadline is inside the horizon). Day nodes
drain to the sink with the pool's capacity. The optimal cost is the fewest
late jobs. Nothing here is shared with factory.scheduler.
"""

from __future__ import annotations

import numpy as np
from ortools.graph.python import min_cost_flow


def ortools_min_late(deadline_day, pool, pool_capacity) -> int:
    """Fewest late jobs. ``pool_capacity`` is (pools, days) documents per pool and day."""
    deadline_day = np.asarray(deadline_day, dtype=np.int64)
    pool = np.asarray(pool, dtype=np.int64)
    pool_capacity = np.asarray(pool_capacity, dtype=np.int64)
    pools, days = pool_capacity.shape
    n = len(deadline_day)
    if n == 0:
        return 0
    clipped = np.clip(deadline_day, -1, days)
    keys, counts = np.unique(np.stack([pool, clipped], axis=1), axis=0, return_counts=True)
    flow = min_cost_flow.SimpleMinCostFlow()
    source, sink = 0, 1
    first_group = 2
    first_day = first_group + len(keys)

    def day_node(p: int, t: int) -> int:  # t == days: past the horizon
        return first_day + p * (days + 1) + t

    for g, ((p, d), c) in enumerate(zip(keys.tolist(), counts.tolist())):
        flow.add_arc_with_capacity_and_unit_cost(source, first_group + g, c, 0)
        for t in range(days + 1):
            on_time = t <= d if t < days else d >= days
            flow.add_arc_with_capacity_and_unit_cost(first_group + g, day_node(p, t), c, 0 if on_time else 1)
    for p in range(pools):
        for t in range(days):
            flow.add_arc_with_capacity_and_unit_cost(day_node(p, t), sink, int(pool_capacity[p, t]), 0)
        flow.add_arc_with_capacity_and_unit_cost(day_node(p, days), sink, n, 0)
    flow.set_node_supply(source, n)
    flow.set_node_supply(sink, -n)
    status = flow.solve()
    if status != flow.OPTIMAL:
        raise RuntimeError(f"min-cost flow status {status}")
    return int(flow.optimal_cost())
