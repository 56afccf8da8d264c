"""Names: GB/T 28039 pinyin, ICAO 9303 Part 3 transliteration and truncation, PRC GBK letters."""

from __future__ import annotations

import pytest

from factory.errors import MrzError
from factory.mrz import format_name, gbk_letters, gbk_letters_to_text, parse_name, transliterate
from factory.mrz.names import CYRILLIC_TRANSLITERATION, LATIN_TRANSLITERATION, chinese_to_pinyin


@pytest.mark.parametrize(
    ("text", "surname", "expected"),
    [
        ("吕", True, "LYU"),  # GB/T 28039: ü → YU
        ("女", False, "NYU"),
        ("单", True, "SHAN"),  # surname reading
        ("证件", True, "ZHENGJIAN"),
        ("样本", False, "YANGBEN"),
    ],
)
def test_chinese_names_are_written_in_pinyin(text, surname, expected):
    assert transliterate(text, surname=surname) == expected
    assert chinese_to_pinyin(text, surname=surname) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Ä", "AE"), ("Å", "AA"), ("Æ", "AE"), ("Ö", "OE"), ("Ø", "OE"), ("Ü", "UE"), ("Ñ", "N"),
        ("ß", "SS"), ("ẞ", "SS"), ("Þ", "TH"), ("Ð", "D"), ("Đ", "D"), ("Ĳ", "IJ"), ("Œ", "OE"),
        ("Ł", "L"), ("ı", "I"), ("İ", "I"), ("Ū", "U"), ("Ş", "S"), ("Ž", "Z"),
        ("é", "E"), ("ñ", "N"), ("ø", "OE"),
    ],
)
def test_icao_part3_latin_table(text, expected):
    assert transliterate(text) == expected


def test_every_row_of_the_latin_table_transliterates_upper_and_lower_case():
    for char, expected in LATIN_TRANSLITERATION.items():
        assert transliterate(char) == expected, char
        lower = char.lower()
        if len(lower) == 1 and lower.upper() == char:
            assert transliterate(lower) == expected, lower


def test_table_alternatives_are_the_issuers_choice():
    assert transliterate("Müller", variants={"Ü": "U"}) == "MULLER"
    assert transliterate("Cañon", variants={"Ñ": "NXX"}) == "CANXXON"  # ICAO 9303 Part 3, App. B
    assert transliterate("Åsa", variants={"Å": "A"}) == "ASA"


def test_cyrillic_table():
    assert transliterate("Щеглова") == "SHCHEGLOVA"
    assert transliterate("Юлия") == "IULIIA"
    assert transliterate("Ольга Ъ") == "OLGA<IE"
    assert CYRILLIC_TRANSLITERATION["Ь"] == ""


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("D'Artagnan", "DARTAGNAN"),  # ICAO 9303 Part 3, 4.6: apostrophe dropped
        ("Marie-Elise", "MARIE<ELISE"),  # hyphen → one filler
        ("Anna, Maria", "ANNA<MARIA"),  # comma between components → one filler
        ("Smith  Jones", "SMITH<JONES"),
        ("Dr. No", "DR<NO"),  # other punctuation dropped
        ("e\u0301mile", "EMILE"),  # decomposed accents
        ("", ""),
    ],
)
def test_punctuation_follows_part3(text, expected):
    assert transliterate(text) == expected


@pytest.mark.parametrize(("text", "reason"), [("Henry 8", "numerals"), ("Ἀλέξανδρος", "cannot be transliterated"), ("A☃", "cannot")])
def test_untransliterable_names_name_the_field_and_reason(text, reason):
    with pytest.raises(MrzError) as info:
        transliterate(text, field="surname")
    assert info.value.field == "surname"
    assert reason in info.value.reason


# ICAO 9303 Part 4, 4.2.3: the truncation examples (name field of 39 positions).
@pytest.mark.parametrize(
    ("primary", "secondary", "expected", "truncated"),
    [
        ("ERIKSSON", "ANNA<MARIA", "ERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<", False),
        ("ARKFREITH", "", "ARKFREITH<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<", False),
        # 4.2.3.2 b: secondary identifier truncated
        ("NILAVADHANANANDA", "ARNPOL<PETCH<CHARONGUANG", "NILAVADHANANANDA<<ARNPOL<PETCH<CHARONGU", True),
        ("NILAVADHANANANDA", "CHAYAPA<DEJTHAMRONG<KRASUANG", "NILAVADHANANANDA<<CHAYAPA<DEJTHAMRONG<K", True),
        # 4.2.3.4: fits exactly, ends with a letter, not truncated
        ("PAPANDROPOULOUS", "JONATHON<WARREN<TREVOR", "PAPANDROPOULOUS<<JONATHON<WARREN<TREVOR", False),
    ],
)
def test_part4_truncation_examples(primary, secondary, expected, truncated):
    assert format_name(primary, secondary, 39) == (expected, truncated)


def test_primary_identifier_truncated_leaves_room_for_the_secondary_initial():
    # ICAO 9303 Part 4, 4.2.3.3: free three positions for << and the first letter.
    field, truncated = format_name("BENNELONG<WOOLOOMOOLOO<WARRANDYTE<WARNAMBOOL", "DINGO<POTOROO", 39)
    assert truncated
    assert len(field) == 39
    assert field.endswith("<<D")
    assert field.startswith("BENNELONG<WOOLOOMOOLOO<WARRANDYTE<W")


def test_a_cut_that_would_end_on_a_filler_ends_on_the_next_initial():
    primary = "ABCDEFGHIJ"
    secondary = "K" * 26 + "<XYZ"  # the filler would fall in position 39
    field, truncated = format_name(primary, secondary, 39)
    assert truncated and len(field) == 39
    assert field[-1] == "X" and field[-2] == "<"
    assert "<<<" not in field


def test_primary_only_name_truncated_to_end_with_a_letter():
    field, truncated = format_name("A" * 20 + "<" + "B" * 30, "", 39)
    assert truncated and len(field) == 39 and field[-1] == "B"


@pytest.mark.parametrize("length", [30, 31, 39])
def test_truncated_names_always_fill_the_field_and_end_with_a_letter(length):
    for primary in ("SMITH", "VERYLONGSURNAMEINDEED<WITHPARTS<AND<MORE", "ABC<DEFGHIJ<KLMNOPQRS<TUVWXYZABC"):
        for secondary in ("", "JOHN<PAUL<GEORGE<RINGO<STUART<PETE", "X<Y<Z", "AB<CD<EF<GH<IJ<KL<MN<OP<QR"):
            field, truncated = format_name(primary, secondary, length)
            assert len(field) == length
            assert "<<<" not in field.rstrip("<")
            if truncated:
                assert field[-1] != "<"


def test_names_of_initials_only_cannot_end_with_a_letter():
    # When every component is one letter, no letter can be given up without
    # losing a component; the name then ends with a filler (no truncation sign).
    field, truncated = format_name("A<B<C<D<E<F<G<H<I<J<K<L<M<N<O", "X<Y<Z", 31)
    assert truncated and len(field) == 31
    assert field.rstrip("<").endswith("<<X")


def test_empty_name_is_an_error():
    with pytest.raises(MrzError) as info:
        format_name("", "", 39)
    assert info.value.field == "name"


def test_parse_name():
    assert parse_name("ERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<") == ("ERIKSSON", "ANNA MARIA", False)
    assert parse_name("ARKFREITH<<<<<<<<<<") == ("ARKFREITH", "", False)
    assert parse_name("NILAVADHANANANDA<<ARNPOL<PETCH<CHARONGU") == ("NILAVADHANANANDA", "ARNPOL PETCH CHARONGU", True)


def test_gbk_letters_of_the_specimen_name():
    assert gbk_letters("证件样本") == "NGKELMPONBPJLBLO"
    assert gbk_letters_to_text("NGKELMPONBPJLBLO") == "证件样本"
    assert gbk_letters("杨昭") == "NBOONFNB"
    assert gbk_letters("吕") == "MCMA"  # GBK C2C0


@pytest.mark.parametrize("bad", ["NGKZ", "NGK", "AAAA"])
def test_gbk_letters_that_do_not_decode(bad):
    with pytest.raises(MrzError):
        gbk_letters_to_text(bad)


def test_gbk_letters_of_a_character_outside_gbk():
    with pytest.raises(MrzError) as info:
        gbk_letters("𠀀", field="given_name_cn")
    assert info.value.field == "given_name_cn"
