"""``SimulatorClient``: the ``PrinterDriver`` that speaks the simulated printer's protocol over TCP.

A ZeroMQ DEALER socket to the device's ROUTER on 127.0.0.1; each request
carries an id and waits for the reply with that id. On a timeout the socket
is closed and reopened and the request sent again (the "Lazy Pirate" of the
zguide): every command is safe to repeat, because ``submit`` is idempotent per
job_id + attempt, ``load_blanks`` ignores serials the device knows, and the
others only read or set a state. After ``retries`` silent tries the device is
reported ``DeviceOffline``.

A worker that crashes simply makes a new client after its restart; the
device keeps its job log and event log, so nothing depends on the old socket.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Sequence
from typing import Any

import msgpack
import zmq

from factory.devices.driver import (
    DEVICE_PROTOCOL_VERSION,
    Acceptance,
    BlankLoad,
    DeviceEvent,
    DeviceStatus,
    JobRecord,
    PrintJob,
    from_wire,
    to_wire,
)
from factory.errors import DeviceError, DeviceOffline, InvalidField, WireError

__all__ = ["SimulatorClient"]


class SimulatorClient:
    """Drive one simulated printer at ``endpoint`` (``tcp://127.0.0.1:PORT``).

    Parameters
    ----------
    endpoint : str
        The device's address, as ``factory device-sim`` prints it.
    timeout_s : float
        How long to wait for one reply before retrying.
    retries : int
        Tries per command before raising ``DeviceOffline``.
    """

    def __init__(self, endpoint: str, *, timeout_s: float = 3.0, retries: int = 3,
                 context: zmq.Context | None = None) -> None:
        if not endpoint.startswith(("tcp://127.0.0.1:", "tcp://localhost:", "tcp://[::1]:")):
            raise InvalidField("endpoint", "must be a loopback tcp address, e.g. tcp://127.0.0.1:5601", endpoint)
        if timeout_s <= 0 or retries < 1:
            raise InvalidField("timeout_s", "timeout must be positive and retries at least 1", (timeout_s, retries))
        self.endpoint = endpoint
        self.timeout_s = timeout_s
        self.retries = retries
        self._context = context or zmq.Context.instance()
        self._socket: zmq.Socket | None = None
        self._ids = itertools.count(1)
        self._tag = os.urandom(4).hex()
        hello = self._request("hello", {})
        if hello.get("protocol") != DEVICE_PROTOCOL_VERSION:
            raise DeviceError(f"{endpoint}: device speaks protocol {hello.get('protocol')!r}, "
                              f"not {DEVICE_PROTOCOL_VERSION}")
        self.device_id: str = str(hello["device_id"])
        self.pool: str = str(hello["pool"])
        self.speed: float = float(hello.get("speed", 1.0))

    # ------------------------------------------------------------------ transport

    def _connect(self) -> zmq.Socket:
        if self._socket is None:
            socket = self._context.socket(zmq.DEALER)
            socket.setsockopt(zmq.LINGER, 0)
            socket.connect(self.endpoint)
            self._socket = socket
        return self._socket

    def _drop(self) -> None:
        if self._socket is not None:
            self._socket.close(0)
            self._socket = None

    def _request(self, op: str, body: dict[str, Any], *, extra_wait_s: float = 0.0) -> dict[str, Any]:
        request_id = f"{self._tag}-{next(self._ids)}"
        frame = msgpack.packb({"v": DEVICE_PROTOCOL_VERSION, "id": request_id, "op": op, "body": body},
                              use_bin_type=True)
        for _ in range(self.retries):
            socket = self._connect()
            socket.send(frame)
            deadline_ms = int((self.timeout_s + extra_wait_s) * 1000)
            while socket.poll(deadline_ms, zmq.POLLIN):
                reply = msgpack.unpackb(socket.recv(), raw=False)
                if not isinstance(reply, dict) or reply.get("id") != request_id:
                    continue  # a late answer to an earlier try: already dealt with
                if not reply.get("ok"):
                    error = reply.get("error") or {}
                    raise WireError(str(error.get("field", op)), str(error.get("reason", "refused by the device")))
                body_out = reply.get("body")
                if not isinstance(body_out, dict):
                    raise WireError("body", "the device sent no map")
                return body_out
            # Lazy Pirate: a silent device gets a fresh socket and the same request again.
            self._drop()
        raise DeviceOffline(f"{self.endpoint}: no answer to {op!r} after {self.retries} tries "
                            f"of {self.timeout_s:g} s")

    def close(self) -> None:
        self._drop()

    def __enter__(self) -> SimulatorClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ the driver

    def submit(self, job: PrintJob) -> Acceptance:
        return from_wire(Acceptance, self._request("submit", {"job": to_wire(job)}))

    def events(self, after: int = 0, *, wait_s: float = 0.0, limit: int = 500) -> tuple[DeviceEvent, ...]:
        body = self._request("events", {"after": after, "wait_s": wait_s, "limit": limit}, extra_wait_s=wait_s)
        return tuple(from_wire(DeviceEvent, e, where="events[]") for e in body.get("events", ()))

    def status(self) -> DeviceStatus:
        return from_wire(DeviceStatus, self._request("status", {}))

    def job_log(self, job_id: str) -> tuple[JobRecord, ...]:
        body = self._request("job_log", {"job_id": job_id})
        return tuple(from_wire(JobRecord, r, where="records[]") for r in body.get("records", ()))

    def pause(self) -> DeviceStatus:
        return from_wire(DeviceStatus, self._request("pause", {}))

    def resume(self) -> DeviceStatus:
        return from_wire(DeviceStatus, self._request("resume", {}))

    def drain(self) -> DeviceStatus:
        return from_wire(DeviceStatus, self._request("drain", {}))

    def clear_fault(self) -> DeviceStatus:
        return from_wire(DeviceStatus, self._request("clear_fault", {}))

    def load_blanks(self, serials: Sequence[str]) -> BlankLoad:
        return from_wire(BlankLoad, self._request("load_blanks", {"serials": list(serials)}))
