"""Decoding: specimens, every field, errors with field/position/reason, OCR corrections."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from factory.mrz import decode, detect_format

REF = dt.date(2025, 6, 1)

TD3 = ("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<", "L898902C36UTO7408122F1204159ZE184226B<<<<<10")
TD1 = ("I<UTOD231458907<<<<<<<<<<<<<<<", "7408122F1204159UTO<<<<<<<<<<<6", "ERIKSSON<<ANNA<MARIA<<<<<<<<<<")
TD2 = ("I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<", "D231458907UTO7408122F1204159<<<<<<<6")
MRVA = ("V<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<", "L8988901C4XXX4009078F96121096ZE184226B<<<<<<")
MRVB = ("V<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<", "L8988901C4XXX4009078F9612109<<<<<<<<")
PRC_PASSPORT = ("POCHNZHENGJIAN<<YANGBEN<<<<<<<<<<<<<<<<<<<<<", "EF12608921CHN8503208F2901178NGKELMPONBPJB978")
PRC_HK = ("CSC000000004<2404200<8108038<6",)
PRC_TW = ("CDL000000007<2508197<8208031<6",)

SPECIMENS = {
    "TD3": TD3,
    "TD1": TD1,
    "TD2": TD2,
    "MRVA": MRVA,
    "MRVB": MRVB,
    "PRC_PASSPORT": PRC_PASSPORT,
    "PRC_HK": PRC_HK,
    "PRC_TW": PRC_TW,
}


@pytest.mark.parametrize("name", SPECIMENS)
def test_specimens_are_valid(name):
    result = decode(SPECIMENS[name], reference_date=REF)
    assert result.valid, [str(e) for e in result.errors]
    assert result.errors == ()
    assert result.corrections == ()
    assert all(result.field_validity.values())
    assert result.lines == SPECIMENS[name]
    json.dumps(result.as_dict())  # plain JSON values only


def test_td3_specimen_fields():
    result = decode(TD3, reference_date=REF)
    assert result.format == "TD3"
    assert result.document_code == "P"
    f = result.fields
    assert f["issuing_state"] == "UTO"
    assert (f["surname"], f["given_names"]) == ("ERIKSSON", "ANNA MARIA")
    assert f["document_number"] == "L898902C3"
    assert f["nationality"] == "UTO"
    assert f["date_of_birth"] == "1974-08-12"
    assert f["sex"] == "F"
    assert f["date_of_expiry"] == "2012-04-15"
    assert f["expired"] is True
    assert f["personal_number"] == "ZE184226B"
    assert f["composite_check"] == "0"
    assert f["profile"] is None
    assert list(result.field_validity) == [
        "document_code", "issuing_state", "name", "document_number", "document_number_check", "nationality",
        "date_of_birth", "date_of_birth_check", "sex", "date_of_expiry", "date_of_expiry_check",
        "personal_number", "personal_number_check", "composite_check",
    ]


def test_prc_passport_fields():
    result = decode(PRC_PASSPORT)
    f = result.fields
    assert result.format == "TD3" and result.document_code == "PO"
    assert f["profile"] == "prc_passport"
    assert (f["surname"], f["given_names"]) == ("ZHENGJIAN", "YANGBEN")
    assert f["name_cn"] == "证件样"
    assert f["name_cn_truncated"] is True
    assert f["birth_century"] == 19
    # The personal number states the century: the date resolves with no reference date.
    assert f["date_of_birth"] == "1985-03-20"
    assert f["date_of_expiry"] is None  # no reference date: century unknown
    assert decode(PRC_PASSPORT, reference_date=REF).fields["date_of_expiry"] == "2029-01-17"
    assert result.record_fields()["name_cn_prefix"] == "证件样"


def test_prc_permit_fields():
    hk = decode(PRC_HK, reference_date=REF)
    assert (hk.format, hk.document_code, hk.fields["profile"]) == ("PRC_CARD", "CS", "prc_hk_macau_permit")
    assert hk.fields["document_number"] == "C00000000"
    assert hk.fields["date_of_expiry"] == "2024-04-20"
    assert hk.fields["date_of_birth"] == "1981-08-03"
    tw = decode(PRC_TW, reference_date=REF)
    assert (tw.document_code, tw.fields["profile"]) == ("CD", "prc_taiwan_permit")
    assert tw.fields["date_of_expiry"] == "2025-08-19"


def test_detect_format():
    assert detect_format(TD3).name == "TD3"
    assert detect_format(MRVA).name == "MRVA"
    assert detect_format(TD2).name == "TD2"
    assert detect_format(MRVB).name == "MRVB"
    assert detect_format(TD1).name == "TD1"
    assert detect_format(PRC_HK).name == "PRC_CARD"
    assert detect_format(()) is None


def test_input_as_one_string_or_with_blank_lines():
    assert decode("\n".join(TD3) + "\n").valid
    assert decode("".join(TD3)).valid  # 88 characters: split in two
    assert decode(["", "  " + TD1[0], TD1[1], TD1[2] + "  ", ""]).valid


def _only_error(result):
    assert not result.valid
    assert len(result.errors) == 1, [str(e) for e in result.errors]
    return result.errors[0]


def test_wrong_check_digit_names_field_position_and_reason():
    bad = (TD3[0], TD3[1][:19] + "3" + TD3[1][20:])
    result = decode(bad, reference_date=REF)
    errors = {e.field: e for e in result.errors}
    e = errors["date_of_birth_check"]
    assert e.position == (2, 20)
    assert "expected 2" in e.reason
    assert result.field_validity["date_of_birth_check"] is False
    assert result.field_validity["date_of_birth"] is False  # one of the two is wrong
    assert result.field_validity["document_number"] is True
    assert result.fields["date_of_birth"] == "1974-08-12"  # still decoded
    assert "composite_check" in errors  # the composite covers the check digit too


def test_changed_field_is_caught_by_its_check_digit_and_the_composite():
    bad = (TD3[0], "L898902C46UTO7408122F1204159ZE184226B<<<<<10")
    fields = [e.field for e in decode(bad).errors]
    assert fields == ["document_number_check", "composite_check"]


def test_wrong_line_lengths():
    result = decode((TD3[0], TD3[1][:-1]))
    e = _only_error(result) if len(result.errors) == 1 else result.errors[0]
    assert e.field == "lines"
    assert "line 2 has 43 characters; TD3 lines have 44" == e.reason
    assert e.position == (2, 44)


def test_lines_that_fit_no_format():
    result = decode(("ABC", "DEF", "GHI", "JKL"))
    assert result.format is None and not result.valid
    assert result.errors[0].field == "lines"
    assert "got 4 lines" in result.errors[0].reason


def test_characters_outside_the_alphabet():
    bad = (TD3[0][:10] + "ß" + TD3[0][11:], TD3[1])
    e = _only_error(decode(bad))
    assert (e.field, e.position, e.value) == ("name", (1, 11), "ß")
    assert "not an MRZ character" in e.reason


def test_letter_in_a_date_without_correction():
    bad = (TD3[0], TD3[1][:15] + "O" + TD3[1][16:])  # 740812 → 74O812
    e = _only_error(decode(bad))
    assert (e.field, e.position) == ("date_of_birth", (2, 16))
    assert e.reason == "'O' is not a digit or <"


@pytest.mark.parametrize(
    ("line2", "field", "reason"),
    [
        ("L898902C36UTO7413127F1204159ZE184226B<<<<<10", "date_of_birth", "month 13"),
        ("L898902C36UTO7402303F1204159ZE184226B<<<<<10", "date_of_birth", "day 30"),
        ("L898902C36UTO7408122F1204319ZE184226B<<<<<10", "date_of_expiry", "day 31"),
    ],
)
def test_impossible_dates_with_matching_check_digits(line2, field, reason):
    from factory.mrz import check_digit

    line2 = line2[:19] + str(check_digit(line2[13:19])) + line2[20:27] + str(check_digit(line2[21:27])) + line2[28:]
    line2 = line2[:43] + str(check_digit(line2[0:10] + line2[13:20] + line2[21:43]))
    e = _only_error(decode((TD3[0], line2), reference_date=REF))
    assert e.field == field and reason in e.reason


def test_sex_x_is_not_an_mrz_value():
    bad = (TD3[0], TD3[1][:20] + "X" + TD3[1][21:])
    e = _only_error(decode(bad))
    assert e.field == "sex" and "F, M or <" in e.reason


@pytest.mark.parametrize(
    ("line1", "reason"),
    [
        ("P<UTOERIKSSON<<ANNA<<MARIA<<<<<<<<<<<<<<<<<<", "after the end of the name"),
        ("P<UTOERIKSSON<<<ANNA<MARIA<<<<<<<<<<<<<<<<<<", "three fillers"),
        ("P<UTO<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<<<<<<<<<", "no primary identifier"),
        ("P<UTO" + "<" * 39, "is empty"),
        ("P<UTMERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<", "not an ICAO 9303 Part 3 country code"),
        ("X<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<", "must start with P"),
    ],
)
def test_bad_first_lines(line1, reason):
    e = _only_error(decode((line1, TD3[1])))
    assert reason in e.reason, e.reason


def _td3_line2(number, nationality, birth, sex, expiry, personal):
    from factory.mrz import check_digit

    line = number + str(check_digit(number)) + nationality + birth + str(check_digit(birth)) + sex
    line += expiry + str(check_digit(expiry)) + personal + str(check_digit(personal))
    return line + str(check_digit(line[0:10] + line[13:20] + line[21:43]))


def test_prc_profile_checks():
    # G + 8 digits is not an E-passport number; B (truncated) with two characters.
    line2 = _td3_line2("G12608920", "CHN", "850320", "F", "290117", "NBOONFNB<<<<B9")
    result = decode((PRC_PASSPORT[0], line2))
    reasons = {e.field: e.reason for e in result.errors}
    assert set(reasons) == {"document_number", "personal_number"}, reasons
    assert "E + 8 digits" in reasons["document_number"]
    assert "fewer than three" in reasons["personal_number"]
    assert result.fields["name_cn"] == "杨昭"


def test_prc_personal_number_that_is_not_gbk():
    line2 = _td3_line2("E12608920", "CHN", "850320", "F", "290117", "AAAAAAAA<<<<A9")
    errors = decode((PRC_PASSPORT[0], line2)).errors
    assert [(e.field, e.position) for e in errors] == [("personal_number", (2, 29))]
    assert "GBK" in errors[0].reason


def test_prc_personal_number_with_a_digit_where_a_hex_letter_stands():
    line2 = _td3_line2("E12608920", "CHN", "850320", "F", "290117", "NGKELMP3NBPJB9")
    errors = decode((PRC_PASSPORT[0], line2)).errors
    assert [(e.field, e.position, e.reason) for e in errors] == [
        ("personal_number", (2, 36), "'3' is not a GBK hex letter A-P or <")
    ]


def test_prc_card_separators_and_number():
    e = _only_error(decode(("CSC000000004<2404200X8108038<6",)))
    assert (e.field, e.position) == ("separator_2", (1, 21))


def test_birth_after_reference_date_is_an_error_when_the_century_is_stated():
    result = decode(PRC_PASSPORT, reference_date=dt.date(1980, 1, 1))
    assert [e.field for e in result.errors] == ["date_of_birth"]


# --------------------------------------------------------------------------- OCR corrections


def test_field_aware_corrections_are_applied_and_reported():
    ocr = (
        "P<UT0ERIK55ON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
        "L898902C36UTO740BIZZF12041S9ZE184226B<<K<<1O",
    )
    assert not decode(ocr).valid
    result = decode(ocr, correct=True, reference_date=REF)
    assert result.valid, [str(e) for e in result.errors]
    assert result.lines == TD3
    got = [(c.line, c.column, c.original, c.corrected, c.field) for c in result.corrections]
    assert got == [
        (1, 5, "0", "O", "issuing_state"),
        (1, 10, "5", "S", "name"),
        (1, 11, "5", "S", "name"),
        (2, 17, "B", "8", "date_of_birth"),
        (2, 18, "I", "1", "date_of_birth"),
        (2, 19, "Z", "2", "date_of_birth"),
        (2, 20, "Z", "2", "date_of_birth_check"),
        (2, 27, "S", "5", "date_of_expiry"),
        (2, 40, "K", "<", "personal_number"),
        (2, 44, "O", "0", "composite_check"),
    ]
    assert json.loads(json.dumps(result.as_dict()))["corrections"][0]["original"] == "0"


def test_k_in_the_filler_run_of_a_name():
    ocr = ("P<UTOERIKSSON<<ANNA<MARIA<<<K<<<<<<<KK<<<<<<", TD3[1])
    result = decode(ocr, correct=True)
    assert result.valid and result.lines == TD3
    assert [c.column for c in result.corrections] == [29, 37, 38]
    # A K that is part of the name stays.
    kept = decode(("P<UTOERIKSSON<<ANNA<K<<<<<<<<<<<<<<<<<<<<<<<", TD3[1]), correct=True)
    assert kept.fields["given_names"] == "ANNA K" and kept.corrections == ()


def test_k_where_only_a_filler_can_stand():
    result = decode(("CSC000000004K2404200<8108038K6",), correct=True)
    assert result.valid
    assert [(c.column, c.field) for c in result.corrections] == [(13, "separator_1"), (29, "separator_3")]


def test_prc_personal_number_keeps_k_as_a_hex_letter():
    # K is the hex digit A in the GBK letters: never read as a filler there.
    result = decode(PRC_PASSPORT, correct=True)
    assert result.valid and result.corrections == ()
    ocr = (PRC_PASSPORT[0], "EF12608921CHN8503208F2901178NGKELMP0NBPJB978")  # O read as 0
    fixed = decode(ocr, correct=True)
    assert fixed.valid and [(c.column, c.corrected) for c in fixed.corrections] == [(36, "O")]


def test_lower_case_and_spaces():
    ocr = (TD3[0].lower(), TD3[1][:10] + " " + TD3[1][10:])
    assert not decode(ocr).valid
    result = decode(ocr, correct=True)
    assert result.valid and result.lines == TD3


def test_a_missing_or_extra_filler_is_restored():
    short = (TD3[0][:-1], TD3[1])
    result = decode(short, correct=True)
    assert result.valid and result.lines == TD3
    assert result.corrections[0].corrected == "<"
    long = (TD3[0] + "<<", TD3[1])
    assert decode(long, correct=True).lines == TD3


def test_corrections_never_touch_valid_characters():
    for lines in SPECIMENS.values():
        assert decode(lines, correct=True).corrections == ()


def test_what_a_check_digit_cannot_see():
    # ICAO check digits weigh values mod 10: 0 and A (10) or < (0) and K (20) are
    # the same to them, so a document number misread O→0... is only caught when
    # the field's type or the PRC profile forbids the character.
    from factory.mrz import check_digit

    assert check_digit("L898902C3") == check_digit("L898902CD")  # 3 vs D (13)
    assert decode((TD3[0], "L898902CD6UTO7408122F1204159ZE184226B<<<<<10")).valid


def test_fast_path_gives_what_the_full_path_gives(monkeypatch):
    # Valid two-line documents take a fast path; it must agree with the full decode.
    import random

    import factory.mrz.decoder as decoder
    from factory.mrz import encode_mrva, encode_mrvb, encode_record, encode_td2, encode_td3

    rng = random.Random(5)
    docs = [TD3, TD2, MRVA, MRVB, PRC_PASSPORT]
    for _ in range(200):
        birth = dt.date(1930, 1, 1) + dt.timedelta(days=rng.randrange(30000))
        expiry = birth + dt.timedelta(days=rng.randrange(1, 40000))
        args = dict(
            issuing_state=rng.choice(["UTO", "D", "CHN"]), surname=rng.choice(["SMITH", "VAN DER BERG", "O"]),
            given_names=rng.choice(["", "ANNA", "JOHN PAUL"]), document_number=rng.choice(["L898902C3", "X1", "123"]),
            nationality="UTO", date_of_birth=birth, sex=rng.choice("FMX"), date_of_expiry=expiry,
        )
        docs.append(encode_td3(**args, personal_number=rng.choice(["", "ZE184226B"])))
        docs.append(rng.choice([encode_td2, encode_mrva, encode_mrvb])(**args, optional_data=rng.choice(["", "AB1"])))
        docs.append(encode_record({
            "doc_type": "passport", "surname_cn": "吕", "given_name_cn": rng.choice(["女", "晓明", "一二三"]),
            "sex": "M", "date_of_birth": birth.isoformat(), "nationality": "CHN", "document_number": "E12345678",
            "date_of_expiry": expiry.isoformat(),
        }))
    refs = [None, dt.date(2025, 6, 1), dt.date(1990, 1, 1)]
    fast = [decode(d, reference_date=r, correct=c) for d in docs for r in refs for c in (False, True)]
    monkeypatch.setattr(decoder, "_decode_valid_two_line", lambda *a: None)
    slow = [decode(d, reference_date=r, correct=c) for d in docs for r in refs for c in (False, True)]
    assert fast == slow
    assert [list(r.fields) for r in fast] == [list(r.fields) for r in slow]  # same order too
    assert sum(r.valid for r in slow) > len(slow) // 2
