"""The audit: a clean ledger passes; each kind of tampering is named."""

import pytest

from ledger_helpers import NOW, serial_for
from factory.cli import main
from factory.ledger import Event, audit_ledger, audit_rows

pytestmark = pytest.mark.integration


def _printed(ledger, config, app_id, n, machine="B01"):
    serial = serial_for(ledger.application(app_id)["doc_type"], config, n)
    change = ledger.lease(app_id, machine, lease_s=30, station="controller", now=NOW)
    ledger.apply(app_id, Event.PRINT_STARTED, attempt=change.attempt, blank_serial=serial, station=machine, now=NOW)
    ledger.apply(app_id, Event.DEVICE_EXECUTED, attempt=change.attempt, station=machine, now=NOW)
    return serial


def _raw(ledger, sql, params=()):
    """Tamper behind the store's back (what the audit is for)."""
    ledger._db.execute(sql, params)


def test_a_clean_ledger_balances_per_machine_and_shift(ledger, queued, config):
    for n, app_id in enumerate(queued[:6]):
        _printed(ledger, config, app_id, n, machine="B01" if n % 2 else "C01")
    app_id = queued[6]
    serial = serial_for(ledger.application(app_id)["doc_type"], config, 50)
    ledger.lease(app_id, "C01", lease_s=30, station="controller", now=NOW)
    ledger.apply(app_id, Event.PRINT_STARTED, attempt=1, blank_serial=serial, station="C01", now=NOW)
    report = audit_ledger(ledger)
    assert report.ok, report.lines()
    by_machine = {t.machine: t for t in report.shifts}
    assert (by_machine["B01"].taken, by_machine["B01"].good) == (3, 3)
    assert (by_machine["C01"].taken, by_machine["C01"].good, by_machine["C01"].in_flight) == (4, 3, 1)
    assert any(f.check == "blanks" and f.subject == serial for f in report.open_items)
    assert report.lines()[-1] == "audit: OK"


def test_two_issued_documents_for_one_application_are_a_violation(ledger, queued, config):
    _printed(ledger, config, queued[0], 1)
    _raw(ledger, "INSERT INTO blanks VALUES ('E77777777', 'issued', 2, 'B02', '2026-02-24', ?, 1, NULL, 0)",
         (queued[0],))
    report = audit_ledger(ledger)
    assert not report.ok
    assert any(f.check == "documents" and f.subject == queued[0] and "2 issued" in f.message
               for f in report.violations)


def test_a_blank_whose_history_disagrees_with_its_row_is_a_violation(ledger, queued, config):
    serial = _printed(ledger, config, queued[0], 1)
    _raw(ledger, "UPDATE blanks SET state = 'returned' WHERE blank_serial = ?", (serial,))
    messages = [str(f) for f in audit_ledger(ledger).violations]
    assert any(serial in m and "the log says issued, the table says returned" in m for m in messages)


def test_an_application_row_moved_without_its_events_is_a_violation(ledger, queued, config):
    _raw(ledger, "UPDATE applications SET state = 'printed', version = 3 WHERE application_id = ?", (queued[5],))
    messages = [str(f) for f in audit_ledger(ledger).violations]
    assert any(queued[5] in m and "events" in m for m in messages)


def test_a_removed_append_only_trigger_is_a_violation(ledger, queued):
    _raw(ledger, "DROP TRIGGER events_no_delete")
    assert any(f.check == "schema" for f in audit_ledger(ledger).violations)


def test_a_dangling_bound_blank_is_a_violation(ledger, queued, config):
    app_id = queued[0]
    serial = serial_for(ledger.application(app_id)["doc_type"], config, 3)
    ledger.lease(app_id, "B01", lease_s=30, station="controller", now=NOW)
    ledger.apply(app_id, Event.PRINT_STARTED, attempt=1, blank_serial=serial, station="B01", now=NOW)
    _raw(ledger, "UPDATE applications SET state = 'queued', blank_serial = NULL, version = version WHERE "
                 "application_id = ?", (app_id,))
    assert any(f.subject == serial and "bound" in f.message for f in audit_ledger(ledger).violations)


def test_needs_reconcile_is_open_not_a_violation(ledger, queued):
    ledger.lease(queued[0], "B01", lease_s=30, station="controller", now=NOW)
    ledger.apply(queued[0], Event.LEASE_EXPIRED, attempt=1, station="controller", now=NOW)
    report = audit_ledger(ledger)
    assert report.ok and [f.subject for f in report.open_items] == [queued[0]]


def test_audit_rows_is_pure_and_counts_an_unknown_void_reason():
    apps = []
    blanks = [{"blank_serial": "E1", "state": "voided", "application_id": None, "reason": "kicked"}]
    events = [{"event_id": 1, "kind": "blank", "subject": "E1", "seq": None, "event": "taken", "from_state": None,
               "to_state": "bound", "machine": "B01", "blank_serial": "E1", "blank_state": "bound",
               "shift": "2026-02-24", "reason": None},
              {"event_id": 2, "kind": "blank", "subject": "E1", "seq": None, "event": "voided", "from_state": "bound",
               "to_state": "voided", "machine": "B01", "blank_serial": "E1", "blank_state": "voided",
               "shift": "2026-02-24", "reason": "kicked"}]
    report = audit_rows(apps, blanks, events)
    assert [f.check for f in report.violations] == ["void_reason"]
    assert report.shifts[0].spoiled == 1


def test_factory_audit_exits_non_zero_and_names_the_offender(ledger, queued, config, tmp_path, capsys):
    _printed(ledger, config, queued[0], 1)
    command = ["audit", "--ledger", str(tmp_path / "ledger.db")]
    assert main(command) == 0 and "audit: OK" in capsys.readouterr().out
    _raw(ledger, "INSERT INTO blanks VALUES ('E77777777', 'issued', 2, 'B02', '2026-02-24', ?, 1, NULL, 0)",
         (queued[0],))
    assert main(command) == 1
    assert f"VIOLATION: documents: {queued[0]}: has 2 issued documents" in capsys.readouterr().out


def test_factory_audit_of_a_missing_ledger_is_a_clear_error(tmp_path, capsys):
    assert main(["audit", "--ledger", str(tmp_path / "nope.db")]) == 2
    assert "no such ledger" in capsys.readouterr().err


def test_factory_audit_resolves_needs_reconcile(ledger, queued, config, tmp_path, capsys):
    app_id = queued[0]
    ledger.lease(app_id, "B01", lease_s=30, station="controller", now=NOW)
    ledger.apply(app_id, Event.LEASE_EXPIRED, attempt=1, station="controller", now=NOW)
    serial = serial_for(ledger.application(app_id)["doc_type"], config, 4)
    status = main(["audit", "--ledger", str(tmp_path / "ledger.db"), "--resolve", f"{app_id}=printed",
                   "--blank", f"{app_id}={serial}", "--operator", "li"])
    out = capsys.readouterr().out
    assert status == 0, out
    assert f"resolved {app_id}: printed" in out
    assert ledger.state_of(app_id) == "printed"
    assert ledger.events(app_id)[-1]["station"] == "operator:li"
    assert main(["audit", "--ledger", str(tmp_path / "ledger.db"), "--resolve", f"{app_id}=maybe"]) == 2
