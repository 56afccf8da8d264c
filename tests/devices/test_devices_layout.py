"""The page layouts: sizes, zones, and the ICAO 9303 MRZ geometry."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools

import pytest

from factory.devices.layout import TEXT_ZONES, ZONE_KINDS, field_texts, format_visual_date, mm_to_px, page_layout
from factory.errors import InvalidField

from devices_helpers import bound_record

MRZ_DOCS = ("passport", "hk_macau_permit", "taiwan_permit")
ALL_DOCS = MRZ_DOCS + ("residence_permit", "hmt_residence_permit")


@pytest.mark.parametrize("doc_type", ALL_DOCS)
def test_every_zone_lies_on_the_page_and_no_two_overlap(config, doc_type):
    layout = page_layout(config.documents[doc_type])
    h, w = layout.shape
    for zone in layout.zones:
        assert zone.kind in ZONE_KINDS
        assert 0 <= zone.box.x0 < zone.box.x1 <= w and 0 <= zone.box.y0 < zone.box.y1 <= h, zone.name
    for a, b in itertools.combinations(layout.zones, 2):
        disjoint = a.box.x1 <= b.box.x0 or b.box.x1 <= a.box.x0 or a.box.y1 <= b.box.y0 or b.box.y1 <= a.box.y0
        assert disjoint, (a.name, b.name)
    assert set(TEXT_ZONES) <= set(layout.zone_names)
    assert {"photo", "ghost", "signature"} <= set(layout.zone_names)


def test_page_sizes_are_td3_and_td1_at_300_dpi(config):
    booklet = page_layout(config.documents["passport"])
    card = page_layout(config.documents["hk_macau_permit"])
    assert (booklet.width_mm, booklet.height_mm, booklet.shape) == (125.0, 88.0, (1039, 1476))
    assert (card.width_mm, card.height_mm, card.shape) == (85.6, 54.0, (638, 1011))


def test_td3_mrz_sits_where_icao_9303_part_4_puts_it(config):
    layout = page_layout(config.documents["passport"])
    g = layout.mrz
    zone = layout.zone("mrz")
    assert (g.line_count, g.line_length, g.pitch_px) == (2, 44, 30)  # 2.54 mm at 300 dpi
    assert zone.box.y1 == layout.shape[0] and zone.box_mm[3] == pytest.approx(23.2)
    # reference centre lines 15.75 mm and 9.40 mm above the bottom edge, 6.35 mm apart
    centres_from_bottom = [layout.shape[0] - (zone.box.y0 + c) for c in g.line_center_y]
    assert centres_from_bottom == [mm_to_px(15.75, 300), mm_to_px(9.40, 300)]
    assert zone.box.x0 + g.first_char_x == mm_to_px(6.0, 300)
    assert g.cap_height_px == pytest.approx(2.46 * 300 / 25.4)
    assert zone.box.x0 + g.first_char_x + g.line_width_px <= layout.shape[1]


def test_permit_cards_carry_one_30_character_line_and_residence_permits_none(config):
    for doc_type in ("hk_macau_permit", "taiwan_permit"):
        layout = page_layout(config.documents[doc_type])
        assert layout.name == "td1_card_1line"
        assert (layout.mrz.line_count, layout.mrz.line_length) == (1, 30)
        assert layout.zone("mrz").box.x0 + layout.mrz.first_char_x == mm_to_px(5.0, 300)
    for doc_type in ("residence_permit", "hmt_residence_permit"):
        layout = page_layout(config.documents[doc_type])
        assert layout.mrz is None and not layout.has_zone("mrz")


def test_600_dpi_doubles_every_pixel_measure(config):
    low = page_layout(config.documents["passport"], dpi=300)
    high = page_layout(config.documents["passport"], dpi=600)
    assert high.mrz.pitch_px == 60
    assert high.zone("photo").box_mm == low.zone("photo").box_mm
    assert abs(high.zone("photo").box.width - 2 * low.zone("photo").box.width) <= 1


@pytest.mark.parametrize("dpi", [299, 100, 5000])
def test_a_resolution_off_the_pitch_grid_is_refused(config, dpi):
    with pytest.raises(InvalidField) as err:
        page_layout(config.documents["passport"], dpi=dpi)
    assert err.value.field == "dpi"


def test_a_td3_mrz_on_a_card_is_refused(config):
    doc = dataclasses.replace(config.documents["hk_macau_permit"], mrz="td3")
    with pytest.raises(InvalidField) as err:
        page_layout(doc)
    assert err.value.field == "documents.hk_macau_permit.mrz"


def test_field_texts_give_every_text_zone_its_printed_text(config):
    record = bound_record(config, 3)
    texts = field_texts(record)
    assert set(texts) == set(TEXT_ZONES)
    assert texts["document_number"] == record.document_number
    assert texts["surname_latin"] == record.surname_latin
    assert texts["sex"] in ("男/M", "女/F")
    assert texts["nationality"] == "中国/CHN"
    assert texts["date_of_issue"] == "2026.03.05"
    assert format_visual_date(dt.date(2036, 3, 4)) == "2036.03.04"


def test_crop_is_a_view_of_the_zone(config):
    import numpy as np

    layout = page_layout(config.documents["passport"])
    page = np.zeros((*layout.shape, 3), np.uint8)
    layout.crop(page, "photo")[:] = 7
    box = layout.zone("photo").box
    assert page[box.y0, box.x0, 0] == 7 and page.sum() == 7 * box.width * box.height * 3
    with pytest.raises(KeyError):
        layout.zone("no_such_zone")
