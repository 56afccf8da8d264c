"""A worker drives the simulated printer (its own process) through 500 documents with faults on.

Every blank serial ends printed, spoiled or still in the magazine; every job is
printed exactly once; the machine goes through its states; the worker crashes
and the device restarts on the way, and the device log answers what happened.
"""

from __future__ import annotations

import datetime as dt
import json
import signal
import subprocess
import sys
import time
from collections import deque
from pathlib import Path

import cv2
import pytest

from factory.devices.client import SimulatorClient
from factory.devices.driver import MachineState, PrintJob
from factory.devices.machine import MachineSpec
from factory.devices.render import build_render_kit
from factory.devices.simulator import SimulatorSettings, serial_range
from factory.mrz import encode_record
from factory.qa.mrz_reader import build_mrz_templates, mrz_zones, read_mrz
from factory.records import bind_document, parse_application

from devices_helpers import record_json, running, write_images

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]


class Device:
    """``factory device-sim`` as a subprocess; can be killed and started again on its state."""

    def __init__(self, tmp_path: Path, *args: str) -> None:
        self.args = ["--id", "P07", "--pool", "booklet", "--state-dir", str(tmp_path / "state"), *args]
        self.log = tmp_path / "device.log"
        self.process: subprocess.Popen | None = None
        self.endpoint = ""
        self.port = "0"

    def start(self) -> str:
        command = [sys.executable, "-m", "factory.cli", "device-sim", *self.args, "--port", self.port]
        with open(self.log, "a") as log:  # a file, not a pipe: a chatty device never blocks on it
            self.process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=log, text=True)
        line = self.process.stdout.readline()
        self.process.stdout.close()
        assert "listening on" in line, line + self.log.read_text()
        self.endpoint = line.split("listening on ")[1].split(";")[0]
        self.port = self.endpoint.rsplit(":", 1)[1]  # a restart listens where the worker looks
        return self.endpoint

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(10)


class Worker:
    """A printer worker's loop, as the pipeline's worker will run it, reduced to the device side."""

    def __init__(self, endpoint: str, records: dict[str, dict], blank_batches: deque[list[str]]) -> None:
        self.endpoint = endpoint
        self.records = records
        self.blank_batches = blank_batches
        self.loaded: list[str] = []
        self.todo: deque[str] = deque(records)
        self.attempt = {job_id: 1 for job_id in records}
        self.in_flight: set[tuple[str, int]] = set()
        self.printed: dict[str, str] = {}
        self.spoiled: list[str] = []
        self.states: set[str] = set()
        self.faults: set[str] = set()
        self.refusals: set[str] = set()
        self.seq = 0
        self.driver = SimulatorClient(endpoint, timeout_s=2.0, retries=5)

    def load(self) -> None:
        serials = self.blank_batches.popleft()
        self.driver.load_blanks(serials)
        self.loaded.extend(serials)

    def submit_what_fits(self) -> None:
        while self.todo:
            job_id = self.todo[0]
            acceptance = self.driver.submit(PrintJob(job_id=job_id, attempt=self.attempt[job_id],
                                                     record=self.records[job_id], date_of_issue="2026-03-05"))
            if acceptance.accepted:
                self.todo.popleft()
                self.in_flight.add((job_id, self.attempt[job_id]))
                continue
            self.refusals.add(acceptance.reason)
            if acceptance.reason == "fault":
                # A fault this worker did not see start (it was dead then): the operator acts now.
                self.faults.add(acceptance.detail)
                if acceptance.detail == "out_of_blanks":
                    if self.blank_batches:
                        self.load()
                else:
                    self.driver.clear_fault()
            elif acceptance.reason == "out_of_blanks" and self.blank_batches:
                status = self.driver.status()
                if not status.queued and not status.printing:  # an empty, idle magazine: refill it now
                    self.load()
                    continue
                # else the queued jobs run the magazine dry and the machine reports out_of_blanks
            assert acceptance.reason in ("queue_full", "not_ready", "offline", "fault", "out_of_blanks"), acceptance
            return

    def handle(self, event) -> None:
        self.seq = event.seq
        key = (event.job_id, event.attempt)
        if event.kind == "state":
            self.states.add(event.state)
            if event.state == MachineState.FAULT:
                self.faults.add(event.reason)
                if event.reason == "out_of_blanks":
                    if self.blank_batches:
                        self.load()
                else:
                    self.driver.clear_fault()  # the operator clears the jam, closes the cover...
        elif event.kind == "executed" and key in self.in_flight:
            self.in_flight.discard(key)
            self.printed[event.job_id] = event.blank_serial
        elif event.kind == "failed" and key in self.in_flight:
            self.in_flight.discard(key)
            if event.spoiled:
                self.spoiled.append(event.blank_serial)
            self.attempt[event.job_id] += 1  # a new attempt on a new blank
            self.todo.appendleft(event.job_id)

    def step(self) -> None:
        self.submit_what_fits()
        for event in self.driver.events(self.seq, wait_s=0.2):
            self.handle(event)

    def crash_and_restart(self) -> None:
        """The worker process dies; a new one knows only what it had persisted: its jobs and attempts."""
        self.driver.close()  # what the operating system does to the dead process's socket
        self.driver = SimulatorClient(self.endpoint, timeout_s=2.0, retries=5)  # the old socket is just dropped
        self.seq = self.driver.status().last_seq
        for job_id, attempt in sorted(self.in_flight):
            log = {r.attempt: r for r in self.driver.job_log(job_id)}
            record = log.get(attempt)
            if record is None:  # never accepted: offer it again
                self.in_flight.discard((job_id, attempt))
                self.todo.appendleft(job_id)
            elif record.state == "executed":
                self.in_flight.discard((job_id, attempt))
                self.printed[job_id] = record.blank_serial
            elif record.state == "failed":
                self.in_flight.discard((job_id, attempt))
                if record.spoiled:
                    self.spoiled.append(record.blank_serial)
                self.attempt[job_id] += 1
                self.todo.appendleft(job_id)


@pytest.mark.slow
def test_a_worker_drives_500_documents_through_faults_crashes_and_a_device_restart(tmp_path):
    device = Device(tmp_path, "--cycle", "45:60", "--speed", "20000", "--queue", "3", "--seed", "5",
                    "--fault", "jam=0.02", "--fault", "laser_ribbon=0.01", "--fault", "cover_open=0.01",
                    "--fault", "offline=0.01", "--offline-s", "60:300")
    endpoint = device.start()
    records = {f"J{n:04d}": record_json(n) for n in range(500)}
    batches = deque([list(serial_range(f"E{10_000_001 + 300 * i}", 300)) for i in range(3)])
    worker = Worker(endpoint, records, batches)
    worker.load()
    paused = drained = crashed = restarted = False
    paused_as = ""
    deadline = time.monotonic() + 240
    try:
        while worker.todo or worker.in_flight:
            assert time.monotonic() < deadline, (len(worker.todo), len(worker.in_flight), worker.driver.status())
            worker.step()
            done = len(worker.printed)
            if done >= 100 and not paused:
                paused = True
                paused_as = worker.driver.pause().state  # Pausing if a document was on the machine
                assert paused_as in ("Pausing", "Paused")
                while worker.driver.status().state != "Paused":
                    for event in worker.driver.events(worker.seq, wait_s=0.2):
                        worker.handle(event)
                waiting = worker.todo[0]
                refused = worker.driver.submit(PrintJob(job_id=waiting, attempt=worker.attempt[waiting],
                                                        record=records[waiting]))
                assert refused.reason == "not_ready"
                worker.driver.resume()
            if done >= 200 and not crashed:
                worker.submit_what_fits()
                if worker.in_flight:  # the worker dies with jobs on the device
                    crashed = True
                    worker.crash_and_restart()
            if done >= 300 and not restarted:
                worker.submit_what_fits()
                if worker.in_flight:
                    restarted = True
                    device.kill()  # the device loses power mid-job
                    device.start()
            if len(worker.todo) == 0 and not drained:
                drained = True
                worker.driver.drain()  # finish what the machine holds, then hold
            elif drained and worker.todo and worker.driver.status().state == "Paused":
                drained = False  # a job failed during the drain: its new attempt still has to print
                worker.driver.resume()
        for event in worker.driver.events(worker.seq, wait_s=0.5):
            worker.handle(event)
        status = worker.driver.status()
        # Every job printed exactly once, on the blank the device log names.
        assert len(worker.printed) == 500
        for job_id, serial in worker.printed.items():
            log = worker.driver.job_log(job_id)
            assert [r.state for r in log].count("executed") == 1
            assert next(r for r in log if r.state == "executed").blank_serial == serial
            assert all(r.state == "failed" for r in log if r.state != "executed")
        # Every blank serial: printed, spoiled, or still in the magazine.
        printed, spoiled = set(worker.printed.values()), set(worker.spoiled)
        assert len(printed) == 500 and not printed & spoiled and len(spoiled) == len(worker.spoiled)
        assert printed | spoiled <= set(worker.loaded)
        assert len(printed) + len(spoiled) + status.blanks_left == len(worker.loaded)
        assert (status.printed, status.spoiled) == (500, len(spoiled))
        # The machine went through its states and faults.
        assert {"Idle", "Busy", "Paused", "Stopping", "Offline", "Fault"} <= worker.states
        assert paused_as in worker.states
        assert {"jam", "laser_ribbon", "cover_open"} <= worker.faults
        # The magazine ran dry: as a fault when jobs were queued past the stock, else as refusals.
        assert "out_of_blanks" in worker.faults | worker.refusals
        assert status.state == "Paused"  # drained
        assert crashed and restarted
    finally:
        worker.driver.close()
        device.stop()


def test_a_device_restart_keeps_its_log_and_spoils_the_blank_it_was_printing(config, tmp_path):
    settings = SimulatorSettings(
        spec=MachineSpec(device_id="P02", pool="booklet", cycle_s=(3600.0, 3600.0), queue_limit=2),
        state_dir=tmp_path / "state", speed=1.0, initial_blanks=serial_range("E10000001", 5),
    )
    with running(settings, config) as (_, endpoint), SimulatorClient(endpoint) as client:
        assert client.submit(PrintJob(job_id="R1", attempt=1, record=record_json(1))).accepted
        assert client.submit(PrintJob(job_id="R2", attempt=1, record=record_json(2))).accepted
        assert client.job_log("R1")[0].state == "printing"
        last_seq = client.status().last_seq
    # stopped mid-print (an hour-long cycle); a new process opens the same state
    with running(settings, config) as (_, endpoint), SimulatorClient(endpoint) as client:
        r1, r2 = client.job_log("R1")[0], client.job_log("R2")[0]
        assert (r1.state, r1.reason, r1.spoiled, r1.blank_serial) == ("failed", "interrupted", True, "E10000001")
        assert (r2.state, r2.reason, r2.spoiled) == ("failed", "device_restarted", False)
        status = client.status()
        assert status.blanks_left == 4 and status.spoiled == 1  # the initial load is not added twice
        events = client.events(last_seq)
        assert [(e.kind, e.job_id) for e in events] == [("failed", "R1"), ("failed", "R2")]
        assert client.submit(PrintJob(job_id="R1", attempt=1, record=record_json(1))).record.state == "failed"
        assert client.submit(PrintJob(job_id="R1", attempt=2, record=record_json(1))).accepted


def test_printed_pages_and_their_ground_truth(config, tmp_path):
    images = write_images(tmp_path / "images")
    capture = tmp_path / "captures"
    defects = {"mrz_character": 0.3, "smudge": 0.3, "photo_swap": 0.3, "missing_field": 0.1}
    settings = SimulatorSettings(
        spec=MachineSpec(device_id="P03", pool="card", cycle_s=(45.0, 60.0), queue_limit=3, defect_rates=defects),
        state_dir=tmp_path / "state", capture_dir=capture, speed=5000.0, seed=9,
        initial_blanks=serial_range("C10000001", 30) + serial_range("L10000001", 30),
    )
    records = {f"P{n}": record_json(n, "hk_macau_permit" if n % 3 else "taiwan_permit", image_dir=images)
               for n in range(24)}
    with running(settings, config) as (_, endpoint), SimulatorClient(endpoint) as client:
        todo, seq, done = deque(records), 0, {}
        deadline = time.monotonic() + 60
        while len(done) < len(records):
            assert time.monotonic() < deadline
            while todo and client.submit(PrintJob(job_id=todo[0], attempt=1, record=records[todo[0]],
                                                  date_of_issue="2026-03-05")).accepted:
                todo.popleft()
            for event in client.events(seq, wait_s=0.3):
                seq = event.seq
                if event.kind == "executed":
                    done[event.job_id] = event
    truth = [json.loads(line) for line in (capture / "ground_truth.jsonl").read_text().splitlines()]
    assert sorted(t["job_id"] for t in truth) == sorted(records)
    kit = build_render_kit(config.documents)
    kinds_seen = set()
    for entry in truth:
        event = done[entry["job_id"]]
        assert entry["page"] == event.page and entry["blank_serial"] == event.blank_serial
        page = cv2.imread(entry["page"], cv2.IMREAD_COLOR)
        layout = kit.layout(entry["doc_type"])
        assert page.shape == (*layout.shape, 3)
        app = bind_document(parse_application(records[entry["job_id"]], config), entry["blank_serial"],
                            dt.date(2026, 3, 5), config)
        expected = encode_record(app)
        templates = build_mrz_templates(kit.glyphs_for(layout.mrz), layout.mrz)
        read = read_mrz(mrz_zones([page], layout), templates).texts[0]
        kinds = {d["type"] for d in entry["defects"]}
        kinds_seen |= kinds
        misprint = [d for d in entry["defects"] if d["type"] == "mrz_character"]
        if misprint:  # the page carries the misprint the sidecar names, and nothing else differs
            d = misprint[0]["detail"]
            assert read[d["line"]][d["position"]] == d["printed"] != expected[d["line"]][d["position"]]
        elif not kinds & {"smudge", "missing_field"}:
            assert read == expected
    assert {"mrz_character", "smudge", "photo_swap"} <= kinds_seen
    assert not any(path.suffix == ".tmp" for path in capture.iterdir())


def test_the_cli_runs_a_device_until_told_to_stop(tmp_path):
    device = Device(tmp_path, "--blanks", "E10000001+3", "--speed", "1000")
    endpoint = device.start()
    try:
        with SimulatorClient(endpoint) as client:
            assert client.device_id == "P07" and client.status().blanks == {"E": 3}
            assert client.submit(PrintJob(job_id="X1", attempt=1, record=record_json(1))).accepted
    finally:
        assert device.stop() == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [(["--fault", "meteor=0.1"], "--fault"), (["--blanks", "E1000+x"], "--blanks"),
     (["--defect", "smudge=lots"], "--defect"), (["--speed", "0"], "speed")],
)
def test_bad_simulator_arguments_name_the_option(tmp_path, args, message):
    result = subprocess.run([sys.executable, "-m", "factory.cli", "device-sim", "--id", "P09",
                             "--state-dir", str(tmp_path), *args], cwd=REPO, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 2 and message in result.stderr, result.stderr
