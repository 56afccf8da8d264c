"""Metrics cost inside the controller: the line snapshot from the ledger, and one scrape.

Goal: a snapshot of a peak backlog (60,000 unprinted applications: three
days of a Spring Festival peak) in under 0.25 s of CPU, so the controller
can rebuild it every 5 s from its own loop; a scrape of that snapshot's
families (about 500 series) in under 20 ms. Most of the snapshot is SQLite
reading the wide application rows: an index covering (state, pool,
priority, deadline_ordinal, accepted_s) cut that query from 80 to 32 ms here.
"""

from __future__ import annotations

import datetime as dt
import time

import pytest
from prometheus_client import generate_latest

from factory.config import load_config
from factory.ledger import Ledger, prepare_intake, shift_clock
from factory.metrics import LatestSnapshot, LedgerSnapshotter, LineCollector, MachineReport, new_registry
from factory.samples import generate_applications
from factory.scheduler import build_calendar

BACKLOG = 60_000
SNAPSHOT_GOAL_S = 0.25
SCRAPE_GOAL_S = 0.02


@pytest.fixture(scope="module")
def line(tmp_path_factory):
    config = load_config()
    calendar = build_calendar(config.calendar)
    records = [s.record for s in generate_applications(BACKLOG, 17, config, day=dt.date(2026, 2, 24),
                                                       image_dir="/tmp/none")]
    path = tmp_path_factory.mktemp("bench_metrics") / "ledger.db"
    ledger = Ledger.open(path, shifts=shift_clock(config.line))
    admissions, rejections = prepare_intake([(f"line {i}", r) for i, r in enumerate(records, 1)], config, calendar)
    assert not rejections
    ledger.add_applications(admissions, station="intake", now=dt.datetime(2026, 2, 24, 18, tzinfo=config.line.tz).timestamp())
    machines = {m.id: MachineReport(connected=True, device_state="Busy", blanks_left=300) for m in config.line.machines}
    now = dt.datetime(2026, 2, 25, 10, tzinfo=config.line.tz).timestamp()
    yield config, calendar, ledger, machines, now
    ledger.close()


# Process CPU time: the machine's two cores are shared, and wall time measured the neighbours.
@pytest.mark.benchmark(group="metrics", timer=time.process_time)
def test_snapshot_from_ledger(benchmark, line):
    config, calendar, ledger, machines, now = line
    snapshotter = LedgerSnapshotter(config, calendar, started_s=now - 3600)
    snap = benchmark(snapshotter.snapshot, ledger, now_s=now, machines=machines)
    assert snap.backlog.sum() == BACKLOG
    assert len(snap.machines) == len(config.line.machines)
    if not benchmark.disabled:
        assert benchmark.stats.stats.mean < SNAPSHOT_GOAL_S


@pytest.mark.benchmark(group="metrics", timer=time.process_time)
def test_scrape(benchmark, line):
    config, calendar, ledger, machines, now = line
    registry = new_registry(process=False)
    registry.register(LineCollector(LatestSnapshot(
        LedgerSnapshotter(config, calendar, started_s=now).snapshot(ledger, now_s=now, machines=machines))))
    text = benchmark(generate_latest, registry)
    assert text.count(b"\nfactory_") > 400
    if not benchmark.disabled:
        assert benchmark.stats.stats.mean < SCRAPE_GOAL_S
