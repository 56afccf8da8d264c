"""The simulated printer as a process: a network device on loopback, with its own disk.

``Simulator.serve`` runs one ``PrinterMachine`` behind a ZeroMQ ROUTER socket
on 127.0.0.1 (the protocol is in ``docs/devices.md``), keeps the device's job
log, event log and blank stock in SQLite under its state directory, and writes
what it "prints": the page image of every executed job to the capture
directory (``<blank_serial>.png``, the capture the QA camera sees) and one
line per page to ``ground_truth.jsonl`` beside it, saying which defects were
injected. Only evaluation tools read the ground truth; the QA stage never does.

Time runs ``speed`` times faster than the wall clock (device seconds per real
second), so a 45-60 s print cycle at speed 1000 takes 45-60 ms.

This is shell: sockets, SQLite, files and the clock live here; the machine's
decisions are in ``factory.devices.machine`` and the pages in ``render``/``defects``.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import threading
import time
import zlib
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgpack
import numpy as np
import zmq

from factory.config import Config
from factory.devices.defects import Neighbour, print_page
from factory.devices.driver import DEVICE_PROTOCOL_VERSION, PrintJob, from_wire, to_wire
from factory.devices.machine import MachineSpec, PrinterMachine, PrintTask, Refusal
from factory.devices.render import RenderKit, build_render_kit, page_content
from factory.devices.store import DeviceStore
from factory.errors import FactoryError, InvalidField, InvalidRecord, WireError
from factory.mrz import encode_record
from factory.pngio import read_png, write_png
from factory.records import bind_document, parse_application

__all__ = ["SimulatorSettings", "Simulator", "serial_range"]

log = logging.getLogger("factory.devices.simulator")

_NEIGHBOURS = 8
"""Recent applications kept for the photo and signature swap defects."""
_MAX_WAIT_S = 30.0
_MAX_EVENTS = 5000


def serial_range(first: str, count: int) -> tuple[str, ...]:
    """``count`` consecutive serials from ``first``: ``E10000001`` and 3 give E10000001..E10000003."""
    digits = len(first) - len(first.rstrip("0123456789"))
    if digits == 0 or count < 0:
        raise InvalidField("blanks", "must be SERIAL+COUNT with a serial ending in digits, e.g. E10000001+500", first)
    head, number = first[:-digits], int(first[-digits:])
    if len(str(number + count - 1)) > digits:
        raise InvalidField("blanks", f"runs past {digits} digits", f"{first}+{count}")
    return tuple(f"{head}{n:0{digits}d}" for n in range(number, number + count))


@dataclass(frozen=True, slots=True, kw_only=True)
class SimulatorSettings:
    spec: MachineSpec
    state_dir: Path
    """Holds ``<device_id>.sqlite``: the device's job log, events and blank stock."""
    host: str = "127.0.0.1"
    port: int = 0
    """0: any free port (announced through ``serve``'s ``ready`` callback)."""
    capture_dir: Path | None = None
    """Where printed pages and ``ground_truth.jsonl`` go; None: no page images."""
    assets_dir: Path = Path(".")
    """Relative photo and signature paths in records are taken from here."""
    speed: float = 1.0
    """Device seconds per real second."""
    seed: int = 0
    initial_blanks: tuple[str, ...] = ()
    """Loaded at start (serials the device already knows are ignored, so a restart adds none twice)."""
    dpi: int = 300

    def validate(self) -> None:
        self.spec.validate()
        if self.host not in ("127.0.0.1", "localhost", "::1"):
            raise InvalidField("host", "the simulator listens on loopback only", self.host)
        if not 0 <= self.port <= 65535:
            raise InvalidField("port", "must be 0-65535", self.port)
        if not 0 < self.speed <= 1_000_000:
            raise InvalidField("speed", "must be above 0 and at most 1000000", self.speed)


@dataclass(slots=True)
class _Poll:
    identity: bytes
    request_id: Any
    after: int
    limit: int
    deadline: float


@dataclass(slots=True)
class _Assets:
    photo: np.ndarray | None
    signature: np.ndarray | None
    application: Any = None


class Simulator:
    """One simulated printer; ``serve`` blocks until ``stop`` is set.

    Parameters
    ----------
    settings : SimulatorSettings
    config : Config
        Document types (pools, serial prefixes, validity) for binding records.
    kit : RenderKit, optional
        Built when captures are on and none is given.
    """

    def __init__(self, settings: SimulatorSettings, config: Config, *, kit: RenderKit | None = None) -> None:
        settings.validate()
        self.settings = settings
        self.config = config
        self._tz = config.line.tz
        if settings.capture_dir is not None:
            settings.capture_dir.mkdir(parents=True, exist_ok=True)
            self._kit = kit or build_render_kit(config.documents, dpi=settings.dpi)
        else:
            self._kit = kit
        self._store = DeviceStore(settings.state_dir / f"{settings.spec.device_id}.sqlite")
        records, last_seq, last_at, in_stock, known = self._store.load()
        # Device time never runs backwards across restarts.
        self._time_origin = max(time.time(), last_at)
        self._clock_origin = time.monotonic()
        self.machine = PrinterMachine(
            settings.spec, np.random.default_rng([settings.seed, last_seq]),
            admit=self._admit, today=self._today, page_path=self._page_path,
        )
        self.machine.restore(now=self.now(), last_seq=last_seq, records=records, in_stock=in_stock,
                             known_serials=known)
        if settings.initial_blanks:
            self.machine.load_blanks(settings.initial_blanks, self.now())
        self._assets: dict[tuple[str, int], _Assets] = {}
        self._neighbours: deque[Neighbour] = deque(maxlen=_NEIGHBOURS)
        self._polls: list[_Poll] = []
        self._flush()
        self.endpoint = ""

    # ------------------------------------------------------------------ time

    def now(self) -> float:
        """Device time: seconds since the epoch, running ``speed`` times faster than the wall clock."""
        return self._time_origin + (time.monotonic() - self._clock_origin) * self.settings.speed

    def _real_delay(self, device_time: float) -> float:
        return max(0.0, (device_time - self.now()) / self.settings.speed)

    def _today(self, now: float) -> str:
        return dt.datetime.fromtimestamp(now, self._tz).date().isoformat()

    def _page_path(self, serial: str) -> str:
        directory = self.settings.capture_dir
        return "" if directory is None else str((directory / f"{serial}.png").resolve())

    # ------------------------------------------------------------------ admitting jobs

    def _image(self, path_text: str, field: str, *, grey: bool) -> np.ndarray:
        path = Path(path_text)
        if not path.is_absolute():
            path = self.settings.assets_dir / path
        image = read_png(path, grey=grey)  # cv2.imread's pixels at about half its CPU time
        if image is None:
            raise Refusal("invalid_job", f"record.{field}: cannot read a PNG at {path}")
        return image

    def _admit(self, job: PrintJob) -> tuple[str, str, str]:
        try:
            app = parse_application(dict(job.record), self.config, where="record")
        except InvalidRecord as err:
            raise Refusal("invalid_job", str(err)) from None
        doc = self.config.documents[app.doc_type]
        if doc.pool != self.settings.spec.pool:
            raise Refusal("wrong_pool", f"{app.doc_type} prints on {doc.pool} blanks, this is a "
                                        f"{self.settings.spec.pool} machine")
        try:
            issue = dt.date.fromisoformat(job.date_of_issue) if job.date_of_issue else dt.date.today()
            # The MRZ must encode once bound: refuse now rather than fail mid-print.
            encode_record(bind_document(app, doc.serial_prefix + "0" * 8, issue, self.config))
        except ValueError as err:
            raise Refusal("invalid_job", str(err)) from None
        except FactoryError as err:
            raise Refusal("invalid_job", str(err)) from None
        if self.settings.capture_dir is not None:
            self._assets[(job.job_id, job.attempt)] = _Assets(
                photo=self._image(app.photo, "photo", grey=False),
                signature=self._image(app.signature, "signature", grey=True),
                application=app,
            )
        return app.doc_type, doc.serial_prefix, app.application_id

    # ------------------------------------------------------------------ printing

    def _print(self, task: PrintTask) -> None:
        """Render and write the page of an executed print, and its ground-truth line."""
        assets = self._assets.pop((task.job_id, task.attempt), None)
        if task.outcome != "executed" or not task.page or assets is None or self._kit is None:
            return
        app = assets.application
        bound = bind_document(app, task.blank_serial, dt.date.fromisoformat(task.date_of_issue), self.config)
        content = page_content(bound, assets.photo, assets.signature, encode_record(bound))
        rng = np.random.default_rng([self.settings.seed, zlib.crc32(task.blank_serial.encode())])
        page, defects = print_page(content, task.defects, self._kit, rng, neighbours=tuple(self._neighbours))
        write_png(task.page, page, level=1)
        truth = {
            "job_id": task.job_id, "attempt": task.attempt, "blank_serial": task.blank_serial,
            "application_id": app.application_id, "doc_type": app.doc_type, "page": task.page,
            "device_id": self.settings.spec.device_id, "defects": [d.to_json() for d in defects],
        }
        assert self.settings.capture_dir is not None
        with open(self.settings.capture_dir / "ground_truth.jsonl", "a", encoding="utf-8") as sidecar:
            sidecar.write(json.dumps(truth, ensure_ascii=False) + "\n")
            sidecar.flush()
            os.fsync(sidecar.fileno())
        self._neighbours.append(Neighbour(app.application_id, assets.photo, assets.signature))

    def _flush(self) -> None:
        """Persist what the machine reported, then print the pages it started."""
        events = self.machine.take_events()
        records, blanks = self.machine.take_changes()
        self._store.append(events, records, blanks)
        for task in self.machine.take_prints():
            try:
                self._print(task)
            except Exception:  # a page that cannot be drawn must not stop the machine
                log.exception("%s: cannot render the page of %s/%s", self.settings.spec.device_id,
                              task.job_id, task.attempt)
        # Images of jobs that will not print (refused after admission, failed) are let go.
        for key in [k for k in self._assets if self._attempt_state(k) in ("", "failed", "executed")]:
            del self._assets[key]

    def _attempt_state(self, key: tuple[str, int]) -> str:
        return next((r.state for r in self.machine.job_log(key[0]) if r.attempt == key[1]), "")

    def _tick(self) -> None:
        """Advance the machine to now one step at a time, so each page is drawn as its print starts."""
        now = self.now()
        while (wake := self.machine.next_wakeup()) is not None and wake <= now:
            self.machine.advance(wake)
            self._flush()
        self.machine.advance(now)
        self._flush()

    # ------------------------------------------------------------------ requests

    def _handle(self, op: str, body: Mapping[str, Any]) -> dict[str, Any]:
        now = self.now()
        m = self.machine
        if op == "hello":
            return {"device_id": m.spec.device_id, "pool": m.spec.pool, "protocol": DEVICE_PROTOCOL_VERSION,
                    "speed": self.settings.speed}
        if op == "submit":
            job = from_wire(PrintJob, body.get("job"), where="job")
            if not isinstance(job.job_id, str) or isinstance(job.attempt, bool) or not isinstance(job.attempt, int):
                raise WireError("job", "job_id must be text and attempt a whole number")
            return to_wire(m.submit(job, now))
        if op == "status":
            return to_wire(m.status(now))
        if op == "job_log":
            job_id = body.get("job_id")
            if not isinstance(job_id, str):
                raise WireError("job_id", "must be text", job_id)
            return {"records": [to_wire(r) for r in m.job_log(job_id)]}
        if op in ("pause", "resume", "drain", "clear_fault"):
            return to_wire(getattr(m, op)(now))
        if op == "load_blanks":
            serials = body.get("serials")
            if not isinstance(serials, list):
                raise WireError("serials", "must be a list of serials", type(serials).__name__)
            return to_wire(m.load_blanks(serials, now))
        raise WireError("op", "is not a device command", op)

    def _events_reply(self, after: int, limit: int) -> dict[str, Any]:
        return {"events": [to_wire(e) for e in self._store.events_after(after, limit)]}

    def _on_frame(self, socket: zmq.Socket, identity: bytes, frame: bytes) -> None:
        request_id: Any = None
        try:
            request = msgpack.unpackb(frame, raw=False)
            if not isinstance(request, dict):
                raise WireError("request", "must be a map")
            request_id = request.get("id")
            if request.get("v") != DEVICE_PROTOCOL_VERSION:
                raise WireError("v", f"must be {DEVICE_PROTOCOL_VERSION}", request.get("v"))
            op, body = request.get("op"), request.get("body") or {}
            if not isinstance(body, dict):
                raise WireError("body", "must be a map")
            if op == "events":
                after, wait_s, limit = body.get("after", 0), body.get("wait_s", 0.0), body.get("limit", 500)
                if not isinstance(after, int) or not isinstance(limit, int) or not isinstance(wait_s, int | float):
                    raise WireError("body", "after and limit must be whole numbers, wait_s a number")
                limit = max(1, min(limit, _MAX_EVENTS))
                if self.machine.last_seq > after or wait_s <= 0:
                    reply = self._events_reply(after, limit)
                else:
                    deadline = time.monotonic() + min(float(wait_s), _MAX_WAIT_S)
                    self._polls.append(_Poll(identity, request_id, after, limit, deadline))
                    return
            else:
                reply = self._handle(op, body)
                self._flush()
            self._send(socket, identity, {"v": DEVICE_PROTOCOL_VERSION, "id": request_id, "ok": True, "body": reply})
        except (InvalidField, msgpack.ExtraData, msgpack.FormatError, msgpack.StackError, ValueError) as err:
            error = err.as_dict() if isinstance(err, InvalidField) else {"field": "frame", "reason": str(err)}
            self._send(socket, identity, {"v": DEVICE_PROTOCOL_VERSION, "id": request_id, "ok": False, "error": error})
        except Exception as err:  # the device answers and keeps running whatever one request does
            log.exception("%s: request failed", self.settings.spec.device_id)
            error = {"field": "device", "reason": f"internal error: {type(err).__name__}"}
            self._send(socket, identity, {"v": DEVICE_PROTOCOL_VERSION, "id": request_id, "ok": False, "error": error})

    @staticmethod
    def _send(socket: zmq.Socket, identity: bytes, message: dict[str, Any]) -> None:
        try:
            socket.send_multipart([identity, msgpack.packb(message, use_bin_type=True)], zmq.NOBLOCK)
        except zmq.ZMQError:  # the worker went away: it will ask again (the job log answers)
            pass

    def _answer_polls(self, socket: zmq.Socket) -> None:
        if not self._polls:
            return
        now = time.monotonic()
        waiting = []
        for poll in self._polls:
            if self.machine.last_seq > poll.after or now >= poll.deadline:
                body = self._events_reply(poll.after, poll.limit)
                self._send(socket, poll.identity, {"v": DEVICE_PROTOCOL_VERSION, "id": poll.request_id, "ok": True,
                                                   "body": body})
            else:
                waiting.append(poll)
        self._polls = waiting

    def serve(self, stop: threading.Event, ready: Callable[[str], None] | None = None) -> None:
        """Answer requests and run the machine until ``stop`` is set; ``ready(endpoint)`` once bound."""
        context = zmq.Context()
        socket = context.socket(zmq.ROUTER)
        socket.setsockopt(zmq.LINGER, 0)
        try:
            if self.settings.port:
                socket.bind(f"tcp://{self.settings.host}:{self.settings.port}")
            else:
                socket.bind_to_random_port(f"tcp://{self.settings.host}")
            self.endpoint = socket.getsockopt_string(zmq.LAST_ENDPOINT)
            if ready is not None:
                ready(self.endpoint)
            poller = zmq.Poller()
            poller.register(socket, zmq.POLLIN)
            while not stop.is_set():
                self._tick()
                self._answer_polls(socket)
                wait = 0.2
                wake = self.machine.next_wakeup()
                if wake is not None:
                    wait = min(wait, self._real_delay(wake))
                if self._polls:
                    wait = min(wait, max(0.0, min(p.deadline for p in self._polls) - time.monotonic()))
                if poller.poll(int(wait * 1000) + (1 if wait > 0 else 0)):
                    for _ in range(1000):
                        try:
                            identity, *rest = socket.recv_multipart(zmq.NOBLOCK)
                        except zmq.Again:
                            break
                        if rest:
                            self._on_frame(socket, identity, rest[-1])
        finally:
            socket.close(0)
            context.term()
            self._store.close()
