"""Rendering data pages: shapes, purity, the zones drawn, and bad input."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from factory.devices.layout import TEXT_ZONES
from factory.devices.render import MRZ_GLYPHS, FontFiles, build_render_kit, page_content, render_content, render_page
from factory.errors import InvalidField
from factory.mrz import encode_record

from devices_helpers import bound_record, photo, signature

ALL_DOCS = ("passport", "hk_macau_permit", "taiwan_permit", "residence_permit", "hmt_residence_permit")


@pytest.mark.parametrize("doc_type", ALL_DOCS)
def test_each_document_type_renders_its_layout(config, kit, doc_type):
    record = bound_record(config, 1, doc_type)
    page = render_page(record, photo(1), signature(1), kit)
    layout = kit.layout(doc_type)
    assert page.shape == (*layout.shape, 3) and page.dtype == np.uint8
    background = kit.backgrounds[doc_type].astype(np.int16)
    for name in TEXT_ZONES + ("photo", "signature", "ghost") + (("mrz",) if layout.mrz else ()):
        box = layout.zone(name).box.slices
        drawn = np.abs(page[box].astype(np.int16) - background[box]).max(axis=2)
        assert (drawn > 40).sum() > 30, f"nothing drawn in {name}"


def test_the_text_memo_never_changes_a_page_and_stays_bounded(config, kit, monkeypatch):
    import factory.devices.render as render

    monkeypatch.setattr(render, "_TEXT_MEMO_LIMIT", 6)
    records = [bound_record(config, n) for n in (11, 12, 11)]
    remembered = dataclasses.replace(kit, text_memo=render.OrderedDict())
    pages = [render_page(r, photo(3), signature(3), remembered) for r in records]
    for record, page in zip(records, pages):
        fresh = dataclasses.replace(kit, text_memo=render.OrderedDict())  # nothing remembered
        assert np.array_equal(page, render_page(record, photo(3), signature(3), fresh))
    assert np.array_equal(pages[0], pages[2])
    assert 0 < len(remembered.text_memo) <= 6
    assert all(not ink.flags.writeable for ink, _, _ in remembered.text_memo.values())


def test_rendering_is_deterministic_and_leaves_its_inputs_alone(config, kit):
    record = bound_record(config, 2)
    face, sign = photo(2), signature(2)
    before = (face.copy(), sign.copy(), kit.backgrounds["passport"].copy())
    first = render_page(record, face, sign, kit)
    second = render_page(record, face, sign, kit)
    assert np.array_equal(first, second)
    assert np.array_equal(before[0], face) and np.array_equal(before[1], sign)
    assert np.array_equal(before[2], kit.backgrounds["passport"])
    assert not kit.backgrounds["passport"].flags.writeable


def test_the_mrz_is_drawn_from_the_glyph_cells_at_the_pitch(config, kit):
    record = bound_record(config, 4)
    lines = encode_record(record)
    page = render_page(record, photo(4), signature(4), kit, mrz_lines=lines)
    layout = kit.layout("passport")
    g = layout.mrz
    glyphs = kit.glyphs_for(g)
    zone = layout.crop(page, "mrz").min(axis=2)
    for line, top in zip(lines, g.line_top_y):
        for i, char in enumerate(line):
            x = g.first_char_x + i * g.pitch_px
            cell = zone[top:top + g.cell_height_px, x:x + g.pitch_px]
            ink = glyphs[MRZ_GLYPHS.index(char)]
            # dark where the glyph has full coverage, paper where it has none
            assert cell[ink == 255].max() < 60 and cell[ink == 0].min() > 200


def test_mrz_lines_default_to_the_records_encoding(config, kit):
    record = bound_record(config, 5, "taiwan_permit")
    explicit = render_page(record, photo(5), signature(5), kit, mrz_lines=encode_record(record))
    assert np.array_equal(explicit, render_page(record, photo(5), signature(5), kit))


def test_omitted_zones_and_missing_images_stay_blank(config, kit):
    record = bound_record(config, 6)
    content = page_content(record, photo(6), None, encode_record(record))
    page = render_content(dataclasses.replace(content, omit=frozenset({"surname_latin"})), kit)
    background = kit.backgrounds["passport"]
    layout = kit.layout("passport")
    for name in ("surname_latin", "signature"):
        box = layout.zone(name).box.slices
        assert np.array_equal(page[box], background[box]), name


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda c: dataclasses.replace(c, mrz_lines=c.mrz_lines[:1]), "mrz_lines"),
        (lambda c: dataclasses.replace(c, mrz_lines=(c.mrz_lines[0][:-1], c.mrz_lines[1])), "mrz_lines[0]"),
        (lambda c: dataclasses.replace(c, mrz_lines=(c.mrz_lines[0], "a" * 44)), "mrz_lines[1]"),
        (lambda c: dataclasses.replace(c, photo=np.zeros((10, 10, 3), np.float32)), "photo"),
        (lambda c: dataclasses.replace(c, signature=np.zeros((10, 10, 2), np.uint8)), "signature"),
        (lambda c: dataclasses.replace(c, doc_type="visa"), "doc_type"),
    ],
)
def test_bad_content_is_refused_naming_the_field(config, kit, change, field):
    record = bound_record(config, 7)
    content = page_content(record, photo(7), signature(7), encode_record(record))
    with pytest.raises(InvalidField) as err:
        render_content(change(content), kit)
    assert err.value.field == field


def test_a_residence_permit_has_no_mrz_to_print(config, kit):
    record = bound_record(config, 8, "residence_permit")
    with pytest.raises(InvalidField) as err:
        render_page(record, photo(8), signature(8), kit, mrz_lines=("X" * 30,))
    assert err.value.field == "mrz_lines"


def test_a_long_name_is_condensed_into_its_zone(config, kit):
    record = dataclasses.replace(bound_record(config, 9), given_name_latin="XIAOMINGXIAOMINGXIAOMINGXIAOMINGXIAO")
    page = render_page(record, photo(9), signature(9), kit)
    layout = kit.layout("passport")
    box = layout.zone("given_name_latin").box
    right_of_zone = page[box.y0:box.y1, box.x1:box.x1 + 20]
    assert np.array_equal(right_of_zone, kit.backgrounds["passport"][box.y0:box.y1, box.x1:box.x1 + 20])


def test_greyscale_and_bgra_images_are_accepted(config, kit):
    record = bound_record(config, 10)
    grey_photo = photo(10)[:, :, 0]
    bgra_signature = np.dstack([np.dstack([signature(10)] * 3), np.full((160, 480), 255, np.uint8)])
    page = render_page(record, grey_photo, bgra_signature, kit)
    assert page.shape == (1039, 1476, 3)


def test_a_missing_font_names_the_debian_package(config, tmp_path):
    with pytest.raises(InvalidField) as err:
        build_render_kit(config.documents, fonts=FontFiles(ocrb=tmp_path / "OCRB.otf"))
    assert "fonts-ocr-b" in err.value.reason
