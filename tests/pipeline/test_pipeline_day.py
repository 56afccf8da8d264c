"""The done-when run: 2,000 applications, 8 simulated printers, 2 QA workers, random kill -9s of workers
and one of the controller. Every application ends printed once (or flagged for review), the audit is
clean, and the devices' own job logs agree with the ledger.
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


def test_two_thousand_applications_through_eight_printers_with_random_kills(line):
    started = time.monotonic()
    rng = random.Random(2026)
    machines = {**dict.fromkeys(BOOKLET, "booklet"), **dict.fromkeys(CARD, "card")}
    line.keys_for(*machines, "qa1", "qa2", "intake")
    line.start_controller("--reconcile-grace", "30")
    for machine, pool in machines.items():
        faults = ("--fault", "jam=0.01", "--auto-clear-s", "20") if pool == "booklet" else ()
        line.start_device(machine, pool, speed=1200, blanks=700, extra=faults)
    for machine in machines:
        line.start_worker(machine)
    line.start_qa("qa1")
    line.start_qa("qa2")
    intake = line.intake(line.write_applications(N, seed=2026))
    assert intake.returncode == 0, intake.stdout + intake.stderr
    ready_s = time.monotonic() - started

    kills: list[str] = []
    controller_killed = False
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
            else:
                victim = rng.choice(sorted(machines))
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
        "open_items": len(report.open_items), "setup_s": round(ready_s, 1), "total_s": round(elapsed, 1),
        "recovery_events": dict(line.query(
            "SELECT event, COUNT(*) FROM events WHERE event IN ('not_accepted', 'refused', 'lease_expired', "
            "'device_unknown', 'device_failed', 'reconciled_printed') GROUP BY event")),
        "station_events": dict(line.query("SELECT event, COUNT(*) FROM events WHERE kind = 'station' GROUP BY event")),
    }
    print("\n2000-application run:", json.dumps(summary))
    (line.root.parent / "day-summary.json").write_text(json.dumps(summary, indent=1))
    assert report.ok, "\n".join(report.lines())
    assert_printed_once(line, machines)
    assert controller_killed and len(kills) >= 4, kills
    assert counts.get("dispatched", 0) + counts.get("qa_flagged", 0) == N
    assert summary["good"] == N  # one good document per application; spoiled blanks were reprinted
