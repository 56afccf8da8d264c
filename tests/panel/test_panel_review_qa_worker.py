"""A real misprint through the QA worker's path into the ledger, and what the reviewer's API shows of it.

A passport is printed with one wrong digit in its visual-zone date of birth (the MRZ is right). The QA
worker's ``printed_check`` (``factory.qa.check_printed`` on the page file) judges it; its verdict crosses
the wire (encode, decode) and is recorded as the controller records it. The review API must name the
failing check with its measured value and outline its zone, and show the MRZ the worker read back.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import cv2
import pytest

from factory.devices.render import build_render_kit, page_content, render_content
from factory.ledger import Event, Ledger, prepare_intake, shift_clock
from factory.mrz import encode_record
from factory.panel import LedgerLine, UserStore, create_app
from factory.pipeline.qa_worker import printed_check
from factory.pngio import write_png
from factory.qa.faces import FaceDetector
from factory.records import bind_document, parse_application
from factory.samples import SignatureWriter, generate_applications
from factory.samples.generate import draw_images
from factory.scheduler import build_calendar
from factory.wire import QaItem, QaVerdicts, decode, encode

from panel_world import PASSWORD, START, ShiftedClock, TestClient, csrf_of, login

pytestmark = pytest.mark.integration


@pytest.fixture()
def flagged(config, tmp_path):
    clock = ShiftedClock()
    ledger = Ledger.open(tmp_path / "ledger.sqlite", shifts=shift_clock(config.line))
    samples = generate_applications(12, 17, config, day=(START - dt.timedelta(days=1)).date(), image_dir=str(tmp_path))
    sample = next(s for s in samples if s.record["doc_type"] == "passport")
    held = [s.record for s in samples if s is not sample][:2]
    admissions, _ = prepare_intake([("line 1", sample.record)], config, build_calendar(config.calendar))
    now = clock()
    ledger.add_applications(admissions, station="intake", now=now - 600)
    # Two more are held before printing: their signatures match a look-alike of the name.
    waiting, _ = prepare_intake([(f"held {i}", r) for i, r in enumerate(held)], config, build_calendar(config.calendar))
    ledger.add_applications(waiting, station="intake:client", now=now - 600, hold=True)
    for record in held:
        ledger.record_intake(record["application_id"], "review", station="qa1", now=now - 550, reasons=["哓 for 晓"],
                             checks=[{"name": "signature_lookalike", "ok": False, "value": 0.05,
                                      "detail": "哓 for 晓", "zone": "signature"}])
    photo, signature = draw_images(sample, SignatureWriter(), FaceDetector())
    for kind, image in (("photo", photo), ("signature", signature)):
        (tmp_path / f"{kind}s").mkdir(exist_ok=True)
        write_png(Path(sample.record[kind]), image)

    app_id, serial = sample.record["application_id"], "E10000777"
    issued = START.date()
    bound = bind_document(parse_application(sample.record, config), serial, issued, config)
    # The printer gets one digit of the visual-zone date of birth wrong; the MRZ is the record's.
    wrong = dataclasses.replace(bound, date_of_birth=bound.date_of_birth + dt.timedelta(days=1))
    page = render_content(page_content(wrong, photo, signature, encode_record(bound)), build_render_kit(config.documents))
    page_path = tmp_path / "page.png"
    cv2.imwrite(str(page_path), page)
    ledger.lease(app_id, "B01", lease_s=120, station="controller", now=now - 300)
    ledger.apply(app_id, Event.PRINT_STARTED, blank_serial=serial, station="B01", now=now - 299)
    ledger.apply(app_id, Event.DEVICE_EXECUTED, blank_serial=serial, page=str(page_path), issued_on=issued.isoformat(),
                 station="B01", now=now - 250)

    item = QaItem(job_id=app_id, attempt=1, record=bound.to_json(), blank_serial=serial, page=str(page_path),
                  machine="B01")
    verdicts = printed_check(config)([item])
    sent = decode(encode(QaVerdicts(batch_id="b1", verdicts=tuple(verdicts))))
    verdict = sent.verdicts[0]
    ledger.record_qa(app_id, verdict.attempt, passed=verdict.passed, checks=verdict.checks, reasons=verdict.reasons,
                     station="qa1", now=now - 200, mrz_read=verdict.mrz_read)

    users = UserStore.open(ledger.path)
    users.add("rui", "reviewer", PASSWORD, by="test")
    line = LedgerLine(config, ledger, clock=clock, blanks_in_store={"booklet": 100, "card": 100})
    app = create_app(config, ledger, line, users=users, clock=clock, media_dir=tmp_path / "media",
                     ledger_lock=line.lock)
    client = TestClient(app, base_url="http://127.0.0.1")
    assert login(client, "rui").status_code == 303
    client.held = [r["application_id"] for r in held]
    client.ledger = ledger
    yield client, app_id, verdict, encode_record(bound)
    client.close()
    users.close()
    ledger.close()


def test_the_reviewer_sees_the_failing_check_its_value_and_its_zone(flagged):
    client, app_id, verdict, mrz = flagged
    assert not verdict.passed
    items = {i["application_id"]: i["stage"] for i in client.get("/api/review").json()["items"]}
    assert items == {app_id: "printed", **dict.fromkeys(client.held, "intake")}
    detail = client.get(f"/api/review/{app_id}").json()
    failing = {c["name"]: c for c in detail["failing"]}
    dob = failing["viz_date_of_birth"]
    assert dob["zone"] == "date_of_birth" and dob["value"] > 0.15 and "viz_date_of_birth" in dob["detail"]
    assert "mrz_date_of_birth" not in failing  # the MRZ was printed right
    zones = {z["zone"]: z for z in detail["zones"]}
    assert "viz_date_of_birth" in zones["date_of_birth"]["checks"] and zones["date_of_birth"]["w"] > 0
    assert detail["mrz"]["read"] == list(mrz) == detail["mrz"]["expected"]  # what the QA worker read back
    assert not any(c["differs"] for line in detail["mrz"]["diff"] for c in line)


def test_an_application_held_before_printing_is_approved_to_the_queue_or_returned(flagged):
    client, *_ = flagged
    token = csrf_of(client)
    detail = client.get(f"/api/review/{client.held[0]}").json()
    assert detail["stage"] == "intake" and detail["failing"][0]["zone"] == "signature"
    first = client.post(f"/api/review/{client.held[0]}/approve", json={}, headers={"X-CSRF-Token": token})
    second = client.post(f"/api/review/{client.held[1]}/reject", json={"route": "new_signature", "note": "哓"},
                         headers={"X-CSRF-Token": token})
    assert (first.json()["state"], second.json()["state"]) == ("queued", "returned_to_acceptance")
    assert client.ledger.events(client.held[1])[-1]["station"] == "reviewer:rui"
    assert client.ledger.events(client.held[1])[-1]["reason"] == "new_signature: 哓"
