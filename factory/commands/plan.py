"""``factory plan QUEUE.jsonl``: the capacity plan, late list, overtime and peak forecast.

Shell only: reads the configuration and the queue file, reads the clock for
"today" when ``--today`` is not given, calls the pure scheduler, prints.

Bad rows abort: every row is validated first, and if any is bad (not JSON,
unknown document type, missing ``accepted_at``, a repeated
``application_id``...) the command lists all of them (row number, field,
reason) and plans nothing, exit status 2. A plan of part of the queue would
understate the load and could hide a broken deadline.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from factory.config import Config, load_config
from factory.errors import InvalidField, InvalidRecord
from factory.records import Application, parse_application
from factory.scheduler import (
    build_calendar,
    backlog_by_deadline,
    expected_arrivals,
    forecast_breaks,
    line_arrays,
    plan_day_zero,
    plan_overtime,
    plan_queue,
    queue_from_applications,
    queue_mix,
    shift_hours_for,
)
from factory.scheduler.calendar import WorkingCalendar

__all__ = ["register", "run", "read_queue"]

_MAX_HORIZON_DAYS = 250
_LATE_SHOWN = 20


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "plan",
        help="plan a queue over the machines: late jobs, overtime, when deadlines break",
        description=(
            "Plan every queued application on a machine, day and slot so that the fewest are late; "
            "show demand against capacity per pool and day, the overtime that meets every deadline, "
            "and the day deadlines start to break under the expected intake, with and without peak shifts."
        ),
    )
    parser.add_argument("queue", type=Path, help="JSON lines, one application record per line")
    parser.add_argument("--config", type=Path, default=None, help="configuration directory (default: configs/)")
    parser.add_argument("--today", type=dt.date.fromisoformat, default=None, help="plan date YYYY-MM-DD (default: today in the line's time zone)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of tables")
    parser.add_argument("--down", action="append", default=[], metavar="MACHINE", help="a machine that is down (repeatable)")
    parser.add_argument("--peak-shifts", action="store_true", help="plan with the seasons' peak shift lengths instead of normal shifts")
    parser.add_argument("--forecast-days", type=int, default=30, metavar="N", help="working days to run the forecast (default 30)")
    parser.set_defaults(run=run)


def read_queue(path: Path, config: Config) -> tuple[list[Application], list[dict[str, Any]]]:
    """Parse every row; return the applications and every problem (row, field, reason)."""
    applications: list[Application] = []
    problems: list[dict[str, Any]] = []
    first_row: dict[str, int] = {}
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
            except json.JSONDecodeError as err:
                problems.append({"row": number, "field": "record", "reason": f"not valid JSON ({err.msg})"})
                continue
            try:
                app = parse_application(data, config, where=f"row {number}")
            except InvalidRecord as err:
                problems.extend({"row": number, **e.as_dict()} for e in err.errors)
                continue
            if app.application_id in first_row:
                problems.append(
                    {"row": number, "field": "application_id", "reason": f"repeats row {first_row[app.application_id]}"}
                )
                continue
            first_row[app.application_id] = number
            applications.append(app)
    return applications, problems


def _plan_dates(cal: WorkingCalendar, day_zero: int, days: int) -> list[dt.date]:
    end = min(day_zero + days, len(cal.working_ordinals))
    return [dt.date.fromordinal(int(o)) for o in cal.working_ordinals[day_zero:end]]


def run(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    if not args.queue.is_file():
        raise InvalidField("queue", "no such file", str(args.queue))
    if args.forecast_days < 1:
        raise InvalidField("--forecast-days", "must be at least 1", args.forecast_days)
    today = args.today or dt.datetime.now(config.line.tz).date()
    applications, problems = read_queue(args.queue, config)
    if problems:
        for p in problems:
            print(f"factory: {args.queue}: row {p['row']}: {p['field']}: {p['reason']}", file=sys.stderr)
        if args.json:
            print(json.dumps({"errors": problems}, ensure_ascii=False))
        print(f"factory: {len(problems)} problem(s) in {args.queue}; nothing planned", file=sys.stderr)
        return 2

    cal = build_calendar(config.calendar)
    queue, deadlines = queue_from_applications(applications, config, cal, today=today)
    day_zero = plan_day_zero(cal, today)
    accepted_today = sum(1 for a in applications if a.accepted_at.astimezone(config.line.tz).date() == today)
    report = build_report(
        config, cal, queue, deadlines.production_day, day_zero, today=today, args=args, accepted_today=accepted_today
    )
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=1))
    else:
        print_report(report)
    return 0


def _horizon(config: Config, queue, line_capacity_per_day: np.ndarray, available: int) -> int:
    """Days to plan: past every deadline and long enough to print everything at base capacity."""
    days = int(queue.deadline_day.max(initial=-1)) + 1
    counts = np.bincount(queue.pool.astype(np.int64), minlength=len(queue.pools))
    with np.errstate(divide="ignore", invalid="ignore"):
        fit = np.where(line_capacity_per_day > 0, np.ceil(counts / np.maximum(line_capacity_per_day, 1)), 0)
    days = max(days, int(fit.max(initial=0)), 1)
    return min(days, _MAX_HORIZON_DAYS, available)


def build_report(config, cal, queue, production_day, day_zero, *, today, args, accepted_today=0) -> dict[str, Any]:
    """The plan, overtime and forecast as JSON-ready data."""
    available = len(cal.working_ordinals) - day_zero
    probe = line_arrays(config.line, _plan_dates(cal, day_zero, 1), down=args.down)
    probe_hours = shift_hours_for(config.line, config.seasons, _plan_dates(cal, day_zero, 1), peak_shifts=args.peak_shifts)
    per_day = probe.with_shift_hours(probe_hours).pool_capacity()[:, 0]
    days = _horizon(config, queue, per_day, available)
    dates = _plan_dates(cal, day_zero, days)
    hours = shift_hours_for(config.line, config.seasons, dates, peak_shifts=args.peak_shifts)
    line = line_arrays(config.line, dates, shift_hours=hours, down=args.down)
    plan = plan_queue(queue, line.capacity, line.machine_pool, line.rated_per_hour)
    overtime = plan_overtime(queue, line, max_shift_hours=config.line.shifts.peak_hours)
    load = plan.load

    pools: dict[str, Any] = {}
    rows: list[dict[str, Any]] = []
    for p, name in enumerate(queue.pools):
        members = queue.pool == p
        if not members.any() and not (line.machine_pool == p).any():
            continue
        # The demand-bound arithmetic (plan.py, "Demand bound"): the table's "<- breaks" and the summary's
        # break date both read it, as do feasibility and the overtime.
        cum_demand = np.cumsum(load.bound_demand[p])
        cum_capacity = np.cumsum(load.capacity[p])
        break_day = int(load.first_break_day[p])
        pools[name] = {
            "machines": int((line.machine_pool == p).sum()),
            "machines_down": sorted(m for m in args.down if line.machine_pool[line.machine_ids.index(m)] == p),
            "jobs": int(members.sum()),
            "capacity": int(load.capacity[p].sum()),
            "overdue": int(load.overdue[p]),
            # Overdue because the time limit cannot hold the downstream days (urgent with mail), not the backlog.
            "late_on_arrival": int((members & (queue.deadline_day < 0) & (queue.deadline_day < queue.effective_day)).sum()),
            "late": int((plan.late & members).sum()),
            "min_late": int(load.min_late[p]),
            "feasible": bool(load.feasible[p]),
            "deadlines_break": dates[break_day].isoformat() if break_day >= 0 else None,
            "overtime_hours": round(float(overtime.hours[p].sum()), 2),
            "overtime_max_hours_per_day": round(float(overtime.hours[p].max(initial=0.0)), 2),
            "late_even_with_overtime": int(overtime.still_late[p] + overtime.overdue[p]),
            "unplanned": int((plan.unplanned & members).sum()),
        }
        for d, date in enumerate(dates):
            rows.append(
                {
                    "date": date.isoformat(),
                    "pool": name,
                    # Jobs due that day in the demand-bound arithmetic; "due": by production deadline
                    # (overdue ones on the first day).
                    "demand": int(load.bound_demand[p, d]),
                    "due": int(load.demand[p, d] + (load.overdue[p] if d == 0 else 0)),
                    "capacity": int(load.capacity[p, d]),
                    "overtime_hours": round(float(overtime.hours[p, d]), 2),
                    "planned": int(plan.planned[p, d]),
                    "cumulative_demand": int(cum_demand[d]),
                    "cumulative_capacity": int(cum_capacity[d]),
                    "breaks": bool(cum_demand[d] > cum_capacity[d]),
                    "shift_hours": float(line.shift_hours[d]),
                }
            )
    late_rows = np.flatnonzero(plan.late)
    late_rows = late_rows[np.lexsort((late_rows, -plan.days_late[late_rows]))]
    production_dates = cal.working_ordinals[np.clip(production_day, 0, len(cal.working_ordinals) - 1)]
    late = [
        {
            "application_id": queue.application_id[i],
            "days_late": int(plan.days_late[i]),
            "pool": queue.pools[queue.pool[i]],
            "production_deadline": dt.date.fromordinal(int(production_dates[i])).isoformat(),
            "planned_date": dates[plan.day[i]].isoformat() if plan.day[i] >= 0 else None,
        }
        for i in late_rows.tolist()
    ]
    at_risk = int(((plan.day == queue.deadline_day) & ~plan.late).sum())
    return {
        "today": today.isoformat(),
        "first_plan_day": dates[0].isoformat() if dates else None,
        "days_planned": len(dates),
        "shifts": "peak" if args.peak_shifts else "normal",
        "pools": pools,
        "days": rows,
        "late": late,
        "at_risk": at_risk,
        "forecast": _forecast(config, cal, queue, day_zero, args, accepted_today=accepted_today, today=today),
    }


def _forecast(config, cal, queue, day_zero, args, *, accepted_today: int, today: dt.date) -> dict[str, Any]:
    available = len(cal.working_ordinals) - day_zero
    days = min(args.forecast_days, available)
    dates = _plan_dates(cal, day_zero, days)
    mix = queue_mix(queue)
    if not dates or not np.isclose(mix.sum(), 1.0):
        return {"days": 0, "note": "no queue to take the mix of document types and lead times from"}
    factors = np.array([(p.volume_factor if (p := config.seasons.peak_on(d)) else 1.0) for d in dates])
    intake = config.seasons.normal_daily_intake * factors
    if dates[0] == today:
        # Applications already taken today are in the queue: only the rest of today's intake is to come.
        intake[0] = max(0.0, intake[0] - accepted_today)
    arrivals = expected_arrivals(intake, mix)
    backlog = backlog_by_deadline(queue, days)
    out: dict[str, Any] = {
        "days": days,
        "until": dates[-1].isoformat(),
        "expected_intake": [{"date": d.isoformat(), "applications": int(a)} for d, a in zip(dates, arrivals.sum(axis=(1, 2)))],
    }
    if days < args.forecast_days:
        out["calendar_ends"] = cal.last_date.isoformat()
    for label, peak in (("normal_shifts", False), ("peak_shifts", True)):
        hours = shift_hours_for(config.line, config.seasons, dates, peak_shifts=peak)
        line = line_arrays(config.line, dates, shift_hours=hours, down=args.down)
        result = forecast_breaks(backlog, arrivals, line.pool_capacity())
        first = result.first_break_day
        out[label] = {
            "deadlines_break": dates[first].isoformat() if first >= 0 else None,
            "pools": {
                name: {
                    "deadlines_break": dates[b].isoformat() if b >= 0 else None,
                    "capacity_per_day": int(result.capacity[p, 0]),
                    "missed_by_end": int(result.missed[p, -1]),
                }
                for p, (name, b) in enumerate(zip(queue.pools, result.break_day.tolist()))
            },
            "shift_hours": sorted({float(h) for h in hours}),
        }
    return out


# --------------------------------------------------------------------------- plain output


def _date_label(iso: str | None) -> str:
    if iso is None:
        return "-"
    day = dt.date.fromisoformat(iso)
    return f"{day:%a} {iso}"


def print_report(report: dict[str, Any]) -> None:
    out = sys.stdout.write
    out(
        f"Plan for {report['today']}: {report['days_planned']} working day{'s' if report['days_planned'] != 1 else ''} from "
        f"{_date_label(report['first_plan_day'])}, {report['shifts']} shifts\n\n"
    )
    header = f"{'pool':<8} {'machines':>8} {'jobs':>8} {'overdue':>7} {'late':>7} {'feasible':>8}  {'deadlines break':<16} {'overtime':>9} {'max/day':>7} {'late w/ overtime':>16}\n"
    out(header)
    for name, p in report["pools"].items():
        out(
            f"{name:<8} {p['machines']:>8} {p['jobs']:>8} {p['overdue']:>7} {p['late']:>7} "
            f"{'yes' if p['feasible'] else 'NO':>8}  {_date_label(p['deadlines_break']):<16} "
            f"{p['overtime_hours']:>8.2f}h {p['overtime_max_hours_per_day']:>6.2f}h {p['late_even_with_overtime']:>16}\n"
        )
    on_arrival = {name: p["late_on_arrival"] for name, p in report["pools"].items() if p["late_on_arrival"]}
    if on_arrival:
        listed = ", ".join(f"{name} {count}" for name, count in on_arrival.items())
        out(f"overdue on arrival (the time limit cannot hold the dispatch and mail days): {listed}\n")
    out("\n")
    out("demand: jobs due each day in the demand-bound arithmetic (green and same-day jobs, printed first,\n")
    out("are due by the earliest deadline of the jobs they print ahead of); due: by production deadline\n")
    out(f"{'date':<15} {'pool':<8} {'due':>7} {'demand':>7} {'cum dem':>8} {'capacity':>8} {'cum cap':>8} {'planned':>8} {'shift':>6} {'overtime':>9}\n")
    for row in report["days"]:
        if not (row["demand"] or row["due"] or row["planned"] or row["overtime_hours"]):
            continue
        # The same arithmetic as the pool summary's break date: a job not yet overdue can no longer make it.
        flag = "  <- breaks" if row["breaks"] else ""
        out(
            f"{_date_label(row['date']):<15} {row['pool']:<8} {row['due']:>7} {row['demand']:>7} {row['cumulative_demand']:>8} "
            f"{row['capacity']:>8} {row['cumulative_capacity']:>8} {row['planned']:>8} {row['shift_hours']:>5.1f}h "
            f"{'+' + format(row['overtime_hours'], '.2f') + 'h' if row['overtime_hours'] else '-':>9}{flag}\n"
        )
    late = report["late"]
    out(f"\nLate: {len(late)}")
    if late:
        out(f" (most late first{', first ' + str(_LATE_SHOWN) if len(late) > _LATE_SHOWN else ''})\n")
        for item in late[:_LATE_SHOWN]:
            out(
                f"  {item['application_id']:<12} {item['pool']:<8} {item['days_late']:>3} working day(s) late, "
                f"due {item['production_deadline']}, planned {item['planned_date'] or 'beyond the plan'}\n"
            )
    else:
        out("\n")
    out(f"At risk (on time with no day to spare): {report['at_risk']}\n")
    fc = report["forecast"]
    if fc.get("days"):
        out(f"\nForecast with the expected intake, {fc['days']} working days to {fc['until']}")
        if "calendar_ends" in fc:
            out(f" (the calendar ends {fc['calendar_ends']})")
        out(":\n")
        for label, title in (("normal_shifts", "normal shifts"), ("peak_shifts", "peak shifts")):
            f = fc[label]
            hours = "/".join(f"{h:g}" for h in f["shift_hours"])
            pools = ", ".join(
                f"{name} {_date_label(v['deadlines_break'])} ({v['capacity_per_day']}/day)" for name, v in f["pools"].items()
            )
            out(f"  {title} ({hours} h): deadlines break {_date_label(f['deadlines_break'])}  [{pools}]\n")
    else:
        out(f"\nForecast: {fc.get('note', 'none')}\n")
