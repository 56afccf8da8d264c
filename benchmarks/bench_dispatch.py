"""Dispatch throughput: the controller leases, sends and records jobs through the ledger and ZeroMQ.

Eight printer workers (``factory worker --device instant:64``: the simulator's
machine core in each worker's process, no print time) connect over CURVE to a
controller running in this process on a ledger file (WAL, synchronous=FULL).
Each round stores 10,000 queued applications (not timed), then times the
controller until every one is printed: for each job a lease committed before
its offer is sent, the device's news received and the print recorded (blank
bound and issued, attempt closed, events appended). Goal: 5,000 jobs/s.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time

import pytest

from factory.config import load_config
from factory.ledger import Ledger, prepare_intake, shift_clock
from factory.pipeline.controller import Controller, ControllerSettings
from factory.pipeline.keys import load_server_keys, make_keys
from factory.pipeline.shell import tune_gc
from factory.samples import generate_applications
from factory.scheduler import build_calendar

JOBS = 10_000
MACHINES = ("B01", "B02", "B03", "B04", "C01", "C02", "C03", "C04")
GOAL_JOBS_PER_S = 5_000


@pytest.fixture(scope="module")
def line(tmp_path_factory):
    root = tmp_path_factory.mktemp("dispatch")
    config = load_config()
    calendar = build_calendar(config.calendar)
    make_keys(root / "keys", list(MACHINES))
    ledger = Ledger.open(root / "ledger.db", shifts=shift_clock(config.line))
    controller = Controller(ledger, config, calendar, ControllerSettings(
        endpoint="tcp://127.0.0.1:*", auto_dispatch=False, refresh_s=3600.0), keys=load_server_keys(root / "keys"))
    endpoint = controller.bind()
    workers = [subprocess.Popen(
        [sys.executable, "-m", "factory.cli", "worker", "--machine", machine, "--device", "instant:64",
         "--connect", endpoint, "--keys", str(root / "keys"), "--log-level", "WARNING", "--metrics-port", "-1"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True) for machine in MACHINES]
    deadline = time.monotonic() + 120
    while len(controller.status()["stations"]) < len(MACHINES) and time.monotonic() < deadline:
        controller.step(0.05)
    assert len(controller.status()["stations"]) == len(MACHINES), "the workers did not all connect"
    state = {"round": 0}
    samples = [s.record for s in generate_applications(JOBS, 100, config, day=dt.date(2026, 2, 24),
                                                         image_dir=str(root))]

    def store_round():
        """Store a fresh day of JOBS queued applications (ids unique per round); not timed.

        The controller keeps stepping between chunks: workers that hear nothing for
        three heartbeats would reconnect and the round would measure that instead.
        """
        state["round"] += 1
        for start in range(0, JOBS, 1000):
            rows = [(f"row {i}", dict(samples[i], application_id=f"R{state['round']}-{i:06d}"))
                    for i in range(start, min(JOBS, start + 1000))]
            admissions, rejections = prepare_intake(rows, config, calendar)
            assert not rejections
            ledger.add_applications(admissions, station="bench", now=time.time())
            controller.step(0.0)
        controller.reload()

    tune_gc()
    yield controller, store_round
    for proc in workers:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGTERM)
    for proc in workers:
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
    controller.close()
    ledger.close()


@pytest.mark.benchmark(group="dispatch")
def test_dispatch_and_record_throughput(benchmark, line):
    controller, store_round = line
    done = {"before": 0, "rounds": 0}

    def setup():
        store_round()
        done["before"] = controller.stats["news:executed"]
        done["rounds"] += 1

    def run():
        target = done["before"] + JOBS
        deadline = time.monotonic() + 120
        while controller.stats["news:executed"] < target:
            controller.step(0.002)
            assert time.monotonic() < deadline, f"stuck at {controller.stats['news:executed'] - done['before']}"

    benchmark.pedantic(run, setup=setup, rounds=3, iterations=1)
    # Every job of every round printed once, on one blank, and the ledger adds up.
    assert controller.ledger.counts() == {"printed": JOBS * done["rounds"]}
    assert controller.ledger.query("SELECT COUNT(*) FROM blanks WHERE state = 'issued'")[0][0] == JOBS * done["rounds"]
    assert controller.stats["batch_failed"] == 0
    if not benchmark.disabled:
        jobs_per_s = JOBS / benchmark.stats.stats.mean
        benchmark.extra_info["jobs_per_s"] = round(jobs_per_s)
        print(f"\ndispatch: {jobs_per_s:,.0f} jobs/s (mean of {benchmark.stats.stats.rounds} rounds of {JOBS:,})")
        assert jobs_per_s >= GOAL_JOBS_PER_S
