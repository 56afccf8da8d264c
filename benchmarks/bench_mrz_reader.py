"""Benchmarks of factory.qa.mrz_reader: reading the MRZ of a batch of 1,000 printed pages.

The zones are cut from rendered pages (200 distinct documents, repeated to
1,000), as QA cuts them from captures; what is timed is ``read_mrz`` on the
batch: registration, cell cutting and the one matrix product. The goal QA
needs (issue 7) is 2,000 documents a second; the reading must stay exact.
"""

from __future__ import annotations

import datetime as dt

import cv2
import numpy as np
import pytest

from factory.config import load_config
from factory.devices.render import build_render_kit, render_page
from factory.mrz import encode_record
from factory.qa.mrz_reader import build_mrz_templates, mrz_zones, read_mrz
from factory.records import bind_document, parse_application

BATCH = 1000
DISTINCT = 200
SMOKE = 50
GOAL_DOCS_PER_S = 2000.0
_PREFIX = {"passport": "E", "hk_macau_permit": "C"}
_SURNAMES = ["王", "李", "张", "欧阳", "司马", "吕", "周", "诸葛"]
_GIVEN = ["晓明", "未", "伟", "秀英", "娜", "敏", "静", "建国"]


def _batch(doc_type: str):
    config = load_config()
    kit = build_render_kit({doc_type: config.documents[doc_type]})
    layout = kit.layout(doc_type)
    photo = np.full((567, 390, 3), 180, np.uint8)
    signature = np.full((160, 480), 255, np.uint8)
    cv2.line(signature, (20, 100), (400, 60), 0, 5)
    pages, truth = [], []
    for i in range(DISTINCT):
        app = parse_application({
            "application_id": f"B{i:05d}", "doc_type": doc_type, "service_class": "normal",
            "accepted_at": "2026-03-02T09:15:00+08:00", "acceptance_point": "历下分局",
            "surname_cn": _SURNAMES[i % 8], "given_name_cn": _GIVEN[i // 8 % 8], "sex": "MF"[i % 2],
            "date_of_birth": (dt.date(1940, 1, 1) + dt.timedelta(days=i * 997 % 30000)).isoformat(),
            "place_of_birth": "山东", "photo": "p.png", "signature": "s.png", "delivery": "pickup",
        }, config)
        record = bind_document(app, f"{_PREFIX[doc_type]}{10_000_000 + i * 104_729:08d}", dt.date(2026, 3, 5), config)
        lines = encode_record(record)
        pages.append(render_page(record, photo, signature, kit, mrz_lines=lines))
        truth.append(lines)
    zones = mrz_zones(pages, layout)
    reps = BATCH // DISTINCT
    templates = build_mrz_templates(kit.glyphs_for(layout.mrz), layout.mrz)
    return np.concatenate([zones] * reps), truth * reps, templates


@pytest.fixture(scope="module", params=list(_PREFIX))
def batch(request):
    return request.param, *_batch(request.param)


@pytest.mark.benchmark(group="mrz_reader")
def test_read_mrz_of_1000_pages(benchmark, batch):
    doc_type, zones, truth, templates = batch
    if benchmark.disabled:
        zones, truth = zones[:SMOKE], truth[:SMOKE]
    readout = benchmark.pedantic(read_mrz, args=(zones, templates), rounds=5 if not benchmark.disabled else 1,
                                 warmup_rounds=1 if not benchmark.disabled else 0)
    assert readout.texts == truth  # exact on every document
    if not benchmark.disabled:
        rate = len(zones) / benchmark.stats.stats.mean
        print(f"\nread_mrz {doc_type}: {rate:,.0f} documents/s "
              f"({benchmark.stats.stats.mean * 1000 / len(zones):.3f} ms a document; goal {GOAL_DOCS_PER_S:,.0f}/s)")
        assert rate >= GOAL_DOCS_PER_S
