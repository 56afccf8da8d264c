"""Before-printing checks in the ledger: held in accepted, queued, flagged for a reviewer or returned with reasons."""

import json
import sqlite3

import pytest

from ledger_helpers import NOW
from factory.errors import IllegalTransition, InvalidField
from factory.ledger import Event, JobState, Ledger, audit_ledger, prepare_intake
from factory.ledger.store import SCHEMA_VERSION

pytestmark = pytest.mark.integration  # real SQLite files

FAILED_PHOTO = [{"name": "photo_exposure", "ok": False, "value": 31.5, "detail": "photo_exposure: 31.5 (must be >= 60)",
                 "zone": "photo"}, {"name": "signature_name", "ok": True, "value": 0.97}]


@pytest.fixture()
def held(ledger, records, config, calendar):
    admissions, rejections = prepare_intake([(f"line {i}", r) for i, r in enumerate(records[:4], 1)], config,
                                            calendar)
    assert not rejections
    result = ledger.add_applications(admissions, station="intake:client", now=NOW, hold=True)
    return list(result.added)


def test_held_applications_wait_in_accepted_for_the_checks(ledger, held):
    assert ledger.counts() == {"accepted": 4}
    assert ledger.accepted_ids() == sorted(held)
    ledger.record_intake(held[0], "passed", checks={"photo_exposure": True}, reasons=[], station="qa1", now=NOW)
    assert ledger.state_of(held[0]) == JobState.QUEUED
    assert [e["event"] for e in ledger.events(held[0])] == ["received", "intake_passed"]


def test_a_failed_application_goes_back_to_its_acceptance_point_with_the_reasons(ledger, held):
    reasons = ["photo_exposure: 31.5 (must be >= 60)"]
    change = ledger.record_intake(held[1], "return", checks=FAILED_PHOTO, reasons=reasons, station="qa2", now=NOW)
    assert change.to_state == JobState.RETURNED_TO_ACCEPTANCE
    event = ledger.events(held[1])[-1]
    detail = json.loads(event["detail"])
    assert (event["event"], event["station"], event["reason"]) == ("returned", "qa2", reasons[0])
    assert detail == {"failed": ["photo_exposure"], "reasons": reasons,
                      "return_to": ledger.application(held[1])["acceptance_point"]}
    stored = ledger.query("SELECT attempt, passed, checks FROM qa_results WHERE application_id = ?", (held[1],))
    assert stored[0][:2] == (0, 0) and json.loads(stored[0][2])[0]["value"] == 31.5
    with pytest.raises(IllegalTransition):
        ledger.lease(held[1], "B01", lease_s=30, station="controller", now=NOW)  # never to a printer
    with pytest.raises(InvalidField):
        ledger.record_intake(held[2], "return", checks=FAILED_PHOTO, reasons=[" "], station="qa2", now=NOW)


def test_a_look_alike_signature_waits_for_a_reviewer_who_approves_or_returns(ledger, held):
    lookalike = [{"name": "signature_lookalike", "ok": False, "value": 0.04, "detail": "signed 哓 for 晓",
                  "zone": "signature"}]
    for app_id in held[2:]:
        ledger.record_intake(app_id, "review", checks=lookalike, reasons=["signed 哓 for 晓"], station="qa1", now=NOW)
        assert ledger.state_of(app_id) == JobState.INTAKE_FLAGGED
    ledger.review_intake(held[2], approve=True, reviewer="sam", reason="", now=NOW + 5)
    ledger.review_intake(held[3], approve=False, reviewer="sam", reason="new_signature", now=NOW + 5)
    assert ledger.state_of(held[2]) == JobState.QUEUED
    assert ledger.state_of(held[3]) == JobState.RETURNED_TO_ACCEPTANCE
    assert ledger.events(held[3])[-1]["station"] == "reviewer:sam"
    report = audit_ledger(ledger)
    assert report.ok, report.lines()


def test_the_audit_lists_held_applications_and_wants_reasons_for_a_return(ledger, held):
    ledger.record_intake(held[0], "review", checks=[{"name": "signature_lookalike", "ok": False}],
                         reasons=["look-alike"], station="qa1", now=NOW)
    ledger.apply(held[1], Event.RETURNED, station="intake", now=NOW)  # no reasons: not how it is done
    report = audit_ledger(ledger)
    assert any(f.subject == held[0] for f in report.open_items)
    assert any(f.subject == held[1] and "without the reasons" in f.message for f in report.violations)


def test_a_schema_1_ledger_is_migrated_and_its_old_verdicts_stay_readable(tmp_path, config):
    path = tmp_path / "old.db"
    db = sqlite3.connect(path)
    db.executescript("""
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        INSERT INTO meta VALUES ('schema_version', '1');
        CREATE TABLE qa_results (application_id TEXT NOT NULL, attempt INTEGER NOT NULL, blank_serial TEXT,
            station TEXT NOT NULL, passed INTEGER NOT NULL, checks TEXT NOT NULL, reasons TEXT NOT NULL,
            at REAL NOT NULL, PRIMARY KEY (application_id, attempt)) WITHOUT ROWID;
        INSERT INTO qa_results VALUES ('A1', 1, 'E1', 'qa1', 0, '{"mrz": false}', '["MRZ misread"]', 1.0);
    """)
    db.close()
    with Ledger.open(path) as ledger:
        assert ledger.query("SELECT value FROM meta WHERE key = 'schema_version'") == [(str(SCHEMA_VERSION),)]
        assert ledger.query("SELECT checks, mrz_read FROM qa_results") == [('{"mrz": false}', None)]
    with Ledger.open(path) as ledger:  # opening again changes nothing
        assert ledger.query("SELECT value FROM meta WHERE key = 'schema_version'") == [(str(SCHEMA_VERSION),)]
