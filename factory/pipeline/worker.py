"""The printer worker: one per machine, between the controller (DEALER) and the device (``PrinterDriver``).

It grants the controller credit for the device's free slots, submits each
offered job to the device, and reports what the device does: ``job_accepted``
when the print starts (with the blank the device took), ``job_done`` when it
ends (executed on that blank, or failed and spoiled it), ``job_refused`` when
the device refuses the job before taking a blank.

It never guesses. After a (re)start or a reconnection the controller sends
``reconcile`` with the jobs the ledger says this machine holds; the worker
reads each from the device's job log (which survives worker crashes) and
reports: never received (the job returns to the queue), still queued or
printing (carry on), printed, failed. A device that cannot be reached is
asked again until ``device_timeout_s``; then the jobs it may hold are reported
``unknown`` and an operator decides. An offer whose submission timed out is
submitted again (submission is idempotent per job and attempt), never
reported refused, because the device may have taken it.

Credit: the device takes ``queue_limit`` jobs ahead of the one it prints, and
only in state Idle or Busy. The worker keeps ``credit granted and unused +
jobs waiting on the device <= queue_limit`` while the device is ready, and
grants nothing while it is paused, faulted, offline or out of blanks, or
before the reconcile report has gone out.
"""

from __future__ import annotations

import json
import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace

from factory.devices.driver import DeviceEvent, JobRecord, MachineState, PrinterDriver, PrintJob
from factory.errors import DeviceError, WireError
from factory.pipeline.link import Link
from factory.wire import (
    Control,
    Credit,
    Heartbeat,
    JobAccepted,
    JobDone,
    JobOffer,
    JobRefused,
    Message,
    Reconcile,
    ReconcileItem,
    ReconcileReport,
    Welcome,
)

__all__ = ["PrinterWorker", "reconcile_outcome", "REFUSALS_KEEPING_THE_SLOT"]

log = logging.getLogger("factory.pipeline.worker")

_READY = (MachineState.IDLE.value, MachineState.BUSY.value)
REFUSALS_KEEPING_THE_SLOT = frozenset({"invalid_job", "attempt_in_progress"})
"""Refusals about the job, not the machine: the slot stays free and its credit is granted back at once."""


def reconcile_outcome(records: tuple[JobRecord, ...], attempt: int) -> ReconcileItem | None:
    """What the device's job log says of ``attempt`` (pure); None when it never accepted it."""
    record = next((r for r in records if r.attempt == attempt), None)
    if record is None:
        return None
    if record.state == "executed":
        return ReconcileItem(job_id=record.job_id, attempt=attempt, outcome="printed", blank_serial=record.blank_serial,
                             page=record.page, issued_on=record.date_of_issue)
    if record.state == "failed":
        return ReconcileItem(job_id=record.job_id, attempt=attempt, outcome="failed",
                             blank_serial=record.blank_serial if record.spoiled else "", reason=record.reason)
    return ReconcileItem(job_id=record.job_id, attempt=attempt, outcome="pending", blank_serial=record.blank_serial)


@dataclass(slots=True)
class _Held:
    """A job this worker is responsible for."""

    job_id: str
    attempt: int
    stage: str
    """submitting (the device did not answer yet), queued (accepted, waiting), printing (started)."""
    offer: JobOffer | None = None
    blank_serial: str = ""


class PrinterWorker:
    """The worker's loop. ``run(should_stop)``, or ``step()`` from a test."""

    def __init__(
        self,
        link: Link,
        driver: PrinterDriver,
        *,
        device_timeout_s: float = 60.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.link = link
        self.driver = driver
        self.machine = link.station
        self.device_timeout_s = device_timeout_s
        self.clock = clock
        self.stats: Counter[str] = Counter()
        self._held: dict[tuple[str, int], _Held] = {}
        self._credit_out = 0
        self._reconciled = False
        self._pending_reconcile: Reconcile | None = None
        self._outbox: list[Message] = []
        self._device_state = ""
        self._blanks_left = -1
        self._queue_limit = 0
        self._after = 0
        self._synced = False
        self._reachable = False
        self._unreachable_since: float | None = None
        self._next_device_check = 0.0
        self._next_status = 0.0
        link.make_heartbeat = self._heartbeat
        self._refresh_status(first=True)

    # ------------------------------------------------------------------ device state

    def _heartbeat(self) -> Heartbeat:
        state = self._device_state if self._reachable else MachineState.OFFLINE.value
        return Heartbeat(state=state, blanks_left=self._blanks_left, in_flight=len(self._held))

    def _refresh_status(self, *, first: bool = False) -> bool:
        try:
            status = self.driver.status()
        except (DeviceError, WireError) as err:
            self._lost_device(err)
            return False
        if first or not self._synced:
            # History before this start is read through the job log (reconcile), not replayed as events.
            self._after = max(self._after, status.last_seq)
            self._synced = True
        self._device_state = status.state
        self._blanks_left = status.blanks_left
        self._queue_limit = status.queue_limit
        self._reached()
        self._next_status = self.clock() + 1.0
        return True

    def _reached(self) -> None:
        if not self._reachable:
            log.info("worker %s: device reachable (%s)", self.machine, self._device_state)
        self._reachable = True
        self._unreachable_since = None

    def _lost_device(self, err: Exception) -> None:
        now = self.clock()
        if self._reachable or self._unreachable_since is None:
            log.warning("worker %s: device unreachable (%s)", self.machine, err)
            self._unreachable_since = now
        self._reachable = False
        self._next_device_check = now + 0.5
        self.stats["device_unreachable"] += 1

    @property
    def ready(self) -> bool:
        return self._reachable and self._device_state in _READY

    # ------------------------------------------------------------------ the loop

    def run(self, should_stop: Callable[[], bool]) -> None:
        self.link.open()
        while not should_stop():
            self.step()

    def step(self) -> None:
        link = self.link
        link.tick()
        busy = bool(self._held)
        for message in link.receive(0.005 if busy else 0.05):
            self._on_message(message)
        now = self.clock()
        if self._reachable:
            self._poll_device()
        elif now >= self._next_device_check:
            self._refresh_status()
        if self._reachable:
            self._retry_pending()
            if now >= self._next_status:
                self._refresh_status()
        elif self._unreachable_since is not None and now - self._unreachable_since > self.device_timeout_s:
            self._give_up_on_device()
        self._grant_and_send()

    def _on_message(self, message: Message) -> None:
        if isinstance(message, Welcome):
            # A new registration: the controller forgot our credit; a reconcile follows.
            self._credit_out = 0
            self._reconciled = False
        elif isinstance(message, Reconcile):
            self._pending_reconcile = message
            if self._reachable:
                self._reconcile()
        elif isinstance(message, JobOffer):
            self._credit_out = max(0, self._credit_out - 1)
            self._submit(message)
        elif isinstance(message, Control):
            self._control(message.action)
        else:
            self.stats[f"ignored:{message.kind}"] += 1

    # ------------------------------------------------------------------ jobs

    def _submit(self, offer: JobOffer) -> None:
        key = (offer.job_id, offer.attempt)
        held = self._held.get(key)
        if held is not None and held.stage != "submitting":
            return  # offered twice (a resent offer): the device has it already
        if not self._reachable:
            # Do not block the loop on a silent device: submit when it answers again.
            self._held[key] = _Held(offer.job_id, offer.attempt, "submitting", offer=offer)
            return
        try:
            record = json.loads(offer.record_json)
        except ValueError as err:
            self._outbox.append(JobRefused(job_id=offer.job_id, attempt=offer.attempt, reason=f"invalid_job: {err}",
                                           credit=1))
            return
        try:
            acceptance = self.driver.submit(PrintJob(job_id=offer.job_id, attempt=offer.attempt, record=record))
        except (DeviceError, WireError) as err:
            # The device may or may not have the job: keep it and submit again (idempotent) when it answers.
            self._held[key] = _Held(offer.job_id, offer.attempt, "submitting", offer=offer)
            self._lost_device(err)
            return
        self._reached()
        if acceptance.accepted:
            self.stats["accepted"] += 1
            stored = acceptance.record
            if acceptance.duplicate and stored is not None and stored.state in ("executed", "failed"):
                self._held.pop(key, None)
                self._outbox.append(self._done_from_record(stored))
                return
            stage = "printing" if stored is not None and stored.state == "printing" else "queued"
            self._held[key] = _Held(offer.job_id, offer.attempt, stage, blank_serial=stored.blank_serial if stored else "")
            if stage == "printing" and acceptance.duplicate:
                # Its ``started`` event may be behind us: say it now. A fresh job's comes with the events.
                self._outbox.append(JobAccepted(job_id=offer.job_id, attempt=offer.attempt,
                                                blank_serial=stored.blank_serial))
            return
        self._held.pop(key, None)
        self.stats[f"refused:{acceptance.reason}"] += 1
        keeps_slot = acceptance.reason in REFUSALS_KEEPING_THE_SLOT
        reason = f"{acceptance.reason}: {acceptance.detail}" if acceptance.detail else acceptance.reason
        self._outbox.append(JobRefused(job_id=offer.job_id, attempt=offer.attempt, reason=reason,
                                       credit=1 if keeps_slot else 0))
        if keeps_slot:
            self._credit_out += 1
        else:
            self._refresh_status()  # the machine is not ready: learn its state before granting more

    def _done_from_record(self, record: JobRecord) -> JobDone:
        ok = record.state == "executed"
        return JobDone(job_id=record.job_id, attempt=record.attempt, ok=ok,
                       blank_serial=record.blank_serial if ok or record.spoiled else "", reason=record.reason,
                       page=record.page if ok else "", issued_on=record.date_of_issue if ok else "")

    def _poll_device(self) -> None:
        try:
            events = self.driver.events(after=self._after, wait_s=0.0)
        except (DeviceError, WireError) as err:
            self._lost_device(err)
            return
        if events:
            self._on_device_events(events)

    def _on_device_events(self, events: tuple[DeviceEvent, ...]) -> None:
        news: dict[tuple[str, int], Message] = {}
        for event in events:
            self._after = max(self._after, event.seq)
            if event.kind == "state":
                self._device_state = event.state
                continue
            if event.kind == "blanks_loaded":
                self._next_status = 0.0
                continue
            key = (event.job_id, event.attempt)
            held = self._held.get(key)
            if held is None:
                continue  # not ours (before this start: the reconcile covers it)
            if event.kind == "started":
                held.stage, held.blank_serial = "printing", event.blank_serial
                news[key] = JobAccepted(job_id=event.job_id, attempt=event.attempt, blank_serial=event.blank_serial)
            elif event.kind == "executed":
                del self._held[key]
                news[key] = JobDone(job_id=event.job_id, attempt=event.attempt, ok=True,
                                    blank_serial=event.blank_serial, page=event.page, issued_on=event.date_of_issue)
                self.stats["executed"] += 1
            elif event.kind == "failed":
                del self._held[key]
                # Started and failed in one poll: the controller records both from job_done.
                news[key] = JobDone(job_id=event.job_id, attempt=event.attempt, ok=False,
                                    blank_serial=event.blank_serial if event.spoiled else "", reason=event.reason)
                self.stats["failed"] += 1
        self._outbox.extend(news.values())

    def _retry_pending(self) -> None:
        if self._pending_reconcile is not None:
            self._reconcile()
        for held in [h for h in self._held.values() if h.stage == "submitting"]:
            if not self._reachable:
                return
            assert held.offer is not None
            self._submit(held.offer)

    def _reconcile(self) -> None:
        request = self._pending_reconcile
        assert request is not None
        items: list[ReconcileItem] = []
        for ref in request.jobs:
            try:
                records = self.driver.job_log(ref.job_id)
            except (DeviceError, WireError) as err:
                self._lost_device(err)
                return  # asked again when the device answers
            item = reconcile_outcome(records, ref.attempt)
            key = (ref.job_id, ref.attempt)
            if item is None:
                held = self._held.get(key)
                if held is not None and held.stage == "submitting":
                    continue  # we are still submitting it: the outcome is reported when the device answers
                item = ReconcileItem(job_id=ref.job_id, attempt=ref.attempt, outcome="not_accepted")
                self._held.pop(key, None)
            elif item.outcome == "pending":
                record = next(r for r in records if r.attempt == ref.attempt)
                stage = "printing" if record.state == "printing" else "queued"
                self._held[key] = _Held(ref.job_id, ref.attempt, stage, blank_serial=record.blank_serial)
            else:
                self._held.pop(key, None)
            items.append(item)
        self._pending_reconcile = None
        self._reconciled = True
        self._outbox.append(ReconcileReport(items=tuple(items)))
        self.stats["reconciled"] += len(items)
        log.info("worker %s: reconciled %d job(s): %s", self.machine, len(items),
                 dict(Counter(i.outcome for i in items)) or "none")

    def _give_up_on_device(self) -> None:
        """The device is gone for good: what it may hold is for an operator to reconcile."""
        items = tuple(ReconcileItem(job_id=h.job_id, attempt=h.attempt, outcome="unknown",
                                    reason=f"device unreachable for {self.device_timeout_s:g} s")
                      for h in self._held.values())
        if items:
            log.error("worker %s: device unreachable for %.0f s; %d job(s) need an operator", self.machine,
                      self.device_timeout_s, len(items))
            self._outbox.append(ReconcileReport(items=items))
        self._held.clear()
        self._unreachable_since = self.clock()

    def _control(self, action: str) -> None:
        try:
            status = getattr(self.driver, action)()
        except (DeviceError, WireError, AttributeError) as err:
            log.warning("worker %s: %s failed: %s", self.machine, action, err)
            return
        self._device_state = status.state
        log.info("worker %s: %s -> %s", self.machine, action, status.state)

    # ------------------------------------------------------------------ credit and sending

    def _grant_and_send(self) -> None:
        free = 0
        if self.link.registered and self._reconciled and self.ready:
            waiting = sum(1 for h in self._held.values() if h.stage != "printing")
            free = self._queue_limit - waiting - self._credit_out
        if free > 0:
            self._credit_out += free
            for i in range(len(self._outbox) - 1, -1, -1):
                message = self._outbox[i]
                if isinstance(message, (JobDone, JobRefused)):
                    self._outbox[i] = replace(message, credit=message.credit + free)
                    break
            else:
                self._outbox.append(Credit(slots=free))
        if not self._outbox:
            return
        outbox, self._outbox = self._outbox, []
        for message in outbox:
            if not self.link.send(message):
                # No connection: the controller learns all of this from the next reconcile.
                self.stats["unsent"] += 1
                if isinstance(message, (JobDone, JobRefused)) or isinstance(message, Credit):
                    self._credit_out = 0
