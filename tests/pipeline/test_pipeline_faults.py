"""Fault tests with real processes and real sockets: kills, device faults, lost connections, garbage.

Every test ends the same way: every application dispatched (or waiting for a
reviewer), ``factory audit`` clean, and each document printed exactly once
according to the devices' own job logs.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import msgpack
import pytest
import zmq

from pipeline_line import assert_printed_once, wait_until
from factory.devices.client import SimulatorClient
from factory.devices.driver import MachineState
from factory.pipeline.keys import load_client_keys, secure_client
from factory.wire import Credit, Heartbeat, Hello, JobDone, QaVerdicts, encode

pytestmark = pytest.mark.integration

MACHINES = {"B01": "booklet", "C01": "card"}


def _all_done(n):
    return lambda counts: counts.get("dispatched", 0) + counts.get("qa_flagged", 0) == n


def _start_line(line, *, speed=1000, device_extra=None, blanks=400, controller_extra=()):
    line.keys_for(*MACHINES, "qa1", "intake", "fuzz")
    line.start_controller("--reconcile-grace", "30", *controller_extra)
    for machine, pool in MACHINES.items():
        line.start_device(machine, pool, speed=speed, blanks=blanks, extra=(device_extra or {}).get(machine, ()))
        line.start_worker(machine)
    line.start_qa("qa1")


def _finish(line, n, *, timeout_s=60):
    counts = line.wait_for(_all_done(n), timeout_s, what=f"{n} applications dispatched")
    report = line.audit()
    assert report.ok, "\n".join(report.lines())
    assert_printed_once(line, MACHINES)
    return counts, report


def test_a_day_goes_through_intake_printers_qa_and_dispatch(line):
    _start_line(line)
    result = line.intake(line.write_applications(60, seed=11))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "60 stored" in result.stdout
    counts, report = _finish(line, 60)
    assert counts == {"dispatched": 60}
    assert sum(t.good for t in report.shifts) == 60
    methods = dict(line.query("SELECT method, COUNT(*) FROM dispatches GROUP BY method"))
    assert sum(methods.values()) == 60


@pytest.mark.slow
def test_kill_9_a_worker_mid_print_and_the_controller_mid_batch(line):
    _start_line(line, speed=300)  # 45-60 s cycles in about 0.2 s: a kill lands mid-print
    n = 80
    assert line.intake(line.write_applications(n, seed=12)).returncode == 0

    line.wait_for(lambda c: c.get("dispatched", 0) + c.get("qa_passed", 0) + c.get("printed", 0) >= 15, 60,
                  "the first documents")
    line.kill("worker-B01")
    in_flight = line.query("SELECT COUNT(*) FROM applications WHERE machine = 'B01' AND state IN "
                           "('leased', 'printing')")[0][0]
    time.sleep(1.0)
    line.start_worker("B01")

    line.wait_for(lambda c: c.get("dispatched", 0) >= 35, 90, "half the day")
    line.kill("controller")
    time.sleep(0.5)
    line.start_controller("--reconcile-grace", "30")

    _finish(line, n, timeout_s=120)
    assert in_flight >= 1  # the worker died holding jobs its device had accepted
    assert "reconciled" in line.log("worker-B01")
    # The restarted controller resumed from the ledger: nothing queued twice, nothing lost.
    assert line.counts() == {"dispatched": n}


@pytest.mark.slow
def test_a_device_jams_goes_offline_and_runs_out_of_blanks(line):
    faults = {
        "B01": ("--fault", "jam=0.15", "--fault", "offline=0.1", "--offline-s", "5:20", "--auto-clear-s", "5",
                "--seed", "3"),
        "C01": ("--fault", "laser_ribbon=0.05", "--auto-clear-s", "5"),
    }
    line.keys_for(*MACHINES, "qa1", "intake")
    line.start_controller()
    line.start_device("B01", "booklet", extra=faults["B01"])
    line.start_device("C01", "card", blanks=8, extra=faults["C01"])  # runs out of blanks
    for machine in MACHINES:
        line.start_worker(machine)
    line.start_qa("qa1")
    n = 80
    assert line.intake(line.write_applications(n, seed=13)).returncode == 0

    def out_of_blanks():
        with SimulatorClient(line.devices["C01"]) as device:
            status = device.status()
            return status if status.fault == "out_of_blanks" else None

    wait_until(out_of_blanks, 60, what="C01 out of blanks", every_s=0.3)
    stuck = line.counts()
    assert stuck.get("dispatched", 0) < n
    with SimulatorClient(line.devices["C01"]) as device:  # the operator refills the magazine
        for prefix, first in (("C", 21_000_001), ("L", 31_000_001), ("R", 41_000_001), ("H", 51_000_001)):
            device.load_blanks([f"{prefix}{first + i:08d}" for i in range(200)])

    counts, report = _finish(line, n, timeout_s=90)
    voided = dict(line.query("SELECT reason, COUNT(*) FROM blanks WHERE state = 'voided' GROUP BY reason"))
    spoiled = sum(t.spoiled for t in report.shifts)
    assert spoiled == sum(voided.values())
    assert set(voided) <= {"jam", "device_fault"} and voided.get("jam", 0) >= 1
    # Each spoiled blank was followed by a reprint of its application on a new blank.
    reprinted = line.query("SELECT COUNT(*) FROM applications WHERE attempt >= 2")[0][0]
    assert reprinted >= 1
    # B01 went offline at least once and came back, and its device log says so.
    with SimulatorClient(line.devices["B01"]) as device:
        states, after = [], 0
        while batch := device.events(after, limit=500):
            states += [(e.state, e.reason) for e in batch if e.kind == "state"]
            after = batch[-1].seq
    went_offline = [i for i, (state, _) in enumerate(states) if state == MachineState.OFFLINE.value]
    assert went_offline, states
    assert any(state != MachineState.OFFLINE.value for state, _ in states[went_offline[0] + 1:]), states


@pytest.mark.slow
def test_a_dead_device_sends_its_jobs_to_an_operator_and_its_log_settles_them(line):
    line.keys_for(*MACHINES, "qa1", "intake")
    line.start_controller()
    line.start_device("B01", "booklet", speed=200)
    line.start_device("C01", "card", speed=50)  # about a second a card: jobs are surely on it when it dies
    line.start_worker("B01")
    line.start_worker("C01", "--device-timeout", "3")
    line.start_qa("qa1")
    n = 40
    assert line.intake(line.write_applications(n, seed=16)).returncode == 0
    on_c01 = "SELECT COUNT(*) FROM applications WHERE machine = 'C01' AND state IN ('leased', 'printing')"
    wait_until(lambda: line.query(on_c01)[0][0] >= 1, 60, what="jobs on C01")
    port = int(line.devices["C01"].rsplit(":", 1)[1])
    line.kill("device-C01")  # the machine dies with jobs on it: only its own log knows their fate
    counts = line.wait_for(lambda c: c.get("needs_reconcile", 0) >= 1, 60, "C01's jobs to need an operator")
    assert "unknown" in line.log("worker-C01") or counts["needs_reconcile"] >= 1
    report = line.audit()
    assert report.ok and any(f.check == "reconcile" for f in report.open_items)
    # The machine comes back with its disk; a restarted worker reads its job log and settles every job.
    line.start_device("C01", "card", speed=200, blanks=0, port=port)
    line.kill("worker-C01")
    line.start_worker("C01")
    _finish(line, n, timeout_s=90)


@pytest.mark.slow
def test_a_worker_that_loses_its_connection_comes_back(line):
    _start_line(line, speed=300)
    n = 60
    assert line.intake(line.write_applications(n, seed=14)).returncode == 0
    line.wait_for(lambda c: c.get("dispatched", 0) >= 10, 60, "the first documents")
    worker = line.procs["worker-C01"]
    os.kill(worker.pid, signal.SIGSTOP)  # frozen: no heartbeats, the controller takes it for dead
    wait_until(lambda: "C01 is silent" in line.log("controller"), 20, what="the controller to notice")
    os.kill(worker.pid, signal.SIGCONT)
    _finish(line, n)
    log = line.log("worker-C01")
    assert log.count("registered with controller") >= 2, log[-2000:]


@pytest.mark.slow
def test_ten_thousand_random_and_truncated_messages_do_not_stop_the_controller(line):
    _start_line(line)
    context = zmq.Context()
    try:
        fuzz = context.socket(zmq.DEALER)
        fuzz.setsockopt(zmq.LINGER, 0)
        fuzz.setsockopt(zmq.SNDHWM, 20_000)
        secure_client(fuzz, load_client_keys(line.keys, "fuzz"))
        fuzz.connect(line.endpoint)
        rng = __import__("random").Random(7)
        valid = [encode(m) for m in (
            Hello(role="printer", station="fuzz", incarnation="x"),  # the key is fuzz's, the machine unknown
            Credit(slots=5), Heartbeat(), JobDone(job_id="NOPE", attempt=1, ok=True, blank_serial="E1"),
            QaVerdicts(batch_id="b"),
        )]
        sent = 0
        for i in range(10_000):
            choice = i % 4
            if choice == 0:
                frame = rng.randbytes(rng.randint(0, 300))
            elif choice == 1:
                whole = rng.choice(valid)
                frame = whole[: rng.randint(0, len(whole) - 1)]
            elif choice == 2:
                frame = msgpack.packb({"v": rng.choice([1, 2, 99]), "kind": rng.choice(["job_done", "x", 5]),
                                       "body": rng.choice([{}, [], {"job_id": 3}, None])})
            else:
                frame = rng.choice(valid)
            parts = [frame] if i % 97 else [frame, b"extra part"]
            fuzz.send_multipart(parts)
            sent += 1
        assert sent == 10_000
        # Garbage on a raw TCP connection: no CURVE handshake, it never reaches the loop.
        host, port = line.endpoint.removeprefix("tcp://").rsplit(":", 1)
        with socket.create_connection((host, int(port)), timeout=5) as raw:
            raw.sendall(os.urandom(4096))
        time.sleep(2.0)
    finally:
        context.destroy(linger=0)
    assert line.procs["controller"].poll() is None, line.log("controller")
    # It still serves: a day goes through.
    assert line.intake(line.write_applications(20, seed=15)).returncode == 0
    _finish(line, 20)
    assert "dropped a frame" in line.log("controller")


def test_an_unknown_key_is_refused_and_a_borrowed_name_too(line, tmp_path):
    from factory.errors import FactoryError
    from factory.pipeline.keys import make_keys
    from factory.pipeline.link import Link, StationRefused

    line.keys_for("B01", "C01", "qa1")
    line.start_controller()
    stranger_dir = tmp_path / "stranger"
    make_keys(stranger_dir, ["B01"])
    stranger = load_client_keys(stranger_dir, "B01")
    stranger = type(stranger)(name="B01", public=stranger.public, secret=stranger.secret,
                              server_public=load_client_keys(line.keys, "B01").server_public)
    link = Link(line.endpoint, role="printer", station="B01", keys=stranger)
    link.open()
    try:
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            link.receive(0.2)
        assert not link.registered  # the handshake never completes: nothing reaches the controller
    finally:
        link.terminate()

    impostor = Link(line.endpoint, role="printer", station="C01", keys=load_client_keys(line.keys, "qa1"))
    impostor.open()
    try:
        with pytest.raises(StationRefused, match="must use its own key"):
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                impostor.receive(0.2)
        assert not impostor.registered
    finally:
        impostor.terminate()
    assert isinstance(StationRefused("x"), FactoryError)
    assert "refused C01" in line.log("controller")


def test_serve_without_keys_or_insecure_is_a_usage_error(tmp_path):
    result = subprocess.run([sys.executable, "-m", "factory.cli", "serve", "--ledger", str(tmp_path / "l.db")],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "--keys DIR" in result.stderr
