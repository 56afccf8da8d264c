"""The controller in this process, driven by hand-written stations on loopback sockets."""

from __future__ import annotations

import datetime as dt
import json
import time

import pytest
import zmq

from factory.ledger import Ledger, prepare_intake, shift_clock
from factory.pipeline.controller import Controller, ControllerSettings
from factory.samples import generate_applications
from factory.scheduler import build_calendar
from factory.wire import (
    Control,
    Credit,
    Hello,
    IntakeReply,
    IntakeRequest,
    JobAccepted,
    JobDone,
    JobOffer,
    QaBatch,
    QaCheckResult,
    QaVerdict,
    QaVerdicts,
    Reconcile,
    ReconcileItem,
    ReconcileReport,
    Reregister,
    Welcome,
    decode,
    encode,
)

pytestmark = pytest.mark.integration  # SQLite file and ZeroMQ on 127.0.0.1


class Station:
    """A DEALER speaking the wire protocol by hand."""

    def __init__(self, context, endpoint, controller):
        self.socket = context.socket(zmq.DEALER)
        self.socket.setsockopt(zmq.LINGER, 0)
        self.socket.connect(endpoint)
        self.controller = controller

    def send(self, message):
        self.socket.send(encode(message))

    def expect(self, kind, *, steps=200):
        """Run the controller until this station receives a message of ``kind``; returns it."""
        for _ in range(steps):
            self.controller.step(0.005)
            while self.socket.poll(0):
                message = decode(self.socket.recv())
                if isinstance(message, kind):
                    return message
        raise AssertionError(f"no {kind.__name__} arrived")

    def nothing(self, kind, *, steps=30):
        for _ in range(steps):
            self.controller.step(0.005)
            while self.socket.poll(0):
                message = decode(self.socket.recv())
                assert not isinstance(message, kind), message


@pytest.fixture()
def setup(tmp_path, config):
    calendar = build_calendar(config.calendar)
    samples = generate_applications(30, 21, config, day=dt.date(2026, 2, 24), image_dir=str(tmp_path))
    records = [s.record for s in samples]
    ledger = Ledger.open(tmp_path / "ledger.db", shifts=shift_clock(config.line))
    context = zmq.Context()
    controllers = []

    def build(**settings):
        controller = Controller(ledger, config, calendar, ControllerSettings(
            endpoint="tcp://127.0.0.1:*", auto_dispatch=settings.pop("auto_dispatch", False), **settings),
            context=context)
        controller.bind()
        controllers.append(controller)
        return controller

    stations = []

    def station(controller):
        stations.append(Station(context, controller.endpoint, controller))
        return stations[-1]

    def store(rows):
        admissions, rejections = prepare_intake([(f"r{i}", r) for i, r in enumerate(rows)], config, calendar)
        assert not rejections
        return list(ledger.add_applications(admissions, station="intake", now=time.time()).added)

    yield type("Setup", (), {"ledger": ledger, "records": records, "build": staticmethod(build),
                             "station": staticmethod(station), "store": staticmethod(store), "config": config})
    for built in stations:
        built.socket.close(linger=0)
    for controller in controllers:
        controller.close()
    context.destroy(linger=0)
    ledger.close()


def _printer(setup, controller, machine="B01", credit=1):
    printer = setup.station(controller)
    printer.send(Hello(role="printer", station=machine, incarnation="t1", slots=2))
    printer.expect(Welcome)
    assert isinstance(printer.expect(Reconcile), Reconcile)
    printer.send(ReconcileReport(items=()))
    if credit:
        printer.send(Credit(slots=credit))
    return printer


def _booklets(setup, n):
    return [r for r in setup.records if setup.config.documents[r["doc_type"]].pool == "booklet"
            and r["service_class"] != "green"][:n]


def test_an_offer_is_committed_before_it_arrives(setup):
    ids = setup.store(_booklets(setup, 3))
    controller = setup.build()
    printer = _printer(setup, controller)
    offer = printer.expect(JobOffer)
    assert offer.job_id in ids and offer.attempt == 1
    row = setup.ledger.application(offer.job_id)
    assert (row["state"], row["machine"], row["attempt"]) == ("leased", "B01", 1)
    assert json.loads(offer.record_json)["application_id"] == offer.job_id
    printer.nothing(JobOffer)  # one credit, one offer


def test_a_green_job_jumps_the_queue_at_the_next_free_slot(setup):
    setup.store(_booklets(setup, 5))
    controller = setup.build()
    printer = _printer(setup, controller)
    first = printer.expect(JobOffer)
    green = dict(_booklets(setup, 6)[5], application_id="GREEN-1", service_class="green")
    intake = setup.station(controller)
    intake.send(Hello(role="intake", station="intake", incarnation="i"))
    intake.expect(Welcome)
    intake.send(IntakeRequest(request_id="r1", records=(green,)))
    reply = intake.expect(IntakeReply)
    assert reply.added == 1 and reply.rejected == ()
    printer.send(JobDone(job_id=first.job_id, attempt=1, ok=True, blank_serial="E90000001", credit=1))
    offer = printer.expect(JobOffer)
    assert offer.job_id == "GREEN-1" and offer.green


def test_device_news_moves_the_ledger_and_stale_news_changes_nothing(setup):
    setup.store(_booklets(setup, 2))
    controller = setup.build()
    printer = _printer(setup, controller)
    offer = printer.expect(JobOffer)
    printer.send(JobAccepted(job_id=offer.job_id, attempt=2, blank_serial="E90000002"))  # wrong attempt
    printer.send(JobAccepted(job_id=offer.job_id, attempt=1, blank_serial="E90000002"))
    printer.nothing(JobOffer, steps=10)
    assert setup.ledger.state_of(offer.job_id) == "printing"
    assert controller.stats["dropped:stale_news"] == 1
    printer.send(JobDone(job_id=offer.job_id, attempt=1, ok=False, blank_serial="E90000002", reason="jam", credit=1))
    again = printer.expect(JobOffer)
    assert setup.ledger.query("SELECT state, reason FROM blanks") == [("voided", "jam")]
    # The jammed job went back to the queue: it is offered again (attempt 2) or another one is.
    assert again.attempt == 2 or again.job_id != offer.job_id


def test_bad_frames_are_counted_and_dropped(setup):
    controller = setup.build()
    station = setup.station(controller)
    for frame in (b"", b"\xc1", b"\x81\xa1v\x01", encode(Credit(slots=1))[:-2]):
        station.socket.send(frame)
    station.socket.send_multipart([b"two", b"parts"])
    for _ in range(20):
        controller.step(0.005)
    assert controller.stats["dropped"] >= 5
    assert controller.stats["dropped:envelope"] == 1
    # An unknown station that sends anything but hello is asked to say hello.
    station.send(Credit(slots=1))
    assert isinstance(station.expect(Reregister), Reregister)


def test_an_offer_that_cannot_be_delivered_returns_the_job_to_the_queue(setup):
    ids = setup.store(_booklets(setup, 1))
    controller = setup.build()
    printer = _printer(setup, controller, credit=0)
    printer.send(Credit(slots=1))
    time.sleep(0.05)
    printer.socket.close(linger=0)  # gone before the controller got to offer
    time.sleep(0.3)
    for _ in range(30):
        controller.step(0.005)
    events = [e["event"] for e in setup.ledger.events(ids[0])]
    assert setup.ledger.state_of(ids[0]) == "queued"
    assert events[-2:] == ["leased", "not_accepted"] or events[-1] == "validated"


def test_a_dead_worker_keeps_its_jobs_until_the_grace_then_an_operator_decides(setup):
    setup.store(_booklets(setup, 1))
    controller = setup.build(heartbeat_s=0.05, liveness=3, reconcile_grace_s=0.3)
    printer = _printer(setup, controller)
    offer = printer.expect(JobOffer)
    printer.socket.close(linger=0)
    deadline = time.monotonic() + 3
    while setup.ledger.state_of(offer.job_id) == "leased" and time.monotonic() < deadline:
        controller.step(0.02)
    assert setup.ledger.state_of(offer.job_id) == "needs_reconcile"
    assert controller.stats["peers_lost"] == 1


def test_a_worker_that_comes_back_reconciles_its_jobs(setup):
    setup.store(_booklets(setup, 2))
    controller = setup.build()
    first = _printer(setup, controller)
    offer = first.expect(JobOffer)
    first.socket.close(linger=0)
    second = setup.station(controller)
    second.send(Hello(role="printer", station="B01", incarnation="t2", slots=2))
    reconcile = second.expect(Reconcile)
    assert [(j.job_id, j.attempt, j.state) for j in reconcile.jobs] == [(offer.job_id, 1, "leased")]
    second.send(ReconcileReport(items=(ReconcileItem(job_id=offer.job_id, attempt=1, outcome="printed",
                                                     blank_serial="E90000009", issued_on="2026-02-24"),)))
    second.nothing(JobOffer, steps=10)
    assert setup.ledger.state_of(offer.job_id) == "printed"


def test_a_machine_paused_from_the_panel_gets_no_jobs(setup, tmp_path):
    setup.store(_booklets(setup, 3))
    controller = setup.build(refresh_s=0.01)
    with Ledger.open(tmp_path / "ledger.db") as panel:
        panel.record_station_event("panel:li", "machine_paused", now=time.time(), machine="B01")
    printer = _printer(setup, controller, credit=0)
    assert printer.expect(Control).action == "pause"
    printer.send(Credit(slots=2))
    printer.nothing(JobOffer)
    with Ledger.open(tmp_path / "ledger.db") as panel:
        panel.record_station_event("panel:li", "machine_resumed", now=time.time(), machine="B01")
    assert printer.expect(Control).action == "resume"
    assert isinstance(printer.expect(JobOffer), JobOffer)


def test_printed_documents_go_to_qa_bound_to_their_blank_and_are_dispatched(setup):
    setup.store(_booklets(setup, 1))
    controller = setup.build(auto_dispatch=True, qa_batch_size=4)
    printer = _printer(setup, controller)
    offer = printer.expect(JobOffer)
    printer.send(JobDone(job_id=offer.job_id, attempt=1, ok=True, blank_serial="E90000003", issued_on="2026-02-25"))
    qa = setup.station(controller)
    qa.send(Hello(role="qa", station="qa1", incarnation="q"))
    qa.expect(Welcome)
    qa.send(Credit(slots=1))
    batch = qa.expect(QaBatch)
    item = batch.items[0]
    assert (item.job_id, item.blank_serial, item.machine) == (offer.job_id, "E90000003", "B01")
    assert item.record["document_number"] == "E90000003" and item.record["date_of_issue"] == "2026-02-25"
    qa.send(QaVerdicts(batch_id=batch.batch_id, verdicts=(QaVerdict(job_id=item.job_id, attempt=1, passed=True,
                                                                    checks=(QaCheckResult(name="mrz", ok=True),)),)))
    deadline = time.monotonic() + 5
    while setup.ledger.state_of(offer.job_id) != "dispatched" and time.monotonic() < deadline:
        controller.step(0.05)
    assert setup.ledger.state_of(offer.job_id) == "dispatched"
    assert setup.ledger.query("SELECT passed, station FROM qa_results") == [(1, "qa1")]


def test_intake_through_the_pipeline_stores_the_valid_rows_and_names_the_bad_ones(setup):
    controller = setup.build()
    first, second = setup.station(controller), setup.station(controller)
    for client, name in ((first, "a"), (second, "b")):  # two clients may share the intake key
        client.send(Hello(role="intake", station="intake", incarnation=name))
        client.expect(Welcome)
    bad = dict(setup.records[1], sex="Q", date_of_birth="1990-13-01")
    first.send(IntakeRequest(request_id="r1", records=(setup.records[0], bad, {"application_id": 5})))
    reply = first.expect(IntakeReply)
    assert (reply.request_id, reply.added, reply.already_present) == ("r1", 1, 0)
    rejected = {r["where"]: r for r in reply.rejected}
    assert {e["field"] for e in rejected["record 2"]["errors"]} == {"sex", "date_of_birth"}
    assert rejected["record 2"]["application_id"] == setup.records[1]["application_id"]
    assert "application_id" in {e["field"] for e in rejected["record 3"]["errors"]}
    second.send(IntakeRequest(request_id="r2", records=(setup.records[0],)))
    again = second.expect(IntakeReply)
    assert (again.added, again.already_present) == (0, 1)
    assert setup.ledger.counts() == {"queued": 1}
