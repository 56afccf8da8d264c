"""The SQLite store: guarded transitions, blanks, attempts, the append-only log, batches."""

import sqlite3

import pytest

from ledger_helpers import NOW, serial_for
from factory.errors import IllegalTransition, InvalidField, LedgerError, StaleState
from factory.ledger import Event, JobState, Ledger, Request, UnknownApplication, audit_ledger

pytestmark = pytest.mark.integration  # real SQLite files


def _print(ledger, app_id, serial, *, machine="B01", ok=True, reason=None):
    change = ledger.lease(app_id, machine, lease_s=30, station="controller", now=NOW)
    ledger.apply(app_id, Event.PRINT_STARTED, attempt=change.attempt, blank_serial=serial, station=machine, now=NOW)
    event = Event.DEVICE_EXECUTED if ok else Event.DEVICE_FAILED
    return ledger.apply(app_id, event, attempt=change.attempt, reason=reason, station=machine, now=NOW + 1)


def test_opens_in_wal_with_full_synchronous_commits(ledger):
    assert ledger.pragma("journal_mode") == "wal"
    assert ledger.pragma("synchronous") == 2  # FULL


def test_intake_stores_accepted_then_queued_with_two_events(ledger, queued):
    assert len(queued) == 40
    assert ledger.counts() == {"queued": 40}
    events = ledger.events(queued[0])
    assert [(e["seq"], e["event"], e["from_state"], e["to_state"]) for e in events] == [
        (1, "received", None, "accepted"), (2, "validated", "accepted", "queued")]
    assert events[0]["station"] == "intake"


def test_intake_is_idempotent_and_refuses_a_changed_record(ledger, queued, records, config, calendar):
    from factory.ledger import prepare_intake

    again, _ = prepare_intake([("line 1", records[0])], config, calendar)
    result = ledger.add_applications(again, station="intake", now=NOW)
    assert result.added == () and result.already_present == (records[0]["application_id"],)
    changed = dict(records[0], place_of_birth="北京")
    admissions, _ = prepare_intake([("line 9", changed)], config, calendar)
    result = ledger.add_applications(admissions, station="intake", now=NOW)
    assert result.added == ()
    assert result.rejected[0].error.errors[0].field == "application_id"
    assert "different record" in str(result.rejected[0].error)


def test_a_job_prints_on_one_blank_and_the_blank_is_issued(ledger, queued, config):
    app_id = queued[0]
    doc = ledger.application(app_id)["doc_type"]
    serial = serial_for(doc, config, 1)
    change = _print(ledger, app_id, serial)
    assert change.to_state == JobState.PRINTED and change.blank_serial == serial
    row = ledger.application(app_id)
    assert (row["state"], row["attempt"], row["machine"], row["blank_serial"]) == ("printed", 1, "B01", serial)
    blank = ledger.query("SELECT state, application_id, machine, shift FROM blanks WHERE blank_serial = ?", (serial,))
    assert blank == [("issued", app_id, "B01", "2026-02-24")]
    attempt = ledger.query("SELECT machine, blank_serial, outcome FROM attempts WHERE application_id = ?", (app_id,))
    assert attempt == [("B01", serial, "device_executed")]


def test_a_jam_voids_the_blank_and_the_reprint_takes_a_new_one(ledger, queued, config):
    app_id = queued[1]
    doc = ledger.application(app_id)["doc_type"]
    first, second = serial_for(doc, config, 1), serial_for(doc, config, 2)
    assert _print(ledger, app_id, first, ok=False, reason="jam").to_state == JobState.SPOILED
    ledger.apply(app_id, Event.REQUEUED, station="controller", now=NOW)
    change = _print(ledger, app_id, second, machine="B02")
    assert change.attempt == 2 and change.to_state == JobState.PRINTED
    states = dict(ledger.query("SELECT blank_serial, state || ':' || COALESCE(reason, '') FROM blanks"))
    assert states == {first: "voided:jam", second: "issued:"}
    assert audit_ledger(ledger).ok


def test_a_rejected_document_voids_its_blank_and_is_reprinted(ledger, queued, config):
    app_id = queued[2]
    doc = ledger.application(app_id)["doc_type"]
    serial = serial_for(doc, config, 5)
    _print(ledger, app_id, serial)
    ledger.record_qa(app_id, 1, passed=False, checks={"mrz": False}, reasons=["MRZ misread"], station="qa1", now=NOW)
    changes = ledger.review(app_id, approve=False, reviewer="wang", reason="ears covered", now=NOW)
    assert [c.to_state for c in changes] == ["rejected", "queued"]
    assert ledger.query("SELECT state, reason FROM blanks WHERE blank_serial = ?", (serial,)) == [("voided", "qa_reject")]
    assert ledger.query("SELECT reviewer, decision FROM reviews") == [("wang", "rejected")]
    assert ledger.application(app_id)["blank_serial"] is None


def test_a_passed_document_is_dispatched_to_its_acceptance_point_or_the_mail_manifest(ledger, queued, config):
    app_id = queued[3]
    doc = ledger.application(app_id)["doc_type"]
    _print(ledger, app_id, serial_for(doc, config, 7))
    ledger.record_qa(app_id, 1, passed=True, checks={"mrz": True}, reasons=[], station="qa1", now=NOW)
    change = ledger.dispatch(app_id, manifest="M-1", station="controller", now=NOW)
    assert change.to_state == JobState.DISPATCHED
    method, destination = ledger.query("SELECT method, destination FROM dispatches")[0]
    row = ledger.application(app_id)
    assert method == row["delivery"]
    if method == "pickup":
        assert destination == row["acceptance_point"]


def test_an_illegal_transition_is_refused_and_writes_nothing(ledger, queued):
    before = len(ledger.events())
    with pytest.raises(IllegalTransition, match="not allowed in state 'queued'"):
        ledger.apply(queued[0], Event.DEVICE_EXECUTED, blank_serial="E00000001", station="B01", now=NOW)
    assert len(ledger.events()) == before
    assert ledger.query("SELECT COUNT(*) FROM blanks") == [(0,)]


def test_news_of_an_old_attempt_is_stale(ledger, queued):
    ledger.lease(queued[0], "B01", lease_s=30, station="controller", now=NOW)
    with pytest.raises(StaleState):
        ledger.apply(queued[0], Event.PRINT_STARTED, attempt=7, station="B01", now=NOW)


def test_unknown_application_and_missing_machine_are_clear_errors(ledger, queued):
    with pytest.raises(UnknownApplication, match="NOPE: not in the ledger"):
        ledger.apply("NOPE", Event.LEASED, machine="B01", station="c", now=NOW)
    with pytest.raises(InvalidField, match="machine"):
        ledger.apply(queued[0], Event.LEASED, station="c", now=NOW)


def test_a_document_needs_its_blank(ledger, queued):
    ledger.lease(queued[0], "B01", lease_s=30, station="controller", now=NOW)
    ledger.apply(queued[0], Event.PRINT_STARTED, attempt=1, station="B01", now=NOW)
    with pytest.raises(InvalidField, match="blank_serial"):
        ledger.apply(queued[0], Event.DEVICE_EXECUTED, attempt=1, station="B01", now=NOW)


def test_one_blank_cannot_carry_two_documents(ledger, queued, config):
    docs = {app_id: ledger.application(app_id)["doc_type"] for app_id in queued}
    first, second = [a for a in queued if docs[a] == docs[queued[0]]][:2]
    serial = serial_for(docs[first], config, 9)
    _print(ledger, first, serial)
    with pytest.raises(IllegalTransition):
        _print(ledger, second, serial, machine="B02")
    assert ledger.state_of(second) == JobState.LEASED  # the print_started was refused, nothing else moved


def test_the_event_log_is_append_only(ledger, queued):
    for sql in ("UPDATE events SET station = 'x'", "DELETE FROM events"):
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            ledger._db.execute(sql)


def test_a_batch_chains_requests_on_one_application_and_keeps_the_good_ones(ledger, queued, config):
    doc = ledger.application(queued[0])["doc_type"]
    requests = [
        Request(queued[0], ("leased",), "controller", machine="B01"),
        Request(queued[0], ("print_started", "device_executed"), "B01", attempt=1,
                blank_serial=serial_for(doc, config, 3)),
        Request(queued[1], ("device_executed",), "B01"),  # illegal: refused alone
        Request("NOPE", ("leased",), "controller", machine="B01"),
        Request(queued[2], ("leased",), "controller", machine="B02"),
    ]
    results = ledger.apply_batch(requests, now=NOW)
    assert [type(r).__name__ for r in results] == ["list", "list", "IllegalTransition", "UnknownApplication", "list"]
    assert results[1][-1].to_state == "printed"
    assert [ledger.state_of(a) for a in queued[:3]] == ["printed", "queued", "leased"]
    assert audit_ledger(ledger).ok


def test_a_batch_inside_a_failed_transaction_leaves_nothing(ledger, queued):
    with pytest.raises(RuntimeError):
        with ledger.transaction():
            ledger.apply_batch([Request(queued[0], ("leased",), "controller", machine="B01")], now=NOW)
            raise RuntimeError("crash before commit")
    assert ledger.state_of(queued[0]) == "queued"


def test_a_blank_named_only_at_the_end_is_taken_then_issued(ledger, queued, config):
    app_id = queued[4]
    serial = serial_for(ledger.application(app_id)["doc_type"], config, 11)
    ledger.lease(app_id, "C01", lease_s=30, station="controller", now=NOW)
    ledger.apply_batch([Request(app_id, ("print_started", "device_executed"), "C01", attempt=1,
                                blank_serial=serial)], now=NOW)
    events = [e for e in ledger.events(app_id) if e["blank_serial"]]
    assert [(e["event"], e["blank_state"]) for e in events] == [("print_started", "bound"),
                                                                 ("device_executed", "issued")]


def test_a_test_print_voids_its_blank_with_reason_test(ledger):
    ledger.record_test_print("E99999999", machine="B01", station="B01", now=NOW)
    assert ledger.query("SELECT state, reason FROM blanks") == [("voided", "test")]
    report = audit_ledger(ledger)
    assert report.ok and report.shifts[0].spoiled == 1


def test_a_second_process_sees_committed_changes(ledger, queued, tmp_path, config):
    ledger.lease(queued[0], "B01", lease_s=30, station="controller", now=NOW)
    with Ledger.open(tmp_path / "ledger.db") as other:
        assert other.state_of(queued[0]) == "leased"


def test_reopening_a_newer_schema_is_refused(tmp_path):
    with Ledger.open(tmp_path / "l.db") as ledger:
        ledger._db.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(LedgerError, match="newer"):
        Ledger.open(tmp_path / "l.db")
