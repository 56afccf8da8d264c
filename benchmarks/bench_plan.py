"""Planning speed: 1,000,000 queued applications, 60 machines in two pools, 10 working days.

Goal: a full plan (fewest late jobs, every job's machine, day and slot, plus
the overtime that meets every deadline) in under 1 s on the 2-core machine.
Side by side: OR-Tools ``SimpleMinCostFlow`` on the same instance, aggregated
to (pool, tier, deadline) groups sending jobs to (pool, day) capacity, which
only answers the fewest-late count. It models the same rule: green jobs take
their pool's first slots, then same-day jobs due today or overdue (each
earliest deadline first, by lexicographic costs on the day), then the fewest
late jobs among the rest. Both must give the same count.

Instance (seeded): 30 booklet printers at 130 documents/h and 30 card printers
at 105/h on normal 8 h shifts (31,200 and 25,200 documents a day), overtime up
to the 14.5 h peak shift (56,550 and 45,675), 55 % of the jobs on booklets;
deadlines over the 10 days, green and same-day due today, urgent within two
days, 1 % already overdue. The plan is made at 8 h; ``plan_overtime`` then
has real work: even 14.5 h every day leaves jobs late, so it finds which
capacity saves every job that can be saved, and the least hours for it.

The goal is checked on CPU time as well as wall time (``time.process_time``
per round, in ``extra_info``): the machine is shared by several engineers,
and CPU time is what the plan costs whoever else is running.
"""

from __future__ import annotations

import time

import numpy as np
import pytest
from ortools.graph.python import min_cost_flow

from factory.scheduler.capacity import machine_capacity
from factory.scheduler.plan import plan_queue
from factory.scheduler.synthetic import synthetic_queue

JOBS = 1_000_000
DAYS = 10
GOAL_S = 1.0
NORMAL_SHIFT_H = 8.0
PEAK_SHIFT_H = 14.5


@pytest.fixture(scope="module")
def instance():
    queue = synthetic_queue(np.random.default_rng(20260224), JOBS, days=DAYS, overdue_share=0.01)
    machine_pool = np.repeat([0, 1], 30)
    rated = np.where(machine_pool == 0, 130.0, 105.0)
    capacity = machine_capacity(rated, np.full(DAYS, NORMAL_SHIFT_H), np.zeros((DAYS, 60)), np.ones((DAYS, 60), bool))
    return queue, capacity, machine_pool, rated


def full_plan(queue, capacity, machine_pool, rated):
    from factory.scheduler.capacity import LineArrays, plan_overtime

    plan = plan_queue(queue, capacity, machine_pool, rated)
    line = LineArrays(
        pools=queue.pools,
        machine_ids=tuple(f"M{i:02d}" for i in range(len(rated))),
        machine_pool=machine_pool.astype(np.int8),
        rated_per_hour=rated,
        shift_hours=np.full(capacity.shape[0], NORMAL_SHIFT_H),
        maintenance_hours=np.zeros(capacity.shape),
        up=np.ones(capacity.shape, bool),
    )
    overtime = plan_overtime(queue, line, max_shift_hours=PEAK_SHIFT_H)
    return plan, overtime


def cpu_timed(fn):
    """``fn`` wrapped to append each call's CPU seconds (all threads of the process) to ``.cpu_s``."""

    def timed(*args):
        start = time.process_time()
        try:
            return fn(*args)
        finally:
            timed.cpu_s.append(time.process_time() - start)

    timed.cpu_s = []
    return timed


def ortools_min_late(queue, capacity, machine_pool) -> int:
    """Aggregate to (pool, tier, deadline) groups and solve the transportation problem as a min-cost flow.

    Tier 0 is green (rank 0), tier 1 same day (rank 1) due by day 0, tier 2 the rest. A tier-0 unit on day
    ``t`` costs ``scale0 * w * t`` and a tier-1 unit ``scale1 * w * t``, ``w`` counting the tier's deadlines
    from the latest (1) up; ``scale1`` exceeds any late count and ``scale0`` any tier-1 cost plus late
    count, so the pinned tiers fill the earliest days in deadline order first. The late count is the flow on
    late arcs.
    """
    days = capacity.shape[0]
    pools = int(machine_pool.max()) + 1
    pool_capacity = np.stack([capacity[:, machine_pool == p].sum(axis=1) for p in range(pools)])
    deadline = np.clip(queue.deadline_day.astype(np.int64), -1, days)
    priority = queue.priority.astype(np.int64)
    tier = np.where(priority == 0, 0, np.where((priority == 1) & (deadline <= 0), 1, 2))
    groups = np.bincount(
        (queue.pool.astype(np.int64) * 3 + tier) * (days + 2) + deadline + 1, minlength=pools * 3 * (days + 2)
    ).reshape(pools, 3, days + 2)
    n = len(queue)
    present = groups.sum(axis=0) > 0  # (tier, deadline + 1)
    weight = np.zeros((3, days + 2), dtype=np.int64)
    for t in (0, 1):
        columns = np.flatnonzero(present[t])
        weight[t, columns] = np.arange(len(columns), 0, -1)
    scale1 = n + 1
    scale0 = scale1 * (int(weight[1].max()) * days * int(groups[:, 1].sum()) + 2)
    scale = (scale0, scale1, 0)
    flow = min_cost_flow.SimpleMinCostFlow()
    source, sink, first_group = 0, 1, 2
    first_day = first_group + groups.size
    late_arcs = []
    for g, count in enumerate(groups.ravel().tolist()):
        if not count:
            continue
        p, rest = divmod(g, 3 * (days + 2))
        t_pin, d = divmod(rest, days + 2)
        w = int(weight[t_pin, d])
        d -= 1
        flow.add_arc_with_capacity_and_unit_cost(source, first_group + g, count, 0)
        for t in range(days + 1):
            on_time = t <= d if t < days else d >= days
            cost = (0 if on_time else 1) + scale[t_pin] * w * t
            arc = flow.add_arc_with_capacity_and_unit_cost(first_group + g, first_day + p * (days + 1) + t, count, cost)
            if not on_time:
                late_arcs.append(arc)
    for p in range(pools):
        for t in range(days):
            flow.add_arc_with_capacity_and_unit_cost(first_day + p * (days + 1) + t, sink, int(pool_capacity[p, t]), 0)
        flow.add_arc_with_capacity_and_unit_cost(first_day + p * (days + 1) + days, sink, n, 0)
    flow.set_node_supply(source, n)
    flow.set_node_supply(sink, -n)
    assert flow.solve() == flow.OPTIMAL
    return int(sum(flow.flow(a) for a in late_arcs))


@pytest.mark.benchmark(group="plan-1M")
def test_full_plan_of_a_million_jobs_under_a_second(benchmark, instance):
    queue, capacity, machine_pool, rated = instance
    timed = cpu_timed(full_plan)
    rounds = 1 if benchmark.disabled else 5
    plan, overtime = benchmark.pedantic(timed, args=instance, rounds=rounds, warmup_rounds=0 if benchmark.disabled else 1)
    planned = plan.day >= 0
    assert (machine_pool[plan.machine[planned]] == queue.pool[planned]).all()
    assert (np.bincount(plan.day[planned] * 60 + plan.machine[planned], minlength=DAYS * 60).reshape(DAYS, 60) <= capacity).all()
    reference = ortools_min_late(queue, capacity, machine_pool)
    assert plan.late_count == reference
    # The overtime is at work: with it the plan keeps exactly what the longest shifts keep, on fewer hours.
    longer = np.zeros_like(capacity)
    for p in range(2):
        columns = machine_pool == p
        longer[:, columns] = machine_capacity(
            rated[columns], NORMAL_SHIFT_H + overtime.hours[p], np.zeros((DAYS, columns.sum())), np.ones((DAYS, columns.sum()), bool)
        )
    assert 0 < overtime.hours.sum() < (PEAK_SHIFT_H - NORMAL_SHIFT_H) * DAYS * 2
    late_with_overtime = plan_queue(queue, longer, machine_pool, rated).late_count
    assert late_with_overtime == int((overtime.still_late + overtime.overdue).sum()) == ortools_min_late(queue, longer, machine_pool)
    cpu = timed.cpu_s[-rounds:]
    benchmark.extra_info.update(
        late=plan.late_count,
        unplanned=int(plan.unplanned.sum()),
        overtime_hours=float(overtime.hours.sum()),
        overtime_hours_per_day=overtime.hours.tolist(),
        late_with_overtime=late_with_overtime,
        cpu_mean_s=float(np.mean(cpu)),
        cpu_min_s=float(np.min(cpu)),
    )
    if not benchmark.disabled:
        # Wall time moves with the other engineers' load; CPU time does not: both must be under the goal,
        # the wall time at least in the best round.
        assert np.mean(cpu) < GOAL_S, f"full plan took {np.mean(cpu):.2f} s of CPU"
        assert benchmark.stats.stats.min < GOAL_S, f"full plan took {benchmark.stats.stats.min:.2f} s at best"


@pytest.mark.benchmark(group="plan-1M")
def test_ortools_min_cost_flow_on_the_same_instance(benchmark, instance):
    queue, capacity, machine_pool, _ = instance
    timed = cpu_timed(ortools_min_late)
    rounds = 1 if benchmark.disabled else 5
    late = benchmark.pedantic(timed, args=(queue, capacity, machine_pool), rounds=rounds)
    benchmark.extra_info.update(
        late=late, note="fewest-late count only: no per-job machine, day or slot", cpu_mean_s=float(np.mean(timed.cpu_s[-rounds:]))
    )
    assert late > 0


@pytest.mark.benchmark(group="plan-1M")
def test_demand_bound_count_only_on_the_same_instance(benchmark, instance):
    """Like for like with OR-Tools: the fewest-late count from the demand-bound arithmetic alone."""
    from factory.scheduler.plan import min_late_count

    queue, capacity, machine_pool, _ = instance
    timed = cpu_timed(min_late_count)
    rounds = 1 if benchmark.disabled else 5
    late = benchmark.pedantic(timed, args=(queue, capacity, machine_pool), rounds=rounds)
    assert late == ortools_min_late(queue, capacity, machine_pool)
    benchmark.extra_info.update(late=late, cpu_mean_s=float(np.mean(timed.cpu_s[-rounds:])))
