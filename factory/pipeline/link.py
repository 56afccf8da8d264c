"""A station's link to the controller: one DEALER, hello, heartbeats, reconnection (Paranoid Pirate).

``Link`` owns the socket and the liveness of the controller as seen from a
station (printer worker, QA worker, intake client):

- ``open()`` connects (CURVE when keys are given) and says hello;
- ``receive(timeout_s)`` returns the decoded messages for the station; a
  frame that does not decode is counted, logged and dropped; ``heartbeat``
  frames only feed the liveness; ``welcome`` marks the link registered and
  resets the back-off; ``reregister`` (the controller restarted) says hello
  again on the same socket;
- ``tick()`` sends a heartbeat every interval and, when the controller has
  been silent for ``liveness`` intervals, closes the socket and reconnects
  after a back-off doubling from 1 s to 32 s (``liveness.next_backoff``).

The caller learns of a (re)registration from the ``Welcome`` message it
receives, and must then restate what it holds (credit, reconcile reports):
the controller forgets everything about a station that said hello again.
"""

from __future__ import annotations

import itertools
import logging
import os
import secrets
import time
from collections import Counter
from collections.abc import Callable

import zmq

from factory.errors import FactoryError, WireError
from factory.pipeline.keys import ClientKeys, secure_client
from factory.pipeline.liveness import Backoff, Pulse, is_alive, next_backoff, reset_backoff
from factory.wire import MAX_FRAME_BYTES, Heartbeat, Hello, Message, Refused, Reregister, Welcome, decode_frame, encode

__all__ = ["Link", "StationRefused"]

log = logging.getLogger("factory.pipeline.link")


class StationRefused(FactoryError):
    """The controller refused this station (unknown machine, wrong key)."""


class Link:
    def __init__(
        self,
        endpoint: str,
        *,
        role: str,
        station: str,
        slots: int = 0,
        keys: ClientKeys | None = None,
        context: zmq.Context | None = None,
        heartbeat_s: float = 1.0,
        liveness: int = 3,
        heartbeat: Callable[[], Heartbeat] = Heartbeat,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.endpoint = endpoint
        self.role = role
        self.station = station
        self.slots = slots
        self.keys = keys
        self.heartbeat_s = heartbeat_s
        self.liveness = liveness
        self.make_heartbeat = heartbeat
        self.clock = clock
        self.incarnation = secrets.token_hex(6)
        self.stats: Counter[str] = Counter()
        self.registered = False
        self.controller = ""
        self._own_context = context is None
        self._context = context or zmq.Context()
        self._socket: zmq.Socket | None = None
        self._msg_ids = itertools.count(1)
        self._pulse = Pulse(clock(), heartbeat_s, liveness)
        self._backoff = Backoff()
        self._retry_at = 0.0
        self._last_sent = 0.0

    # ------------------------------------------------------------------ socket life

    def open(self) -> None:
        """Connect and say hello (the controller answers ``welcome``, then whatever it needs)."""
        socket = self._context.socket(zmq.DEALER)
        socket.setsockopt(zmq.LINGER, 0)
        socket.setsockopt(zmq.MAXMSGSIZE, MAX_FRAME_BYTES)
        socket.setsockopt(zmq.RECONNECT_IVL, 200)
        socket.setsockopt(zmq.RECONNECT_IVL_MAX, 2000)
        if self.keys is not None:
            secure_client(socket, self.keys)
        socket.connect(self.endpoint)
        self._socket = socket
        self.registered = False
        now = self.clock()
        self._pulse = Pulse(now, self.heartbeat_s, self.liveness)
        self.send(self.hello())
        log.info("%s %s: connecting to %s", self.role, self.station, self.endpoint)

    def hello(self) -> Hello:
        return Hello(role=self.role, station=self.station, incarnation=self.incarnation, slots=self.slots,
                     pid=os.getpid())

    def close(self) -> None:
        if self._socket is not None:
            self._socket.close(linger=0)
            self._socket = None
        self.registered = False

    def terminate(self) -> None:
        self.close()
        if self._own_context:
            self._context.term()

    @property
    def is_open(self) -> bool:
        return self._socket is not None

    # ------------------------------------------------------------------ messages

    def send(self, message: Message) -> bool:
        """Send now; False when there is no connection to send on (the message is not queued)."""
        if self._socket is None:
            return False
        try:
            self._socket.send(encode(message, msg_id=next(self._msg_ids), sent_at=self.clock()), zmq.NOBLOCK)
        except zmq.Again:
            self.stats["send_dropped"] += 1
            return False
        self._last_sent = self.clock()
        return True

    def receive(self, timeout_s: float) -> list[Message]:
        """Messages for the station, waiting up to ``timeout_s`` for the first."""
        if self._socket is None:
            time.sleep(min(timeout_s, max(0.0, self._retry_at - self.clock())))
            return []
        out: list[Message] = []
        if not self._socket.poll(int(timeout_s * 1000), zmq.POLLIN):
            return out
        while True:
            try:
                data = self._socket.recv(zmq.NOBLOCK)
            except zmq.Again:
                break
            try:
                message = decode_frame(data).message
            except WireError as err:
                self.stats["dropped"] += 1
                if self.stats["dropped"] <= 5 or self.stats["dropped"] % 1000 == 0:
                    log.warning("%s %s: dropped a frame (%s)", self.role, self.station, err)
                continue
            self._pulse = Pulse(self.clock(), self.heartbeat_s, self.liveness)
            if isinstance(message, Heartbeat):
                continue
            if isinstance(message, Welcome):
                self.registered = True
                self.controller = message.controller
                self._backoff = reset_backoff(self._backoff)
                log.info("%s %s: registered with controller %s", self.role, self.station, message.controller)
            elif isinstance(message, Reregister):
                log.info("%s %s: the controller asks for hello (%s)", self.role, self.station, message.reason)
                self.registered = False
                self.send(self.hello())
                continue
            elif isinstance(message, Refused):
                raise StationRefused(f"{self.station}: refused by the controller: {message.reason}")
            out.append(message)
        return out

    def tick(self) -> None:
        """Heartbeat when due; reconnect with back-off when the controller went silent."""
        now = self.clock()
        if self._socket is None:
            if now >= self._retry_at:
                self.open()
            return
        if not is_alive(self._pulse, now):
            delay = self._backoff.delay_s
            log.warning("%s %s: controller silent for %.1f s; reconnecting in %.0f s", self.role, self.station,
                        now - self._pulse.last_heard, delay)
            self.stats["reconnects"] += 1
            self.close()
            self._retry_at = now + delay
            self._backoff = next_backoff(self._backoff)
            return
        if now - self._last_sent >= self.heartbeat_s:
            self.send(self.make_heartbeat())
