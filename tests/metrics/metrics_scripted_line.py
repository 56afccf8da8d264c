"""A scripted stand-in for the line, run as a process by the Prometheus tests.

It serves a controller ``/metrics`` (a ``LineCollector`` over snapshots built
by ``snapshot_from_plan`` from a seeded queue and the real planner, plus the
controller's live instruments), one printer ``/metrics`` per machine and one QA
``/metrics``, each on its own free loopback port, all with the real exporter.
Every tick the printing machines print a document, QA checks one, and the
snapshot is rebuilt. Creating ``<control>/stop-<machine>`` stops that
machine's output (it still reports busy, with work waiting): the stalled
machine the alert must catch.

Prints one JSON line ``{"controller": port, "printers": {machine: port}, "qa": port}``
once serving, and exits after ``--seconds``.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import sys
import time
from pathlib import Path

import numpy as np

from factory.config import load_config
from factory.metrics import (
    ControllerInstruments,
    LatestSnapshot,
    LineCollector,
    MachineStatus,
    PrinterInstruments,
    QaInstruments,
    new_registry,
    serve_metrics,
    snapshot_from_plan,
)
from factory.scheduler import class_ranks, line_arrays, plan_overtime, plan_queue
from factory.scheduler.synthetic import synthetic_queue

MACHINES = ("B01", "B02", "C01")
QA_CHECKS = ("mrz_readback", "photo_ears", "signature_match", "print_quality")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--control", type=Path, required=True)
    parser.add_argument("--tick", type=float, default=0.25)
    parser.add_argument("--seconds", type=float, default=120.0)
    args = parser.parse_args()

    config = load_config()
    machines = {m.id: m for m in config.line.machines if m.id in MACHINES}
    doc_types = {pool: [n for n, d in config.documents.items() if d.pool == pool] for pool in ("booklet", "card")}
    rng = np.random.default_rng(9)
    ranks = class_ranks(config)
    classes = sorted(ranks, key=ranks.get)

    controller_registry = new_registry()
    latest = LatestSnapshot()
    controller_registry.register(LineCollector(latest))
    controller = ControllerInstruments(controller_registry)
    servers = {"controller": serve_metrics(controller_registry, 0)}
    printers = {}
    for machine_id, machine in machines.items():
        registry = new_registry()
        printers[machine_id] = PrinterInstruments(
            registry, machine=machine_id, pool=machine.pool, doc_types=doc_types[machine.pool]
        )
        servers[machine_id] = serve_metrics(registry, 0)
    qa_registry = new_registry()
    qa = QaInstruments(qa_registry, checks=QA_CHECKS)
    servers["qa"] = serve_metrics(qa_registry, 0)

    dates = [dt.date(2026, 3, 2) + dt.timedelta(days=i) for i in range(10)]
    line = line_arrays(config.line, dates)
    queue = synthetic_queue(rng, 8000, days=10, overdue_share=0.002)
    plan = plan_queue(queue, line.capacity, line.machine_pool, line.rated_per_hour)
    overtime = plan_overtime(queue, line, max_shift_hours=config.line.shifts.peak_hours)

    started = time.time()
    last_printed = {m: started for m in machines}
    print(json.dumps({
        "controller": servers["controller"].port,
        "printers": {m: servers[m].port for m in machines},
        "qa": servers["qa"].port,
    }), flush=True)

    tick = 0
    while time.time() - started < args.seconds:
        now = time.time()
        for machine_id, instruments in printers.items():
            if (args.control / f"stop-{machine_id}").exists():
                continue
            if tick % 9 == 4:
                instruments.record_spoiled("jam", cycle_s=float(rng.uniform(20, 60)))
            else:
                instruments.record_printed(doc_types[machines[machine_id].pool][0], float(rng.uniform(20, 60)))
                last_printed[machine_id] = now
        qa.record_verdict({check: not (tick % 10 == 3 and check == "photo_ears") for check in QA_CHECKS})
        if tick % 5 == 0:
            controller.record_green_wait(float(rng.uniform(60, 1500)))
        statuses = [
            MachineStatus(machine=m, pool=machines[m].pool, state="busy", rated_per_hour=machines[m].rated_per_hour,
                          has_work=True, last_printed_s=last_printed[m])
            for m in machines
        ]
        # One green application waiting since before the script started: past the 30-minute limit.
        green_accepted = queue.accepted_s.copy()
        green_accepted[queue.priority == 0] = int(started) - 2000
        latest.set(snapshot_from_plan(
            now_s=now,
            queue=dataclasses.replace(queue, accepted_s=green_accepted),
            service_classes=classes,
            plan=plan,
            overtime=overtime,
            machines=statuses,
            review_entered_s=[started - 600, now - 5],
            blanks_in_stock={"booklet": 5000, "card": 20000},
            blanks_needed_per_day={"booklet": 6720.0, "card": 5760.0},
            overtime_used={"booklet": 0.5, "card": 0.0},
        ))
        tick += 1
        time.sleep(args.tick)
    for server in servers.values():
        server.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
