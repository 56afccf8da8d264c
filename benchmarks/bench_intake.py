"""Benchmark of the before-printing checks (``check_intake``): CPU time per application.

``make demo`` runs them on every application (20,000 in under 15 minutes on 2
cores, already busy with the rest of the chain), so the goal is
``INTAKE_GOAL_MS`` of CPU per application in total, asserted on CPU time
(``time.process_time``; the machine is shared, wall clock is recorded beside
it). One OpenCV thread, as the QA workers run. ``extra_info`` also holds the
portrait and signature parts (aims: portraits <= 4 ms, signatures <= 8 ms).

Under the default ``--benchmark-disable`` it runs once as a plain test and the
goal is not asserted (timings then mean nothing on a shared machine).
"""

from __future__ import annotations

import datetime as dt
import time

import cv2
import pytest

from factory.config import load_config
from factory.qa.faces import FaceDetector
from factory.qa.intake import build_intake_kit, check_intake
from factory.qa.photo import check_portraits
from factory.qa.signature import check_signature_name
from factory.records import parse_application
from factory.samples import SignatureWriter, generate_applications
from factory.samples.generate import draw_images

BATCH = 64
INTAKE_GOAL_MS = 12.0


@pytest.fixture(scope="module")
def intake_batch():
    cv2.setNumThreads(1)
    config = load_config()
    writer, detector = SignatureWriter(), FaceDetector()
    records, photos, signatures = [], [], []
    for sample in generate_applications(BATCH, 17, config, day=dt.date(2026, 2, 24), signature_error_rate=0.0):
        photo, signature = draw_images(sample, writer, detector)
        records.append(parse_application(sample.record, config))
        photos.append(photo)
        signatures.append(signature)
    kit = build_intake_kit()
    check_intake(records[:4], photos[:4], signatures[:4], kit)  # warm the glyph memo
    return records, photos, signatures, kit


def _cpu_ms(function, *args) -> float:
    began = time.process_time()
    function(*args)
    return (time.process_time() - began) * 1000 / BATCH


def test_intake_checks(benchmark, intake_batch):
    records, photos, signatures, kit = intake_batch
    names = [r.surname_cn + r.given_name_cn for r in records]
    cpu: list[float] = []

    def run():
        began, wall = time.process_time(), time.perf_counter()
        verdict = check_intake(records, photos, signatures, kit)
        cpu.append((time.process_time() - began) * 1000 / BATCH)
        benchmark.extra_info["wall_ms_per_application"] = (time.perf_counter() - wall) * 1000 / BATCH
        return verdict

    verdict = benchmark.pedantic(run, rounds=3, iterations=1)
    assert verdict.n == BATCH
    assert not any(verdict.failed(i) for i in range(BATCH))  # generated applications are fit to print
    benchmark.extra_info["cpu_ms_per_application"] = min(cpu)
    benchmark.extra_info["portraits_cpu_ms"] = _cpu_ms(check_portraits, photos, kit.detector)
    benchmark.extra_info["signatures_cpu_ms"] = _cpu_ms(check_signature_name, signatures, names, kit.signatures)
    if not benchmark.disabled:
        assert min(cpu) <= INTAKE_GOAL_MS, f"{min(cpu):.1f} ms CPU per application (goal {INTAKE_GOAL_MS})"
