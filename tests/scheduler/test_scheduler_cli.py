"""``factory calendar`` and ``factory plan`` through the command line."""

from __future__ import annotations

import datetime as dt
import json
import shutil

import numpy as np
import pytest

from factory.cli import main
from factory.config import default_config_dir, load_config
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


def test_plan_json_shape_and_demand_bound_arithmetic(capsys, small_queue):
    status, out, err = run(capsys, "plan", small_queue, "--today", "2026-03-02", "--json", "--forecast-days", "15")
    assert status == 0, err
    report = json.loads(out)
    assert set(report) >= {"pools", "days", "late", "at_risk", "forecast"}
    assert set(report["pools"]) == {"booklet", "card"}
    for row in report["days"]:
        assert set(row) >= {"date", "pool", "demand", "capacity", "overtime_hours"}
    for name, pool in report["pools"].items():
        rows = [r for r in report["days"] if r["pool"] == name]
        cum_due = np.cumsum([r["demand"] for r in rows])
        cum_cap = np.cumsum([r["capacity"] for r in rows])
        assert pool["late"] == max(0, int((cum_due - cum_cap).max()))
        assert pool["jobs"] == cum_due[-1]  # every deadline is inside the plan; overdue count on day 0
    assert len(report["late"]) == sum(p["late"] for p in report["pools"].values())
    assert report["first_plan_day"] == "2026-03-02"
    # Same input, same output.
    assert run(capsys, "plan", small_queue, "--today", "2026-03-02", "--json", "--forecast-days", "15")[1] == out


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


@pytest.mark.slow
def test_spring_festival_peak(capsys, tmp_path):
    """Done-when: 3x normal intake after the 2026 Spring Festival; breaks and overtime match the arithmetic."""
    config = load_config()
    rows = peak_application_rows(
        np.random.default_rng(2026), config, build_calendar(config.calendar), today=dt.date(2026, 2, 24), count=90_000
    )
    path = write_rows(tmp_path / "peak.jsonl", rows)
    status, out, err = run(capsys, "plan", path, "--today", "2026-02-24", "--json")
    assert status == 0, err
    report = json.loads(out)
    for name, pool in report["pools"].items():
        rows = [r for r in report["days"] if r["pool"] == name]
        dates = [r["date"] for r in rows]
        excess = np.cumsum([r["demand"] for r in rows]) - np.cumsum([r["capacity"] for r in rows])
        broken = np.flatnonzero(excess > 0)
        assert pool["deadlines_break"] == (dates[broken[0]] if broken.size else None)
        assert pool["late"] == max(0, int(excess.max()))
        # The overtime closes every gap: extra documents by each day cover that day's excess.
        machines = [m for m in config.line.machines if m.pool == name]
        per_hour = sum(m.rated_per_hour for m in machines)
        extra = np.cumsum([np.floor(r["overtime_hours"] * per_hour / len(machines) + 1e-9) * len(machines) for r in rows])
        assert (extra >= excess).all()
        assert pool["late_even_with_overtime"] == 0
    assert report["pools"]["booklet"]["deadlines_break"] == "2026-02-28"
    assert report["forecast"]["normal_shifts"]["deadlines_break"] < report["forecast"]["peak_shifts"]["deadlines_break"]
