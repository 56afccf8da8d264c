"""The look-alike table built from all GB2312 glyphs (factory.qa.lookalikes)."""

from __future__ import annotations

import pytest

from factory.errors import InvalidField
from factory.qa.lookalikes import LOOKALIKE_FILE, load_lookalikes


@pytest.fixture(scope="module")
def table():
    return load_lookalikes()


def test_every_gb2312_character_has_a_row(table):
    assert len(table) == 6763
    assert all(table.of(c) for c in "晓未己戌士侯汩杨玲莹宇洋博帅浩晨")


def test_the_classic_lookalikes_are_neighbours(table):
    assert table.of("晓")[0] == "哓"
    assert table.of("未")[0] == "末"
    assert "已" in table.of("己") and "戍" in table.of("戌") and "土" in table.of("士")
    assert 0.6 < table.similarity("晓", "哓") <= 1.0
    # Same-sound look-alikes ride along even below the top eight by glyph alone.
    assert "详" in table.of("洋") and "辰" in table.of("晨")


def test_the_shipped_file_is_small():
    assert LOOKALIKE_FILE.stat().st_size < 300_000


def test_a_character_outside_gb2312_has_no_row(table):
    assert table.of("叡") == ()
    assert "叡" not in table


def test_top_limits_the_row(table):
    assert len(load_lookalikes(top=3).of("晓")) == 3


def test_a_missing_file_is_an_error_naming_it(tmp_path):
    with pytest.raises(InvalidField) as err:
        load_lookalikes(tmp_path / "none.npz")
    assert err.value.field == "lookalikes"
