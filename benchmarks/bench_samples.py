"""Sample generation speed: 10,000 applicants with images in under a minute.

A real run: ``factory sample --count 10000`` in a subprocess, exactly as a
user types it (the CLI's code path and its default worker count, one per
core), writing the records, 10,000 portraits and 10,000 signatures. Goal
(issue 2): under 60 s wall clock on this 2-core machine.

The machine is shared, so the CPU time of the run (user + sys of the process
and its workers, from ``getrusage(RUSAGE_CHILDREN)``) is recorded beside the
wall clock in ``extra_info``: ``cpu_ms_per_application`` and
``idle_wall_s`` (CPU seconds over the cores: the wall clock on an idle
machine). ``make bench`` runs it with ``--benchmark-enable`` and asserts the
goal; under the default ``--benchmark-disable`` it runs once as a plain test
(marked slow) and only checks the output.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time

import pytest

COUNT = 10_000
GOAL_WALL_S = 60.0


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@pytest.mark.slow
@pytest.mark.benchmark(group="samples")
def test_ten_thousand_applicants_in_under_a_minute(benchmark, tmp_path):
    out = tmp_path / "sample"
    command = [sys.executable, "-m", "factory.cli", "sample", "--count", str(COUNT), "--seed", "7", "--out", str(out)]
    runs: list[tuple[float, float]] = []

    def generate():
        cpu, wall = _children_cpu_s(), time.perf_counter()
        subprocess.run(command, check=True, capture_output=True, text=True)
        runs.append((time.perf_counter() - wall, _children_cpu_s() - cpu))

    benchmark.pedantic(generate, rounds=1, iterations=1)
    wall_s, cpu_s = runs[-1]
    cores = os.cpu_count() or 1
    benchmark.extra_info.update({
        "wall_s": round(wall_s, 1),
        "cpu_s": round(cpu_s, 1),
        "cpu_ms_per_application": round(1000 * cpu_s / COUNT, 2),
        "idle_wall_s": round(cpu_s / cores, 1),
        "cores": cores,
    })
    with (out / "applications.jsonl").open(encoding="utf-8") as handle:
        assert sum(1 for _ in handle) == COUNT
    assert len(os.listdir(out / "photos")) == COUNT
    assert len(os.listdir(out / "signatures")) == COUNT
    print(json.dumps(benchmark.extra_info))
    if not benchmark.disabled:
        assert wall_s < GOAL_WALL_S, (
            f"10,000 applicants took {wall_s:.0f} s wall ({cpu_s:.0f} CPU-s over {cores} cores)"
        )
