"""What a demo run achieved, from the ledger's rows and the printers' ground truth: pure arithmetic.

Line time: the demo runs the simulated printers faster than real time, and on
one small machine they also wait for the CPU, so wall-clock times say little
about a real day. The summary therefore replays each machine's prints at its
rated pace: the ``k``-th document machine ``m`` printed (in the order it
printed them) finished ``k * cycle_s`` line-seconds into production, on
working day ``floor(k * cycle_s / shift_seconds)`` counted from the acceptance
day. A deadline is met when that working day is on or before the
application's production deadline, as the scheduler computed it at intake.
Overtime is the printing hours a machine needed on a day beyond the normal
shift.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from factory.scheduler import WorkingCalendar, add_working_days

__all__ = ["PrintedDocument", "DemoSummary", "summarize_run", "format_summary"]


@dataclass(frozen=True, slots=True)
class PrintedDocument:
    application_id: str
    machine: str
    printed_at: float
    """Wall-clock seconds (epoch) the device reported the print."""
    production_date: dt.date | None


@dataclass(frozen=True, slots=True, kw_only=True)
class DemoSummary:
    applications: int
    states: Mapping[str, int]
    printed: int
    spoiled_by_reason: Mapping[str, int]
    flagged: int
    defects: Mapping[str, tuple[int, int]]
    """Defect type -> (caught, injected)."""
    clean_pages: int
    clean_flagged: int
    deadlines_met: int
    deadlines_missed: int
    last_working_day: dt.date | None
    overtime_hours: float
    """Machine-hours run beyond the normal shift, in line time."""
    wall_seconds: float
    audit_clean: bool
    audit_problems: Sequence[str] = field(default_factory=tuple)
    intake: Mapping[str, int] = field(default_factory=dict)
    """Intake QA's first word on each application: passed, review (a reviewer decides), returned."""
    lookalikes: tuple[int, int] = (0, 0)
    """Look-alike signatures the sample generator injected: (held for review or returned, injected)."""


def summarize_run(
    *,
    states: Mapping[str, int],
    printed: Sequence[PrintedDocument],
    spoiled_reasons: Iterable[str],
    ground_truth: Iterable[Mapping],
    qa_passed: Mapping[tuple[str, str], bool],
    started_at: float,
    finished_at: float,
    cycle_s: float,
    shift_hours: float,
    normal_hours: float,
    acceptance_day: dt.date,
    calendar: WorkingCalendar,
    audit_problems: Sequence[str],
    intake_outcomes: Mapping[str, str] | None = None,
    lookalike_ids: Iterable[str] = (),
) -> DemoSummary:
    """Combine a run's records into its summary (see the module docstring for the time model).

    ``qa_passed`` maps (application_id, blank_serial) to the QA verdict of that page;
    ``ground_truth`` holds the simulators' lines (application_id, blank_serial, defects);
    ``intake_outcomes`` maps an application to intake QA's event (``intake_passed``, ``intake_flagged``,
    ``returned``); ``lookalike_ids`` are the applications the generator gave a look-alike signature.
    """
    per_shift = max(1, int(shift_hours * 3600.0 / cycle_s + 1e-9))  # documents a machine prints in a shift
    met = missed = 0
    last_index = -1
    done_on_machine: Counter[str] = Counter()
    busy: Counter[tuple[str, int]] = Counter()  # (machine, working day) -> documents printed
    for doc in sorted(printed, key=lambda d: d.printed_at):
        index = done_on_machine[doc.machine] // per_shift
        done_on_machine[doc.machine] += 1
        busy[(doc.machine, index)] += 1
        last_index = max(last_index, index)
        if doc.production_date is None:
            continue
        if add_working_days(calendar, acceptance_day, index) <= doc.production_date:
            met += 1
        else:
            missed += 1
    overtime = sum(max(0.0, count * cycle_s / 3600.0 - normal_hours) for count in busy.values())

    caught: Counter[str] = Counter()
    injected: Counter[str] = Counter()
    clean = clean_flagged = 0
    for line in ground_truth:
        verdict = qa_passed.get((line["application_id"], line["blank_serial"]))
        if verdict is None:
            continue  # not checked (yet): counted nowhere
        kinds = {d["type"] for d in line.get("defects", ())}
        if not kinds:
            clean += 1
            clean_flagged += not verdict
        for kind in kinds:
            injected[kind] += 1
            caught[kind] += not verdict
    outcomes = dict(intake_outcomes or {})
    names = {"intake_passed": "passed", "intake_flagged": "review", "returned": "returned"}
    intake = Counter(names[e] for e in outcomes.values() if e in names)
    lookalike_ids = set(lookalike_ids)
    lookalikes_caught = sum(outcomes.get(a) in ("intake_flagged", "returned") for a in lookalike_ids)
    return DemoSummary(
        intake={k: intake.get(k, 0) for k in ("passed", "review", "returned")} if outcomes else {},
        lookalikes=(lookalikes_caught, len(lookalike_ids)),
        applications=sum(states.values()),
        states=dict(states),
        printed=len(printed),
        spoiled_by_reason=dict(Counter(spoiled_reasons)),
        flagged=states.get("qa_flagged", 0),
        defects={kind: (caught[kind], injected[kind]) for kind in sorted(injected)},
        clean_pages=clean,
        clean_flagged=clean_flagged,
        deadlines_met=met,
        deadlines_missed=missed,
        last_working_day=add_working_days(calendar, acceptance_day, last_index) if last_index >= 0 else None,
        overtime_hours=overtime,
        wall_seconds=finished_at - started_at,
        audit_clean=not audit_problems,
        audit_problems=tuple(audit_problems),
    )


def format_summary(summary: DemoSummary) -> str:
    lines = [
        f"applications {summary.applications:,}: "
        + ", ".join(f"{state} {count:,}" for state, count in sorted(summary.states.items(), key=lambda kv: -kv[1])),
        f"documents printed {summary.printed:,}; spoiled "
        + (", ".join(f"{reason} {n}" for reason, n in sorted(summary.spoiled_by_reason.items())) or "none")
        + f"; flagged for review {summary.flagged:,}",
    ]
    if summary.intake:
        caught, injected = summary.lookalikes
        lines.append(
            f"intake QA: passed {summary.intake['passed']:,}, to a reviewer {summary.intake['review']:,}, "
            f"back to the acceptance point {summary.intake['returned']:,}; look-alike signatures caught "
            f"{caught}/{injected}" + (f" ({100.0 * caught / injected:.1f} %)" if injected else ""))
    lines.append("print defects caught by QA (caught/injected):")
    for kind, (caught, injected) in summary.defects.items():
        lines.append(f"  {kind:<16} {caught:>5}/{injected:<5} {100.0 * caught / injected:5.1f} %")
    if not summary.defects:
        lines.append("  none injected")
    rate = 100.0 * summary.clean_flagged / summary.clean_pages if summary.clean_pages else 0.0
    lines.append(f"clean pages flagged: {summary.clean_flagged}/{summary.clean_pages} ({rate:.2f} %)")
    total = summary.deadlines_met + summary.deadlines_missed
    lines.append(
        f"deadlines met {summary.deadlines_met:,} of {total:,}, missed {summary.deadlines_missed:,}"
        + (f"; production ran to {summary.last_working_day}" if summary.last_working_day else "")
    )
    lines.append(f"overtime used: {summary.overtime_hours:,.1f} machine-hours beyond the normal shift")
    minutes = summary.wall_seconds / 60.0
    lines.append(f"wall time {minutes:.1f} min; audit " + ("clean" if summary.audit_clean else "FAILED"))
    for problem in summary.audit_problems[:20]:
        lines.append(f"  {problem}")
    return "\n".join(lines)
