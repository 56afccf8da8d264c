"""The public names of factory.scheduler, its purity, and the seeded generators."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import numpy as np

import factory.scheduler
from factory.records import parse_application
from factory.scheduler.synthetic import peak_application_rows, synthetic_queue

PUBLIC = {
    "WorkingCalendar", "build_calendar", "add_working_days", "is_working_day", "working_days_between",
    "DeadlineRules", "Deadlines", "deadline_rules", "compute_deadlines",
    "QueueArrays", "queue_arrays", "queue_from_applications", "plan_day_zero",
    "Plan", "PoolLoad", "plan_queue", "pool_load", "min_late_count",
    "LineArrays", "Overtime", "Forecast", "line_arrays", "machine_capacity", "plan_overtime", "queue_mix",
    "expected_arrivals", "backlog_by_deadline", "forecast_breaks", "shift_hours_for",
    "class_ranks", "priority_order", "pick_next",
    "GreenAdmission", "admit_green", "remaining_capacity",
}


def test_public_names_are_pinned():
    assert set(factory.scheduler.__all__) == PUBLIC
    for name in PUBLIC:
        assert hasattr(factory.scheduler, name), name


def test_reads_no_clock_and_imports_no_io_frameworks():
    code = (
        "import sys, factory.scheduler, factory.scheduler.synthetic; "
        "print(','.join(m for m in ('zmq', 'sqlite3', 'fastapi', 'ortools', 'factory.commands') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == ""
    modules = [m for name, m in list(sys.modules.items()) if name.startswith("factory.scheduler")]
    source = "".join(Path(m.__file__).read_text(encoding="utf-8") for m in modules if getattr(m, "__file__", None))
    assert "datetime.now" not in source and ".today()" not in source and "default_rng(" not in source


def test_synthetic_queue_is_seeded():
    a = synthetic_queue(np.random.default_rng(5), 1000, days=6)
    b = synthetic_queue(np.random.default_rng(5), 1000, days=6)
    assert np.array_equal(a.deadline_day, b.deadline_day) and np.array_equal(a.accepted_s, b.accepted_s)
    assert a.deadline_day.min() >= 0 and a.deadline_day.max() <= 5
    assert (a.deadline_day[a.priority <= 1] == 0).all()


def test_peak_rows_are_valid_records(config, cal):
    rows = peak_application_rows(np.random.default_rng(1), config, cal, today=dt.date(2026, 2, 24), count=300)
    again = peak_application_rows(np.random.default_rng(1), config, cal, today=dt.date(2026, 2, 24), count=300)
    assert rows == again
    apps = [parse_application(r, config, where=f"row {i}") for i, r in enumerate(rows, 1)]
    days = {a.accepted_at.date() for a in apps if a.service_class == "normal"}
    assert days <= {dt.date(2026, 2, 12), dt.date(2026, 2, 13), dt.date(2026, 2, 14)}
