"""Line capacity, overtime that meets every deadline, and the peak forecast."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from factory.errors import InvalidField
from factory.scheduler.capacity import (
    backlog_by_deadline,
    expected_arrivals,
    forecast_breaks,
    line_arrays,
    machine_capacity,
    plan_overtime,
    queue_mix,
    shift_hours_for,
)
from factory.config import Machine, MaintenanceWindow
from factory.scheduler.plan import plan_queue, pool_load
from factory.scheduler.queue import queue_arrays

D = dt.date
DATES = [D(2026, 3, 2), D(2026, 3, 3), D(2026, 3, 4)]


def test_machine_capacity_is_whole_documents():
    cap = machine_capacity(
        np.array([60.0, 90.0, 45.0]),
        np.array([8.0, 14.5]),
        np.array([[0.0, 2.0, 0.0], [0.0, 0.0, 20.0]]),
        np.array([[True, True, False], [True, True, True]]),
    )
    assert cap.tolist() == [[480, 540, 0], [870, 1305, 0]]


def test_line_arrays_from_the_shipped_line(config):
    line = line_arrays(config.line, DATES)
    assert line.pool_capacity().tolist() == [[6720] * 3, [5760] * 3]  # 14 x 60 x 8, 8 x 90 x 8
    peak = line.with_shift_hours(14.5)
    assert peak.pool_capacity()[:, 0].tolist() == [12180, 10440]


def test_maintenance_and_down_machines(config):
    import dataclasses

    machines = list(config.line.machines)
    machines[0] = dataclasses.replace(machines[0], maintenance=(MaintenanceWindow(date=DATES[1], hours=3.0),))
    line_config = dataclasses.replace(config.line, machines=tuple(machines))
    line = line_arrays(line_config, DATES, down=["C01"])
    cap = line.capacity
    assert cap[1, 0] == 300 and cap[0, 0] == 480
    assert (cap[:, line.machine_ids.index("C01")] == 0).all()
    with pytest.raises(InvalidField) as err:
        line_arrays(config.line, DATES, down=["X99"])
    assert err.value.field == "down" and "X99" in str(err.value)


def test_peak_shift_hours_come_from_the_seasons(config):
    days = [D(2026, 2, 24), D(2026, 4, 1), D(2026, 7, 1)]
    assert shift_hours_for(config.line, config.seasons, days, peak_shifts=False).tolist() == [8.0] * 3
    assert shift_hours_for(config.line, config.seasons, days, peak_shifts=True).tolist() == [14.5, 8.0, 12.0]


def small_line(config, days=3):
    dates = [D(2026, 3, 2) + dt.timedelta(days=i) for i in range(days)]
    machines = (Machine(id="B1", pool="booklet", rated_per_hour=60), Machine(id="C1", pool="card", rated_per_hour=90))
    import dataclasses

    return line_arrays(dataclasses.replace(config.line, machines=machines), dates)


def test_overtime_by_hand(config):
    line = small_line(config)  # booklet 480 a day, card 720 a day, 8 h shifts
    # Booklet: 600 due on day 1 (capacity 960 by then: fine), then 1200 more due on day 2.
    queue = queue_arrays(np.repeat([1, 2], [600, 1200]), np.full(1800, 3), np.zeros(1800, int), np.arange(1800))
    overtime = plan_overtime(queue, line, max_shift_hours=14.5)
    # Short by 1800 - 1440 = 360 documents by day 2: 6 h at 60/h. The least daily level is 2 h
    # (3 days x 2 h x 60 = 360); just in time under that cap: 2 h on each of the three days.
    assert overtime.daily_cap_hours[0] == 2.0
    assert overtime.hours[0].tolist() == [2.0, 2.0, 2.0]
    assert overtime.extra_capacity[0].sum() == 360 and overtime.still_late[0] == 0
    assert overtime.hours[1].tolist() == [0.0, 0.0, 0.0]


def test_overtime_goes_as_late_as_the_cap_allows(config):
    line = small_line(config)
    # 500 due on day 0 (20 over), 480 due on day 2: level 0.5 h (30 docs) covers day 0's shortfall only on day 0.
    queue = queue_arrays(np.repeat([0, 2], [500, 480]), np.full(980, 3), np.zeros(980, int), np.arange(980))
    overtime = plan_overtime(queue, line, max_shift_hours=14.5)
    assert overtime.hours[0].tolist() == [0.5, 0.0, 0.0]


def test_when_even_peak_shifts_are_not_enough_say_how_many_stay_late(config):
    line = small_line(config)
    # 14.5 h x 60 = 870 a day at most: 3 x 870 = 2610; 3000 due by day 2 -> 390 late. Plus 7 overdue.
    queue = queue_arrays(np.concatenate([np.full(3000, 2), np.full(7, -1)]), np.full(3007, 3), np.zeros(3007, int), np.arange(3007))
    overtime = plan_overtime(queue, line, max_shift_hours=14.5)
    assert overtime.hours[0].tolist() == [6.5, 6.5, 6.5]
    assert overtime.still_late[0] == 390 and overtime.overdue[0] == 7 and not overtime.is_enough[0]


@settings(max_examples=60, deadline=None)
@given(
    due=st.lists(st.integers(0, 4), min_size=0, max_size=400),
    step=st.sampled_from([0.25, 0.5, 1.0]),
)
def test_property_overtime_meets_every_deadline_and_one_step_less_does_not(config, due, step):
    line = small_line(config, days=5)
    queue = queue_arrays(np.array(due, dtype=np.int64).repeat(8), np.full(len(due) * 8, 3), np.zeros(len(due) * 8, int))
    overtime = plan_overtime(queue, line, max_shift_hours=14.5, step_hours=step)
    longer = line.with_shift_hours(line.shift_hours + overtime.hours[0])
    plan = plan_queue(queue, longer.capacity, longer.machine_pool, longer.rated_per_hour)
    if overtime.still_late[0] == 0:
        assert plan.late_count == 0
        level = overtime.daily_cap_hours[0]
        if level > 0:  # the daily level is the least that works
            lower = line.with_shift_hours(line.shift_hours + max(0.0, level - step))
            assert pool_load(queue, lower.capacity, lower.machine_pool).min_late[0] > 0
    else:
        assert plan.late_count == overtime.still_late[0]


def test_overtime_counts_the_green_jobs_printed_first(config):
    # Audit example: 480 normal jobs due today and 10 green due tomorrow on a pool printing 480 a day.
    # The plain demand bound passes (480 <= 480, 490 <= 960), but the greens print first and push 10
    # normal jobs to tomorrow: it takes 10 documents more today, a quarter hour at 60/h (15).
    line = small_line(config, days=2)
    queue = queue_arrays(np.repeat([0, 1], [480, 10]), np.repeat([3, 0], [480, 10]), np.zeros(490, int), np.arange(490))
    assert plan_queue(queue, line.capacity, line.machine_pool, line.rated_per_hour).late_count == 10
    overtime = plan_overtime(queue, line, max_shift_hours=14.5)
    assert overtime.hours[0].tolist() == [0.25, 0.0] and overtime.still_late[0] == 0
    longer = line.with_shift_hours(line.shift_hours + overtime.hours[0])
    assert plan_queue(queue, longer.capacity, longer.machine_pool, longer.rated_per_hour).late_count == 0
    load = pool_load(queue, line.capacity, line.machine_pool)
    assert load.bound_demand[0].tolist() == [490, 0] and load.first_break_day[0] == 0 and not load.feasible[0]


def test_the_peak_shift_is_a_level_even_when_the_steps_do_not_divide_it(config):
    # 841 due today: 6 h more gives 840, the 14.5 h peak shift 870. In 1 h steps the last step is the half hour.
    line = small_line(config, days=2)
    queue = queue_arrays(np.zeros(841, int), np.full(841, 3), np.zeros(841, int), np.arange(841))
    overtime = plan_overtime(queue, line, max_shift_hours=14.5, step_hours=1.0)
    assert overtime.hours[0].tolist() == [6.5, 0.0] and overtime.still_late[0] == 0


def late_with(queue, line, hours):
    longer = line.with_shift_hours(line.shift_hours + hours)
    return plan_queue(queue, longer.capacity, longer.machine_pool, longer.rated_per_hour).late[queue.pool == 0].sum()


@settings(max_examples=100, deadline=None)
@given(
    jobs=st.lists(st.tuples(st.integers(-1, 5), st.integers(0, 3), st.integers(1, 400)), min_size=0, max_size=12),
    step=st.sampled_from([0.25, 0.5, 1.0]),
)
def test_property_overtime_is_exact_and_least_with_pinned_classes(config, jobs, step):
    # Groups of green (0), same day (1), urgent (2) and normal (3) jobs on one pool of 480 a day, 870 at 14.5 h.
    line = small_line(config, days=5)
    deadline = np.repeat([d for d, _, _ in jobs], [n for _, _, n in jobs]).astype(np.int64)
    priority = np.repeat([c for _, c, _ in jobs], [n for _, _, n in jobs]).astype(np.int64)
    queue = queue_arrays(deadline, priority, np.zeros(len(deadline), int), np.arange(len(deadline)))
    overtime = plan_overtime(queue, line, max_shift_hours=14.5, step_hours=step)
    hours = overtime.hours[0]
    # With the overtime, the plan has exactly the late jobs it says (the overdue ones are late anyway).
    assert late_with(queue, line, hours) == overtime.still_late[0] + overtime.overdue[0]
    # And no more than the longest shifts would leave.
    assert overtime.still_late[0] + overtime.overdue[0] == late_with(queue, line, np.full(5, 6.5))
    # One step less on any day with overtime leaves more late jobs.
    for d in np.flatnonzero(hours > 0):
        less = hours.copy()
        less[d] = max(0.0, less[d] - step)
        assert late_with(queue, line, less) > overtime.still_late[0] + overtime.overdue[0]
    # The daily level is the least that works: capped one step lower, some day falls short.
    level = overtime.daily_cap_hours[0]
    if level > 0:
        capped = line.with_shift_hours(line.shift_hours + max(0.0, level - step))
        assert plan_queue(queue, capped.capacity, capped.machine_pool, capped.rated_per_hour).late.sum() > (
            overtime.still_late[0] + overtime.overdue[0]
        )


def test_expected_arrivals_keep_each_days_total():
    mix = np.array([[0.2, 0.0, 0.35], [0.1, 0.25, 0.1]])
    arrivals = expected_arrivals(np.array([10_000.0, 30_000.0, 7.0]), mix)
    assert arrivals.shape == (3, 2, 3)
    assert arrivals.sum(axis=(1, 2)).tolist() == [10_000, 30_000, 7]
    assert arrivals[1, 0, 2] == 10_500 and arrivals[1, 0, 1] == 0
    with pytest.raises(ValueError, match="mix"):
        expected_arrivals(np.array([5.0]), np.zeros((2, 3)))


def test_queue_mix_and_backlog():
    queue = queue_arrays([6, 6, 1, -1], [3, 3, 2, 3], [0, 1, 0, 0], [0, 1, 2, 3], [0, 0, 0, 1])
    mix = queue_mix(queue, max_lead=7)
    assert mix.shape == (2, 8) and mix.sum() == pytest.approx(1.0)
    assert mix[0, 6] == pytest.approx(1 / 3) and mix[0, 1] == pytest.approx(1 / 3)  # the -2 lead is left out
    assert backlog_by_deadline(queue, 4).tolist() == [[0, 1, 0, 1], [0, 0, 0, 1]]


def test_forecast_break_day_matches_the_closed_form():
    # No backlog; lam = 100 arrive each day, all due 5 working days later; mu = 80 a day.
    # Due by day D: 100 (D - 4); printable by D: 80 (D + 1). First D with 100 (D - 4) > 80 (D + 1):
    # 20 D > 480, D > 24, so day 25.
    days = 40
    arrivals = np.zeros((days, 1, 6), dtype=np.int64)
    arrivals[:, 0, 5] = 100
    result = forecast_breaks(np.zeros((1, days), int), arrivals, np.full((1, days), 80))
    assert result.break_day.tolist() == [25] and result.first_break_day == 25
    assert result.missed[0, 24] == 0 and result.missed[0, 25] == 20
    # More capacity than arrivals: never breaks.
    assert forecast_breaks(np.zeros((1, days), int), arrivals, np.full((1, days), 100)).first_break_day == -1


def test_forecast_with_a_backlog_agrees_with_the_research_formula():
    # Backlog B0 = 200 due on day 4; 100 arrive each day, due 4 working days later; mu = 90 a day.
    # Due by day D >= 4: 200 + 100 (D - 3); printable by D: 90 (D + 1).
    # 200 + 100 (D - 3) > 90 (D + 1)  <=>  10 D > 190  <=>  D >= 20.
    days = 30
    arrivals = np.zeros((days, 1, 5), dtype=np.int64)
    arrivals[:, 0, 4] = 100
    backlog = np.zeros((1, days), dtype=np.int64)
    backlog[0, 4] = 200
    result = forecast_breaks(backlog, arrivals, np.full((1, days), 90))
    assert result.first_break_day == 20
    # Fluid approximation from the research notes, d = 4, B0 = 200: (4 x 90 - 200) / 10 = 16 (rounded down,
    # it ignores the 100 arriving on day 0 and the four days of lead); the exact count is above.
    assert (4 * 90 - 200) / (100 - 90) <= result.first_break_day


def test_forecast_checks_shapes():
    with pytest.raises(ValueError, match="same pools and days"):
        forecast_breaks(np.zeros((1, 3)), np.zeros((2, 1, 1)), np.zeros((1, 3)))
