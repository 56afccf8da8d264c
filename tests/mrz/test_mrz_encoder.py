"""Encoding: the ICAO 9303 specimens and the PRC examples come out exactly."""

from __future__ import annotations

import datetime as dt

import pytest

from factory.errors import InvalidRecord, MrzError
from factory.mrz import (
    decode,
    encode,
    encode_mrva,
    encode_mrvb,
    encode_prc_card,
    encode_td1,
    encode_td2,
    encode_td3,
)

ANNA = dict(issuing_state="UTO", surname="Eriksson", given_names="Anna María", nationality="UTO", sex="F")


def test_td3_specimen():
    # ICAO 9303 Part 4, Appendix A
    assert encode_td3(
        **ANNA,
        document_number="L898902C3",
        date_of_birth=dt.date(1974, 8, 12),
        date_of_expiry=dt.date(2012, 4, 15),
        personal_number="ZE184226B",
    ) == (
        "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
        "L898902C36UTO7408122F1204159ZE184226B<<<<<10",
    )


def test_td1_specimen():
    # ICAO 9303 Part 5, Appendix A
    assert encode_td1(**ANNA, document_number="D23145890", date_of_birth="740812", date_of_expiry="120415") == (
        "I<UTOD231458907<<<<<<<<<<<<<<<",
        "7408122F1204159UTO<<<<<<<<<<<6",
        "ERIKSSON<<ANNA<MARIA<<<<<<<<<<",
    )


def test_td2_specimen():
    # ICAO 9303 Part 6, Appendix A
    assert encode_td2(**ANNA, document_number="D23145890", date_of_birth="740812", date_of_expiry="120415") == (
        "I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<",
        "D231458907UTO7408122F1204159<<<<<<<6",
    )


def test_visa_specimens():
    # ICAO 9303 Part 7, Appendix A (nationality XXX: unspecified)
    common = dict(ANNA, nationality="XXX", document_number="L8988901C", date_of_birth="400907", date_of_expiry="961210")
    assert encode_mrva(**common, optional_data="6ZE184226B") == (
        "V<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
        "L8988901C4XXX4009078F96121096ZE184226B<<<<<<",
    )
    assert encode_mrvb(**common) == (
        "V<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<",
        "L8988901C4XXX4009078F9612109<<<<<<<<",
    )


def test_prc_permit_cards():
    assert encode_prc_card(
        document_code="CS", document_number="C00000000", date_of_expiry="240420", date_of_birth="810803"
    ) == ("CSC000000004<2404200<8108038<6",)
    assert encode_prc_card(
        document_code="CD",
        document_number="L00000000",
        date_of_expiry=dt.date(2025, 8, 19),
        date_of_birth=dt.date(1982, 8, 3),
    ) == ("CDL000000007<2508197<8208031<6",)


def test_prc_passport_specimen():
    assert encode_td3(
        document_code="PO",
        issuing_state="CHN",
        surname="证件",
        given_names="样本",
        document_number="EF1260892",
        nationality="CHN",
        date_of_birth=dt.date(1985, 3, 20),
        sex="F",
        date_of_expiry=dt.date(2029, 1, 17),
        personal_number="NGKELMPONBPJB9",
    ) == (
        "POCHNZHENGJIAN<<YANGBEN<<<<<<<<<<<<<<<<<<<<<",
        "EF12608921CHN8503208F2901178NGKELMPONBPJB978",
    )


def test_encode_by_format_name():
    lines = encode("TD2", **ANNA, document_number="D23145890", date_of_birth="740812", date_of_expiry="120415")
    assert lines[1] == "D231458907UTO7408122F1204159<<<<<<<6"
    with pytest.raises(MrzError) as info:
        encode("TD4")
    assert info.value.field == "format"


def test_sex_x_is_written_as_filler_and_empty_personal_number_check_is_zero():
    line2 = encode_td3(**dict(ANNA, sex="X"), document_number="L898902C3", date_of_birth="740812", date_of_expiry="120415")[1]
    assert line2[20] == "<"
    # ICAO 9303 Part 4, 4.2.2.2: 0 or < when the personal number is not used.
    assert line2[28:43] == "<" * 14 + "0"
    assert decode(("P<UTOERIKSSON<<ANNA<MARIA" + "<" * 19, line2)).valid


def test_long_names_are_truncated_not_rejected():
    lines = encode_td3(
        issuing_state="UTO",
        surname="Nilavadhanananda",
        given_names="Arnpol Petch Charonguang",
        document_number="L898902C3",
        nationality="UTO",
        date_of_birth="740812",
        sex="M",
        date_of_expiry="120415",
    )
    assert lines[0] == "P<UTONILAVADHANANANDA<<ARNPOL<PETCH<CHARONGU"
    assert decode(lines).fields["name_possibly_truncated"] is True
    td1 = encode_td1(
        issuing_state="UTO",
        surname="Nilavadhanananda",
        given_names="Arnpol Petch Charonguang",
        document_number="D23145890",
        nationality="UTO",
        date_of_birth="740812",
        sex="M",
        date_of_expiry="120415",
    )
    assert td1[2] == "NILAVADHANANANDA<<ARNPOL<PETCH"[:30]


def test_long_document_numbers_continue_in_the_optional_data():
    # ICAO 9303 Part 5, note j: 9 characters, < in place of the check digit, the
    # rest of the number and its check digit in the optional data.
    lines = encode_td1(**ANNA, document_number="D23145890123", date_of_birth="740812", date_of_expiry="120415")
    assert lines[0] == "I<UTOD23145890<1233<<<<<<<<<<<"
    result = decode(lines)
    assert result.valid, result.errors
    assert result.fields["document_number"] == "D23145890123"
    td2 = encode_td2(**ANNA, document_number="D231458901", date_of_birth="740812", date_of_expiry="120415")
    assert td2[1][:10] == "D23145890<"
    assert decode(td2).fields["document_number"] == "D231458901"


def test_every_bad_input_is_reported_at_once():
    with pytest.raises(InvalidRecord) as info:
        encode_td3(
            issuing_state="U1O",
            surname="Eri3",
            document_number="L898902C3XX",
            nationality="ZZZ",
            date_of_birth="741312",
            sex="Q",
            date_of_expiry=dt.date(2012, 4, 15),
        )
    assert info.value.fields() == ["issuing_state", "surname", "document_number", "nationality", "date_of_birth", "sex"]
    reasons = dict(zip(info.value.fields(), (e.reason for e in info.value.errors)))
    assert "numerals" in reasons["surname"]
    assert "country code" in reasons["nationality"]
    assert "month 13" in reasons["date_of_birth"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (dict(document_code="V"), "document_code"),
        (dict(document_code="P1"), "document_code"),
        (dict(issuing_state="CHINA"), "issuing_state"),
        (dict(document_number="L898902C3456"), "document_number"),
        (dict(surname="", given_names=""), "surname"),
        (dict(given_names="Anna ☃"), "given_names"),
        (dict(date_of_expiry="7408<<"), "date_of_expiry"),
        (dict(personal_number="X" * 15), "personal_number"),
    ],
)
def test_one_bad_input_raises_mrz_error_naming_it(change, field):
    args = dict(ANNA, document_number="L898902C3", date_of_birth="740812", date_of_expiry="120415")
    args.update(change)
    with pytest.raises(MrzError) as info:
        encode_td3(**args)
    assert info.value.field == field


def test_td1_and_td2_codes_do_not_use_v_second():
    with pytest.raises(MrzError) as info:
        encode_td1(**ANNA, document_code="IV", document_number="D23145890", date_of_birth="740812", date_of_expiry="120415")
    assert "visas" in info.value.reason


def test_unknown_date_of_birth_parts_are_fillers():
    lines = encode_td3(**ANNA, document_number="L898902C3", date_of_birth="74<<<<", date_of_expiry="120415")
    assert lines[1][13:19] == "74<<<<"
    result = decode(lines, reference_date=dt.date(2025, 1, 1))
    assert result.valid and result.fields["date_of_birth"] is None


def test_fast_path_gives_what_the_checked_path_gives(monkeypatch):
    import random

    import factory.mrz.encoder as encoder

    rng = random.Random(3)
    calls = []
    for _ in range(300):
        fn = rng.choice([encode_td3, encode_td2, encode_mrva, encode_mrvb])
        args = dict(
            document_code=rng.choice(["P", "PO", "I", "V", "VB", "IR"]),
            issuing_state=rng.choice(["UTO", "D", "CHN", "XXA"]),
            surname=rng.choice(["SMITH", "VAN DER BERG", "O", "X" * 30]),
            given_names=rng.choice(["", "ANNA", "JOHN PAUL", "Y" * 12]),
            document_number=rng.choice(["L898902C3", "X1", "123456789"]),
            nationality=rng.choice(["UTO", "D", "GBD"]),
            date_of_birth=rng.choice([dt.date(1974, 8, 12), "7408<<", dt.date(2000, 2, 29)]),
            sex=rng.choice("FMX"),
            date_of_expiry=rng.choice([dt.date(2032, 4, 15), "120415"]),
        )
        args["personal_number" if fn is encode_td3 else "optional_data"] = rng.choice(["", "ZE184226B", "A1"])
        calls.append((fn, args))

    def run():
        out = []
        for fn, args in calls:
            try:
                out.append(fn(**args))
            except (MrzError, InvalidRecord) as err:
                out.append(str(err))
        return out

    fast = run()
    monkeypatch.setattr(encoder, "_fast_two_line", lambda *a: None)
    assert run() == fast
    assert sum(isinstance(x, tuple) for x in fast) > 50
