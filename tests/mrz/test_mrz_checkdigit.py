"""Check digits: ICAO 9303 Part 3, 4.9 (weights 7, 3, 1; < = 0; A-Z = 10-35; mod 10)."""

from __future__ import annotations

import numpy as np
import pytest

from factory.errors import MrzError
from factory.mrz import MRZ_ALPHABET, char_value, check_digit, check_digits, is_mrz_text


@pytest.mark.parametrize(
    ("text", "digit"),
    [
        ("L898902C3", 6),  # ICAO 9303 Part 4 specimen document number
        ("740812", 2),
        ("120415", 9),
        ("ZE184226B<<<<<", 1),
        ("D23145890", 7),  # TD1/TD2 specimen
        ("EF1260892", 1),  # PRC passport specimen
        ("NGKELMPONBPJB9", 7),
        ("C00000000", 4),  # PRC HK/Macao permit specimen
        ("L00000000", 7),  # PRC Taiwan permit specimen
        ("", 0),
        ("<<<<<<<<<<<<<<", 0),
    ],
)
def test_check_digit_of_specimen_fields(text, digit):
    assert check_digit(text) == digit


def test_check_digit_of_the_icao_worked_example():
    # ICAO 9303 Part 3, Appendix A: 520727 → 5*7 + 2*3 + 0*1 + 7*7 + 2*3 + 7*1 = 103 → 3
    assert check_digit("520727") == 3


def test_char_values_follow_icao():
    assert [char_value(c) for c in "09AZ<"] == [0, 9, 10, 35, 0]
    with pytest.raises(MrzError):
        char_value("a")


@pytest.mark.parametrize("bad", ["l898902c3", "L898 902", "É12", "L8989-02"])
def test_check_digit_rejects_characters_outside_the_alphabet(bad):
    with pytest.raises(MrzError) as info:
        check_digit(bad)
    assert info.value.field == "value"
    assert "A-Z 0-9 <" in info.value.reason
    assert not is_mrz_text(bad)


def test_vectorized_matches_scalar_on_random_fields():
    rng = np.random.default_rng(7)
    letters = np.array(list(MRZ_ALPHABET))
    fields = ["".join(rng.choice(letters, size=rng.integers(0, 15))) for _ in range(2000)]
    arr = np.array(fields)
    assert arr.dtype.kind == "U"
    np.testing.assert_array_equal(check_digits(arr), [check_digit(f) for f in fields])


def test_vectorized_accepts_bytes_lists_and_any_shape():
    assert check_digits(np.array([b"L898902C3", b"740812"])).tolist() == [6, 2]
    assert check_digits(["L898902C3", "740812"]).tolist() == [6, 2]
    grid = check_digits(np.array([["L898902C3", "740812"], ["120415", ""]]))
    assert grid.shape == (2, 2)
    assert grid.tolist() == [[6, 2], [9, 0]]
    assert check_digits(np.array([], dtype="U9")).shape == (0,)


def test_vectorized_marks_invalid_fields_minus_one():
    result = check_digits(np.array(["L898902C3", "l898902c3", "ĀB", "AB CD", "740812"]))
    assert result.tolist() == [6, -1, -1, -1, 2]
    assert result.dtype == np.int8
