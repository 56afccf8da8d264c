"""Counting what a process already does: the printer driver's device events, the QA worker's verdicts."""

from __future__ import annotations

import numpy as np
import pytest
from prometheus_client import CollectorRegistry

from factory.devices.driver import PrintJob
from factory.devices.machine import FaultModel, MachineSpec, PrinterMachine
from factory.metrics import PrinterInstruments, QaInstruments
from factory.metrics.observe import ObservedDriver, observed_qa_check, spoil_reason
from factory.wire.schema import QaCheckResult, QaVerdict


class MachineDriver:
    """The simulated machine core behind the driver calls a worker makes, on a clock the test moves."""

    def __init__(self, machine: PrinterMachine) -> None:
        self.machine = machine
        self.now = 0.0
        self.log: list = []

    def submit(self, job):
        return self.machine.submit(job, self.now)

    def events(self, after: int = 0, *, wait_s: float = 0.0, limit: int = 500):
        self.machine.advance(self.now)
        self.log.extend(self.machine.take_events())
        return tuple(e for e in self.log if e.seq > after)[:limit]

    def status(self):
        return self.machine.status(self.now)


@pytest.fixture()
def machine():
    spec = MachineSpec(device_id="B01", pool="booklet", cycle_s=(30.0, 50.0), queue_limit=50,
                       faults=FaultModel(jam_rate=0.3, auto_clear_s=1.0))
    m = PrinterMachine(spec, np.random.default_rng(4), admit=lambda job: ("passport", "E", job.job_id),
                       today=lambda now: "2026-02-24")
    m.load_blanks([f"E{i:08d}" for i in range(1, 101)], 0.0)
    return m


def test_every_device_outcome_is_counted_with_its_cycle(machine):
    registry = CollectorRegistry()
    instruments = PrinterInstruments(registry, machine="B01", pool="booklet", doc_types=["passport"])
    inner = MachineDriver(machine)
    driver = ObservedDriver(inner, instruments)
    for i in range(20):
        assert driver.submit(PrintJob(job_id=f"J{i}", attempt=1, record={"doc_type": "passport"})).accepted
    seen = 0
    for step in range(1, 200):
        inner.now = step * 10.0
        events = driver.events(after=seen)
        seen = max([seen, *(e.seq for e in events)])
    assert driver.status().device_id == "B01"  # everything else is the driver's own

    executed = [e for e in inner.log if e.kind == "executed"]
    spoiled = [e for e in inner.log if e.kind == "failed" and e.spoiled]
    assert executed and spoiled and len(executed) + len(spoiled) == 20
    labels = {"machine": "B01", "pool": "booklet"}
    get = registry.get_sample_value
    assert get("factory_documents_printed_total", {**labels, "doc_type": "passport"}) == len(executed)
    assert get("factory_documents_spoiled_total", {**labels, "reason": "jam"}) == len(spoiled)
    assert get("factory_print_cycle_seconds_count", labels) == 20
    started = {e.job_id: e.at for e in inner.log if e.kind == "started"}
    cycles = [e.at - started[e.job_id] for e in executed + spoiled]
    assert get("factory_print_cycle_seconds_sum", labels) == pytest.approx(sum(cycles))
    assert min(cycles) >= 0 and max(cycles) <= 60  # device seconds, within the 15-120 s buckets


def test_an_outcome_of_a_job_submitted_before_the_worker_started_is_not_made_up(machine):
    registry = CollectorRegistry()
    instruments = PrinterInstruments(registry, machine="B01", pool="booklet", doc_types=["passport"])
    inner = MachineDriver(machine)
    inner.submit(PrintJob(job_id="OLD", attempt=1, record={"doc_type": "passport"}))  # not through the observer
    driver = ObservedDriver(inner, instruments)
    inner.now = 500.0
    driver.events()
    assert registry.get_sample_value("factory_documents_printed_total",
                                     {"machine": "B01", "pool": "booklet", "doc_type": "passport"}) == 0.0


def test_spoil_reasons():
    assert spoil_reason("jam") == "jam"
    assert spoil_reason("laser_ribbon") == "device_fault"
    assert spoil_reason("interrupted") == "device_fault"
    assert spoil_reason("") == "device_fault"


def test_qa_verdicts_are_counted_and_passed_through_unchanged():
    registry = CollectorRegistry()
    qa = QaInstruments(registry, checks=["record_valid", "mrz_readback"])
    verdicts = [
        QaVerdict(job_id="A1", attempt=1, passed=True,
                  checks=(QaCheckResult(name="record_valid", ok=True), QaCheckResult(name="mrz_readback", ok=True))),
        QaVerdict(job_id="A2", attempt=1, passed=False,
                  checks=(QaCheckResult(name="record_valid", ok=True), QaCheckResult(name="mrz_readback", ok=False)),
                  reasons=("MRZ line 2 misread",)),
        QaVerdict(job_id="A3", attempt=1, passed=False, checks=(QaCheckResult(name="Not A Check!", ok=False),)),
    ]
    check = observed_qa_check(lambda items: list(verdicts[: len(items)]), qa)
    assert check(["a", "b", "c"]) == verdicts
    get = registry.get_sample_value
    assert get("factory_qa_documents_total", {"verdict": "flagged"}) == 1.0  # A3's bad name: logged, not counted
    assert get("factory_qa_documents_total", {"verdict": "passed"}) == 1.0
    assert get("factory_qa_checks_total", {"check": "mrz_readback", "result": "failed"}) == 1.0
