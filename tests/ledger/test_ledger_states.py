"""The transition table: every (state, event) pair, allowed or refused."""

import itertools

import pytest

from factory.errors import IllegalTransition
from factory.ledger import (
    BLANK_TRANSITIONS,
    TRANSITIONS,
    BlankState,
    Event,
    JobState,
    allowed_events,
    next_blank_state,
    next_state,
    replay,
)


@pytest.mark.parametrize("state,event", list(itertools.product(JobState, Event)))
def test_every_pair_is_allowed_by_the_table_or_refused_with_a_clear_error(state, event):
    if (state, event) in TRANSITIONS:
        assert next_state(state, event) == TRANSITIONS[(state, event)]
    else:
        with pytest.raises(IllegalTransition) as caught:
            next_state(state, event, job_id="A1")
        assert caught.value.job_id == "A1" and caught.value.state == state and caught.value.event == event
        assert f"event {event.value!r} is not allowed in state {state.value!r}" in str(caught.value)


def test_the_issue_state_machine_is_the_main_path():
    path = ["validated", "leased", "print_started", "device_executed", "qa_flagged", "approved", "dispatched"]
    assert replay(path) == JobState.DISPATCHED
    assert replay(["validated", "leased", "print_started", "device_executed", "qa_passed", "dispatched"]) == "dispatched"


def test_a_jam_and_a_rejection_each_lead_back_to_the_queue():
    assert replay(["validated", "leased", "print_started", "device_failed", "requeued"]) == JobState.QUEUED
    assert replay(["validated", "leased", "print_started", "device_executed", "qa_flagged", "rejected",
                   "requeued"]) == JobState.QUEUED


def test_a_job_the_device_may_have_executed_is_never_simply_requeued():
    # From printing, only the device's word (or an operator's) leads back to the queue.
    assert (JobState.PRINTING, Event.LEASE_EXPIRED) in TRANSITIONS
    assert TRANSITIONS[(JobState.PRINTING, Event.LEASE_EXPIRED)] == JobState.NEEDS_RECONCILE
    assert TRANSITIONS[(JobState.LEASED, Event.LEASE_EXPIRED)] == JobState.NEEDS_RECONCILE
    back_to_queue = {e for (s, e), t in TRANSITIONS.items() if s == JobState.PRINTING and t == JobState.QUEUED}
    assert back_to_queue == {Event.RECONCILED_NOT_PRINTED}


def test_terminal_states_allow_nothing():
    assert allowed_events(JobState.DISPATCHED) == ()
    assert allowed_events(JobState.RETURNED_TO_ACCEPTANCE) == ()


def test_every_state_is_reachable_from_accepted():
    reached, frontier = {JobState.ACCEPTED}, [JobState.ACCEPTED]
    while frontier:
        state = frontier.pop()
        for event in allowed_events(state):
            target = TRANSITIONS[(state, event)]
            if target not in reached:
                reached.add(target)
                frontier.append(target)
    assert reached == set(JobState)


@pytest.mark.parametrize("state,target", list(itertools.product(BlankState, BlankState)))
def test_every_blank_move_is_allowed_or_refused(state, target):
    if target in BLANK_TRANSITIONS[state]:
        assert next_blank_state("E1", state, target) == target
    else:
        with pytest.raises(IllegalTransition):
            next_blank_state("E1", state, target)


def test_a_voided_blank_never_comes_back():
    assert BLANK_TRANSITIONS[BlankState.VOIDED] == frozenset()
