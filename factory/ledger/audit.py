"""The audit: does the ledger add up? Pure checks over rows, and the shell that reads them.

Checks, each finding naming its offender:

- **blanks per machine and shift**: from the event log, every take of a blank
  ends as good (issued), spoiled (voided) or returned, or is still in flight;
  taken = good + spoiled + returned + in flight, and the log must agree with
  the blanks table (a blank whose table state differs from its history is a
  violation). A blank in flight whose application is not in flight is a
  violation; one whose application is printing or awaiting reconciliation is
  an open item.
- **one document per application**: no application has more than one issued
  blank; every application in a state with a document has exactly the one it
  names.
- **the hand-over log replays**: every application's events are numbered
  1, 2, ... with no gap, start with ``received``, follow ``TRANSITIONS`` step
  by step and end in the state the table holds.
- **void reasons** are known ones; the log's append-only triggers are present.

Open items (not violations): applications in ``needs_reconcile`` (an operator
decides), blanks in flight.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from factory.ledger.states import (
    HAS_DOCUMENT,
    TRANSITIONS,
    VOID_REASONS,
    BlankState,
    Event,
    JobState,
)

__all__ = ["Finding", "ShiftTally", "AuditReport", "audit_rows", "audit_ledger"]

_IN_FLIGHT_OR_OPEN = frozenset({JobState.LEASED, JobState.PRINTING, JobState.NEEDS_RECONCILE})


@dataclass(frozen=True, slots=True)
class Finding:
    check: str
    """Which check: blanks, documents, events, void_reason, schema, reconcile."""
    subject: str
    """The offender: an application id, a blank serial, a machine/shift."""
    message: str

    def __str__(self) -> str:
        return f"{self.check}: {self.subject}: {self.message}"


@dataclass(slots=True)
class ShiftTally:
    machine: str
    shift: str
    taken: int = 0
    good: int = 0
    spoiled: int = 0
    returned: int = 0
    in_flight: int = 0

    @property
    def balanced(self) -> bool:
        return self.taken == self.good + self.spoiled + self.returned + self.in_flight


@dataclass(frozen=True, slots=True)
class AuditReport:
    shifts: tuple[ShiftTally, ...]
    violations: tuple[Finding, ...]
    open_items: tuple[Finding, ...]
    counts: Mapping[str, int] = field(default_factory=dict)
    """Applications per state."""

    @property
    def ok(self) -> bool:
        return not self.violations

    def lines(self) -> list[str]:
        """The report as text lines (what ``factory audit`` prints)."""
        out = ["machine  shift       taken   good  spoiled  returned  in_flight"]
        for t in self.shifts:
            out.append(f"{t.machine:<8} {t.shift:<10} {t.taken:>6} {t.good:>6} {t.spoiled:>8} {t.returned:>9}"
                       f" {t.in_flight:>10}")
        total = ShiftTally("all", "")
        for t in self.shifts:
            total.taken += t.taken
            total.good += t.good
            total.spoiled += t.spoiled
            total.returned += t.returned
            total.in_flight += t.in_flight
        out.append(f"{'total':<8} {'':<10} {total.taken:>6} {total.good:>6} {total.spoiled:>8} {total.returned:>9}"
                   f" {total.in_flight:>10}")
        out.append("applications: " + ", ".join(f"{k} {v}" for k, v in sorted(self.counts.items())))
        for finding in self.open_items:
            out.append(f"open: {finding}")
        for finding in self.violations:
            out.append(f"VIOLATION: {finding}")
        out.append("audit: OK" if self.ok else f"audit: {len(self.violations)} violation(s)")
        return out


def _check_events(
    applications: Mapping[str, Mapping[str, Any]], events: Sequence[Mapping[str, Any]], violations: list[Finding]
) -> None:
    by_app: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for ev in events:
        if ev["kind"] == "application":
            by_app[ev["subject"]].append(ev)
    for app_id in by_app.keys() - applications.keys():
        violations.append(Finding("events", app_id, "has events but no application row"))
    for app_id, row in applications.items():
        history = sorted(by_app.get(app_id, ()), key=lambda e: e["seq"])
        seqs = [e["seq"] for e in history]
        if not history or seqs != list(range(1, len(history) + 1)) or len(history) != row["version"]:
            violations.append(Finding("events", app_id, f"event numbers {seqs[:5]}... do not run 1..{row['version']}"))
            continue
        if history[0]["event"] != Event.RECEIVED or history[0]["to_state"] != JobState.ACCEPTED:
            violations.append(Finding("events", app_id, "does not start with received -> accepted"))
            continue
        state = JobState.ACCEPTED
        for ev in history[1:]:
            try:
                expected = TRANSITIONS[(JobState(state), Event(ev["event"]))]
            except (KeyError, ValueError):
                violations.append(Finding("events", app_id, f"event {ev['seq']} {ev['event']!r} not allowed in {state}"))
                break
            if ev["event"] == Event.RETURNED and not (ev.get("reason") or "").strip():
                violations.append(Finding("events", app_id, f"event {ev['seq']} returned it to its acceptance "
                                          "point without the reasons"))
                break
            if ev["from_state"] != state or ev["to_state"] != expected:
                violations.append(Finding("events", app_id, f"event {ev['seq']} records {ev['from_state']} -> "
                                          f"{ev['to_state']}, the table says {state} -> {expected}"))
                break
            state = expected
        else:
            if state != row["state"]:
                violations.append(Finding("events", app_id, f"events end in {state} but the row says {row['state']}"))


def audit_rows(
    applications: Iterable[Mapping[str, Any]],
    blanks: Iterable[Mapping[str, Any]],
    events: Sequence[Mapping[str, Any]],
    *,
    triggers: Iterable[str] = ("events_no_update", "events_no_delete"),
) -> AuditReport:
    """Audit the ledger's rows (dicts with the column names of ``schema.sql``).

    Parameters
    ----------
    applications : rows of ``applications`` (application_id, state, version, blank_serial)
    blanks : rows of ``blanks`` (blank_serial, state, application_id, reason)
    events : rows of ``events``, in ``event_id`` order
    triggers : names of the triggers present on ``events``

    Returns
    -------
    AuditReport
        ``ok`` is false when any violation was found.
    """
    apps = {a["application_id"]: a for a in applications}
    blank_rows = {b["blank_serial"]: b for b in blanks}
    violations: list[Finding] = []
    open_items: list[Finding] = []

    for name in ("events_no_update", "events_no_delete"):
        if name not in set(triggers):
            violations.append(Finding("schema", "events", f"trigger {name} is missing: the log is not append-only"))

    # Blank takes and their outcomes, from the log alone.
    tallies: dict[tuple[str, str], ShiftTally] = {}
    history_state: dict[str, str] = {}
    take_key: dict[str, tuple[str, str]] = {}
    outcome: dict[str, str] = {}
    for ev in events:
        serial, moved = ev["blank_serial"], ev["blank_state"]
        if not serial or not moved:
            continue
        if moved == BlankState.BOUND:
            if serial in take_key and outcome.get(serial) is None:
                violations.append(Finding("blanks", serial, "taken again while still bound"))
            key = (ev["machine"] or "?", ev["shift"] or "?")
            take_key[serial] = key
            outcome[serial] = None
            tallies.setdefault(key, ShiftTally(*key)).taken += 1
        else:
            key = take_key.get(serial)
            if key is None:
                violations.append(Finding("blanks", serial, f"becomes {moved} but was never taken"))
                continue
            tally = tallies[key]
            previous = outcome.get(serial)
            # An issued blank voided later (QA reject) moves from good to spoiled.
            if previous == BlankState.ISSUED:
                tally.good -= 1
            elif previous is not None:
                violations.append(Finding("blanks", serial, f"{previous} then {moved}"))
            if moved == BlankState.ISSUED:
                tally.good += 1
            elif moved == BlankState.VOIDED:
                tally.spoiled += 1
            elif moved == BlankState.RETURNED:
                tally.returned += 1
            outcome[serial] = moved
        history_state[serial] = moved
    for serial, key in take_key.items():
        if outcome[serial] is None:
            tallies[key].in_flight += 1

    for serial, state in history_state.items():
        row = blank_rows.get(serial)
        if row is None:
            violations.append(Finding("blanks", serial, "is in the log but not in the blanks table"))
        elif row["state"] != state:
            violations.append(Finding("blanks", serial, f"the log says {state}, the table says {row['state']}"))
    for serial, row in blank_rows.items():
        if serial not in history_state:
            violations.append(Finding("blanks", serial, "is in the blanks table but has no history"))
        if row["state"] == BlankState.VOIDED and row["reason"] not in VOID_REASONS:
            violations.append(Finding("void_reason", serial, f"voided with unknown reason {row['reason']!r}"))
        if row["state"] == BlankState.BOUND:
            app = apps.get(row["application_id"])
            if app is None or app["state"] not in _IN_FLIGHT_OR_OPEN or app["blank_serial"] != serial:
                where = "no application" if app is None else f"{app['application_id']} in {app['state']}"
                violations.append(Finding("blanks", serial, f"bound, but {where} is not printing on it"))
            else:
                open_items.append(Finding("blanks", serial, f"in flight for {app['application_id']} ({app['state']})"))

    for tally in tallies.values():
        if not tally.balanced:
            violations.append(Finding("blanks", f"{tally.machine}/{tally.shift}",
                                      f"taken {tally.taken} != good {tally.good} + spoiled {tally.spoiled} + "
                                      f"returned {tally.returned} + in flight {tally.in_flight}"))

    issued: dict[str, list[str]] = defaultdict(list)
    for serial, row in blank_rows.items():
        if row["state"] == BlankState.ISSUED:
            issued[row["application_id"]].append(serial)
    for app_id, serials in issued.items():
        if len(serials) > 1:
            violations.append(Finding("documents", app_id, f"has {len(serials)} issued documents: {', '.join(sorted(serials))}"))
        app = apps.get(app_id)
        if app is None or app["state"] not in HAS_DOCUMENT:
            where = "no application" if app is None else f"state {app['state']}"
            violations.append(Finding("documents", ",".join(serials), f"issued for {app_id}, which has {where}"))
    for app_id, app in apps.items():
        if app["state"] in HAS_DOCUMENT:
            serials = issued.get(app_id, [])
            if len(serials) != 1 or serials[0] != app["blank_serial"]:
                violations.append(Finding("documents", app_id, f"in {app['state']} names blank {app['blank_serial']}"
                                          f" but the issued blanks are {serials}"))
        if app["state"] == JobState.NEEDS_RECONCILE:
            open_items.append(Finding("reconcile", app_id, f"needs an operator (machine {app.get('machine')}, "
                                      f"attempt {app.get('attempt')}, blank {app['blank_serial']})"))
        if app["state"] == JobState.INTAKE_FLAGGED:
            open_items.append(Finding("intake", app_id, "waits for a reviewer before printing (signature)"))

    _check_events(apps, events, violations)

    counts: dict[str, int] = defaultdict(int)
    for app in apps.values():
        counts[app["state"]] += 1
    shifts = tuple(sorted(tallies.values(), key=lambda t: (t.shift, t.machine)))
    return AuditReport(shifts=shifts, violations=tuple(violations), open_items=tuple(open_items), counts=dict(counts))


def audit_ledger(ledger) -> AuditReport:
    """Audit a ``Ledger`` (its rows are read in one consistent snapshot)."""
    apps, blanks, events, triggers = ledger.audit_snapshot()
    return audit_rows(apps, blanks, events, triggers=triggers)
