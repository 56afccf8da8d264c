"""The controller's snapshot from a real ledger file, through the ledger's public read functions."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from factory.errors import InvalidField
from factory.ledger import Event, Ledger, prepare_intake, shift_clock
from factory.metrics import DUE_BINS, snapshot_families
from factory.metrics.ledger_snapshot import LedgerSnapshotter, MachineReport, machine_state
from factory.samples import generate_applications
from factory.scheduler import build_calendar

pytestmark = pytest.mark.integration

NOW = dt.datetime(2026, 2, 24, 18, 0, tzinfo=dt.timezone(dt.timedelta(hours=8))).timestamp()


@pytest.fixture(scope="module")
def calendar(config):
    return build_calendar(config.calendar)


@pytest.fixture(scope="module")
def records(config):
    return [s.record for s in generate_applications(60, 11, config, day=dt.date(2026, 2, 24), image_dir="/tmp/none")]


@pytest.fixture()
def ledger(tmp_path, config, records, calendar):
    with Ledger.open(tmp_path / "ledger.db", shifts=shift_clock(config.line)) as opened:
        admissions, rejections = prepare_intake([(f"line {i}", r) for i, r in enumerate(records, 1)], config, calendar)
        assert not rejections
        opened.add_applications(admissions, station="intake", now=NOW - 3600)
        yield opened


def _print(ledger, app_id, serial, machine, at):
    change = ledger.lease(app_id, machine, lease_s=30, station="controller", now=at)
    ledger.apply(app_id, Event.PRINT_STARTED, attempt=change.attempt, blank_serial=serial, station=machine, now=at)
    return ledger.apply(app_id, Event.DEVICE_EXECUTED, attempt=change.attempt, station=machine, now=at + 30)


def _machine_for(config, ledger, app_id):
    pool = ledger.application(app_id)["pool"]
    return next(m.id for m in config.line.machines if m.pool == pool)


def test_machine_state():
    assert machine_state(None, holds_job=False) == "offline"
    assert machine_state(MachineReport(connected=False, device_state="Busy"), holds_job=True) == "offline"
    assert machine_state(MachineReport(connected=True, device_state="Fault", mode="paused"), holds_job=False) == "fault"
    assert machine_state(MachineReport(connected=True, device_state="Idle", mode="paused"), holds_job=False) == "paused"
    assert machine_state(MachineReport(connected=True, device_state="Busy", mode="draining"), holds_job=True) == "draining"
    assert machine_state(MachineReport(connected=True, device_state="Idle", mode="draining"), holds_job=False) == "paused"
    assert machine_state(MachineReport(connected=True, device_state="Pausing"), holds_job=True) == "draining"
    assert machine_state(MachineReport(connected=True, device_state="Idle"), holds_job=True) == "busy"
    assert machine_state(MachineReport(connected=True, device_state=""), holds_job=False) == "idle"
    assert machine_state(MachineReport(connected=True, mode="off_shift"), holds_job=False) == "off_shift"
    with pytest.raises(InvalidField) as err:
        machine_state(MachineReport(connected=True, mode="asleep"), holds_job=False)
    assert err.value.field == "mode"


def test_snapshot_of_a_fresh_ledger(config, calendar, ledger, records):
    snapshotter = LedgerSnapshotter(config, calendar, started_s=NOW - 60, blanks_in_store={"booklet": 1000})
    snap = snapshotter.snapshot(ledger, now_s=NOW)
    assert snap.backlog.sum() == len(records)
    assert snap.backlog.shape == (2, 4, len(DUE_BINS))
    # Nothing is overdue on the day of acceptance, and no normal application is due today.
    assert snap.backlog[:, :, 0].sum() == 0
    assert snap.backlog[:, 3, 1].sum() == 0
    # 60 applications on a whole line; no worker connected yet is no reason to project them late.
    assert snap.projected_late.sum() == 0
    assert [m.state for m in snap.machines] == ["offline"] * len(config.line.machines)
    # No worker has connected yet: no machine is part of the running line, so none has work.
    assert not any(m.has_work for m in snap.machines)
    assert all(m.last_printed_s == NOW - 60 for m in snap.machines)
    # A day's blanks: 14 booklet printers x 60/h and 8 card printers x 90/h over the 8-hour shift.
    assert snap.blanks_needed_per_day.tolist() == [6720.0, 5760.0]
    assert snap.blanks_in_stock.tolist() == [1000, 0]
    assert snap.review_queue == 0
    names = {f.name for f in snapshot_families(snap)}
    assert "factory_plan_demand_applications" in names and "factory_overtime_used_seconds" in names


def test_snapshot_follows_prints_flags_and_machine_reports(config, calendar, ledger):
    ids = [r[0] for r in ledger.query("SELECT application_id FROM applications ORDER BY application_id")]
    snapshotter = LedgerSnapshotter(config, calendar, started_s=NOW - 600)
    snapshotter.snapshot(ledger, now_s=NOW - 300)  # starts reading the event log here
    first, second, third = ids[:3]
    machine = _machine_for(config, ledger, first)
    doc = ledger.application(first)["doc_type"]
    _print(ledger, first, f"{config.documents[doc].serial_prefix}00000001", machine, NOW - 200)
    doc = ledger.application(second)["doc_type"]
    pool = ledger.application(second)["pool"]
    other = next(m.id for m in config.line.machines if m.pool == pool and m.id != machine)
    _print(ledger, second, f"{config.documents[doc].serial_prefix}00000002", other, NOW - 100)
    ledger.record_qa(second, 1, passed=False, checks={"mrz": False}, reasons=["MRZ misread"], station="qa1",
                     now=NOW - 50)
    ledger.lease(third, _machine_for(config, ledger, third), lease_s=60, station="controller", now=NOW - 10)

    reports = {m.id: MachineReport(connected=True, device_state="Idle", blanks_left=200) for m in config.line.machines}
    reports["B02"] = MachineReport(connected=True, device_state="Idle", mode="paused")
    snap = snapshotter.snapshot(ledger, now_s=NOW, machines=reports)
    by_id = {m.machine: m for m in snap.machines}
    assert by_id[machine].last_printed_s == NOW - 170
    assert by_id[other].last_printed_s == NOW - 70
    assert by_id["C08"].last_printed_s == NOW - 600  # never printed: the watch's start
    holder = _machine_for(config, ledger, third)
    assert by_id[holder].state == "busy" and by_id[holder].has_work
    assert by_id["B02"].state == "paused" and not by_id["B02"].has_work
    # A worker that was connected and is gone: its machine still has its pool's work (it is stalled).
    del reports["B05"]
    by_id = {m.machine: m for m in snapshotter.snapshot(ledger, now_s=NOW + 1, machines=reports).machines}
    assert by_id["B05"].state == "offline" and by_id["B05"].has_work
    assert snap.backlog.sum() == 58  # two printed; the leased one is still backlog
    assert snap.review_queue == 1 and snap.review_oldest_age_s == 50.0
    assert snap.blanks_in_stock.tolist() == [13 * 200, 8 * 200]  # B02 reports no hopper


def test_green_channel_wait(config, calendar, tmp_path, records):
    green = [dict(r, service_class="green") for r in records[:3] if r["doc_type"] == "passport"]
    assert green
    with Ledger.open(tmp_path / "green.db", shifts=shift_clock(config.line)) as ledger:
        admissions, rejections = prepare_intake([(f"line {i}", r) for i, r in enumerate(green, 1)], config, calendar)
        assert not rejections
        ledger.add_applications(admissions, station="intake", now=NOW)
        snap = LedgerSnapshotter(config, calendar, started_s=NOW).snapshot(ledger, now_s=NOW + 7200)
    accepted = min(dt.datetime.fromisoformat(r["accepted_at"]).timestamp() for r in green)
    assert snap.green_waiting.tolist() == [len(green), 0]
    assert snap.green_oldest_wait_s[0] == pytest.approx(NOW + 7200 - accepted, abs=1.0)
    assert np.isnan(snap.least_slack_days[1, 0])


def test_machines_an_operator_took_out_leave_their_pool_projected_late(config, calendar, ledger):
    reports = {m.id: MachineReport(connected=True, mode="paused" if m.pool == "booklet" else "running")
               for m in config.line.machines}
    snap = LedgerSnapshotter(config, calendar, started_s=NOW).snapshot(ledger, now_s=NOW, machines=reports)
    booklet = ledger.query("SELECT COUNT(*) FROM applications WHERE pool = 'booklet'")[0][0]
    assert snap.projected_late[0].sum() == booklet > 0
    assert snap.projected_late[1].sum() == 0
    assert not any(m.has_work for m in snap.machines if m.pool == "booklet")


def test_an_operators_pause_in_the_ledger_holds_across_restarts(config, calendar, ledger):
    ledger.record_station_event("panel:li", "machine_paused", now=NOW - 900, machine="B03")
    ledger.record_station_event("panel:li", "machine_draining", now=NOW - 800, machine="C02")
    reports = {m.id: MachineReport(connected=True, device_state="Idle") for m in config.line.machines}
    snapshotter = LedgerSnapshotter(config, calendar, started_s=NOW - 60)  # a controller started after the pause
    states = {m.machine: m.state for m in snapshotter.snapshot(ledger, now_s=NOW, machines=reports).machines}
    assert states["B03"] == "paused" and states["C02"] == "paused" and states["B01"] == "idle"
    ledger.record_station_event("panel:li", "machine_resumed", now=NOW + 1, machine="B03")
    states = {m.machine: m.state for m in snapshotter.snapshot(ledger, now_s=NOW + 2, machines=reports).machines}
    assert states["B03"] == "idle" and states["C02"] == "paused"


def test_green_channel_waits_are_observed_once_when_printed(config, calendar, tmp_path, records):
    from prometheus_client import CollectorRegistry

    from factory.metrics import ControllerInstruments

    green = [dict(r, service_class="green") for r in records if r["doc_type"] == "passport"][:2]
    registry = CollectorRegistry()
    instruments = ControllerInstruments(registry)
    with Ledger.open(tmp_path / "green.db", shifts=shift_clock(config.line)) as ledger:
        admissions, rejections = prepare_intake([(f"line {i}", r) for i, r in enumerate(green, 1)], config, calendar)
        assert not rejections
        ledger.add_applications(admissions, station="intake", now=NOW)
        snapshotter = LedgerSnapshotter(config, calendar, started_s=NOW, instruments=instruments)
        snapshotter.snapshot(ledger, now_s=NOW)
        app_id = green[0]["application_id"]
        _print(ledger, app_id, "E00000009", "B01", NOW + 600)
        snapshotter.snapshot(ledger, now_s=NOW + 700)
        snapshotter.snapshot(ledger, now_s=NOW + 800)  # the same print is not observed twice
    accepted = dt.datetime.fromisoformat(green[0]["accepted_at"]).timestamp()
    assert registry.get_sample_value("factory_green_channel_wait_seconds_count") == 1.0
    assert registry.get_sample_value("factory_green_channel_wait_seconds_sum") == pytest.approx(
        NOW + 630 - accepted, abs=1.0)


def test_reports_from_the_controllers_status():
    from factory.metrics import reports_from_status

    stations = {
        "B01": {"role": "printer", "pool": "booklet", "device_state": "Busy", "blanks_left": 120},
        "C01": {"role": "printer", "pool": "card", "device_state": "", "blanks_left": -1},
        "qa1": {"role": "qa"},
    }
    reports = reports_from_status(stations)
    assert set(reports) == {"B01", "C01"}
    assert reports["B01"] == MachineReport(connected=True, device_state="Busy", blanks_left=120)
    assert machine_state(reports["C01"], holds_job=False) == "idle"
