"""Print defects: each kind changes the page as it says, and says so in the ground truth."""

from __future__ import annotations

import numpy as np
import pytest

from factory.devices.defects import (
    CONTENT_DEFECTS,
    DEFECT_KINDS,
    RASTER_DEFECTS,
    Neighbour,
    apply_content_defects,
    apply_raster_defects,
    print_page,
)
from factory.devices.render import page_content, render_content
from factory.mrz import encode_record

from devices_helpers import bound_record, photo, signature


@pytest.fixture()
def content(config):
    record = bound_record(config, 21)
    return page_content(record, photo(21), signature(21), encode_record(record))


NEIGHBOURS = (Neighbour("OTHER-1", photo(99), signature(99)),)


def test_a_wrong_character_changes_one_character_of_one_field(kit, content):
    rng = np.random.default_rng(1)
    changed, (defect,) = apply_content_defects(content, ["wrong_character"], kit.layout("passport"), rng)
    field = defect.zone
    before, after = content.texts[field], changed.texts[field]
    assert len(before) == len(after)
    diffs = [i for i, (a, b) in enumerate(zip(before, after)) if a != b]
    assert diffs == [defect.detail["position"]]
    assert (before[diffs[0]], after[diffs[0]]) == (defect.detail["expected"], defect.detail["printed"])
    assert all(changed.texts[k] == v for k, v in content.texts.items() if k != field)


def test_a_misprinted_mrz_character_changes_exactly_one_character(kit, content):
    changed, (defect,) = apply_content_defects(content, ["mrz_character"], kit.layout("passport"),
                                               np.random.default_rng(2))
    pairs = [(a, b) for la, lb in zip(content.mrz_lines, changed.mrz_lines) for a, b in zip(la, lb) if a != b]
    assert pairs == [(defect.detail["expected"], defect.detail["printed"])]
    assert defect.zone == "mrz"


@pytest.mark.parametrize(("kind", "attribute"), [("photo_swap", "photo"), ("signature_swap", "signature")])
def test_a_swap_prints_another_applications_image(kit, content, kind, attribute):
    changed, (defect,) = apply_content_defects(content, [kind], kit.layout("passport"), np.random.default_rng(3),
                                               neighbours=NEIGHBOURS)
    assert getattr(changed, attribute) is getattr(NEIGHBOURS[0], attribute)
    assert defect.detail == {"from_application": "OTHER-1"} and defect.zone == attribute


def test_a_swap_without_another_application_is_skipped(kit, content):
    changed, defects = apply_content_defects(content, ["photo_swap"], kit.layout("passport"), np.random.default_rng(3))
    assert defects == () and changed is content


def test_a_missing_field_is_not_printed(kit, content):
    layout = kit.layout("passport")
    changed, (defect,) = apply_content_defects(content, ["missing_field"], layout, np.random.default_rng(4))
    page = render_content(changed, kit)
    box = layout.zone(defect.zone).box.slices
    assert np.array_equal(page[box], kit.backgrounds["passport"][box])


def test_raster_defects_change_the_page_where_they_say(kit, content):
    layout = kit.layout("passport")
    clean = render_content(content, kit)
    for kind in RASTER_DEFECTS:
        page, (defect,) = apply_raster_defects(clean, [kind], layout, np.random.default_rng(5))
        changed = np.argwhere(np.abs(page.astype(int) - clean).max(axis=2) > 20)
        assert len(changed) > 20, kind
        if kind == "smudge":
            assert np.abs(changed.mean(axis=0) - (defect.detail["y"], defect.detail["x"])).max() < defect.detail["radius"]
        elif kind == "dropout":
            assert set(changed[:, 1]) <= set(range(defect.detail["x"], defect.detail["x"] + defect.detail["width"]))
        else:
            assert defect.zone == "page" and defect.detail["channel"] in "BGR"
            channel = "BGR".index(defect.detail["channel"])
            others = [c for c in range(3) if c != channel]
            assert np.array_equal(page[:, :, others], clean[:, :, others])
    assert np.array_equal(clean, render_content(content, kit))


def test_print_page_applies_every_kind_and_is_reproducible(kit, content):
    first = print_page(content, DEFECT_KINDS, kit, np.random.default_rng(6), neighbours=NEIGHBOURS)
    second = print_page(content, DEFECT_KINDS, kit, np.random.default_rng(6), neighbours=NEIGHBOURS)
    assert np.array_equal(first[0], second[0]) and first[1] == second[1]
    assert sorted(d.kind for d in first[1]) == sorted(DEFECT_KINDS)
    assert all(set(d.to_json()) == {"type", "zone", "detail"} for d in first[1])
    clean, none = print_page(content, (), kit, np.random.default_rng(6))
    assert none == () and np.array_equal(clean, render_content(content, kit))
    assert set(CONTENT_DEFECTS) | set(RASTER_DEFECTS) == set(DEFECT_KINDS)
