"""Working-day calendar, deadlines, priority and the capacity plan.

Owns: the working-day calendar (chinese-calendar wrapped to fail closed, with
configs/ overrides), deadlines per document type and service class, priority
order, the capacity plan over machines and shifts (fewest late jobs, then EDF,
green first inside a day), the demand-bound feasibility test, overtime, peak
forecasts, green-channel admission and the run-time pick of the next job.

Modules:

- ``calendar``: ``build_calendar``, ``add_working_days`` and the working-day table
- ``deadlines``: procedure and production deadlines of applications
- ``queue``: the compact array form of a queue (``QueueArrays``) and its conversion
- ``plan``: ``plan_queue`` (the objective is stated there), ``pool_load``
- ``capacity``: the line as arrays, ``plan_overtime``, ``forecast_breaks``
- ``priority``: class order and ``pick_next`` for a free machine
- ``admission``: ``admit_green``

Pure: imports ``factory.errors``, ``factory.config`` and ``factory.records``,
numpy and chinese_calendar. No I/O, no clock, no randomness of its own;
``today``/``now``/``rng`` are always passed in.
"""

from factory.scheduler.admission import GreenAdmission, admit_green, remaining_capacity
from factory.scheduler.calendar import (
    WorkingCalendar,
    add_working_days,
    build_calendar,
    is_working_day,
    working_days_between,
)
from factory.scheduler.capacity import (
    Forecast,
    LineArrays,
    Overtime,
    backlog_by_deadline,
    expected_arrivals,
    forecast_breaks,
    line_arrays,
    machine_capacity,
    plan_overtime,
    queue_mix,
    shift_hours_for,
)
from factory.scheduler.deadlines import Deadlines, DeadlineRules, compute_deadlines, deadline_rules
from factory.scheduler.plan import Plan, PoolLoad, min_late_count, plan_queue, pool_load
from factory.scheduler.priority import class_ranks, pick_next, priority_order
from factory.scheduler.queue import QueueArrays, plan_day_zero, queue_arrays, queue_from_applications

__all__ = [
    "WorkingCalendar",
    "build_calendar",
    "add_working_days",
    "is_working_day",
    "working_days_between",
    "DeadlineRules",
    "Deadlines",
    "deadline_rules",
    "compute_deadlines",
    "QueueArrays",
    "queue_arrays",
    "queue_from_applications",
    "plan_day_zero",
    "Plan",
    "PoolLoad",
    "plan_queue",
    "pool_load",
    "min_late_count",
    "LineArrays",
    "Overtime",
    "Forecast",
    "line_arrays",
    "machine_capacity",
    "plan_overtime",
    "queue_mix",
    "expected_arrivals",
    "backlog_by_deadline",
    "forecast_breaks",
    "shift_hours_for",
    "class_ranks",
    "priority_order",
    "pick_next",
    "GreenAdmission",
    "admit_green",
    "remaining_capacity",
]
