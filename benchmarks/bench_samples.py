"""Sample generation speed: 10,000 applicants with images in under a minute.

The benchmark writes 2,000 applicants with every worker process the machine
has and scales the time to 10,000 (the work is the same per applicant).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil

import pytest

from factory.commands.sample import write_sample
from factory.config import load_config

COUNT = 2000
GOAL_10K_S = 60.0


@pytest.mark.benchmark(group="samples")
def test_ten_thousand_applicants_in_under_a_minute(benchmark, tmp_path):
    config = load_config()
    out = tmp_path / "sample"

    def clean():
        shutil.rmtree(out, ignore_errors=True)
        return (), {}

    def generate():
        return write_sample(out, COUNT, 7, config, day=dt.date(2026, 2, 24), workers=os.cpu_count() or 1)

    samples = benchmark.pedantic(generate, setup=clean, rounds=2 if not benchmark.disabled else 1)
    assert len(samples) == COUNT
    assert len(list((out / "photos").iterdir())) == COUNT
    if not benchmark.disabled:
        projected = benchmark.stats.stats.mean * 10_000 / COUNT
        benchmark.extra_info["projected_10k_s"] = round(projected, 1)
        assert projected < GOAL_10K_S, f"10,000 applicants would take {projected:.0f} s"
