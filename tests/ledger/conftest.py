"""Fixtures of the ledger tests: seeded applications, a fresh ledger file per test."""

from __future__ import annotations

import datetime as dt

import pytest

from factory.ledger import Ledger, prepare_intake, shift_clock
from factory.samples import generate_applications
from factory.scheduler import build_calendar

from ledger_helpers import NOW


@pytest.fixture(scope="session")
def calendar(config):
    return build_calendar(config.calendar)


@pytest.fixture(scope="session")
def records(config):
    """40 valid application records (JSON form), seeded."""
    return [s.record for s in generate_applications(40, 7, config, day=dt.date(2026, 2, 24), image_dir="/tmp/none")]


@pytest.fixture()
def ledger(tmp_path, config):
    with Ledger.open(tmp_path / "ledger.db", shifts=shift_clock(config.line)) as opened:
        yield opened


@pytest.fixture()
def queued(ledger, records, config, calendar):
    """The ledger with the 40 records stored and queued; returns their ids."""
    admissions, rejections = prepare_intake([(f"line {i}", r) for i, r in enumerate(records, 1)], config, calendar)
    assert not rejections
    result = ledger.add_applications(admissions, station="intake", now=NOW)
    return list(result.added)

