"""The contract every printer driver keeps: one abstract suite, subclassed per implementation.

A subclass provides four fixtures:

- ``driver``: a fresh ``PrinterDriver`` for an idle machine with an empty
  queue and at least 6 blanks of the stock ``job_record`` needs;
- ``connect``: a callable returning another, new driver of the same machine
  (what a worker does after it crashed and restarted);
- ``job_record``: ``job_record(n)`` returns a valid application record (JSON
  form) this machine can print, a different applicant for each ``n``;
- ``blank_serials``: ``blank_serials(k)`` returns ``k`` serials of that stock
  the machine has never seen.

The simulator's subclass is ``tests/devices/test_devices_client.py``; a real
printer's driver reuses this suite against a machine loaded for testing.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from factory.devices.driver import DeviceEvent, MachineState, PrinterDriver, PrintJob


def wait_for(driver: PrinterDriver, after: int, done: Callable[[list[DeviceEvent]], bool],
             timeout_s: float = 20.0) -> list[DeviceEvent]:
    """Collect events after ``after`` until ``done(events)`` holds; fails after ``timeout_s``."""
    events: list[DeviceEvent] = []
    deadline = time.monotonic() + timeout_s
    while not done(events):
        assert time.monotonic() < deadline, f"timed out; events so far: {[(e.kind, e.job_id) for e in events]}"
        fresh = driver.events(events[-1].seq if events else after, wait_s=0.5)
        events.extend(fresh)
    return events


def finished(job_ids: set[str]) -> Callable[[list[DeviceEvent]], bool]:
    return lambda events: job_ids <= {e.job_id for e in events if e.kind in ("executed", "failed")}


class PrinterDriverContract:
    def test_it_is_a_printer_driver_reporting_an_idle_machine(self, driver):
        assert isinstance(driver, PrinterDriver)
        status = driver.status()
        assert status.device_id == driver.device_id
        assert status.state == MachineState.IDLE and status.fault == ""
        assert status.queued == 0 and status.queue_limit >= 1 and status.free_slots == status.queue_limit
        assert status.blanks_left >= 6

    def test_a_job_is_accepted_then_executed_on_one_blank(self, driver, job_record):
        after = driver.status().last_seq
        acceptance = driver.submit(PrintJob(job_id="C-1", attempt=1, record=job_record(1)))
        assert acceptance.accepted and not acceptance.duplicate and acceptance.reason == ""
        events = wait_for(driver, after, finished({"C-1"}))
        mine = [e for e in events if e.job_id == "C-1"]
        assert [e.kind for e in mine] == ["accepted", "started", "executed"]
        assert mine[1].blank_serial and mine[2].blank_serial == mine[1].blank_serial
        assert [e.seq for e in events] == sorted(e.seq for e in events)
        (record,) = driver.job_log("C-1")
        assert (record.state, record.blank_serial, record.attempt) == ("executed", mine[2].blank_serial, 1)
        assert record.date_of_issue

    def test_submitting_the_same_attempt_again_never_prints_twice(self, driver, job_record):
        after = driver.status().last_seq
        job = PrintJob(job_id="C-2", attempt=1, record=job_record(2))
        assert driver.submit(job).accepted
        again = driver.submit(job)
        assert again.accepted and again.duplicate and again.record.job_id == "C-2"
        wait_for(driver, after, finished({"C-2"}))
        after_done = driver.submit(job)
        assert after_done.duplicate and after_done.record.state == "executed"
        status = driver.status()
        assert status.printed == 1 and status.queued == 0
        assert len(driver.job_log("C-2")) == 1

    def test_an_unknown_job_has_an_empty_log(self, driver):
        assert driver.job_log("never-sent") == ()

    def test_an_invalid_record_is_refused_with_the_reason(self, driver, job_record):
        record = dict(job_record(3))
        del record["surname_cn"]
        acceptance = driver.submit(PrintJob(job_id="C-3", attempt=1, record=record))
        assert not acceptance.accepted and acceptance.reason == "invalid_job"
        assert "surname_cn" in acceptance.detail
        assert driver.job_log("C-3") == ()
        # a refusal is not an outcome: the same attempt may come again, fixed
        assert driver.submit(PrintJob(job_id="C-3", attempt=1, record=job_record(3))).accepted

    def test_pause_holds_the_queue_and_resume_releases_it(self, driver, job_record):
        after = driver.status().last_seq
        assert driver.pause().state in (MachineState.PAUSED, MachineState.PAUSING)
        wait_for(driver, after, lambda ev: any(e.kind == "state" and e.state == MachineState.PAUSED for e in ev)
                 or driver.status().state == MachineState.PAUSED)
        refused = driver.submit(PrintJob(job_id="C-4", attempt=1, record=job_record(4)))
        assert not refused.accepted and refused.reason == "not_ready"
        assert driver.status().free_slots == 0
        assert driver.resume().state == MachineState.IDLE
        assert driver.submit(PrintJob(job_id="C-4", attempt=1, record=job_record(4))).accepted
        wait_for(driver, after, finished({"C-4"}))

    def test_drain_finishes_what_it_holds_then_takes_nothing(self, driver, job_record):
        after = driver.status().last_seq
        assert driver.submit(PrintJob(job_id="C-5", attempt=1, record=job_record(5))).accepted
        assert driver.drain().state in (MachineState.STOPPING, MachineState.PAUSED)
        refused = driver.submit(PrintJob(job_id="C-6", attempt=1, record=job_record(6)))
        assert not refused.accepted and refused.reason == "not_ready"
        wait_for(driver, after, finished({"C-5"}))
        wait_for(driver, after, lambda ev: any(e.kind == "state" and e.state == MachineState.PAUSED for e in ev))
        assert driver.job_log("C-5")[0].state == "executed"
        assert driver.resume().state == MachineState.IDLE

    def test_loading_blanks_is_idempotent(self, driver, blank_serials):
        before = driver.status().blanks_left
        serials = blank_serials(3)
        first = driver.load_blanks(serials)
        assert first.loaded == 3 and first.duplicates == ()
        second = driver.load_blanks(serials)
        assert second.loaded == 0 and set(second.duplicates) == set(serials)
        assert driver.status().blanks_left == before + 3

    def test_events_resume_after_any_seq_and_a_wait_returns_when_nothing_happens(self, driver, job_record):
        start = driver.status().last_seq
        driver.submit(PrintJob(job_id="C-7", attempt=1, record=job_record(7)))
        events = wait_for(driver, start, finished({"C-7"}))
        middle = events[len(events) // 2].seq
        assert [e.seq for e in driver.events(middle)] == [e.seq for e in events if e.seq > middle]
        last = driver.status().last_seq
        t0 = time.monotonic()
        assert driver.events(last, wait_s=0.3) == ()
        assert time.monotonic() - t0 >= 0.25

    def test_a_new_driver_after_a_worker_crash_finds_the_job_in_the_device_log(self, driver, connect, job_record):
        after = driver.status().last_seq
        assert driver.submit(PrintJob(job_id="C-8", attempt=1, record=job_record(8))).accepted
        driver.close()  # the worker dies with the job in flight
        survivor = connect()
        try:
            wait_for(survivor, after, finished({"C-8"}))
            (record,) = survivor.job_log("C-8")
            assert record.state == "executed" and record.blank_serial
            assert survivor.submit(PrintJob(job_id="C-8", attempt=1, record=job_record(8))).duplicate
        finally:
            survivor.close()
