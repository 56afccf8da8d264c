"""The controller: a ZeroMQ ROUTER in front of the ledger and the scheduler's queue.

One loop, one thread, one ledger connection. Each turn of the loop

1. drains up to ``max_frames`` frames from the ROUTER socket;
2. in ONE ledger transaction: handles each frame (hello, credit, device news,
   reconcile reports, QA verdicts, intake), takes the dead peers out, expires
   the leases of machines whose worker did not come back, leases queued jobs
   against the credit the printers granted, hands accepted applications
   (``intake_qa``) and printed documents to the QA workers and dispatches the
   passed ones;
3. commits, and only then sends what depends on it (offers, batches, replies).

So every dispatch is durable before it leaves, and a crash at any point
resumes from the ledger: the queue, the printed documents awaiting QA and the
jobs out on machines are all read back from it at start. ZeroMQ never holds
work: nothing is sent without credit, and a station that says hello is asked
about every job the ledger says it holds (``reconcile``).

A frame that cannot be decoded, an unknown kind, a message from a station in
the wrong role, news about someone else's job: counted in ``stats``, logged
(rate-limited) and dropped. The loop never dies of a frame.

The controller owns no HTTP: a panel (issue 8) can run in a sibling process
reading the same ledger (WAL lets readers work beside this writer), or be
mounted in this process around ``Controller.status()`` and
``Controller.request_control()``.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import logging
import os
import re
import secrets
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

import zmq

from factory.config import Config
from factory.errors import FactoryError, InvalidField, InvalidRecord, LedgerError, WireError
from factory.ledger.intake import prepare_intake
from factory.ledger.decide import Request
from factory.ledger.states import Event, JobState, next_state
from factory.ledger.store import Ledger
from factory.pipeline.credit import grant, plan_offers, spend
from factory.pipeline.jobqueue import JobQueue
from factory.pipeline.keys import ServerKeys, secure_server, start_authenticator
from factory.pipeline.liveness import Pulse, dead_peers
from factory.pipeline.outcomes import events_for
from factory.records import bind_document, parse_application
from factory.scheduler import WorkingCalendar
from factory.wire import (
    MAX_FRAME_BYTES,
    Control,
    Credit,
    Heartbeat,
    Hello,
    INTAKE_OUTCOMES,
    IntakeBatch,
    IntakeItem,
    IntakeReply,
    IntakeRequest,
    IntakeVerdicts,
    JobAccepted,
    JobDone,
    JobOffer,
    JobRef,
    JobRefused,
    Message,
    QaBatch,
    QaItem,
    QaVerdicts,
    Reconcile,
    ReconcileReport,
    Refused,
    Reregister,
    Welcome,
    decode_frame,
    encode,
)

__all__ = ["ControllerSettings", "Controller"]

_INDEX = re.compile(r"\[\d+\]")

_MODE_EVENTS = {"machine_paused": "paused", "machine_draining": "draining", "machine_resumed": "running"}
"""Station events (written by the panel) that set a machine's mode; only running machines get jobs."""
_MODE_CONTROL = {"paused": "pause", "draining": "drain", "running": "resume"}

_QUIET = frozenset({
    (JobState.PRINTING.value, "accepted"), (JobState.PRINTING.value, "pending"),
    (JobState.NEEDS_RECONCILE.value, "pending"),
})
"""News that changes nothing and is no surprise (a repeated acceptance, a job still on the device)."""

log = logging.getLogger("factory.pipeline.controller")


@dataclass(frozen=True, slots=True, kw_only=True)
class ControllerSettings:
    endpoint: str = "tcp://127.0.0.1:5555"
    """Where the ROUTER binds (``tcp://127.0.0.1:*`` picks a free port)."""
    heartbeat_s: float = 1.0
    liveness: int = 3
    """Heartbeats a station may miss before it is taken for dead."""
    lease_s: float = 60.0
    """Lease written with each dispatch."""
    reconcile_grace_s: float = 30.0
    """How long the jobs of a machine whose worker died wait for it to come back and reconcile
    before they go to needs_reconcile (an operator then decides; they are never requeued blindly)."""
    qa_batch_size: int = 16
    qa_timeout_s: float = 120.0
    """A QA batch not answered by then is offered again (QA is idempotent)."""
    auto_dispatch: bool = True
    """Dispatch passed and approved documents (pick-up list or mail manifest) as they come."""
    max_frames: int = 2000
    """Frames handled per ledger transaction."""
    refresh_s: float = 0.5
    """How often to pick up what other processes changed in the ledger: applications queued by the panel
    (green channel, a reviewer's reprint) or an operator, and machines paused, drained or resumed."""
    station: str = "controller"
    intake_qa: bool = False
    """Run the before-printing checks: intake stores applications in ``accepted`` and the QA workers check
    their photo and signature (``intake_batch``) before they are queued, flagged for a reviewer or returned to
    their acceptance point. Off: intake queues them at once."""


@dataclass(slots=True)
class _Peer:
    identity: bytes
    role: str
    station: str
    incarnation: str
    last_heard: float
    pool: str | None = None
    device_state: str = ""
    blanks_left: int = -1
    connected_at: float = 0.0


@dataclass(slots=True)
class _Batch:
    identity: bytes
    job_ids: list[str]
    sent_at: float
    stage: str = "printed"
    """printed (a qa_batch) or intake (an intake_batch)."""


class _News(NamedTuple):
    """A printer's report about one job, applied with the rest of the batch."""

    station: str
    job_id: str
    attempt: int
    outcome: str
    blank_serial: str
    reason: str
    page: str
    issued_on: str


@dataclass(slots=True)
class _Outbox:
    messages: list[tuple[bytes, Message]] = field(default_factory=list)

    def put(self, identity: bytes, message: Message) -> None:
        self.messages.append((identity, message))


class Controller:
    """The ROUTER loop. Build it, ``bind()``, then ``run()`` (or ``step()`` from a test)."""

    def __init__(
        self,
        ledger: Ledger,
        config: Config,
        calendar: WorkingCalendar,
        settings: ControllerSettings = ControllerSettings(),
        *,
        keys: ServerKeys | None = None,
        context: zmq.Context | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.ledger = ledger
        self.config = config
        self.calendar = calendar
        self.settings = settings
        self.keys = keys
        self.clock = clock
        self.incarnation = secrets.token_hex(6)
        self.stats: Counter[str] = Counter()
        self._own_context = context is None
        self._context = context or zmq.Context()
        self._auth = None
        self._socket: zmq.Socket | None = None
        self._msg_ids = itertools.count(1)
        self._pools = {m.id: m.pool for m in config.line.machines}
        self._peers: dict[bytes, _Peer] = {}
        self._stations: dict[str, bytes] = {}
        self._credits: dict[bytes, int] = {}
        self._dead_since: dict[str, float] = {}
        self._qa_pending: deque[str] = deque()
        self._qa_out: dict[str, str] = {}
        self._batches: dict[str, _Batch] = {}
        self._news: list[_News] = []
        self._last_heartbeat = 0.0
        self._last_dispatch = 0.0
        self._warned: Counter[str] = Counter()
        self.endpoint = ""
        now = clock()
        self._modes: dict[str, str] = {}
        self._last_refresh = now
        self._station_watermark = 0
        self._apply_station_events(ledger.station_events(names=_MODE_EVENTS))
        self._queue = JobQueue(ledger.queued_jobs())
        self._qa_pending.extend(job.application_id for job in ledger.printed_jobs())
        self._qa_known = set(self._qa_pending)
        self._intake_pending: deque[str] = deque()
        self._intake_out: dict[str, str] = {}
        self._read_accepted()
        for job in ledger.in_flight():
            # Their workers must say hello and reconcile within the grace, as if they had just died.
            self._dead_since.setdefault(job.machine, now)
        log.info("controller %s: %d awaiting intake QA, %d queued, %d printed awaiting QA, machines with jobs out: %s",
                 self.incarnation, len(self._intake_pending), len(self._queue), len(self._qa_pending),
                 sorted(self._dead_since) or "none")

    def _read_accepted(self) -> None:
        """Applications waiting in ``accepted`` for the before-printing checks, read back from the ledger."""
        self._intake_pending = deque()
        self._intake_out.clear()
        if not self.settings.intake_qa:
            return
        self._intake_pending.extend(self.ledger.accepted_ids())

    # ------------------------------------------------------------------ sockets

    def bind(self) -> str:
        """Bind the ROUTER; returns the endpoint actually bound (with the port chosen for ``*``)."""
        socket = self._context.socket(zmq.ROUTER)
        socket.setsockopt(zmq.LINGER, 0)
        socket.setsockopt(zmq.ROUTER_MANDATORY, 1)  # an offer to a vanished worker fails loudly: requeue it
        socket.setsockopt(zmq.MAXMSGSIZE, MAX_FRAME_BYTES)
        socket.setsockopt(zmq.SNDHWM, 10_000)
        socket.setsockopt(zmq.RCVHWM, 100_000)
        if self.keys is not None:
            self._auth = start_authenticator(self._context, self.keys)
            secure_server(socket, self.keys)
        socket.bind(self.settings.endpoint)
        self._socket = socket
        self.endpoint = socket.getsockopt_string(zmq.LAST_ENDPOINT)
        log.info("controller listening on %s (%s)", self.endpoint, "CURVE" if self.keys else "NO ENCRYPTION")
        return self.endpoint

    def close(self) -> None:
        if self._socket is not None:
            self._socket.close(linger=0)
            self._socket = None
        if self._auth is not None:
            self._auth.stop()
            self._auth = None
        if self._own_context:
            self._context.term()

    # ------------------------------------------------------------------ the loop

    def run(self, should_stop: Callable[[], bool] = lambda: False,
            between_steps: Callable[[float], None] | None = None) -> None:
        """Serve until ``should_stop()`` is true (checked at least every 100 ms).

        ``between_steps(now)`` runs after each step, outside any transaction, in
        this thread (the one that owns the ledger): metrics snapshots, panels.
        """
        if self._socket is None:
            self.bind()
        while not should_stop():
            self.step(0.1)
            if between_steps is not None:
                between_steps(self.clock())

    def step(self, timeout_s: float = 0.1) -> int:
        """One turn of the loop: returns the number of frames handled."""
        assert self._socket is not None, "bind() first"
        frames = self._receive(timeout_s)
        now = self.clock()
        outbox = _Outbox()
        try:
            with self.ledger.transaction():
                if now - self._last_refresh >= self.settings.refresh_s:
                    self._refresh(now, outbox)
                for frame in frames:
                    self._handle(frame, now, outbox)
                self._apply_news(now)
                self._housekeeping(now, outbox)
                self._offer_jobs(now, outbox)
                self._feed_qa(now, outbox)
                if self.settings.auto_dispatch and now - self._last_dispatch >= 1.0:
                    self._dispatch_documents(now)
                    self._last_dispatch = now
        except Exception:  # a bug or a broken disk: the batch is rolled back; resync from the ledger
            self._news.clear()
            self.stats["batch_failed"] += 1
            log.exception("controller: batch of %d frames rolled back; resynchronising from the ledger", len(frames))
            self._resync(now)
            return len(frames)
        self._send(outbox, now)
        if now - self._last_heartbeat >= self.settings.heartbeat_s:
            self._last_heartbeat = now
            beat = Heartbeat()
            for identity in list(self._peers):
                self._send_one(identity, beat, now)
        return len(frames)

    def _receive(self, timeout_s: float) -> list[list[zmq.Frame]]:
        socket = self._socket
        frames: list[list[zmq.Frame]] = []
        if not socket.poll(int(timeout_s * 1000), zmq.POLLIN):
            return frames
        limit = self.settings.max_frames
        while len(frames) < limit:
            try:
                frames.append(socket.recv_multipart(zmq.NOBLOCK, copy=False))
            except zmq.Again:
                break
        return frames

    def _resync(self, now: float) -> None:
        """After a rolled-back batch: rebuild every cache from the ledger and make every station say hello again."""
        self._queue = JobQueue(self.ledger.queued_jobs())
        self._qa_pending = deque(job.application_id for job in self.ledger.printed_jobs())
        self._qa_known = set(self._qa_pending)
        self._qa_out.clear()
        self._read_accepted()
        self._batches.clear()
        for peer in list(self._peers.values()):
            self._send_one(peer.identity, Reregister(reason="controller resynchronised"), now)
            self._forget(peer, now, event=None)

    # ------------------------------------------------------------------ frames

    def _drop(self, reason: str, detail: str = "") -> None:
        self.stats["dropped"] += 1
        self.stats[f"dropped:{reason}"] += 1
        count = self._warned[reason] = self._warned[reason] + 1
        if count <= 5 or count % 1000 == 0:
            log.warning("controller: dropped a frame (%s%s) [%d so far]", reason, f": {detail}" if detail else "",
                        count)

    def _handle(self, parts: list[zmq.Frame], now: float, outbox: _Outbox) -> None:
        self.stats["frames_in"] += 1
        if len(parts) != 2:
            self._drop("envelope", f"{len(parts)} parts")
            return
        identity = parts[0].bytes
        try:
            frame = decode_frame(parts[1].bytes)
        except WireError as err:
            # List indices out of the counter's key: a hostile sender must not grow it without bound.
            self._drop(f"wire:{_INDEX.sub('[]', err.field)}", err.reason)
            return
        message = frame.message
        self.stats[f"in:{frame.kind}"] += 1
        peer = self._peers.get(identity)
        if isinstance(message, Hello):
            self._hello(identity, message, self._user_id(parts[1]), now, outbox)
            return
        if peer is None:
            if not isinstance(message, Heartbeat):
                self._drop("unknown_peer", frame.kind)
            outbox.put(identity, Reregister(reason="unknown station: say hello"))
            return
        peer.last_heard = now
        try:
            self._dispatch_message(peer, message, now, outbox)
        except (InvalidField, InvalidRecord, LedgerError) as err:
            # Checked before anything is written (Ledger.apply), so the rest of the batch stands.
            self._drop("refused_change", f"{peer.station} {frame.kind}: {err}")

    def _user_id(self, frame: zmq.Frame) -> str | None:
        if self.keys is None:
            return None
        try:
            return frame.get("User-Id")
        except (zmq.ZMQError, KeyError):
            return None

    def _dispatch_message(self, peer: _Peer, message: Message, now: float, outbox: _Outbox) -> None:
        if isinstance(message, Heartbeat):
            peer.device_state, peer.blanks_left = message.state, message.blanks_left
        elif isinstance(message, Credit):
            self._credits = grant(self._credits, peer.identity, message.slots)
        elif peer.role == "printer" and isinstance(message, JobDone):
            self._device_news(peer, message.job_id, message.attempt, "executed" if message.ok else "failed",
                              message.blank_serial, message.reason, message.page, message.issued_on, now)
            if message.credit:
                self._credits = grant(self._credits, peer.identity, message.credit)
        elif peer.role == "printer" and isinstance(message, JobAccepted):
            self._device_news(peer, message.job_id, message.attempt, "accepted", message.blank_serial, "", "", "", now)
        elif peer.role == "printer" and isinstance(message, JobRefused):
            self._device_news(peer, message.job_id, message.attempt, "refused", "", message.reason, "", "", now)
            if message.credit:
                self._credits = grant(self._credits, peer.identity, message.credit)
        elif peer.role == "printer" and isinstance(message, ReconcileReport):
            for item in message.items:
                self._device_news(peer, item.job_id, item.attempt, item.outcome, item.blank_serial, item.reason,
                                  item.page, item.issued_on, now)
            self.stats["reconciled"] += len(message.items)
        elif peer.role == "qa" and isinstance(message, QaVerdicts):
            self._verdicts(peer, message, now)
        elif peer.role == "qa" and isinstance(message, IntakeVerdicts):
            self._intake_verdicts(peer, message, now)
        elif peer.role == "intake" and isinstance(message, IntakeRequest):
            outbox.put(peer.identity, self._intake(peer, message, now))
        else:
            self._drop("unexpected", f"{message.kind} from {peer.role} {peer.station}")

    # ------------------------------------------------------------------ stations

    def _hello(self, identity: bytes, hello: Hello, user_id: str | None, now: float, outbox: _Outbox) -> None:
        if self.keys is not None and user_id != hello.station:
            self.stats["refused"] += 1
            log.warning("controller: refused %s: its key belongs to %r", hello.station, user_id)
            outbox.put(identity, Refused(reason=f"station {hello.station!r} must use its own key (this key is "
                                                f"{user_id!r})"))
            return
        if hello.role not in ("printer", "qa", "intake"):
            outbox.put(identity, Refused(reason=f"unknown role {hello.role!r}"))
            return
        pool = None
        if hello.role == "printer":
            pool = self._pools.get(hello.station)
            if pool is None:
                self.stats["refused"] += 1
                outbox.put(identity, Refused(reason=f"machine {hello.station!r} is not in configs/line.toml"))
                return
        old = self._peers.get(identity)
        if old is None and hello.role != "intake":  # several intake clients may share one key; stations may not
            old = self._peers.get(self._stations.get(hello.station, b""))
        if old is not None:
            self._forget(old, now, event="replaced")
        peer = _Peer(identity, hello.role, hello.station, hello.incarnation, now, pool=pool, connected_at=now)
        self._peers[identity] = peer
        if hello.role != "intake":
            self._stations[hello.station] = identity
        self._credits[identity] = 0
        outbox.put(identity, Welcome(controller=self.incarnation, heartbeat_s=self.settings.heartbeat_s,
                                     liveness=self.settings.liveness))
        if hello.role != "intake":
            self.ledger.record_station_event(hello.station, "connected", now=now, machine=hello.station
                                             if pool else None, detail={"incarnation": hello.incarnation,
                                                                        "pid": hello.pid, "slots": hello.slots})
        if hello.role == "printer":
            self._dead_since.pop(hello.station, None)
            jobs = self.ledger.in_flight(hello.station, with_reconcile=True)
            outbox.put(identity, Reconcile(jobs=tuple(
                JobRef(job_id=j.application_id, attempt=j.attempt, state=j.state, blank_serial=j.blank_serial or "")
                for j in jobs)))
            mode = self._modes.get(hello.station, "running")
            if mode != "running":
                outbox.put(identity, Control(action=_MODE_CONTROL[mode]))
        log.info("controller: %s %s connected (incarnation %s)", hello.role, hello.station, hello.incarnation)

    def _forget(self, peer: _Peer, now: float, *, event: str | None) -> None:
        self._peers.pop(peer.identity, None)
        self._credits.pop(peer.identity, None)
        if self._stations.get(peer.station) == peer.identity:
            del self._stations[peer.station]
        if peer.role == "printer":
            self._dead_since.setdefault(peer.station, now)
        for batch_id, batch in list(self._batches.items()):
            if batch.identity == peer.identity:
                self._release_batch(batch_id)
        if event and peer.role != "intake":
            self.ledger.record_station_event(peer.station, event, now=now,
                                             machine=peer.station if peer.pool else None)

    def _housekeeping(self, now: float, outbox: _Outbox) -> None:
        pulses = {identity: Pulse(peer.last_heard, self.settings.heartbeat_s, self.settings.liveness)
                  for identity, peer in self._peers.items()}
        for identity in dead_peers(pulses, now):
            peer = self._peers[identity]
            log.warning("controller: %s %s is silent: taken for dead", peer.role, peer.station)
            self.stats["peers_lost"] += 1
            self._forget(peer, now, event="lost")
        grace = self.settings.reconcile_grace_s
        for machine, since in list(self._dead_since.items()):
            if now - since < grace or machine in self._stations:
                continue
            del self._dead_since[machine]
            for job in self.ledger.in_flight(machine):
                self.ledger.apply(job.application_id, Event.LEASE_EXPIRED, attempt=job.attempt,
                                  station=self.settings.station, now=now,
                                  reason=f"worker of {machine} gone for {grace:g} s")
                self.stats["lease_expired"] += 1
                log.warning("controller: %s on %s needs reconciliation (worker gone)", job.application_id, machine)
        for batch_id, batch in list(self._batches.items()):
            if now - batch.sent_at > self.settings.qa_timeout_s:
                self._release_batch(batch_id)
                self.stats["qa_batches_timed_out"] += 1

    # ------------------------------------------------------------------ printing

    def _device_news(self, peer: _Peer, job_id: str, attempt: int, outcome: str, blank_serial: str, reason: str,
                     page: str, issued_on: str, now: float) -> None:
        self._news.append(_News(peer.station, job_id, attempt, outcome, blank_serial, reason, page, issued_on))

    def _apply_news(self, now: float) -> None:
        """Turn the batch's device reports into ledger requests (``outcomes.events_for``) and apply them at once."""
        if not self._news:
            return
        news, self._news = self._news, []
        rows = self.ledger.read_rows(n.job_id for n in news)
        states = {job_id: (row.state, row.attempt, row.machine) for job_id, row in rows.items()}
        requests: list[Request] = []
        for item in news:
            current = states.get(item.job_id)
            if current is None:
                self._drop("unknown_job", f"{item.station}: {item.job_id}")
                continue
            state, ledger_attempt, machine = current
            if machine != item.station or item.attempt != ledger_attempt:
                self._drop("stale_news", f"{item.station}: {item.job_id} attempt {item.attempt} {item.outcome} "
                                         f"(ledger: {machine}, attempt {ledger_attempt}, {state})")
                continue
            events = events_for(state, item.outcome)
            if not events:
                if (state, item.outcome) not in _QUIET:
                    self._drop("stale_news", f"{item.station}: {item.job_id} {item.outcome} while {state}")
                continue
            requests.append(Request(
                item.job_id, events, item.station, attempt=item.attempt, blank_serial=item.blank_serial or None,
                reason=item.reason or None, page=item.page or None, issued_on=item.issued_on or None,
            ))
            for event in events:  # later news about the same job in this batch sees the state this leads to
                state = next_state(state, event, job_id=item.job_id)
            states[item.job_id] = (state, ledger_attempt, machine)
            self.stats[f"news:{item.outcome}"] += 1
        requeued: list[str] = []
        for request, result in zip(requests, self.ledger.apply_batch(requests, now=now, rows=rows)):
            if isinstance(result, Exception):
                self._drop("refused_change", f"{request.station}: {request.application_id}: {result}")
                continue
            final = result[-1].to_state
            if final == JobState.QUEUED:
                requeued.append(request.application_id)
            elif final == JobState.PRINTED:
                self._await_qa(request.application_id)
        for job in self.ledger.queued_jobs_of(requeued):
            self._queue.push(job)

    def _offer_jobs(self, now: float, outbox: _Outbox) -> None:
        printers = {identity: peer.pool for identity, peer in self._peers.items()
                    if peer.role == "printer" and self._modes.get(peer.station, "running") == "running"}
        credits = {identity: n for identity, n in self._credits.items() if identity in printers and n > 0}
        if not credits:
            return
        picks: list[tuple[bytes, str]] = []
        for identity, pool in plan_offers(credits, printers, self._queue.waiting()):
            job_id = self._queue.pop(pool)
            if job_id is not None:
                picks.append((identity, job_id))
        if not picks:
            return
        requests = [Request(job_id, (Event.LEASED.value,), self.settings.station, machine=self._peers[i].station,
                            lease_s=self.settings.lease_s) for i, job_id in picks]
        results = self.ledger.apply_batch(requests, now=now)
        leased = [(identity, job_id, result[-1].attempt) for (identity, job_id), result in zip(picks, results)
                  if not isinstance(result, Exception)]
        for (_, job_id), result in zip(picks, results):
            if isinstance(result, Exception):  # moved by someone else (the panel): the queue was stale
                self._drop("lease_refused", f"{job_id}: {result}")
        records = self.ledger.records_of(job_id for _, job_id, _ in leased)
        lease_end = now + self.settings.lease_s
        for identity, job_id, attempt in leased:
            self._credits[identity] -= 1  # plan_offers never plans beyond the credit granted
            record = records[job_id]
            outbox.put(identity, JobOffer(job_id=job_id, attempt=attempt, record_json=record,
                                          green='"service_class":"green"' in record, lease_expires_at=lease_end))
        self.stats["offered"] += len(leased)

    def _undelivered_offer(self, offer: JobOffer, now: float) -> None:
        """The worker vanished before the offer left: its device never saw it, so the job returns to the queue."""
        try:
            with self.ledger.transaction():
                change = self.ledger.apply(offer.job_id, Event.NOT_ACCEPTED, attempt=offer.attempt,
                                           station=self.settings.station, now=now, reason="offer not delivered")
            self._queue.push(self.ledger.queued_job(change.application_id))
            self.stats["offers_undelivered"] += 1
        except LedgerError as err:
            log.warning("controller: undelivered offer %s: %s", offer.job_id, err)

    # ------------------------------------------------------------------ other processes' changes

    def _await_qa(self, job_id: str) -> None:
        if job_id not in self._qa_known and job_id not in self._qa_out:
            self._qa_known.add(job_id)
            self._qa_pending.append(job_id)

    def _refresh(self, now: float, outbox: _Outbox) -> None:
        """Pick up what the panel, a reviewer or an operator changed in the ledger since the last look."""
        since = self._last_refresh - 1.0  # a margin for clocks of other processes
        self._last_refresh = now
        for job in self.ledger.queued_since(since):
            if job.application_id not in self._queue:
                self._queue.push(job)
                self.stats["picked_up_queued"] += 1
        for job_id in self.ledger.printed_since(since):
            self._await_qa(job_id)
        changed = self._apply_station_events(self.ledger.station_events(self._station_watermark,
                                                                        names=_MODE_EVENTS))
        for machine in changed:
            identity = self._stations.get(machine)
            if identity is not None:
                outbox.put(identity, Control(action=_MODE_CONTROL[self._modes[machine]]))

    def _apply_station_events(self, events: list[dict]) -> set[str]:
        changed = set()
        for event in events:
            self._station_watermark = max(self._station_watermark, event["event_id"])
            machine, mode = event["machine"], _MODE_EVENTS.get(event["event"])
            if machine and mode and self._modes.get(machine, "running") != mode:
                self._modes[machine] = mode
                changed.add(machine)
                log.info("controller: machine %s is now %s (%s)", machine, mode, event["station"])
        return changed

    # ------------------------------------------------------------------ QA and dispatch

    def _feed_qa(self, now: float, outbox: _Outbox) -> None:
        self._feed_intake(now, outbox)  # first: printers wait on these
        if not self._qa_pending:
            return
        for identity, peer in self._peers.items():
            if peer.role != "qa":
                continue
            while self._credits.get(identity, 0) > 0 and self._qa_pending:
                items: list[QaItem] = []
                while self._qa_pending and len(items) < self.settings.qa_batch_size:
                    job_id = self._qa_pending.popleft()
                    self._qa_known.discard(job_id)
                    if job_id in self._qa_out:
                        continue
                    item = self._qa_item(job_id)
                    if item is not None:
                        items.append(item)
                if not items:
                    break
                batch_id = f"{self.incarnation}-{next(self._msg_ids)}"
                self._batches[batch_id] = _Batch(identity, [i.job_id for i in items], now)
                for item in items:
                    self._qa_out[item.job_id] = batch_id
                self._credits = spend(self._credits, identity)
                outbox.put(identity, QaBatch(batch_id=batch_id, items=tuple(items)))
                self.stats["qa_batches"] += 1

    def _feed_intake(self, now: float, outbox: _Outbox) -> None:
        if not self._intake_pending:
            return
        for identity, peer in self._peers.items():
            if peer.role != "qa":
                continue
            while self._credits.get(identity, 0) > 0 and self._intake_pending:
                ids: list[str] = []
                while self._intake_pending and len(ids) < self.settings.qa_batch_size:
                    job_id = self._intake_pending.popleft()
                    if job_id not in self._intake_out and job_id not in ids:
                        ids.append(job_id)
                states = self.ledger.job_states(ids)
                ids = [i for i in ids if states.get(i, ("",))[0] == JobState.ACCEPTED]  # a reviewer may have moved it
                if not ids:
                    continue
                records = self.ledger.records_of(ids)
                items = tuple(IntakeItem(job_id=i, record=json.loads(records[i])) for i in ids)
                batch_id = f"{self.incarnation}-{next(self._msg_ids)}"
                self._batches[batch_id] = _Batch(identity, ids, now, stage="intake")
                for job_id in ids:
                    self._intake_out[job_id] = batch_id
                self._credits = spend(self._credits, identity)
                outbox.put(identity, IntakeBatch(batch_id=batch_id, items=items))
                self.stats["intake_batches"] += 1

    def _intake_verdicts(self, peer: _Peer, message: IntakeVerdicts, now: float) -> None:
        batch = self._batches.pop(message.batch_id, None)
        for verdict in message.verdicts:
            if verdict.outcome not in INTAKE_OUTCOMES:
                self._drop("bad_intake_outcome", f"{peer.station}: {verdict.job_id}: {verdict.outcome!r}")
                continue
            self._intake_out.pop(verdict.job_id, None)  # answered: not sent again
            try:
                self.ledger.record_intake(verdict.job_id, verdict.outcome, checks=verdict.checks,
                                          reasons=verdict.reasons, station=peer.station, now=now)
            except (LedgerError, InvalidField) as err:  # already decided (a batch answered twice), or no reasons
                self._drop("stale_verdict", f"{verdict.job_id}: {err}")
                continue
            self.stats[f"intake_{verdict.outcome}"] += 1
            if verdict.outcome == "passed":
                self._queue.push(self.ledger.queued_job(verdict.job_id))
        if batch is not None:
            self._intake_again(batch.job_ids)

    def _intake_again(self, job_ids: list[str]) -> None:
        """Applications of an intake batch still out without a verdict go back in line for the QA workers."""
        for job_id in job_ids:
            if self._intake_out.pop(job_id, None) is not None:
                self._intake_pending.append(job_id)

    def _qa_item(self, job_id: str) -> QaItem | None:
        job = self.ledger.printed_job(job_id)
        if job is None:
            return None
        try:
            app = parse_application(json.loads(job.record), self.config, where=job_id)
            issued = dt.date.fromisoformat(job.issued_on) if job.issued_on else dt.datetime.fromtimestamp(
                job.printed_at or self.clock(), self.config.line.tz).date()
            record = bind_document(app, job.blank_serial or "", issued, self.config).to_json()
        except (InvalidField, InvalidRecord, ValueError) as err:
            # The record as printed cannot be rebuilt (a device named an impossible serial): QA flags it.
            record = json.loads(job.record)
            record["_problem"] = str(err)
        return QaItem(job_id=job_id, attempt=job.attempt, record=record, blank_serial=job.blank_serial or "",
                      page=job.page or "", machine=job.machine or "")

    def _release_batch(self, batch_id: str) -> None:
        batch = self._batches.pop(batch_id, None)
        if batch is None:
            return
        if batch.stage == "intake":
            self._intake_again(batch.job_ids)
            return
        for job_id in batch.job_ids:
            if self._qa_out.pop(job_id, None) is not None:
                self._await_qa(job_id)

    def _verdicts(self, peer: _Peer, message: QaVerdicts, now: float) -> None:
        batch = self._batches.pop(message.batch_id, None)
        for verdict in message.verdicts:
            self._qa_out.pop(verdict.job_id, None)
            try:
                self.ledger.record_qa(verdict.job_id, verdict.attempt, passed=verdict.passed, checks=verdict.checks,
                                      reasons=verdict.reasons, station=peer.station, now=now,
                                      mrz_read=verdict.mrz_read)
                self.stats["qa_passed" if verdict.passed else "qa_flagged"] += 1
            except LedgerError as err:  # already decided (a batch answered twice), or a reprinted job
                self._drop("stale_verdict", f"{verdict.job_id}: {err}")
        if batch is not None:
            answered = {v.job_id for v in message.verdicts}
            for job_id in batch.job_ids:
                if job_id not in answered:
                    self._qa_out.pop(job_id, None)
                    self._await_qa(job_id)

    def _dispatch_documents(self, now: float) -> None:
        tz = self.config.line.tz
        day = dt.datetime.fromtimestamp(now, tz).date().isoformat()
        for job_id in self.ledger.ready_to_dispatch(500):
            row = self.ledger.application(job_id)
            manifest = f"mail-{day}" if row["delivery"] == "mail" else f"pickup-{row['acceptance_point']}-{day}"
            self.ledger.dispatch(job_id, manifest=manifest, station=self.settings.station, now=now)
            self.stats["dispatched"] += 1

    # ------------------------------------------------------------------ intake

    def _intake(self, peer: _Peer, request: IntakeRequest, now: float) -> IntakeReply:
        rows = [(f"record {i}", record) for i, record in enumerate(request.records, 1)]
        try:
            admissions, rejections = prepare_intake(rows, self.config, self.calendar)
            result = self.ledger.add_applications(admissions, station=f"intake:{peer.station}", now=now,
                                                  hold=self.settings.intake_qa)
        except FactoryError as err:
            return IntakeReply(request_id=request.request_id, error=str(err))
        for job_id in result.added:
            if self.settings.intake_qa:
                self._intake_pending.append(job_id)  # to the QA workers first; never blocks this loop
            else:
                self._queue.push(self.ledger.queued_job(job_id))
        rejected = tuple(r.as_dict() for r in (*rejections, *result.rejected))
        self.stats["intake_added"] += len(result.added)
        self.stats["intake_rejected"] += len(rejected)
        return IntakeReply(request_id=request.request_id, added=len(result.added),
                           already_present=len(result.already_present), rejected=rejected)

    # ------------------------------------------------------------------ sending

    def _send_one(self, identity: bytes, message: Message, now: float) -> bool:
        try:
            self._socket.send_multipart([identity, encode(message, msg_id=next(self._msg_ids), sent_at=now)],
                                        zmq.NOBLOCK)
            self.stats["frames_out"] += 1
            return True
        except zmq.ZMQError as err:  # EHOSTUNREACH (gone) or EAGAIN (its pipe is full)
            self.stats[f"send_failed:{zmq.strerror(err.errno)}"] += 1
            return False

    def _send(self, outbox: _Outbox, now: float) -> None:
        for identity, message in outbox.messages:
            if self._send_one(identity, message, now):
                continue
            if isinstance(message, JobOffer):
                self._undelivered_offer(message, now)
            elif isinstance(message, QaBatch):
                self._release_batch(message.batch_id)
            peer = self._peers.get(identity)
            if peer is not None and isinstance(message, (JobOffer, QaBatch)):
                with self.ledger.transaction():
                    self._forget(peer, now, event="lost")

    # ------------------------------------------------------------------ for panels and tests

    def reload(self) -> None:
        """Read the queue and the printed documents awaiting QA again from the ledger (after bulk changes
        made through another connection; the periodic refresh would also find them, within ``refresh_s``)."""
        self._queue = JobQueue(self.ledger.queued_jobs())
        for job in self.ledger.printed_jobs():
            self._await_qa(job.application_id)

    def request_control(self, station: str, action: str) -> bool:
        """Send pause, resume or drain to a machine's worker now; False when it is not connected."""
        identity = self._stations.get(station)
        if identity is None:
            return False
        return self._send_one(identity, Control(action=action), self.clock())

    def status(self) -> dict:
        """A snapshot for panels and logs: stations, credit, queue by pool, QA in progress, counters."""
        return {
            "incarnation": self.incarnation,
            "endpoint": self.endpoint,
            "stations": {
                p.station: {"role": p.role, "pool": p.pool, "credit": self._credits.get(i, 0),
                            "device_state": p.device_state, "blanks_left": p.blanks_left,
                            "connected_at": p.connected_at}
                for i, p in self._peers.items()
            },
            "queue": self._queue.waiting(),
            "intake_pending": len(self._intake_pending),
            "intake_out": len(self._intake_out),
            "qa_pending": len(self._qa_pending),
            "qa_out": len(self._qa_out),
            "machines_awaiting_worker": sorted(self._dead_since),
            "machine_modes": dict(self._modes),
            "stats": dict(self.stats),
            "pid": os.getpid(),
        }
