"""``factory calendar`` and ``factory plan`` through the command line."""

from __future__ import annotations

import datetime as dt
import json
import shutil

import numpy as np
import pytest

from scheduler_reference import pinned_tier

from factory.cli import main
from factory.config import default_config_dir, load_config
from factory.records import parse_application
from factory.scheduler import backlog_by_deadline, expected_arrivals, queue_from_applications, queue_mix
from factory.scheduler.calendar import build_calendar
from factory.scheduler.synthetic import peak_application_rows


def run(capsys, *argv):
    status = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return status, out, err


def write_rows(path, rows):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture()
def config_dir(tmp_path):
    target = tmp_path / "configs"
    shutil.copytree(default_config_dir(), target)
    return target


# --------------------------------------------------------------------------- calendar


def test_add_workdays_over_national_day(capsys):
    assert run(capsys, "calendar", "add-workdays", "2026-09-28", "7") == (0, "2026-10-13\n", "")


def test_add_workdays_into_2027_fails_closed(capsys):
    status, out, err = run(capsys, "calendar", "add-workdays", "2026-12-24", "7")
    assert status == 2 and out == ""
    assert "2027" in err and err.startswith("factory: calendar:")


def test_add_workdays_with_a_complete_2027_override(capsys, config_dir):
    (config_dir / "calendar.toml").write_text(
        '[[years]]\nyear = 2027\ncomplete = true\nholidays = ["2027-01-01"]\nworkdays = []\n', encoding="utf-8"
    )
    assert run(capsys, "calendar", "--config", config_dir, "add-workdays", "2026-12-24", "7")[:2] == (0, "2027-01-05\n")
    assert run(capsys, "calendar", "--config", config_dir, "coverage")[1] == "2004-2027\n"


def test_is_workday_and_list(capsys):
    assert run(capsys, "calendar", "is-workday", "2026-10-10") == (0, "2026-10-10 working day\n", "")
    assert run(capsys, "calendar", "is-workday", "2026-10-01") == (1, "2026-10-01 rest day\n", "")
    status, out, _ = run(capsys, "calendar", "workdays", "2026-09-18", "2026-09-22")
    assert out.split("\n")[1] == "2026-09-20 Sun"
    assert run(capsys, "calendar", "coverage")[1] == "2004-2026\n"


# --------------------------------------------------------------------------- plan

# Independent arithmetic for the plan tests: cumulative sums over the queue, nothing from factory.scheduler's
# planning modules (the queue's deadlines come from queue_from_applications, tested on their own).


def queue_of(rows, today):
    config = load_config()
    applications = [parse_application(r, config) for r in rows]
    return queue_from_applications(applications, config, build_calendar(config.calendar), today=today)[0]


def late_by_the_rule(deadline, tier, day_capacity):
    """Late jobs of one pool when pinned jobs (tiers 0, 1) take the first slots in (tier, deadline) order
    and the rest are the fewest late on the slots left: ``max(N(k) - max(0, cap(k) - P))`` over days ``k``."""
    days = len(day_capacity)
    cap_by = np.cumsum(day_capacity)
    due = np.clip(deadline, -1, days)
    pinned = np.sort(tier[tier < 2] * (days + 2) + due[tier < 2] + 1)
    pinned_due = pinned % (days + 2) - 1
    pinned_day = np.searchsorted(cap_by, np.arange(len(pinned)), side="right")  # days: past the plan
    pinned_late = int(((pinned_day > pinned_due) & (pinned_due < days)).sum())
    rest = due[tier == 2]
    rest_due_by = np.array([(rest <= k).sum() for k in range(-1, days)])
    left_by = np.concatenate(([0], np.maximum(0, cap_by - len(pinned))))
    return pinned_late + max(0, int((rest_due_by - left_by).max(initial=0)))


def bound_need(deadline, tier, days):
    """Cumulative demand bound through each day: the end slot of the last pinned job due by then, or all the
    pinned jobs plus the others due by then (not overdue) when there are any."""
    due = np.clip(deadline, -1, days)
    order = np.lexsort((due, tier))
    pinned = order[tier[order] < 2]
    ends = np.arange(1, len(pinned) + 1)
    need = []
    for k in range(days):
        last = ends[(due[pinned] >= 0) & (due[pinned] <= k)]
        others = int(((tier == 2) & (due >= 0) & (due <= k)).sum())
        need.append(max(int(last.max(initial=0)), others + len(pinned) if others else 0))
    return np.array(need)


def pool_capacity_at(machines, down, shift_hours):
    """Documents per day of a pool's machines that are up, at these shift lengths."""
    rates = [m.rated_per_hour for m in machines if m.id not in down]
    return np.array([sum(int(np.floor(r * h + 1e-9)) for r in rates) for h in shift_hours])


def check_plan_report(report, queue, config, down=()):
    """Every pool's late count, break date, table flags and overtime against the arithmetic above."""
    tier = pinned_tier(queue.deadline_day, queue.priority)
    peak = config.line.shifts.peak_hours
    for p, (name, pool) in enumerate(report["pools"].items()):
        assert name == queue.pools[p]
        rows = [r for r in report["days"] if r["pool"] == name]
        members = queue.pool == p
        deadline, tiers = queue.deadline_day[members].astype(int), tier[members]
        capacity = np.array([r["capacity"] for r in rows])
        late = late_by_the_rule(deadline, tiers, capacity)
        assert pool["late"] == pool["min_late"] == late
        assert pool["feasible"] == (late == 0)
        # The demand bound: the rows' demand is it, day by day, and the break date and the table's flags read it.
        need = bound_need(deadline, tiers, len(rows))
        assert [r["demand"] for r in rows] == np.diff(need, prepend=0).tolist()
        assert [r["cumulative_demand"] for r in rows] == need.tolist()
        broken = need > np.cumsum(capacity)
        assert [r["breaks"] for r in rows] == broken.tolist()
        assert pool["deadlines_break"] == (rows[int(np.argmax(broken))]["date"] if broken.any() else None)
        # A break on day D means a job not yet overdue is late; none means only the overdue ones are.
        assert broken.any() == (late > int((deadline < 0).sum()))
        # Overtime: exactly the late jobs it says, no fewer at the longest shifts, and one step less on any
        # day with overtime leaves more.
        machines = [m for m in config.line.machines if m.pool == name]
        shifts = np.array([r["shift_hours"] for r in rows])
        overtime = np.array([r["overtime_hours"] for r in rows])
        with_overtime = late_by_the_rule(deadline, tiers, pool_capacity_at(machines, down, shifts + overtime))
        assert with_overtime == pool["late_even_with_overtime"]
        longest = np.maximum(shifts, peak)
        assert late_by_the_rule(deadline, tiers, pool_capacity_at(machines, down, longest)) == with_overtime
        assert (shifts + overtime <= longest + 1e-9).all()
        for d in np.flatnonzero(overtime > 0):
            less = overtime.copy()
            less[d] -= 0.25
            assert late_by_the_rule(deadline, tiers, pool_capacity_at(machines, down, shifts + less)) > with_overtime
    assert len(report["late"]) == sum(p["late"] for p in report["pools"].values())



@pytest.fixture(scope="module")
def small_queue(tmp_path_factory):
    config = load_config()
    rows = peak_application_rows(
        np.random.default_rng(11), config, build_calendar(config.calendar), today=dt.date(2026, 3, 2), count=600, backlog_days=2
    )
    return write_rows(tmp_path_factory.mktemp("queue") / "queue.jsonl", rows)


def test_bad_rows_are_all_listed_and_nothing_is_planned(capsys, tmp_path, valid_record):
    rows = [
        json.dumps(valid_record),
        json.dumps(dict(valid_record, application_id="A2", doc_type="visa")),
        json.dumps({k: v for k, v in dict(valid_record, application_id="A3").items() if k != "accepted_at"}),
        "{not json",
        "",
        json.dumps(valid_record),
    ]
    path = tmp_path / "queue.jsonl"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    status, out, err = run(capsys, "plan", path, "--today", "2026-02-24")
    assert status == 2 and out == ""
    assert "row 2: doc_type: is not one of passport" in err
    assert "row 3: accepted_at: is required" in err
    assert "row 4: record: not valid JSON" in err
    assert "row 6: application_id: repeats row 1" in err
    assert "4 problem(s)" in err and "nothing planned" in err
    status, out, _ = run(capsys, "plan", path, "--today", "2026-02-24", "--json")
    assert status == 2
    assert [(e["row"], e["field"]) for e in json.loads(out)["errors"]] == [
        (2, "doc_type"), (3, "accepted_at"), (4, "record"), (6, "application_id")
    ]


@pytest.fixture(scope="module")
def late_queue(tmp_path_factory):
    """A queue with late jobs: 6,000 applications over the 8 working days before 2026-03-02 plus 40 green
    passports taken this morning (due tomorrow), planned on one booklet and one card printer (``DOWN``).

    On day 0 the booklet jobs due then (440) fit its 480 documents, but the 56 green ones print first: the
    plain demand bound passes on day 0, the plan does not."""
    config = load_config()
    rows = peak_application_rows(
        np.random.default_rng(11), config, build_calendar(config.calendar), today=dt.date(2026, 3, 2), count=6000, backlog_days=8
    )
    green = next(r for r in rows if r["service_class"] == "green" and r["doc_type"] == "passport")
    rows += [dict(green, application_id=f"G{i:07d}", accepted_at="2026-03-02T08:30:00+08:00") for i in range(40)]
    return rows, write_rows(tmp_path_factory.mktemp("late") / "queue.jsonl", rows)


DOWN = [f"B{i:02d}" for i in range(1, 14)] + [f"C{i:02d}" for i in range(1, 8)]


def test_plan_json_shape_and_demand_bound_arithmetic(capsys, late_queue):
    rows, path = late_queue
    argv = ["plan", path, "--today", "2026-03-02", "--json", "--forecast-days", "15", *[a for m in DOWN for a in ("--down", m)]]
    status, out, err = run(capsys, *argv)
    assert status == 0, err
    report = json.loads(out)
    assert set(report) >= {"pools", "days", "late", "at_risk", "forecast"}
    assert set(report["pools"]) == {"booklet", "card"}
    for row in report["days"]:
        assert set(row) >= {"date", "pool", "demand", "capacity", "overtime_hours"}
    queue = queue_of(rows, dt.date(2026, 3, 2))
    check_plan_report(report, queue, load_config(), down=DOWN)
    booklet = [r for r in report["days"] if r["pool"] == "booklet"]
    # The case the plain arithmetic missed: due by production deadline fits day 0, the pinned greens do not.
    assert booklet[0]["due"] - report["pools"]["booklet"]["overdue"] <= booklet[0]["capacity"] < booklet[0]["demand"]
    assert report["pools"]["booklet"]["deadlines_break"] == "2026-03-02" and booklet[0]["overtime_hours"] > 0
    assert report["pools"]["booklet"]["late"] > report["pools"]["booklet"]["overdue"] > 0
    for name, pool in report["pools"].items():
        assert pool["jobs"] == sum(r["due"] for r in report["days"] if r["pool"] == name)
    assert report["first_plan_day"] == "2026-03-02"
    # Same input, same output.
    assert run(capsys, *argv)[1] == out
    # The table flags the same days.
    status, table, _ = run(capsys, *[a for a in argv if a != "--json"])
    flagged = [line.split()[1] for line in table.splitlines() if line.endswith("<- breaks")]
    assert flagged == [r["date"] for r in report["days"] if r["breaks"]]


def test_plan_table(capsys, small_queue):
    status, out, _ = run(capsys, "plan", small_queue, "--today", "2026-03-02", "--forecast-days", "10")
    assert status == 0
    assert out.startswith("Plan for 2026-03-02")
    assert "booklet" in out and "card" in out and "At risk" in out and "Forecast" in out


def test_a_down_machine_lowers_capacity(capsys, small_queue):
    _, out, _ = run(capsys, "plan", small_queue, "--today", "2026-03-02", "--json", "--down", "B01", "--down", "B02")
    report = json.loads(out)
    assert report["pools"]["booklet"]["machines_down"] == ["B01", "B02"]
    assert report["days"][0]["capacity"] == 12 * 60 * 8
    status, _, err = run(capsys, "plan", small_queue, "--today", "2026-03-02", "--down", "B99")
    assert status == 2 and "down: is not a machine" in err


def test_plan_in_late_december_fails_closed(capsys, tmp_path, valid_record, config_dir):
    path = write_rows(tmp_path / "queue.jsonl", [dict(valid_record, accepted_at="2026-12-24T10:00:00+08:00")])
    status, out, err = run(capsys, "plan", path, "--today", "2026-12-24")
    assert status == 2 and out == "" and "year 2027" in err
    (config_dir / "calendar.toml").write_text(
        '[[years]]\nyear = 2027\ncomplete = true\nholidays = ["2027-01-01"]\n', encoding="utf-8"
    )
    status, out, err = run(capsys, "plan", path, "--today", "2026-12-24", "--json", "--config", config_dir)
    assert status == 0, err
    assert json.loads(out)["pools"]["booklet"]["jobs"] == 1


def test_missing_queue_file(capsys, tmp_path):
    status, _, err = run(capsys, "plan", tmp_path / "nope.jsonl")
    assert status == 2 and "queue: no such file" in err


def first_break_by_intervals(backlog, arrivals, capacity):
    """First day D on which some interval [a, D] holds more jobs (released in it, due by D) than its capacity.

    Unit jobs with release and due days: a job is missed by D in every schedule iff such an interval
    exists (and earliest-deadline-first misses none before). Backlog is released on day 0.
    """
    days, leads = arrivals.shape[0], arrivals.shape[1]
    release = np.concatenate([np.zeros(days, int), np.repeat(np.arange(days), leads)])
    due = np.concatenate([np.arange(days), (np.arange(days)[:, None] + np.arange(leads)[None, :]).ravel()])
    count = np.concatenate([backlog, arrivals.ravel()])
    for d in range(days):
        for a in range(d + 1):
            if count[(release >= a) & (due <= d)].sum() > capacity[a : d + 1].sum():
                return d
    return -1


@pytest.mark.slow
def test_spring_festival_peak(capsys, tmp_path):
    """Done-when: 3x normal intake after the 2026 Spring Festival; breaks and overtime match the arithmetic."""
    config = load_config()
    cal = build_calendar(config.calendar)
    today = dt.date(2026, 2, 24)
    rows = peak_application_rows(np.random.default_rng(2026), config, cal, today=today, count=90_000)
    path = write_rows(tmp_path / "peak.jsonl", rows)
    status, out, err = run(capsys, "plan", path, "--today", "2026-02-24", "--json")
    assert status == 0, err
    report = json.loads(out)
    queue = queue_of(rows, today)
    # Late counts, break dates, the table's flags; the overtime meets every deadline and is the least:
    # a quarter hour less on any day with overtime leaves someone late.
    check_plan_report(report, queue, config)
    for pool in report["pools"].values():
        assert pool["late_even_with_overtime"] == pool["overdue"] == 0 < pool["late"]
        assert pool["overtime_hours"] > 0
    assert report["pools"]["booklet"]["deadlines_break"] == "2026-02-28"
    # The forecast's break dates, with and without peak shifts, against the interval form of the demand bound.
    forecast = report["forecast"]
    dates = [dt.date.fromisoformat(d["date"]) for d in forecast["expected_intake"]]
    arrivals = expected_arrivals(np.array([d["applications"] for d in forecast["expected_intake"]], float), queue_mix(queue))
    backlog = backlog_by_deadline(queue, len(dates))
    for label in ("normal_shifts", "peak_shifts"):
        hours = np.array([config.line.shifts.normal_hours] * len(dates))
        if label == "peak_shifts":
            hours = np.array([max(hours[i], p.shift_hours) if (p := config.seasons.peak_on(d)) else hours[i] for i, d in enumerate(dates)])
        breaks = []
        for p, name in enumerate(queue.pools):
            machines = [m for m in config.line.machines if m.pool == name]
            capacity = pool_capacity_at(machines, (), hours)
            day = first_break_by_intervals(backlog[p], arrivals[:, p, :], capacity)
            expected = dates[day].isoformat() if day >= 0 else None
            assert forecast[label]["pools"][name]["deadlines_break"] == expected
            breaks.append(day)
        first = min((b for b in breaks if b >= 0), default=-1)
        assert forecast[label]["deadlines_break"] == (dates[first].isoformat() if first >= 0 else None)
    assert forecast["normal_shifts"]["deadlines_break"] < forecast["peak_shifts"]["deadlines_break"]
