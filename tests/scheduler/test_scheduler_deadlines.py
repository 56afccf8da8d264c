"""Deadlines per document type and service class; cut-off; downstream budget; failing closed."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pytest

from factory.errors import CalendarNotCovered
from factory.records import parse_application
from factory.scheduler.calendar import working_day_index
from factory.scheduler.deadlines import compute_deadlines, deadline_rules
from factory.scheduler.queue import plan_day_zero, queue_from_applications

D = dt.date


def app(config, valid_record, *, accepted: str, doc_type="passport", service_class="normal", delivery="pickup", id="A1"):
    record = dict(valid_record, application_id=id, doc_type=doc_type, service_class=service_class, accepted_at=accepted, delivery=delivery)
    if delivery == "mail":
        record["mail_address"] = "山东省济南市历下区1号"
    return parse_application(record, config)


def deadlines_of(config, cal, apps):
    result = compute_deadlines(apps, deadline_rules(config), cal)
    return result, result.production_dates(cal)


def test_normal_passport_seven_working_days_then_dispatch(config, cal, valid_record):
    a = app(config, valid_record, accepted="2026-09-28T10:00:00+08:00")
    result, production = deadlines_of(config, cal, [a])
    assert result.procedure_deadline[0] == dt.datetime(2026, 10, 13, 16, 0, tzinfo=config.line.tz)
    # One working day of dispatch; two QA hours fit on the same day (16:00 - 2 h).
    assert production == [D(2026, 10, 12)]


def test_mail_delivery_takes_transit_days_too(config, cal, valid_record):
    a = app(config, valid_record, accepted="2026-09-28T10:00:00+08:00", delivery="mail")
    _, production = deadlines_of(config, cal, [a])
    # 10-13 less 1 dispatch and 2 transit working days: 10-12, 10-10 (make-up Saturday), 10-09.
    assert production == [D(2026, 10, 9)]


def test_after_the_cutoff_counts_from_the_next_working_day(config, cal, valid_record):
    before = app(config, valid_record, accepted="2026-09-28T16:00:00+08:00", id="A1")
    after = app(config, valid_record, accepted="2026-09-28T16:00:01+08:00", id="A2")
    utc = app(config, valid_record, accepted="2026-09-28T08:30:00+00:00", id="A3")  # 16:30 in Shanghai
    result, _ = deadlines_of(config, cal, [before, after, utc])
    effective = [D.fromordinal(int(o)) for o in cal.working_ordinals[result.effective_day]]
    assert effective == [D(2026, 9, 28), D(2026, 9, 29), D(2026, 9, 29)]
    assert result.procedure_deadline[1].date() == D(2026, 10, 14)


def test_accepted_on_a_rest_day_counts_from_the_next_working_day(config, cal, valid_record):
    a = app(config, valid_record, accepted="2026-10-03T09:00:00+08:00")  # National Day holiday
    result, _ = deadlines_of(config, cal, [a])
    assert cal.working_ordinals[result.effective_day[0]] == D(2026, 10, 8).toordinal()
    # 7 working days after Thu 10-08: 10-09, 10-10 (Sat), 10-12, 10-13, 10-14, 10-15, 10-16.
    assert result.procedure_deadline[0].date() == D(2026, 10, 16)


@pytest.mark.parametrize(
    ("doc_type", "service_class", "due"),
    [
        ("passport", "urgent", D(2026, 6, 3)),
        ("hk_macau_permit", "normal", D(2026, 6, 10)),
        ("residence_permit", "normal", D(2026, 6, 15)),  # 10 working days; Dragon Boat 06-19 comes later
        ("hmt_residence_permit", "normal", D(2026, 6, 30)),  # 20 working days, 06-19 off
    ],
)
def test_time_limits_per_document_and_class(config, cal, valid_record, doc_type, service_class, due):
    a = app(config, valid_record, accepted="2026-06-01T09:00:00+08:00", doc_type=doc_type, service_class=service_class)
    result, _ = deadlines_of(config, cal, [a])
    assert result.procedure_deadline[0].date() == due


def test_same_day_is_the_end_of_todays_shift(config, cal, valid_record):
    a = app(config, valid_record, accepted="2026-06-01T09:00:00+08:00", service_class="same_day")
    result, production = deadlines_of(config, cal, [a])
    assert result.procedure_deadline[0] == dt.datetime(2026, 6, 1, 16, 0, tzinfo=config.line.tz)
    assert production == [D(2026, 6, 1)]


def test_green_is_24_hours_wall_clock(config, cal, valid_record):
    a = app(config, valid_record, accepted="2026-06-01T10:00:00+08:00", service_class="green", id="G1")
    friday = app(config, valid_record, accepted="2026-06-05T15:00:00+08:00", service_class="green", id="G2")
    result, production = deadlines_of(config, cal, [a, friday])
    assert result.procedure_deadline[0] == dt.datetime(2026, 6, 2, 10, 0, tzinfo=config.line.tz)
    # Due Saturday 15:00: the last working day that fits is the Friday it came in.
    assert production == [D(2026, 6, 2), D(2026, 6, 5)]


def test_urgent_with_mail_is_late_from_the_start(config, cal, valid_record):
    a = app(config, valid_record, accepted="2026-06-01T09:00:00+08:00", service_class="urgent", delivery="mail")
    result, _ = deadlines_of(config, cal, [a])
    assert result.production_day[0] < result.effective_day[0]


def test_many_qa_hours_push_production_back_a_day(config, cal, valid_record):
    rules = dataclasses.replace(deadline_rules(config), qa_s=18 * 3600)  # 16:00 - 18 h is the day before
    a = app(config, valid_record, accepted="2026-09-28T10:00:00+08:00")
    result = compute_deadlines([a], rules, cal)
    assert result.production_dates(cal) == [D(2026, 10, 10)]


def test_december_2026_deadlines_fail_closed(config, cal, valid_record):
    a = app(config, valid_record, accepted="2026-12-24T10:00:00+08:00")
    with pytest.raises(CalendarNotCovered) as err:
        compute_deadlines([a], deadline_rules(config), cal)
    assert err.value.year == 2027


def test_queue_arrays_are_relative_to_today(config, cal, valid_record):
    apps = [
        app(config, valid_record, accepted="2026-09-28T10:00:00+08:00", id="A1"),
        app(config, valid_record, accepted="2026-09-28T10:00:00+08:00", id="A2", doc_type="taiwan_permit", service_class="urgent"),
        app(config, valid_record, accepted="2026-09-28T10:00:00+08:00", id="A3", service_class="green"),
    ]
    queue, deadlines = queue_from_applications(apps, config, cal, today=D(2026, 9, 27))  # Sunday, Mid-Autumn rest
    day_zero = plan_day_zero(cal, D(2026, 9, 27))
    assert cal.working_ordinals[day_zero] == D(2026, 9, 28).toordinal()
    assert queue.application_id == ("A1", "A2", "A3")
    assert queue.pools[queue.pool[1]] == "card"
    assert list(queue.priority) == [3, 2, 0]
    expected = working_day_index(cal, [D(2026, 10, 12), D(2026, 9, 29), D(2026, 9, 29)]) - day_zero
    assert list(queue.deadline_day) == list(expected)
    assert queue.deadline_day.dtype == np.int32 and queue.effective_day[0] == 0
