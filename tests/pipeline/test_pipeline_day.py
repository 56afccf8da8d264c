"""The done-when run: 2,000 applications, 8 simulated printers, 2 QA workers, random kill -9s of workers
and one of the controller. Every application ends printed once (or flagged for review), the audit is
clean, and the devices' own job logs agree with the ledger.

The printers write their pages with a few real misprints and the QA workers check those pages as in
production (``--check printed``), so both endings occur: dispatched, and flagged for a reviewer. One QA
worker is killed too, holding a batch or not.
"""

from __future__ import annotations

import json
import random
import time

import pytest

from pipeline_line import assert_printed_once

pytestmark = [pytest.mark.integration, pytest.mark.slow]

BOOKLET = ("B01", "B02", "B03", "B04")
CARD = ("C01", "C02", "C03", "C04")
N = 2000
DEFECTS = ("--defect", "mrz_character=0.004", "--defect", "smudge=0.004")


def test_two_thousand_applications_through_eight_printers_with_random_kills(line):
    started = time.monotonic()
    rng = random.Random(2026)
    machines = {**dict.fromkeys(BOOKLET, "booklet"), **dict.fromkeys(CARD, "card")}
    line.keys_for(*machines, "qa1", "qa2", "intake")
    line.start_controller("--reconcile-grace", "30")
    for index, (machine, pool) in enumerate(machines.items()):
        (line.root / "pages" / machine).mkdir(parents=True)
        faults = ("--fault", "jam=0.01", "--auto-clear-s", "20") if pool == "booklet" else ()
        line.start_device(machine, pool, speed=1200, blanks=700,
                          extra=(*faults, *DEFECTS, "--seed", str(index), "--capture-dir", str(line.root / "pages" / machine)))
    for machine in machines:
        line.start_worker(machine)
    line.start_qa("qa1", "--check", "printed")
    line.start_qa("qa2", "--check", "printed")
    intake = line.intake(line.write_applications(N, seed=2026, images=True))
    assert intake.returncode == 0, intake.stdout + intake.stderr
    ready_s = time.monotonic() - started

    kills: list[str] = []
    held_at_kill: list[int] = []  # jobs the ledger had out on the killed worker's machine
    controller_killed = qa_killed = False
    on_machine = "SELECT COUNT(*) FROM applications WHERE machine = ? AND state IN ('leased', 'printing')"
    deadline = time.monotonic() + 600
    next_kill = time.monotonic() + 1.0
    done = lambda c: c.get("dispatched", 0) + c.get("qa_flagged", 0) == N  # noqa: E731
    while True:
        counts = line.counts()
        if done(counts):
            break
        assert time.monotonic() < deadline, f"not done: {counts}\n{line.tail()}"
        finished = counts.get("dispatched", 0)
        if time.monotonic() >= next_kill and finished < N * 0.9:
            if not controller_killed and finished >= N * 0.3:
                line.kill("controller")
                kills.append("controller")
                time.sleep(rng.uniform(0.2, 1.0))
                line.start_controller("--reconcile-grace", "30")
                controller_killed = True
            elif not qa_killed and finished >= N * 0.5:
                line.kill("qa-qa2")
                kills.append("qa2")
                time.sleep(rng.uniform(0.2, 1.0))
                line.start_qa("qa2", "--check", "printed")
                qa_killed = True
            else:
                victim = rng.choice(sorted(machines))
                held_at_kill.append(line.query(on_machine, (victim,))[0][0])
                line.kill(f"worker-{victim}")
                kills.append(victim)
                time.sleep(rng.uniform(0.2, 1.5))
                line.start_worker(victim)
            next_kill = time.monotonic() + rng.uniform(0.3, 1.0)
        time.sleep(0.3)
    elapsed = time.monotonic() - started

    report = line.audit()
    counts = line.counts()
    spoiled = sum(t.spoiled for t in report.shifts)
    summary = {
        "applications": N, "counts": counts, "kills": kills, "blanks_taken": sum(t.taken for t in report.shifts),
        "good": sum(t.good for t in report.shifts), "spoiled": spoiled, "audit": "OK",
        "open_items": len(report.open_items), "held_at_kill": held_at_kill, "setup_s": round(ready_s, 1), "total_s": round(elapsed, 1),
        "recovery_events": dict(line.query(
            "SELECT event, COUNT(*) FROM events WHERE event IN ('not_accepted', 'refused', 'lease_expired', "
            "'device_unknown', 'device_failed', 'reconciled_printed') GROUP BY event")),
        "station_events": dict(line.query("SELECT event, COUNT(*) FROM events WHERE kind = 'station' GROUP BY event")),
    }
    print("\n2000-application run:", json.dumps(summary))
    (line.root.parent / "day-summary.json").write_text(json.dumps(summary, indent=1))
    assert report.ok, "\n".join(report.lines())
    assert_printed_once(line, machines)
    assert controller_killed and qa_killed and len(kills) >= 5, kills
    assert sum(1 for held in held_at_kill if held) >= 2, held_at_kill  # kills that left jobs on a device
    flagged = counts.get("qa_flagged", 0)
    injected = sum(1 for path in (line.root / "pages").glob("*/ground_truth.jsonl")
                   for row in path.read_text().splitlines() if row and json.loads(row).get("defects"))
    assert flagged >= 1 and injected >= 1, (flagged, injected)  # both endings occurred
    assert counts.get("dispatched", 0) + counts.get("qa_flagged", 0) == N
    assert summary["good"] == N  # one good document per application; spoiled blanks were reprinted
