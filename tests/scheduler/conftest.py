"""Fixtures for the scheduler tests: the shipped calendar, built once."""

from __future__ import annotations

import pytest

from factory.scheduler.calendar import WorkingCalendar, build_calendar


@pytest.fixture(scope="session")
def cal(config) -> WorkingCalendar:
    return build_calendar(config.calendar)
