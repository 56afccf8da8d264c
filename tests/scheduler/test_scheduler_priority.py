"""Class order, the run-time pick for a free machine, and green-channel admission."""

from __future__ import annotations

import numpy as np
import pytest

from factory.scheduler.admission import admit_green, remaining_capacity
from factory.scheduler.plan import plan_queue, pool_load
from factory.scheduler.priority import class_ranks, pick_next, priority_order
from factory.scheduler.queue import queue_arrays


def test_class_ranks_from_the_configuration(config):
    assert dict(class_ranks(config)) == {"green": 0, "same_day": 1, "urgent": 2, "normal": 3}


def test_priority_order():
    order = priority_order(np.array([3, 0, 2, 3, 0]), np.array([0, 5, 1, 0, 5]), np.array([9, 2, 1, 1, 1]))
    assert order.tolist() == [4, 1, 2, 3, 0]


QUEUE = dict(
    pool=np.array([0, 0, 1, 0, 0]),
    priority=np.array([3, 2, 0, 3, 0]),
    deadline_day=np.array([0, 1, 0, 3, 1]),
    accepted_s=np.array([1, 2, 3, 4, 5]),
)


def test_pick_next_green_first_for_its_pool():
    assert pick_next(**QUEUE, machine_pool=0) == 4
    assert pick_next(**QUEUE, machine_pool=1) == 2
    waiting = np.array([True, True, True, True, False])
    assert pick_next(**QUEUE, machine_pool=0, waiting=waiting) == 1  # urgent before normal without a plan


def test_pick_next_follows_the_plan_after_green():
    waiting = np.array([True, True, True, True, False])
    planned = np.array([0, 1, 0, 0, 0])  # the plan put the urgent job tomorrow
    assert pick_next(**QUEUE, machine_pool=0, planned_day=planned, waiting=waiting) == 0
    # Nothing left for today: work ahead in priority order.
    waiting = np.array([False, True, True, False, False])
    assert pick_next(**QUEUE, machine_pool=0, planned_day=planned, waiting=waiting) == 1
    assert pick_next(**QUEUE, machine_pool=0, waiting=np.zeros(5, bool)) == -1
    assert pick_next(**QUEUE, machine_pool=7) == -1


def test_remaining_capacity_counts_started_slots_as_taken():
    assert remaining_capacity(np.array([480, 720]), np.array([60.0, 90.0]), 0).tolist() == [480, 720]
    # 90 s into the shift: slot 0 and 1 (60 s cycle) have started on the first; slots 0, 1, 2 (40 s) on the second.
    assert remaining_capacity(np.array([480, 720]), np.array([60.0, 90.0]), 90).tolist() == [478, 717]
    assert remaining_capacity(np.array([480]), np.array([60.0]), 120).tolist() == [478]


def line(machines=3, per_day=10, days=2):
    capacity = np.full((days, machines), per_day)
    return capacity, np.zeros(machines, dtype=int), np.full(machines, 60.0)


def test_green_takes_the_first_machine_to_free_up_within_one_cycle():
    queue = queue_arrays(np.full(5, 1), np.full(5, 3), np.zeros(5, int), np.arange(5))
    capacity, machine_pool, rated = line()
    result = admit_green(queue, capacity, machine_pool, rated, pool=0, now_s=130.0, busy_until_s=np.array([170.0, 150.0, 175.0]))
    assert result.machine == 1 and result.start_s == 150.0 and result.slot == 3
    assert 0 <= result.wait_s <= 60.0
    assert result.late_before == result.late_after == 0 and not result.anyone_becomes_late
    # Without busy times each machine frees at the end of the slot under way.
    result = admit_green(queue, capacity, machine_pool, rated, pool=0, now_s=130.0)
    assert result.machine == 0 and result.start_s == 180.0 and result.wait_s == 50.0


def test_green_on_a_full_day_makes_the_least_urgent_job_late():
    # Today's 6 slots are all needed by jobs due today: one of them must give way.
    priority = np.array([3, 3, 2, 3, 1, 3])
    queue = queue_arrays(np.zeros(6, int), priority, np.zeros(6, int), np.arange(6))
    capacity, machine_pool, rated = line(machines=2, per_day=3)
    result = admit_green(queue, capacity, machine_pool, rated, pool=0, now_s=0.0)
    assert result.late_before == 0 and result.late_after == 1
    assert result.anyone_becomes_late and result.newly_late.tolist() == [5]  # normal, accepted last
    # The arithmetic: due today 6 + 1 green against 6 slots.
    with_green = queue_arrays(np.zeros(7, int), np.append(priority, 0), np.zeros(7, int), np.arange(7))
    assert pool_load(with_green, capacity, machine_pool).min_late[0] == 1
    assert result.plan_after.day[-1] == 0 and not result.plan_after.late[-1]


def test_green_for_a_pool_with_no_machine_up():
    queue = queue_arrays([0], [3], [0], [0])
    capacity = np.array([[5, 0], [5, 5]])
    result = admit_green(queue, capacity, np.array([0, 1]), np.array([60.0, 60.0]), pool=1, now_s=0.0)
    assert result.machine == -1 and np.isnan(result.wait_s)


@pytest.mark.parametrize("seed", range(5))
def test_admission_agrees_with_a_full_replan(seed):
    rng = np.random.default_rng(seed)
    n = 200
    queue = queue_arrays(rng.integers(0, 4, n), rng.integers(0, 4, n), rng.integers(0, 2, n), rng.integers(0, 100, n))
    capacity = np.full((4, 4), 14)
    machine_pool = np.array([0, 0, 1, 1])
    rated = np.full(4, 60.0)
    result = admit_green(queue, capacity, machine_pool, rated, pool=0, now_s=0.0)
    before = plan_queue(queue, capacity, machine_pool, rated)
    assert result.late_before == before.late_count
    assert result.late_after - result.late_before in (0, 1)


def saturated_with_overdue_greens():
    """One booklet pool of 2 machines, 10 a day for 2 days, filled by on-time normal work; 5 overdue green jobs."""
    deadline = np.concatenate([np.repeat([0, 1], 10), np.full(5, -1)])
    priority = np.concatenate([np.full(20, 3), np.full(5, 0)])
    queue = queue_arrays(deadline, priority, np.zeros(25, int), np.arange(25))
    capacity, machine_pool, rated = line(machines=2, per_day=5, days=2)
    return queue, capacity, machine_pool, rated


def test_pick_next_gives_green_first_even_when_a_stale_plan_put_it_later():
    # A plan of the old objective left the overdue green job for the last day; the free machine still takes it.
    queue = dict(pool=np.zeros(3, int), priority=np.array([3, 3, 0]), deadline_day=np.array([0, 0, -1]), accepted_s=np.arange(3))
    assert pick_next(**queue, machine_pool=0, planned_day=np.array([0, 0, 5])) == 2
    assert pick_next(**queue, machine_pool=0, planned_day=np.array([0, 0, -1])) == 2


def test_pick_next_prints_the_plan_order_greens_first():
    queue, capacity, machine_pool, rated = saturated_with_overdue_greens()
    plan = plan_queue(queue, capacity, machine_pool, rated)
    fields = dict(pool=queue.pool, priority=queue.priority, deadline_day=queue.deadline_day, accepted_s=queue.accepted_s)
    waiting = np.ones(len(queue), bool)
    picked = []
    for _ in range(int(plan.planned[0, 0])):  # day 0: one pick per slot
        row = pick_next(**fields, machine_pool=0, planned_day=plan.day, waiting=waiting)
        waiting[row] = False
        picked.append(row)
    assert picked[:5] == [20, 21, 22, 23, 24]
    day0 = np.flatnonzero(plan.day == 0)
    assert picked == day0[np.lexsort((plan.machine[day0], plan.start_s[day0]))].tolist()


def test_green_admission_into_a_pool_with_overdue_greens_and_on_time_work():
    queue, capacity, machine_pool, rated = saturated_with_overdue_greens()
    result = admit_green(queue, capacity, machine_pool, rated, pool=0, now_s=0.0)
    after = result.plan_after
    greens = np.flatnonzero(np.append(queue.priority, 0) == 0)
    assert (after.day[greens] == 0).all() and not result.plan_after.late[-1]
    # Printed right after the 5 overdue greens (earlier deadlines), before every normal job.
    day0 = np.flatnonzero(after.day == 0)
    order = day0[np.lexsort((after.machine[day0], after.start_s[day0]))]
    assert order[:6].tolist() == [20, 21, 22, 23, 24, 25]
    # Day 0 had room for 5 of the 10 normal jobs due today; the last accepted of those 5 gives way.
    assert result.late_before == 5 + 5 and result.newly_late.tolist() == [4] and result.late_after == 11
    # The 5 waiting greens take the first 5 free slots (as pick_next would give them); the new one the sixth,
    # which is where the plan puts it too.
    assert result.greens_ahead == 5
    assert (result.machine, result.slot, result.start_s) == (1, 2, 120.0)
    assert (after.machine[-1], after.slot[-1], after.start_s[-1]) == (1, 2, 120.0)


def test_green_admission_waits_only_for_greens_due_earlier():
    # Two greens wait: one overdue (ahead of the new one), one due tomorrow (behind it); machine 1 frees first.
    queue = queue_arrays([1, -1, 1], [3, 0, 0], [0, 0, 0], [0, 1, 2])
    capacity, machine_pool, rated = line(machines=2, per_day=10)
    result = admit_green(queue, capacity, machine_pool, rated, pool=0, now_s=10.0, busy_until_s=np.array([50.0, 20.0]))
    assert result.greens_ahead == 1
    assert (result.machine, result.start_s, result.wait_s) == (0, 50.0, 40.0)  # machine 1 takes the overdue one
    assert pick_next(queue.pool, queue.priority, queue.deadline_day, queue.accepted_s, machine_pool=0) == 1
    # No slot left today for it: no machine, the plan says when.
    full = admit_green(queue, np.array([[1, 0], [5, 5]]), machine_pool, rated, pool=0, now_s=0.0)
    assert full.machine == -1 and np.isnan(full.wait_s) and full.plan_after.day[-1] == 1


def test_admission_with_another_green_rank():
    queue = queue_arrays(np.zeros(6, int), np.full(6, 0), np.zeros(6, int), np.arange(6))  # rank 0 is not green here
    capacity, machine_pool, rated = line(machines=2, per_day=3)
    result = admit_green(queue, capacity, machine_pool, rated, pool=0, now_s=0.0, green_rank=2, same_day_rank=None)
    assert result.plan_after.day[-1] == 0 and result.plan_after.start_s[-1] == 0.0 and result.plan_after.slot[-1] == 0
    assert result.newly_late.tolist() == [5]
