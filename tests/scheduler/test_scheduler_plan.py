"""The plan: green and same-day jobs pinned first, then fewest late jobs (checked against OR-Tools), EDF,
priority inside a day, even machines."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scheduler_reference import ortools_min_late, ortools_min_late_unpinned, pinned_tier

from factory.scheduler.plan import plan_queue, pool_load
from factory.scheduler.queue import queue_arrays
from factory.scheduler.synthetic import synthetic_queue


def random_instance(rng, *, max_jobs=80, max_days=6, max_machines=5):
    n = int(rng.integers(0, max_jobs))
    days = int(rng.integers(1, max_days + 1))
    machines = int(rng.integers(2, max_machines + 1))
    machine_pool = np.concatenate([[0, 1], rng.integers(0, 2, machines - 2)])
    capacity = rng.integers(0, 10, (days, machines))
    rated = rng.choice([30.0, 60.0, 90.0], machines)
    queue = queue_arrays(
        rng.integers(-2, days + 2, n), rng.integers(0, 4, n), rng.integers(0, 2, n), rng.integers(0, 40, n)
    )
    return queue, capacity, machine_pool, rated


def pool_capacity(capacity, machine_pool):
    return np.stack([capacity[:, machine_pool == p].sum(axis=1) for p in range(2)])


def check_plan_is_valid(plan, queue, capacity, machine_pool, rated):
    n = len(queue)
    planned = plan.day >= 0
    # Every planned job is on a machine of its pool, in a slot that machine has that day.
    assert (machine_pool[plan.machine[planned]] == queue.pool[planned]).all()
    assert (plan.slot[planned] < capacity[plan.day[planned], plan.machine[planned]]).all()
    assert (plan.slot[planned] >= 0).all()
    triples = set(zip(plan.machine[planned].tolist(), plan.day[planned].tolist(), plan.slot[planned].tolist()))
    assert len(triples) == planned.sum()
    assert np.allclose(plan.start_s[planned], plan.slot[planned] * 3600.0 / rated[plan.machine[planned]])
    # A job is unplanned only when its pool's horizon is full.
    for p in range(len(queue.pools)):
        if (~planned & (queue.pool == p)).any():
            assert plan.planned[p].sum() == capacity[:, machine_pool == p].sum()
    # Lateness is what the days say.
    on_time = planned & (plan.day <= queue.deadline_day)
    assert (plan.late == ~on_time & (planned | (queue.deadline_day < capacity.shape[0]))).all()
    assert (plan.days_late[~plan.late] == 0).all() and (plan.days_late[plan.late] >= 1).all()
    assert plan.late_count == plan.late.sum() and len(plan.day) == n
    check_pinned_first(plan, queue)


def check_pinned_first(plan, queue, green_rank=0, same_day_rank=1):
    """Objective 0: in print order, each pool runs green, then same day due by day 0, then the rest."""
    tier = pinned_tier(queue.deadline_day, queue.priority, green_rank=green_rank, same_day_rank=same_day_rank)
    for p in range(len(queue.pools)):
        rows = np.flatnonzero((queue.pool == p) & (plan.day >= 0))
        rows = rows[np.lexsort((plan.machine[rows], plan.start_s[rows], plan.day[rows]))]  # print order
        assert (np.diff(tier[rows]) >= 0).all()
        for t in (0, 1):
            pinned = rows[tier[rows] == t]
            # Earliest deadline first; deadlines past the horizon count as one.
            deadline = np.minimum(queue.deadline_day[pinned], len(plan.planned[p]))
            key = list(zip(deadline, queue.accepted_s[pinned]))
            assert key == sorted(key)
            # A pinned job is unplanned only when the pinned jobs before it fill the pool's horizon.
            if ((queue.pool == p) & (tier == t) & (plan.day < 0)).any():
                assert (tier[rows] <= t).all()


def test_fewest_late_matches_ortools_on_random_instances():
    rng = np.random.default_rng(20260224)
    for _ in range(300):
        queue, capacity, machine_pool, rated = random_instance(rng)
        plan = plan_queue(queue, capacity, machine_pool, rated)
        caps = pool_capacity(capacity, machine_pool)
        reference = ortools_min_late(queue.deadline_day, queue.priority, queue.pool, caps)
        assert plan.late_count == reference
        assert plan.load.min_late.sum() == reference
        # Pinning costs late jobs only against the plain fewest-late optimum, never gains any.
        assert plan.late_count >= ortools_min_late_unpinned(queue.deadline_day, queue.pool, caps)
        check_plan_is_valid(plan, queue, capacity, machine_pool, rated)


def test_green_only_pinning_matches_ortools_on_random_instances():
    rng = np.random.default_rng(4)
    for _ in range(100):
        queue, capacity, machine_pool, rated = random_instance(rng)
        plan = plan_queue(queue, capacity, machine_pool, rated, same_day_rank=None)
        caps = pool_capacity(capacity, machine_pool)
        assert plan.late_count == ortools_min_late(queue.deadline_day, queue.priority, queue.pool, caps, same_day_rank=None)
        check_pinned_first(plan, queue, same_day_rank=None)


def test_another_green_rank_matches_ortools_on_random_instances():
    # Green ranked 2 and same day 3 (a configuration could order its classes so): they are pinned, not 0 and 1.
    rng = np.random.default_rng(5)
    for _ in range(100):
        queue, capacity, machine_pool, rated = random_instance(rng)
        plan = plan_queue(queue, capacity, machine_pool, rated, green_rank=2, same_day_rank=3)
        caps = pool_capacity(capacity, machine_pool)
        assert plan.late_count == ortools_min_late(
            queue.deadline_day, queue.priority, queue.pool, caps, green_rank=2, same_day_rank=3
        )
        assert plan.load.min_late.sum() == plan.late_count
        check_pinned_first(plan, queue, green_rank=2, same_day_rank=3)


@st.composite
def instances(draw):
    days = draw(st.integers(1, 8))
    machines = draw(st.integers(2, 4))
    n = draw(st.integers(0, 60))
    machine_pool = np.array([0, 1] + draw(st.lists(st.integers(0, 1), min_size=machines - 2, max_size=machines - 2)))
    capacity = np.array(draw(st.lists(st.lists(st.integers(0, 8), min_size=machines, max_size=machines), min_size=days, max_size=days)))
    jobs = draw(st.lists(st.tuples(st.integers(-1, days + 1), st.integers(0, 3), st.integers(0, 1), st.integers(0, 20)), min_size=n, max_size=n))
    columns = list(zip(*jobs)) if jobs else [[], [], [], []]
    queue = queue_arrays(*(np.array(c, dtype=np.int64) for c in columns))
    return queue, capacity, machine_pool, np.full(machines, 60.0)


@settings(max_examples=150, deadline=None)
@given(instances())
def test_property_fewest_late_and_valid(instance):
    queue, capacity, machine_pool, rated = instance
    plan = plan_queue(queue, capacity, machine_pool, rated)
    caps = pool_capacity(capacity, machine_pool)
    assert plan.late_count == ortools_min_late(queue.deadline_day, queue.priority, queue.pool, caps)
    assert plan.late_count == plan.load.min_late.sum()
    check_plan_is_valid(plan, queue, capacity, machine_pool, rated)


@settings(max_examples=150, deadline=None)
@given(instances())
def test_property_zero_late_whenever_the_demand_bound_test_passes(instance):
    queue, capacity, machine_pool, rated = instance
    load = pool_load(queue, capacity, machine_pool)
    plan = plan_queue(queue, capacity, machine_pool, rated)
    for p in range(2):
        if load.feasible[p]:
            assert not plan.late[queue.pool == p].any()
        else:
            assert plan.late[queue.pool == p].sum() == load.min_late[p]


def bound_deadlines(queue, days, pool):
    """Each job's deadline in the demand-bound arithmetic, from its definition, job by job (None: left out).

    A pinned job prints before every later pinned job and every other job, so it is due by the earliest
    deadline not yet passed among itself and those; overdue jobs that are not pinned are left out.
    """
    tier = pinned_tier(queue.deadline_day, queue.priority)
    deadline = np.clip(queue.deadline_day.astype(int), -1, days)
    rows = np.flatnonzero(queue.pool == pool)
    pinned = sorted((int(tier[i]), int(deadline[i]), int(i)) for i in rows if tier[i] < 2)
    rest = [int(deadline[i]) for i in rows if tier[i] == 2]
    fresh_rest = [d for d in rest if d >= 0]
    bound = [d for d in fresh_rest]
    for position, (_, d, _) in enumerate(pinned):
        after = [e for _, e, _ in pinned[position:] if e >= 0] + fresh_rest
        bound.append(min(after, default=days))
    return bound


@settings(max_examples=150, deadline=None)
@given(instances())
def test_property_demand_bound_test_agrees_with_the_plan(instance):
    queue, capacity, machine_pool, rated = instance
    days = capacity.shape[0]
    load = pool_load(queue, capacity, machine_pool)
    plan = plan_queue(queue, capacity, machine_pool, rated)
    for p in range(2):
        bound = np.bincount(np.minimum(np.array(bound_deadlines(queue, days, p), dtype=int), days), minlength=days + 1)[:days]
        assert load.bound_demand[p].tolist() == bound.tolist()
        excess = np.cumsum(bound) - np.cumsum(pool_capacity(capacity, machine_pool)[p])
        members = queue.pool == p
        fresh_late = plan.late[members & (queue.deadline_day >= 0)].sum()
        # The plain test on these deadlines: it passes exactly when no job that is not overdue is late ...
        assert (excess <= 0).all() == (fresh_late == 0)
        # ... and with nothing overdue, exactly when the plan has no late job at all.
        assert load.feasible[p] == ((excess <= 0).all() and load.overdue[p] == 0) == (not plan.late[members].any())
        broken = np.flatnonzero(excess > 0)
        assert load.first_break_day[p] == (broken[0] if broken.size else -1)


def test_demand_bound_arithmetic_by_hand():
    # One pool, 10 a day for 3 days; due: 12 on day 0, 5 on day 1, 20 on day 2.
    queue = queue_arrays(np.repeat([0, 1, 2], [12, 5, 20]), np.full(37, 3), np.zeros(37, int), np.arange(37))
    capacity = np.full((3, 1), 10)
    load = pool_load(queue, np.concatenate([capacity, np.zeros((3, 1), int)], axis=1), np.array([0, 1]))
    # Cumulative due 12, 17, 37 against capacity 10, 20, 30: excess 2, -3, 7 -> 7 late, breaks on day 0.
    assert load.min_late[0] == 7 and load.first_break_day[0] == 0 and not load.feasible[0]
    assert list(load.demand[0]) == [12, 5, 20] and list(load.capacity[0]) == [10, 10, 10]


def test_the_least_urgent_job_is_the_one_given_up():
    # Day 0 holds one document; a green and a normal job are both due on day 0.
    queue = queue_arrays([0, 0], [3, 0], [0, 0], [0, 1])
    plan = plan_queue(queue, np.array([[1, 0]]), np.array([0, 1]), np.array([60.0, 60.0]))
    assert list(plan.late) == [True, False]
    assert plan.day[1] == 0 and plan.day[0] == -1


def test_among_equals_the_latest_deadline_is_given_up():
    # Two slots by day 1; three normal jobs due on days 0, 1, 1: the last accepted of day 1 is late.
    queue = queue_arrays([0, 1, 1], [3, 3, 3], [0, 0, 0], [5, 1, 2])
    plan = plan_queue(queue, np.array([[1], [1], [1]]), np.array([0]), np.array([60.0]))
    assert list(plan.late) == [False, False, True]
    assert list(plan.day) == [0, 1, 2]


def test_late_jobs_print_as_early_as_the_others_allow():
    # An overdue job and two due on day 2; one slot a day: the overdue job goes first, nobody else is late.
    queue = queue_arrays([-1, 2, 2], [3, 3, 3], [0, 0, 0], [0, 1, 2])
    plan = plan_queue(queue, np.ones((4, 1), int), np.array([0]), np.array([60.0]))
    assert list(plan.day) == [0, 1, 2]
    assert list(plan.late) == [True, False, False] and plan.days_late[0] == 1


def test_inside_a_day_green_first_then_class_then_deadline_then_acceptance():
    rng = np.random.default_rng(7)
    queue = synthetic_queue(rng, 5_000, days=4)
    capacity = np.full((6, 6), 300)
    machine_pool = np.array([0, 0, 0, 1, 1, 1])
    rated = np.array([60.0, 60.0, 60.0, 90.0, 90.0, 90.0])
    plan = plan_queue(queue, capacity, machine_pool, rated)
    for p in range(2):
        for d in range(6):
            rows = np.flatnonzero((queue.pool == p) & (plan.day == d))
            if rows.size < 2:
                continue
            by_start = rows[np.lexsort((plan.machine[rows], plan.start_s[rows]))]
            key = list(zip(queue.priority[by_start], queue.deadline_day[by_start], queue.accepted_s[by_start]))
            assert key == sorted(key)


def test_a_green_job_planned_today_takes_the_first_slot():
    queue = queue_arrays([0, 0, 1, 0], [3, 3, 3, 0], [0, 0, 0, 0], [0, 1, 2, 3])
    plan = plan_queue(queue, np.full((2, 2), 5), np.array([0, 0]), np.array([60.0, 60.0]))
    assert plan.day[3] == 0 and plan.slot[3] == 0 and plan.machine[3] == 0 and plan.start_s[3] == 0.0


def test_machines_of_a_pool_share_the_work_evenly():
    queue = queue_arrays(np.full(100, 3), np.full(100, 3), np.zeros(100, int), np.arange(100))
    capacity = np.full((4, 3), 480)
    plan = plan_queue(queue, capacity, np.array([0, 0, 0]), np.full(3, 60.0))
    counts = np.bincount(plan.machine, minlength=3)
    assert counts.max() - counts.min() <= 1
    # A faster machine takes proportionally more: it finishes at about the same time.
    plan = plan_queue(queue, capacity, np.array([0, 0, 0]), np.array([30.0, 60.0, 90.0]))
    counts = np.bincount(plan.machine, minlength=3)
    assert list(counts) == [17, 33, 50]
    finish = [plan.start_s[plan.machine == m].max() + 3600 / r for m, r in enumerate([30.0, 60.0, 90.0])]
    assert max(finish) - min(finish) <= 3600 / 30


def test_a_down_machine_gets_nothing():
    queue = queue_arrays(np.full(40, 2), np.full(40, 3), np.zeros(40, int), np.arange(40))
    capacity = np.array([[10, 0, 10]] * 3)
    plan = plan_queue(queue, capacity, np.array([0, 0, 0]), np.full(3, 60.0))
    assert 1 not in set(plan.machine.tolist()) and plan.late_count == 0


def test_jobs_beyond_the_horizon_are_unplanned_and_counted_late():
    queue = queue_arrays(np.zeros(5, int), np.full(5, 3), np.zeros(5, int), np.arange(5))
    plan = plan_queue(queue, np.full((2, 1), 2), np.array([0]), np.array([60.0]))
    assert plan.unplanned.sum() == 1 and plan.late_count == 3
    assert plan.days_late[plan.unplanned][0] == 2  # at least: past the two plan days
    assert plan.machine[plan.unplanned][0] == -1 and np.isnan(plan.start_s[plan.unplanned][0])


def test_deterministic_for_the_same_input():
    rng = np.random.default_rng(3)
    queue = synthetic_queue(rng, 20_000, days=5, overdue_share=0.02)
    capacity = np.full((5, 4), 600)
    args = (capacity, np.array([0, 0, 1, 1]), np.array([60.0, 60.0, 90.0, 90.0]))
    first, second = plan_queue(queue, *args), plan_queue(queue, *args)
    for name in ("day", "machine", "slot", "late", "days_late"):
        assert np.array_equal(getattr(first, name), getattr(second, name))


def test_inputs_are_not_changed():
    rng = np.random.default_rng(4)
    queue = synthetic_queue(rng, 1_000, days=3)
    before = queue.deadline_day.copy(), queue.priority.copy(), queue.accepted_s.copy()
    capacity = np.full((3, 2), 100)
    plan_queue(queue, capacity, np.array([0, 1]), np.array([60.0, 90.0]))
    assert all(np.array_equal(a, b) for a, b in zip(before, (queue.deadline_day, queue.priority, queue.accepted_s)))
    assert (capacity == 100).all()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"capacity": np.zeros(3)}, "capacity"),
        ({"capacity": -np.ones((2, 2))}, "negative"),
        ({"machine_pool": np.array([0])}, "machine_pool"),
    ],
)
def test_bad_arrays_are_refused_with_the_name(kwargs, message):
    queue = queue_arrays([0], [3], [0], [0])
    args = {"capacity": np.ones((2, 2), int), "machine_pool": np.array([0, 1]), "rated_per_hour": np.array([60.0, 60.0])}
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        plan_queue(queue, **args)


def test_queue_arrays_validate_shapes_and_ranges():
    with pytest.raises(ValueError, match="priority"):
        queue_arrays([0, 1], [0], [0, 0])
    with pytest.raises(ValueError, match="pool"):
        queue_arrays([0], [0], [5])
    with pytest.raises(ValueError, match="deadline_day"):
        queue_arrays([[0]], [0], [0])
    with pytest.raises(ValueError, match="integers"):
        queue_arrays([0.5], [0], [0])


def saturated_booklet_peak():
    """The reviewer's peak: booklets saturated by on-time normal work, 21 overdue green booklets, some same day."""
    per_day, days = 4 * 50, 3
    normal_due = np.repeat(np.arange(days), per_day)  # exactly fills every day: all on time by themselves
    n_normal = len(normal_due)
    deadline = np.concatenate([normal_due, np.full(21, -1), [-2, -1, 0]])
    priority = np.concatenate([np.full(n_normal, 3), np.full(21, 0), np.full(3, 1)])
    # The green and same-day jobs were accepted after every normal one.
    queue = queue_arrays(deadline, priority, np.zeros(len(deadline), int), np.arange(len(deadline)))
    capacity = np.full((days, 4), 50)
    return queue, capacity, np.zeros(4, int), np.full(4, 130.0)


def print_order(plan, rows):
    return rows[np.lexsort((plan.machine[rows], plan.start_s[rows], plan.day[rows]))]


def test_overdue_green_jobs_print_first_in_a_saturated_peak():
    queue, capacity, machine_pool, rated = saturated_booklet_peak()
    green = np.flatnonzero(queue.priority == 0)
    same_day = np.flatnonzero(queue.priority == 1)
    normal = np.flatnonzero(queue.priority == 3)
    # The plain fewest-late objective leaves the 23 overdue jobs behind the on-time work (and one more late).
    caps = pool_capacity(capacity, np.array([0, 0, 0, 0]))
    assert ortools_min_late_unpinned(queue.deadline_day, queue.pool, caps) == 23 + 1
    plan = plan_queue(queue, capacity, machine_pool, rated)
    # Every green job prints on day 0 in the pool's first 21 slots (lowest start times), ahead of every other job.
    assert (plan.day[green] == 0).all()
    order = print_order(plan, np.flatnonzero(plan.day >= 0))
    assert set(order[:21].tolist()) == set(green.tolist())
    assert plan.start_s[green].max() <= plan.start_s[normal[plan.day[normal] == 0]].min()
    assert plan.start_s[green].max() < 3600 / 130 * 6  # 21 documents on 4 machines: slots 0..5
    # Then the same-day jobs, the most overdue first, then normal work.
    assert order[21:24].tolist() == [same_day[0], same_day[1], same_day[2]]
    assert (plan.day[same_day] == 0).all()
    # They take 24 slots of day 0 that the normal jobs due today needed: the last 24 accepted of those give way.
    assert plan.late_count == 23 + 24 == ortools_min_late(queue.deadline_day, queue.priority, queue.pool, caps)
    late_normal = normal[plan.late[normal]]
    assert late_normal.tolist() == normal[176:200].tolist()
    assert (plan.unplanned[late_normal]).all()
    check_plan_is_valid(plan, queue, capacity, machine_pool, rated)


def test_green_only_pinning_leaves_overdue_same_day_jobs_to_the_fewest_late_plan():
    queue, capacity, machine_pool, rated = saturated_booklet_peak()
    plan = plan_queue(queue, capacity, machine_pool, rated, same_day_rank=None)
    green = np.flatnonzero(queue.priority == 0)
    same_day = np.flatnonzero(queue.priority == 1)
    assert (plan.day[green] == 0).all() and plan.slot[green].max() <= 5
    # The overdue same-day jobs are late either way, so they wait behind the on-time work; the one due today
    # still beats normal jobs due today (the least urgent job due by a day is the one given up).
    assert (plan.unplanned[same_day[:2]]).all() and plan.day[same_day[2]] == 0
    assert plan.late_count == 21 + 2 + 22


def test_a_green_job_is_pinned_whatever_its_deadline():
    # Day 0 holds two documents, both needed by normal jobs due today; the green job is due on day 2.
    queue = queue_arrays([0, 0, 2], [3, 3, 0], [0, 0, 0], [0, 1, 2])
    plan = plan_queue(queue, np.ones((3, 2), int) * np.array([2, 0]), np.array([0, 1]), np.array([60.0, 60.0]))
    assert plan.day[2] == 0 and plan.slot[2] == 0
    assert list(plan.late) == [False, True, False] and plan.day[1] == 1


def test_greens_spill_into_day_one_ahead_of_everything_there():
    # Day 0 is full of green jobs: the rest of them take day 1's first slots.
    queue = queue_arrays([1, 1, 0, 0, 0, -1], [3, 2, 0, 0, 0, 0], [0] * 6, [0, 1, 2, 3, 4, 5])
    plan = plan_queue(queue, np.full((3, 1), 3), np.array([0]), np.array([60.0]))
    # The overdue green first, then by acceptance; on day 1 the last green, then urgent, then normal.
    assert plan.day.tolist() == [1, 1, 0, 0, 1, 0]
    assert plan.slot.tolist() == [2, 1, 1, 2, 0, 0]
    assert plan.load.min_late[0] == plan.late_count == 2  # the overdue green and the last green due today
    assert plan.load.first_break_day[0] == 0


def test_pool_load_counts_the_pinned_jobs():
    queue, capacity, machine_pool, _ = saturated_booklet_peak()
    load = pool_load(queue, capacity, machine_pool)
    assert load.pinned.tolist() == [24, 0] and load.overdue[0] == 23
    assert load.min_late[0] == 47 and load.first_break_day[0] == 0  # normal jobs due today can no longer make it
    assert pool_load(queue, capacity, machine_pool, same_day_rank=None).min_late[0] == 45
    assert load.first_break_day[1] == -1 and load.min_late[1] == 0
