"""The printer worker against the simulator's machine core (``InstantDevice``), with a recording link."""

from __future__ import annotations

import json

import pytest

from factory.devices.driver import PrintJob
from factory.errors import DeviceOffline
from factory.pipeline.instant import InstantDevice
from factory.pipeline.worker import PrinterWorker
from factory.wire import (
    Control,
    Credit,
    JobAccepted,
    JobDone,
    JobOffer,
    JobRef,
    JobRefused,
    Reconcile,
    ReconcileReport,
    Welcome,
)


class RecordingLink:
    """What ``Link`` offers a worker, without sockets: messages sent are kept in order."""

    def __init__(self, station):
        self.station = station
        self.registered = True
        self.sent = []
        self.make_heartbeat = None
        self.inbox = []

    def send(self, message):
        self.sent.append(message)
        return True

    def tick(self):
        pass

    def receive(self, timeout_s):
        inbox, self.inbox = self.inbox, []
        return inbox

    def take(self, kind=None):
        sent, self.sent = self.sent, []
        return [m for m in sent if kind is None or isinstance(m, kind)]


class FlakyDevice:
    """A driver that can be made silent, as a device whose cable was pulled."""

    def __init__(self, device):
        self.device = device
        self.silent = False

    def __getattr__(self, name):
        attribute = getattr(self.device, name)
        if not callable(attribute):
            return attribute

        def call(*args, **kwargs):
            if self.silent:
                raise DeviceOffline("no answer")
            return attribute(*args, **kwargs)

        return call


def _record(config, n=1, doc_type="passport"):
    return json.dumps({"application_id": f"A{n}", "doc_type": doc_type})


@pytest.fixture()
def worker(config):
    link = RecordingLink("B01")
    device = FlakyDevice(InstantDevice("B01", "booklet", config, queue_limit=3))
    built = PrinterWorker(link, device, device_timeout_s=60)
    link.inbox = [Welcome(controller="c"), Reconcile(jobs=())]
    built.step()
    return built, link, device


def test_after_the_reconcile_report_the_worker_grants_its_free_slots(worker):
    _, link, _ = worker
    sent = link.take()
    assert isinstance(sent[0], ReconcileReport) and sent[0].items == ()
    assert sent[1] == Credit(slots=3)


def test_an_instant_print_is_reported_once_with_its_blank_and_the_slot_comes_back(worker, config):
    built, link, _ = worker
    link.take()
    link.inbox = [JobOffer(job_id="A1", attempt=1, record_json=_record(config))]
    built.step()
    done = link.take()
    assert len(done) == 1 and isinstance(done[0], JobDone)  # started and executed in one look: one message
    assert done[0].ok and done[0].blank_serial.startswith("E") and done[0].credit == 1
    assert done[0].issued_on == "2026-02-24"


def test_a_refused_job_leaves_a_ready_machine_s_slot_free(worker, config):
    built, link, _ = worker
    link.take()
    link.inbox = [JobOffer(job_id="A2", attempt=1, record_json=_record(config, doc_type="hk_macau_permit"))]
    built.step()
    refused = link.take(JobRefused)
    assert refused[0].reason.startswith("wrong_pool") and refused[0].credit == 1


def test_a_paused_machine_refuses_and_gets_no_credit_until_resumed(worker, config):
    built, link, _ = worker
    link.take()
    link.inbox = [Control(action="pause")]
    built.step()
    link.inbox = [JobOffer(job_id="A3", attempt=1, record_json=_record(config))]
    built.step()
    sent = link.take()
    assert [type(m) for m in sent] == [JobRefused] and sent[0].reason.startswith("not_ready")
    link.inbox = [Control(action="resume")]
    built.step()
    assert link.take(Credit) == [Credit(slots=1)]  # the refused offer's credit, restored now it is ready


def test_reconcile_reads_the_job_log(worker, config):
    built, link, device = worker
    device.device.submit(PrintJob(job_id="DONE", attempt=1, record={"application_id": "D", "doc_type": "passport"}))
    link.take()
    link.inbox = [Welcome(controller="c2"), Reconcile(jobs=(JobRef(job_id="DONE", attempt=1, state="leased"),
                                                            JobRef(job_id="NEVER", attempt=2, state="leased")))]
    built.step()
    report = link.take(ReconcileReport)[0]
    outcomes = {item.job_id: item.outcome for item in report.items}
    assert outcomes == {"DONE": "printed", "NEVER": "not_accepted"}


def test_a_silent_device_holds_the_offer_and_submits_it_once_it_answers(worker, config):
    built, link, device = worker
    link.take()
    device.silent = True
    built._lost_device(DeviceOffline("cable"))
    link.inbox = [JobOffer(job_id="A4", attempt=1, record_json=_record(config))]
    built.step()
    assert link.take(JobRefused) == []  # never reported refused: the device may have taken it
    device.silent = False
    built._next_device_check = 0.0
    built.step()
    built.step()
    done = [m for m in link.take() if isinstance(m, (JobDone, JobAccepted))]
    assert done and done[-1].job_id == "A4"
    assert device.device.job_log("A4")[0].state == "executed"


def test_a_device_gone_for_good_sends_its_jobs_to_an_operator(config):
    link = RecordingLink("B01")
    device = FlakyDevice(InstantDevice("B01", "booklet", config, queue_limit=3))
    clock = iter(range(0, 10_000, 10)).__next__
    built = PrinterWorker(link, device, device_timeout_s=30, clock=lambda: float(clock()))
    link.inbox = [Welcome(controller="c"), Reconcile(jobs=())]
    built.step()
    device.silent = True
    link.inbox = [JobOffer(job_id="A5", attempt=1, record_json=_record(config))]
    for _ in range(6):
        built.step()
    reports = link.take(ReconcileReport)
    assert [(i.job_id, i.outcome) for r in reports for i in r.items] == [("A5", "unknown")]
