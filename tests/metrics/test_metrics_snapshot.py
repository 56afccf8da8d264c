"""The line snapshot: pure aggregations checked against plain loops, and validation naming fields."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from factory.errors import InvalidField, InvalidRecord
from factory.metrics import (
    DUE_BINS,
    MACHINE_STATES,
    LineSnapshot,
    MachineStatus,
    backlog_grid,
    cumulative_load,
    due_bin,
    least_slack_days,
    machine_has_work,
    oldest_wait_s,
    overtime_used_hours,
    projected_late_grid,
    snapshot_from_plan,
)
from factory.scheduler import class_ranks, line_arrays, plan_overtime, plan_queue, queue_arrays
from factory.scheduler.synthetic import synthetic_queue

CLASSES = ("green", "same_day", "urgent", "normal")


@pytest.fixture(scope="module")
def queue():
    return synthetic_queue(np.random.default_rng(5), 4000, days=12, overdue_share=0.01)


@pytest.fixture(scope="module")
def planned(config, queue):
    dates = [dt.date(2026, 3, 2) + dt.timedelta(days=i) for i in range(8)]
    line = line_arrays(config.line, dates, shift_hours=2.0)
    plan = plan_queue(queue, line.capacity, line.machine_pool, line.rated_per_hour)
    overtime = plan_overtime(queue, line, max_shift_hours=config.line.shifts.peak_hours)
    return plan, overtime


def test_due_bins_cover_overdue_each_day_and_later():
    assert DUE_BINS[0] == "overdue" and DUE_BINS[1] == "0" and DUE_BINS[-1] == "11+"
    assert due_bin(np.array([-5, -1, 0, 3, 10, 11, 40])).tolist() == [0, 0, 1, 4, 11, 12, 12]


def test_backlog_grid_counts_every_application_once(queue):
    grid = backlog_grid(queue, len(CLASSES))
    assert grid.shape == (2, 4, len(DUE_BINS)) and grid.dtype == np.int64
    assert grid.sum() == len(queue)
    expected = np.zeros_like(grid)
    for p, c, d in zip(queue.pool, queue.priority, queue.deadline_day):
        expected[p, c, 0 if d < 0 else min(d, 11) + 1] += 1
    np.testing.assert_array_equal(grid, expected)


def test_least_slack_is_the_nearest_deadline_and_nan_when_empty():
    q = queue_arrays(np.array([5, 2, -1, 7]), np.array([3, 3, 2, 3]), np.array([0, 0, 1, 1]))
    slack = least_slack_days(q, 4)
    assert slack[0, 3] == 2 and slack[1, 2] == -1 and slack[1, 3] == 7
    assert np.isnan(slack[0, 0]) and np.isnan(slack[1, 0])


def test_ranks_beyond_the_classes_are_refused():
    q = queue_arrays(np.array([1]), np.array([4]), np.array([0]))
    with pytest.raises(InvalidField) as err:
        backlog_grid(q, 4)
    assert err.value.field == "queue.priority"


def test_projected_late_matches_the_plan(queue, planned):
    plan, _ = planned
    late = projected_late_grid(queue, plan, len(CLASSES))
    assert late.sum() == plan.late_count > 0
    for p in range(2):
        for c in range(4):
            assert late[p, c] == np.sum(plan.late & (queue.pool == p) & (queue.priority == c))


def test_cumulative_load_is_the_demand_bound_curve(queue, planned):
    plan, _ = planned
    demand, capacity = cumulative_load(plan)
    assert demand.shape == capacity.shape == plan.load.capacity.shape
    assert np.all(np.diff(demand, axis=1) >= 0) and np.all(np.diff(capacity, axis=1) >= 0)
    # Overdue jobs are due by day 0; later days add the jobs due on them.
    in_horizon = (queue.deadline_day < plan.load.capacity.shape[1])
    for p in range(2):
        assert demand[p, -1] == np.sum(in_horizon & (queue.pool == p))
    # Where demand passes capacity, the plan has late jobs in that pool (demand-bound test).
    for p in range(2):
        if np.any(demand[p] > capacity[p]):
            assert plan.load.min_late[p] > 0


def test_oldest_wait_per_pool():
    waiting, oldest = oldest_wait_s(np.array([100.0, 400.0, 950.0]), np.array([0, 0, 1]), 2, now_s=1000.0)
    assert waiting.tolist() == [2, 1] and oldest.tolist() == [900.0, 50.0]
    waiting, oldest = oldest_wait_s(np.array([]), np.array([], dtype=int), 2, now_s=1000.0)
    assert waiting.tolist() == [0, 0] and oldest.tolist() == [0.0, 0.0]
    # An acceptance stamped after now (clock skew) never gives a negative wait.
    assert oldest_wait_s(np.array([1010.0]), np.array([1]), 2, now_s=1000.0)[1].tolist() == [0.0, 0.0]


@pytest.mark.parametrize(
    ("state", "holds_job", "queued", "expected"),
    [
        ("busy", True, 0, True),
        ("idle", False, 5, True),
        ("idle", False, 0, False),
        ("fault", False, 5, True),  # a broken machine with work waiting is exactly what the alert is for
        ("offline", False, 5, True),
        ("paused", False, 5, False),
        ("draining", True, 5, True),
        ("draining", False, 5, False),
        ("maintenance", False, 5, False),
        ("off_shift", False, 5, False),
    ],
)
def test_machine_has_work(state, holds_job, queued, expected):
    assert state in MACHINE_STATES
    assert machine_has_work(state, holds_job, queued) is expected


def test_overtime_used_is_shift_time_past_normal_up_to_the_plan():
    assert overtime_used_hours(6.0, 8.0, 2.0) == 0.0
    assert overtime_used_hours(9.25, 8.0, 2.0) == 1.25
    assert overtime_used_hours(12.0, 8.0, 2.0) == 2.0
    assert overtime_used_hours(12.0, 8.0, 0.0) == 0.0


def test_snapshot_from_plan(config, queue, planned):
    plan, overtime = planned
    ranks = class_ranks(config)
    assert tuple(sorted(ranks, key=ranks.get)) == CLASSES
    now = float(queue.accepted_s.max() + 3600)
    machines = [MachineStatus(machine="B01", pool="booklet", state="busy", rated_per_hour=60.0, has_work=True,
                              last_printed_s=now - 30)]
    snap = snapshot_from_plan(
        now_s=now, queue=queue, service_classes=CLASSES, plan=plan, overtime=overtime, machines=machines,
        review_entered_s=[now - 120.0, now - 10.0], blanks_in_stock={"booklet": 900},
        blanks_needed_per_day={"booklet": 840.0, "card": 720.0}, overtime_used={"card": 0.5},
    )
    assert snap.backlog.sum() == len(queue)
    assert snap.projected_late.sum() == plan.late_count
    green = queue.priority == 0
    for p in range(2):
        rows = green & (queue.pool == p)
        assert snap.green_waiting[p] == rows.sum()
        assert snap.green_oldest_wait_s[p] == now - queue.accepted_s[rows].min()
    assert snap.review_queue == 2 and snap.review_oldest_age_s == 120.0
    assert snap.blanks_in_stock.tolist() == [900, 0] and snap.overtime_used_hours.tolist() == [0.0, 0.5]
    np.testing.assert_array_equal(snap.overtime_planned_hours, overtime.hours[:, 0])
    assert snap.taken_at_s == now and snap.machines == tuple(machines)


def test_snapshot_refuses_an_unknown_pool_in_a_mapping(queue):
    with pytest.raises(InvalidField) as err:
        snapshot_from_plan(now_s=0.0, queue=queue, service_classes=CLASSES, blanks_in_stock={"booklets": 1})
    assert err.value.field == "pool" and err.value.value == "booklets"


def test_snapshot_reports_every_bad_field_at_once():
    bad = MachineStatus(machine="B01", pool="scroll", state="asleep", rated_per_hour=-1.0, has_work=True,
                        last_printed_s=float("nan"))
    with pytest.raises(InvalidRecord) as err:
        LineSnapshot(
            taken_at_s=1.0, pools=("booklet", "card"), service_classes=CLASSES, machines=(bad, bad),
            backlog=np.zeros((2, 4, 3), dtype=np.int64), projected_late=-np.ones((2, 4), dtype=np.int64),
            plan_demand=np.zeros((2, 5), dtype=np.int64), review_queue=-1,
        )
    fields = err.value.fields()
    for field in ("machines[0].pool", "machines[0].state", "machines[0].rated_per_hour", "machines[0].last_printed_s",
                  "machines[1].machine", "backlog", "projected_late", "plan_capacity", "review_queue"):
        assert field in fields, field
    assert "line snapshot" in str(err.value)


def test_a_minimal_snapshot_is_valid():
    snap = LineSnapshot(taken_at_s=1.0, pools=("booklet",), service_classes=("normal",))
    assert snap.backlog is None and snap.machines == ()
