"""Benchmarks of factory.devices.render: one data page per document type; goal under 50 ms a page.

The kit (fonts, backgrounds, glyphs) is built once, as a printer worker does;
what is timed is ``render_page`` for one bound record: background copy,
portrait, ghost, names and fields, signature, MRZ. ``make bench`` runs it with
``--benchmark-enable``; under the default ``--benchmark-disable`` it runs once
as a plain test.
"""

from __future__ import annotations

import datetime as dt

import cv2
import numpy as np
import pytest

from factory.config import load_config
from factory.devices.render import build_render_kit, render_page
from factory.mrz import encode_record
from factory.records import bind_document, parse_application

GOAL_S = 0.050
_PREFIX = {"passport": "E", "hk_macau_permit": "C", "taiwan_permit": "L", "residence_permit": "R",
           "hmt_residence_permit": "H"}


@pytest.fixture(scope="module")
def config():
    return load_config()


@pytest.fixture(scope="module")
def kit(config):
    return build_render_kit(config.documents)


def _inputs(config, doc_type):
    app = parse_application({
        "application_id": "B000001", "doc_type": doc_type, "service_class": "normal",
        "accepted_at": "2026-03-02T09:15:00+08:00", "acceptance_point": "历下分局", "surname_cn": "欧阳",
        "given_name_cn": "晓明", "sex": "F", "date_of_birth": "1990-08-15", "place_of_birth": "山东",
        "photo": "p.png", "signature": "s.png", "delivery": "pickup",
    }, config)
    record = bind_document(app, f"{_PREFIX[doc_type]}12345678", dt.date(2026, 3, 5), config)
    rng = np.random.default_rng(1)
    photo = cv2.GaussianBlur(rng.integers(0, 255, (567, 390, 3), dtype=np.uint8), (0, 0), 3)
    signature = np.full((160, 480), 255, np.uint8)
    cv2.putText(signature, "sign", (20, 110), cv2.FONT_HERSHEY_SCRIPT_SIMPLEX, 3, 0, 4)
    return record, photo, signature, encode_record(record)


@pytest.mark.benchmark(group="render")
@pytest.mark.parametrize("memo", ["cold", "warm"])
@pytest.mark.parametrize("doc_type", list(_PREFIX))
def test_render_one_page(benchmark, config, kit, doc_type, memo):
    """``cold``: the kit's text memo is emptied before every page (nothing drawn before); ``warm``:
    every text of the page was drawn before (a line sees both: names and numbers change, dates and
    places repeat)."""
    record, photo, signature, lines = _inputs(config, doc_type)
    setup = kit.text_memo.clear if memo == "cold" else None
    page = benchmark.pedantic(render_page, args=(record, photo, signature, kit), kwargs={"mrz_lines": lines},
                              setup=setup, rounds=50, warmup_rounds=1)
    assert page.shape == (*kit.layout(doc_type).shape, 3)
    if not benchmark.disabled:
        mean = benchmark.stats.stats.mean
        print(f"\nrender {doc_type} ({memo} text memo): {mean * 1000:.1f} ms a page (goal {GOAL_S * 1000:.0f} ms)")
        assert mean < GOAL_S
