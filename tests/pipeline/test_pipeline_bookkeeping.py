"""The pure bookkeeping of the pipeline: liveness, back-off, credit, outcomes, the queue."""

import pytest

from factory.devices.driver import JobRecord
from factory.ledger import JobState, QueuedJob, replay
from factory.ledger.states import TRANSITIONS
from factory.pipeline.credit import MAX_CREDIT, grant, plan_offers, spend
from factory.pipeline.jobqueue import JobQueue
from factory.pipeline.liveness import (
    Backoff,
    Pulse,
    dead_peers,
    heard,
    heartbeat_due,
    is_alive,
    next_backoff,
    reset_backoff,
)
from factory.pipeline.outcomes import OUTCOMES, events_for
from factory.pipeline.worker import reconcile_outcome


def test_a_peer_is_dead_after_three_missed_heartbeats():
    pulse = Pulse(last_heard=100.0)
    assert is_alive(pulse, 103.0) and not is_alive(pulse, 103.01)
    assert dead_peers({"a": pulse, "b": heard(pulse, 102.0)}, 104.0) == ["a"]
    assert heard(pulse, 90.0).last_heard == 100.0  # late news never moves the clock back


def test_heartbeats_are_due_every_interval():
    assert not heartbeat_due(10.0, 10.5) and heartbeat_due(10.0, 11.0)


def test_reconnect_backoff_doubles_from_1_to_32_seconds_and_resets():
    delays, backoff = [], Backoff()
    for _ in range(8):
        delays.append(backoff.delay_s)
        backoff = next_backoff(backoff)
    assert delays == [1, 2, 4, 8, 16, 32, 32, 32]
    assert reset_backoff(backoff).delay_s == 1


def test_credit_is_granted_spent_and_capped():
    credits = grant({}, "w1", 2)
    assert credits == {"w1": 2}
    assert spend(credits, "w1") == {"w1": 1}
    assert spend({"w1": 0}, "w1") == {"w1": 0}
    assert grant(credits, "w1", -5) == credits
    assert grant(credits, "w1", 1000) == {"w1": MAX_CREDIT}


def test_offers_go_round_robin_within_credit_and_pool():
    offers = plan_offers({"B1": 2, "B2": 1, "C1": 3}, {"B1": "booklet", "B2": "booklet", "C1": "card"},
                         {"booklet": 2, "card": 5})
    assert offers == [("B1", "booklet"), ("B2", "booklet"), ("C1", "card"), ("C1", "card"), ("C1", "card")]
    assert plan_offers({"B1": 2}, {"B1": "booklet"}, {"card": 3}) == []
    assert plan_offers({"B1": 0}, {"B1": "booklet"}, {"booklet": 3}) == []


def test_the_queue_pops_green_first_then_by_deadline_and_acceptance():
    queue = JobQueue([
        QueuedJob("normal-late", "booklet", 3, 739700, 5.0),
        QueuedJob("normal-early", "booklet", 3, 739690, 9.0),
        QueuedJob("urgent", "booklet", 2, 739700, 7.0),
        QueuedJob("card", "card", 0, 739690, 1.0),
    ])
    queue.push(QueuedJob("green", "booklet", 0, 739800, 100.0))
    assert [queue.pop("booklet") for _ in range(4)] == ["green", "urgent", "normal-early", "normal-late"]
    assert queue.pop("booklet") is None and queue.waiting() == {"card": 1}


def test_the_queue_ignores_duplicates_and_discarded_jobs():
    queue = JobQueue()
    job = QueuedJob("A", "card", 3, 1, 1.0)
    queue.push(job)
    queue.push(job)
    assert len(queue) == 1
    queue.discard("A")
    assert queue.pop("card") is None and len(queue) == 0
    queue.push(job)
    assert queue.pop("card") == "A"


@pytest.mark.parametrize("key", sorted(OUTCOMES))
def test_every_outcome_maps_to_legal_events(key):
    state, _ = key
    final = state
    for event in OUTCOMES[key]:
        final = TRANSITIONS[(JobState(final), event)]
    assert final in JobState


def test_nothing_the_device_may_have_printed_goes_back_to_the_queue_blindly():
    for (state, outcome), events in OUTCOMES.items():
        result = replay([e.value for e in events], start=state) if events else JobState(state)
        if outcome in ("unknown", "pending") or state == JobState.PRINTING and outcome == "not_accepted":
            assert result != JobState.QUEUED, (state, outcome)
    assert events_for("leased", "not_accepted") == ("not_accepted",)
    assert events_for("queued", "executed") == ()  # news that does not fit the state changes nothing


def test_reconcile_reads_the_device_job_log():
    log = (
        JobRecord(job_id="A", attempt=1, state="failed", blank_serial="E1", spoiled=True, reason="jam"),
        JobRecord(job_id="A", attempt=2, state="executed", blank_serial="E2", page="/p/E2.png",
                  date_of_issue="2026-02-24"),
        JobRecord(job_id="A", attempt=3, state="printing", blank_serial="E3"),
        JobRecord(job_id="A", attempt=4, state="failed", reason="device_restarted"),
    )
    assert reconcile_outcome(log, 9) is None
    first = reconcile_outcome(log, 1)
    assert (first.outcome, first.blank_serial, first.reason) == ("failed", "E1", "jam")
    second = reconcile_outcome(log, 2)
    assert (second.outcome, second.blank_serial, second.issued_on) == ("printed", "E2", "2026-02-24")
    assert reconcile_outcome(log, 3).outcome == "pending"
    unspoiled = reconcile_outcome(log, 4)
    assert (unspoiled.outcome, unspoiled.blank_serial) == ("failed", "")
