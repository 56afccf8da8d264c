"""The driver's messages: their wire form round-trips, and bad frames raise WireError naming the field."""

from __future__ import annotations

import subprocess
import sys

import pytest

import factory.devices
from factory.devices.driver import (
    Acceptance,
    BlankLoad,
    DeviceEvent,
    DeviceStatus,
    JobRecord,
    PrintJob,
    from_wire,
    to_wire,
)
from factory.errors import WireError

RECORD = JobRecord(job_id="J1", attempt=2, state="executed", doc_type="passport", application_id="A1",
                   blank_serial="E10000001", page="/c/E10000001.png", date_of_issue="2026-03-05",
                   accepted_at=1.0, started_at=2.0, finished_at=3.5)
MESSAGES = [
    PrintJob(job_id="J1", attempt=1, record={"application_id": "A1", "surname_cn": "王"}, date_of_issue="2026-03-05"),
    Acceptance(job_id="J1", attempt=1, accepted=True, duplicate=True, record=RECORD),
    Acceptance(job_id="J1", attempt=1, accepted=False, reason="queue_full", detail="2 queued"),
    RECORD,
    DeviceEvent(seq=7, kind="failed", at=12.5, job_id="J1", attempt=1, blank_serial="E1", spoiled=True, reason="jam"),
    DeviceStatus(device_id="P01", pool="card", state="Fault", fault="jam", queued=1, queue_limit=2,
                 blanks={"C": 3, "L": 4}, printed=5, spoiled=1, last_seq=9, at=100.0),
    BlankLoad(loaded=2, duplicates=("E1",), blanks={"E": 7}),
]


@pytest.mark.parametrize("message", MESSAGES, ids=lambda m: type(m).__name__)
def test_every_message_round_trips_through_its_wire_form(message):
    import msgpack

    data = msgpack.unpackb(msgpack.packb(to_wire(message)), raw=False)
    assert from_wire(type(message), data) == message


def test_unknown_keys_are_ignored_and_defaults_fill_in():
    event = from_wire(DeviceEvent, {"seq": 1, "kind": "state", "at": 3, "state": "Idle", "colour": "red"})
    assert event == DeviceEvent(seq=1, kind="state", at=3.0, state="Idle")


@pytest.mark.parametrize(
    ("cls", "data", "field"),
    [
        (DeviceEvent, {"kind": "state", "at": 1.0}, "body.seq"),
        (DeviceEvent, {"seq": True, "kind": "state", "at": 1.0}, "body.seq"),
        (DeviceEvent, {"seq": 1, "kind": "state", "at": "soon"}, "body.at"),
        (PrintJob, {"job_id": "J", "attempt": 1, "record": []}, "body.record"),
        (Acceptance, {"job_id": "J", "attempt": 1, "accepted": True, "record": {"job_id": 3}}, "body.record.job_id"),
        (DeviceStatus, {"device_id": "P", "pool": "card", "state": "Idle", "blanks": {"C": "x"}}, "body.blanks.C"),
        (BlankLoad, {"loaded": 1, "duplicates": "E1"}, "body.duplicates"),
        (DeviceStatus, [1, 2], "body"),
    ],
)
def test_bad_frames_raise_wire_errors_naming_the_field(cls, data, field):
    with pytest.raises(WireError) as err:
        from_wire(cls, data)
    assert err.value.field == field


def test_free_slots_count_only_when_the_machine_takes_jobs():
    assert DeviceStatus(device_id="P", pool="card", state="Busy", queued=1, queue_limit=3).free_slots == 2
    assert DeviceStatus(device_id="P", pool="card", state="Paused", queued=0, queue_limit=3).free_slots == 0
    assert DeviceStatus(device_id="P", pool="card", state="Idle", blanks={"C": 2, "L": 1}).blanks_left == 3


def test_the_public_names_are_exported_and_importing_the_package_opens_no_sockets():
    assert all(hasattr(factory.devices, name) for name in factory.devices.__all__)
    assert len(set(factory.devices.__all__)) == len(factory.devices.__all__)
    code = ("import sys, factory.devices, factory.qa.mrz_reader; "
            "print(sorted(m for m in ('zmq', 'sqlite3', 'fastapi', 'msgpack') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
