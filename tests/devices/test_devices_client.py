"""The driver contract, run against the simulated printer over TCP on 127.0.0.1."""

from __future__ import annotations

import itertools
from pathlib import Path

import msgpack
import pytest
import zmq

from factory.devices.client import SimulatorClient
from factory.devices.driver import PrintJob
from factory.devices.machine import MachineSpec
from factory.devices.simulator import SimulatorSettings, serial_range
from factory.errors import DeviceOffline, InvalidField, WireError

from devices_contract import PrinterDriverContract
from devices_helpers import record_json, running

pytestmark = pytest.mark.integration

_serials = itertools.count(50_000_001)


def _settings(tmp_path: Path, **changes) -> SimulatorSettings:
    values = dict(
        spec=MachineSpec(device_id="P01", pool="booklet", cycle_s=(45.0, 60.0), queue_limit=2),
        state_dir=tmp_path / "state", speed=20_000.0, seed=3,
        initial_blanks=serial_range("E10000001", 20),
    )
    values.update(changes)
    return SimulatorSettings(**values)


class TestSimulatorClient(PrinterDriverContract):
    @pytest.fixture()
    def device(self, config, tmp_path):
        with running(_settings(tmp_path), config) as (_, endpoint):
            yield endpoint

    @pytest.fixture()
    def driver(self, device):
        client = SimulatorClient(device, timeout_s=2.0)
        yield client
        client.close()

    @pytest.fixture()
    def connect(self, device):
        return lambda: SimulatorClient(device, timeout_s=2.0)

    @pytest.fixture()
    def job_record(self):
        return lambda n: record_json(n, "passport")

    @pytest.fixture()
    def blank_serials(self):
        return lambda k: [f"E{next(_serials)}" for _ in range(k)]


def test_a_silent_device_is_reported_offline_after_the_retries():
    context = zmq.Context.instance()
    silent = context.socket(zmq.ROUTER)  # accepts connections, never answers
    port = silent.bind_to_random_port("tcp://127.0.0.1")
    try:
        with pytest.raises(DeviceOffline):
            SimulatorClient(f"tcp://127.0.0.1:{port}", timeout_s=0.2, retries=2)
    finally:
        silent.close(0)


def test_only_loopback_endpoints_are_accepted():
    with pytest.raises(InvalidField) as err:
        SimulatorClient("tcp://10.0.0.5:5601")
    assert err.value.field == "endpoint"


def test_a_card_document_is_refused_by_a_booklet_machine(config, tmp_path):
    with running(_settings(tmp_path), config) as (_, endpoint), SimulatorClient(endpoint) as client:
        refused = client.submit(PrintJob(job_id="K1", attempt=1, record=record_json(1, "hk_macau_permit")))
        assert not refused.accepted and refused.reason == "wrong_pool"
        bad = client.submit(PrintJob(job_id="K2", attempt=1, record=record_json(2), date_of_issue="2026-13-01"))
        assert not bad.accepted and bad.reason == "invalid_job"
        with pytest.raises(WireError) as err:
            client.load_blanks(["E-1"])
        assert err.value.field == "serials"


def test_garbage_frames_get_an_error_and_the_device_keeps_serving(config, tmp_path):
    with running(_settings(tmp_path), config) as (_, endpoint):
        socket = zmq.Context.instance().socket(zmq.DEALER)
        socket.setsockopt(zmq.LINGER, 0)
        socket.connect(endpoint)
        try:
            for frame in (b"\xc1\xff", msgpack.packb([1, 2]), msgpack.packb({"v": 9, "id": 1, "op": "status"}),
                          msgpack.packb({"v": 1, "id": 2, "op": "format_disk", "body": {}}),
                          msgpack.packb({"v": 1, "id": 3, "op": "submit", "body": {"job": {"job_id": "x"}}})):
                socket.send(frame)
                assert socket.poll(3000)
                reply = msgpack.unpackb(socket.recv(), raw=False)
                assert reply["ok"] is False and set(reply["error"]) == {"field", "reason"}
        finally:
            socket.close(0)
        with SimulatorClient(endpoint) as client:
            assert client.status().state == "Idle"
