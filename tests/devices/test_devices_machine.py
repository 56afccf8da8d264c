"""The simulated machine's decisions: states, blank stock, faults, idempotency, restarts (pure, no clock)."""

from __future__ import annotations

import numpy as np
import pytest

from factory.devices.driver import MachineState, PrintJob
from factory.devices.machine import FaultModel, MachineSpec, PrinterMachine, Refusal
from factory.errors import InvalidField


def admit(job: PrintJob) -> tuple[str, str, str]:
    """The machine's admission check as the shell supplies it, over a minimal record."""
    record = job.record
    if record.get("bad"):
        raise Refusal("invalid_job", "record.surname_cn: is required")
    if record.get("pool", "booklet") != "booklet":
        raise Refusal("wrong_pool", "prints on card blanks")
    return record.get("doc_type", "passport"), record.get("prefix", "E"), record.get("application_id", job.job_id)


def machine(seed: int = 1, *, blanks: int = 10, faults: FaultModel = FaultModel(), queue_limit: int = 2,
            cycle=(45.0, 60.0), defects=None) -> PrinterMachine:
    m = PrinterMachine(MachineSpec(device_id="P01", pool="booklet", cycle_s=cycle, queue_limit=queue_limit,
                                   faults=faults, defect_rates=defects or {}),
                       np.random.default_rng(seed), admit=admit, today=lambda now: "2026-03-05",
                       page_path=lambda serial: f"/captures/{serial}.png")
    m.load_blanks([f"E{10000001 + i}" for i in range(blanks)], 0.0)
    return m


def job(n: int, attempt: int = 1, **record) -> PrintJob:
    return PrintJob(job_id=f"J{n}", attempt=attempt, record=record)


def kinds(events) -> list[str]:
    return [e.kind if e.kind != "state" else f"state:{e.state}{':' + e.reason if e.reason else ''}" for e in events]


def run_until_idle(m: PrinterMachine, start: float, limit: float = 100_000.0) -> float:
    now = start
    while (wake := m.next_wakeup()) is not None and wake < limit:
        now = wake
        m.advance(now)
    return now


def test_a_job_is_accepted_started_and_executed_on_one_serial():
    m = machine()
    m.take_events()
    acceptance = m.submit(job(1), 0.0)
    assert acceptance.accepted and acceptance.record.state == "printing"  # straight onto the idle machine
    assert m.state is MachineState.BUSY
    end = run_until_idle(m, 0.0)
    assert 45.0 <= end <= 60.0
    events = m.take_events()
    assert kinds(events) == ["accepted", "state:Busy", "started", "executed", "state:Idle"]
    assert [e.seq for e in events] == list(range(events[0].seq, events[0].seq + 5))
    executed = events[3]
    assert executed.blank_serial == "E10000001" and executed.page == "/captures/E10000001.png"
    (record,) = m.job_log("J1")
    assert (record.state, record.blank_serial, record.date_of_issue) == ("executed", "E10000001", "2026-03-05")
    assert m.status(end).blanks == {"E": 9} and m.status(end).printed == 1


def test_a_duplicate_submit_returns_the_stored_outcome_and_never_prints_twice():
    m = machine()
    m.submit(job(1), 0.0)
    end = run_until_idle(m, 0.0)
    again = m.submit(job(1), end + 1)
    assert again.accepted and again.duplicate and again.record.state == "executed"
    assert m.status(end + 1).printed == 1 and m.status(end + 1).blanks == {"E": 9}
    assert m.next_wakeup() is None


@pytest.mark.parametrize(
    ("record", "reason"),
    [({"bad": True}, "invalid_job"), ({"pool": "card"}, "wrong_pool"), ({"prefix": "C"}, "out_of_blanks")],
)
def test_a_job_the_machine_cannot_take_is_refused_with_the_reason(record, reason):
    m = machine()
    acceptance = m.submit(job(1, **record), 0.0)
    assert not acceptance.accepted and acceptance.reason == reason and acceptance.detail
    assert m.job_log("J1") == ()


def test_the_queue_limit_is_the_devices_credit():
    m = machine(queue_limit=2)
    results = [m.submit(job(n), 0.0).accepted for n in range(1, 5)]
    # one goes straight onto the machine, two wait, the fourth is refused
    assert results == [True, True, True, False]
    assert m.submit(job(4), 0.0).reason == "queue_full"
    assert m.status(0.0).queued == 2 and m.status(0.0).free_slots == 0


def test_a_second_attempt_waits_for_the_first_to_end():
    m = machine(faults=FaultModel(jam_rate=1.0, auto_clear_s=10.0))
    m.submit(job(1), 0.0)
    refused = m.submit(job(1, attempt=2), 1.0)
    assert refused.reason == "attempt_in_progress"
    end = run_until_idle(m, 1.0)
    (first,) = m.job_log("J1")
    assert first.state == "failed" and first.spoiled and first.reason == "jam"
    assert m.submit(job(1, attempt=2), end).accepted
    assert [r.attempt for r in m.job_log("J1")] == [1, 2]


def test_pause_finishes_the_document_in_the_machine_then_holds():
    m = machine()
    m.submit(job(1), 0.0)
    m.submit(job(2), 0.0)
    assert m.pause(1.0).state == "Pausing"
    assert m.submit(job(3), 2.0).reason == "not_ready"
    end = run_until_idle(m, 2.0)
    status = m.status(end)
    assert status.state == "Paused" and status.queued == 1 and status.printed == 1
    assert m.resume(end + 1).state == "Busy"
    run_until_idle(m, end + 1)
    assert m.status(1e6).printed == 2 and m.state is MachineState.IDLE


def test_drain_finishes_the_queue_takes_nothing_new_then_holds():
    m = machine()
    for n in (1, 2, 3):
        m.submit(job(n), 0.0)
    assert m.drain(1.0).state == "Stopping"
    refused = m.submit(job(4), 2.0)
    assert refused.reason == "not_ready" and refused.detail == "stopping"
    end = run_until_idle(m, 2.0)
    assert m.status(end).state == "Paused" and m.status(end).printed == 3
    assert m.resume(end).state == "Idle" and m.submit(job(4), end).accepted


def test_a_jam_spoils_the_blank_in_the_machine_and_holds_until_cleared():
    m = machine(faults=FaultModel(jam_rate=1.0))
    m.submit(job(1), 0.0)
    m.submit(job(2), 0.0)
    m.take_events()
    now = m.next_wakeup()
    m.advance(now)
    events = m.take_events()
    assert kinds(events) == ["failed", "state:Fault:jam"]
    assert events[0].spoiled and events[0].blank_serial == "E10000001" and events[0].reason == "jam"
    status = m.status(now)
    assert (status.state, status.fault, status.spoiled, status.queued) == ("Fault", "jam", 1, 1)
    assert m.submit(job(3), now).reason == "fault"
    assert m.next_wakeup() is None  # an operator must act
    assert m.clear_fault(now + 5).state == "Busy"
    assert m.job_log("J2")[0].state == "printing"


def test_faults_clear_by_themselves_when_configured():
    m = machine(faults=FaultModel(jam_rate=1.0, auto_clear_s=120.0))
    m.submit(job(1), 0.0)
    jam_at = m.next_wakeup()
    m.advance(jam_at)
    assert m.state is MachineState.FAULT and m.next_wakeup() == jam_at + 120.0
    m.advance(jam_at + 120.0)
    assert m.state is MachineState.IDLE


def test_an_opened_cover_holds_the_machine_without_spoiling_anything():
    m = machine(faults=FaultModel(cover_open_rate=1.0))
    m.submit(job(1), 0.0)
    end = m.next_wakeup()
    m.advance(end)
    status = m.status(end)
    assert (status.state, status.fault, status.printed, status.spoiled) == ("Fault", "cover_open", 1, 0)
    assert m.clear_fault(end).state == "Idle"


def test_offline_spells_end_by_themselves():
    m = machine(faults=FaultModel(offline_rate=1.0, offline_s=(100.0, 100.0)))
    m.submit(job(1), 0.0)
    end = m.next_wakeup()
    m.advance(end)
    assert m.state is MachineState.OFFLINE
    assert m.submit(job(2), end + 1).reason == "offline"
    assert m.next_wakeup() == pytest.approx(end + 100.0)
    m.advance(end + 100.0)
    assert m.state is MachineState.IDLE and m.submit(job(2), end + 100.0).accepted


def test_running_out_of_blanks_is_a_fault_that_loading_blanks_clears():
    m = machine(blanks=2)
    assert m.submit(job(1), 0.0).accepted  # takes the first blank at once
    assert m.submit(job(2), 0.0).accepted
    assert m.submit(job(3), 0.0).accepted  # one blank left when it was offered
    end = run_until_idle(m, 0.0)
    status = m.status(end)
    assert (status.state, status.fault, status.queued, status.blanks) == ("Fault", "out_of_blanks", 1, {})
    assert m.clear_fault(end).state == "Fault"  # nothing to clear without blanks
    loaded = m.load_blanks(["E20000001", "E20000002", "E10000001"], end + 1)
    assert loaded.loaded == 2 and loaded.duplicates == ("E10000001",)
    assert m.state is MachineState.BUSY
    run_until_idle(m, end + 1)
    assert m.job_log("J3")[0].blank_serial == "E20000001"


def test_bad_serials_are_refused():
    with pytest.raises(InvalidField) as err:
        machine().load_blanks(["E1000-0001"], 0.0)
    assert err.value.field == "serials"


def test_a_restart_fails_what_was_queued_and_spoils_what_was_printing():
    m = machine()
    m.submit(job(1), 0.0)
    m.submit(job(2), 0.0)
    changed, blanks = m.take_changes()
    records = {(r.job_id, r.attempt): r for r in changed}
    in_stock = [s for s, state, *_ in blanks if state == "in_stock"]
    used = {s for s, state, *_ in blanks if state != "in_stock"}
    restarted = machine(blanks=0)
    restarted.take_events()
    restarted.restore(now=10.0, last_seq=m.last_seq, records=records.values(),
                      in_stock=[s for s in in_stock if s not in used], known_serials=in_stock)
    j1, j2 = restarted.job_log("J1")[0], restarted.job_log("J2")[0]
    assert (j1.state, j1.reason, j1.spoiled, j1.blank_serial) == ("failed", "interrupted", True, "E10000001")
    assert (j2.state, j2.reason, j2.spoiled, j2.blank_serial) == ("failed", "device_restarted", False, "")
    assert [e.seq for e in restarted.take_events()] == [m.last_seq + 1, m.last_seq + 2]
    assert restarted.status(10.0).blanks == {"E": 9}


def test_a_seeded_machine_repeats_itself():
    def trace(seed):
        m = machine(seed, blanks=30, faults=FaultModel(jam_rate=0.2, cover_open_rate=0.1, auto_clear_s=30.0),
                    defects={"smudge": 0.5})
        now = 0.0
        for n in range(20):
            while not m.submit(job(n), now).accepted:
                now = m.next_wakeup() or now + 1
                m.advance(now)
        run_until_idle(m, now)
        return [(e.kind, e.at, e.blank_serial, e.reason) for e in m.take_events()], m.take_prints()

    assert trace(5) == trace(5)
    assert trace(5) != trace(6)


def test_every_serial_ends_printed_spoiled_or_in_stock_under_random_commands():
    rng = np.random.default_rng(11)
    m = machine(3, blanks=40, faults=FaultModel(jam_rate=0.1, laser_ribbon_rate=0.05, cover_open_rate=0.05,
                                                offline_rate=0.05, offline_s=(10.0, 50.0)))
    now, attempts = 0.0, {}
    for _ in range(400):
        now += float(rng.uniform(0, 30))
        action = rng.integers(7)
        if action <= 2:
            n = int(rng.integers(30))
            m.submit(job(n, attempts.get(n, 1)), now)
            log = m.job_log(f"J{n}")
            if log and log[-1].state == "failed":
                attempts[n] = log[-1].attempt + 1
        elif action == 3:
            m.clear_fault(now)
        elif action == 4:
            m.pause(now) if rng.random() < 0.5 else m.drain(now)
        elif action == 5:
            m.resume(now)
        else:
            m.advance(now)
    status = m.status(now)
    records = [r for n in range(30) for r in m.job_log(f"J{n}")]
    printed = {r.blank_serial for r in records if r.state == "executed"}
    spoiled = {r.blank_serial for r in records if r.state == "failed" and r.spoiled}
    on_machine = {r.blank_serial for r in records if r.state == "printing"}
    assert len(printed) == status.printed and len(spoiled) == status.spoiled
    assert not (printed & spoiled) and len(on_machine) <= 1
    assert len(printed) + len(spoiled) + len(on_machine) + status.blanks_left == 40
    for n in range(30):
        assert sum(r.state == "executed" for r in m.job_log(f"J{n}")) <= 1
