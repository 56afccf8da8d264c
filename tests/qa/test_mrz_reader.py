"""The template-matching MRZ reader: rendered pages of every document type read back exactly."""

from __future__ import annotations

import dataclasses
import datetime as dt

import cv2
import numpy as np
import pytest

from factory.config import Config
from factory.devices.render import RenderKit, build_render_kit, page_content, render_content, render_page
from factory.errors import InvalidField
from factory.mrz import encode_record
from factory.qa.mrz_reader import build_mrz_templates, mrz_zones, read_mrz
from factory.records import bind_document, parse_application

MRZ_DOCS = ("passport", "hk_macau_permit", "taiwan_permit")
_PREFIX = {"passport": "E", "hk_macau_permit": "C", "taiwan_permit": "L", "residence_permit": "R",
           "hmt_residence_permit": "H"}
_SURNAMES = ["王", "李", "张", "欧阳", "司马", "诸葛", "吕", "周"]
_GIVEN = ["晓明", "未", "伟", "秀英", "娜", "敏", "静", "建国强"]


@pytest.fixture(scope="module")
def kit(config: Config) -> RenderKit:
    return build_render_kit(config.documents)


def _record(config: Config, index: int, doc_type: str):
    app = parse_application({
        "application_id": f"R{index:05d}", "doc_type": doc_type, "service_class": "normal",
        "accepted_at": "2026-03-02T09:15:00+08:00", "acceptance_point": "历下分局",
        "surname_cn": _SURNAMES[index % 8], "given_name_cn": _GIVEN[(index // 8) % 8], "sex": "MF"[index % 2],
        "date_of_birth": (dt.date(1940, 1, 1) + dt.timedelta(days=index * 997 % 30000)).isoformat(),
        "place_of_birth": "山东", "photo": "p.png", "signature": "s.png", "delivery": "pickup",
    }, config)
    serial = f"{_PREFIX[doc_type]}{(12345678 + index * 7654321) % 90_000_000 + 10_000_000:08d}"
    return bind_document(app, serial, dt.date(2026, 3, 5) + dt.timedelta(days=index % 300), config)


_PHOTO = np.full((567, 390, 3), 180, np.uint8)
_SIGNATURE = np.full((160, 480), 255, np.uint8)
cv2.line(_SIGNATURE, (20, 100), (400, 60), 0, 5)


def _pages(config, kit, doc_type, count, start=0):
    records = [_record(config, start + i, doc_type) for i in range(count)]
    lines = [encode_record(r) for r in records]
    pages = [render_page(r, _PHOTO, _SIGNATURE, kit, mrz_lines=m) for r, m in zip(records, lines)]
    return pages, lines


def _templates(kit, doc_type):
    layout = kit.layout(doc_type)
    return layout, build_mrz_templates(kit.glyphs_for(layout.mrz), layout.mrz)


@pytest.mark.parametrize("doc_type", MRZ_DOCS)
def test_clean_renders_of_every_mrz_document_read_back_exactly(config, kit, doc_type):
    pages, lines = _pages(config, kit, doc_type, 40)
    layout, templates = _templates(kit, doc_type)
    readout = read_mrz(mrz_zones(pages, layout), templates)
    assert readout.texts == lines
    g = layout.mrz
    assert readout.confidences.shape == (40, g.line_count, g.line_length)
    assert readout.confidences.min() > 0.05
    assert readout.scores.min() > 0.9
    # Lines of taller digits centre a fraction of a pixel higher; the shifted templates absorb it.
    assert np.abs(readout.offsets).max() <= 1


@pytest.mark.parametrize("doc_type", ["residence_permit", "hmt_residence_permit"])
def test_documents_without_an_mrz_print_nothing_there_and_are_not_read(config, kit, doc_type):
    page = render_page(_record(config, 1, doc_type), _PHOTO, _SIGNATURE, kit)
    layout = kit.layout(doc_type)
    assert layout.mrz is None
    bottom = page[-mm(8):, :]  # where a permit card carries its MRZ line
    assert bottom.min() > 200
    with pytest.raises(InvalidField) as err:
        mrz_zones([page], layout)
    assert err.value.field == "layout"


def mm(value: float) -> int:
    return int(round(value * 300 / 25.4))


def _capture(zone: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A camera's view of a grey zone: up to 0.5 degree of skew, a few pixels off, blurred, noisy, duller."""
    page = zone
    h, w = page.shape[:2]
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), float(rng.uniform(-0.5, 0.5)), 1.0)
    matrix[:, 2] += rng.uniform(-5, 5, 2)
    out = cv2.warpAffine(page, matrix, (w, h), borderMode=cv2.BORDER_REPLICATE)
    out = cv2.GaussianBlur(out, (0, 0), float(rng.uniform(0.5, 1.2)))
    out = out.astype(np.float32) * rng.uniform(0.8, 1.0) + rng.uniform(0, 30) + rng.normal(0, 6, out.shape)
    return np.clip(out, 0, 255).astype(np.uint8)


@pytest.mark.parametrize("doc_type", MRZ_DOCS)
def test_camera_captures_read_back_exactly(config, kit, doc_type):
    rng = np.random.default_rng(7)
    pages, lines = _pages(config, kit, doc_type, 25, start=100)
    layout, templates = _templates(kit, doc_type)
    readout = read_mrz(np.stack([_capture(z, rng) for z in mrz_zones(pages, layout)]), templates)
    assert readout.texts == lines
    assert readout.confidences.min() > 0.02


def test_offsets_report_where_the_characters_were_found(config, kit):
    pages, lines = _pages(config, kit, "passport", 1)
    shifted = np.roll(np.roll(pages[0], 4, axis=1), -3, axis=0)
    layout, templates = _templates(kit, "passport")
    readout = read_mrz(mrz_zones([shifted], layout), templates)
    assert readout.texts == lines
    dx, *dys = readout.offsets[0].tolist()
    assert dx == 4 and all(-4 <= dy <= -3 for dy in dys)


def test_a_misprinted_character_is_read_as_printed(config, kit):
    record = _record(config, 3, "passport")
    lines = encode_record(record)
    wrong = (lines[0], lines[1][:5] + ("0" if lines[1][5] != "0" else "1") + lines[1][6:])
    content = page_content(record, _PHOTO, _SIGNATURE, wrong)
    page = render_content(content, kit)
    layout, templates = _templates(kit, "passport")
    readout = read_mrz(mrz_zones([page], layout), templates)
    assert readout.texts == [wrong]


def test_a_blank_zone_reads_with_zero_confidence(config, kit):
    layout, templates = _templates(kit, "hk_macau_permit")
    box = layout.zone("mrz").box
    readout = read_mrz(np.full((2, box.height, box.width), 235, np.uint8), templates)
    assert readout.confidences.max() == 0.0
    assert len(readout.texts) == 2 and all(len(t[0]) == 30 for t in readout.texts)


def test_a_partly_missing_line_reads_its_remaining_characters(config, kit):
    pages, lines = _pages(config, kit, "passport", 1, start=50)
    layout, templates = _templates(kit, "passport")
    zone = mrz_zones(pages, layout)
    g = layout.mrz
    cut = g.first_char_x + 30 * g.pitch_px
    zone[:, :, cut:] = 240  # the last 14 characters of both lines were not printed
    readout = read_mrz(zone, templates)
    assert [t[:30] for t in readout.texts[0]] == [t[:30] for t in lines[0]]
    assert readout.confidences[0, :, :30].min() > 0.05
    assert readout.confidences[0, :, 31:].max() < 0.05


def test_bad_input_is_refused_naming_the_field(config, kit):
    layout, templates = _templates(kit, "passport")
    box = layout.zone("mrz").box
    with pytest.raises(InvalidField) as err:
        read_mrz([np.zeros((box.height, box.width), np.uint8), np.zeros((box.height, box.width), np.float32)],
                 templates)
    assert err.value.field == "zones[1]"
    with pytest.raises(InvalidField) as err:
        build_mrz_templates(kit.glyphs_for(layout.mrz)[:10], layout.mrz)
    assert err.value.field == "glyphs"
    with pytest.raises(InvalidField) as err:
        build_mrz_templates(kit.glyphs_for(layout.mrz), layout.mrz, downsample=4)
    assert err.value.field == "downsample"
    with pytest.raises(InvalidField) as err:
        mrz_zones([np.zeros((10, 10, 3), np.uint8)], layout)
    assert err.value.field == "pages[0]"


def test_templates_from_a_600_dpi_layout_read_600_dpi_pages(config):
    fine = build_render_kit({"passport": config.documents["passport"]}, dpi=600)
    record = _record(config, 11, "passport")
    page = render_page(record, _PHOTO, _SIGNATURE, fine)
    layout = fine.layout("passport")
    templates = build_mrz_templates(fine.glyphs_for(layout.mrz), layout.mrz, downsample=3)
    assert read_mrz(mrz_zones([page], layout), templates).texts == [encode_record(record)]
    assert dataclasses.asdict(layout.mrz)["pitch_px"] == 60


def test_lines_without_skew_are_cut_as_strips_to_the_same_sums_as_cell_by_cell(config, kit):
    from factory.qa.mrz_reader import _block_sums, _cut_cells

    pages, _ = _pages(config, kit, "passport", 6)
    layout, templates = _templates(kit, "passport")
    zones = mrz_zones(pages, layout)
    g, (cell_h, cell_w) = layout.mrz, templates.cell_shape
    rng = np.random.default_rng(3)
    ys = np.broadcast_to(np.asarray(g.line_top_y)[None, :, None] + rng.integers(-3, 4, (6, 1, 1)),
                         (6, g.line_count, g.line_length)).copy()
    xs = np.broadcast_to(g.first_char_x + cell_w * np.arange(g.line_length) + rng.integers(-3, 4, (6, 1, 1)),
                         ys.shape).copy()
    ys[2, 1, 20:] += 1  # a skewed line: that document is cut cell by cell
    cells = np.lib.stride_tricks.sliding_window_view(zones, (cell_h, cell_w), axis=(1, 2))
    by_cell = _block_sums(cells[np.arange(6)[:, None, None], ys, xs], templates.downsample, np.uint16)
    assert np.array_equal(_cut_cells(zones, ys, xs, templates), by_cell)
