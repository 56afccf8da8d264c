"""Properties: encode then decode gives the record back; a changed character is caught."""

from __future__ import annotations

import datetime as dt

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from factory.mrz import (
    MRZ_ALPHABET,
    TD3,
    char_value,
    chinese_to_pinyin,
    decode,
    encode_mrva,
    encode_mrvb,
    encode_record,
    encode_td1,
    encode_td2,
    encode_td3,
)

SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# GB2312 level 1 (the common characters): first byte B0-D7, second A1-FE.
_HAN = st.builds(
    lambda hi, lo: bytes([hi, lo]).decode("gb2312"),
    st.integers(0xB0, 0xD6),
    st.integers(0xA1, 0xFE),
)
_SURNAMES = st.sampled_from(["王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吕", "单", "曾", "欧阳", "司马", "女"])
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_DIGITS = "0123456789"


def _years(day: dt.date, years: int) -> dt.date:
    return day.replace(year=day.year + years, day=min(day.day, 28) if day.month == 2 else day.day)


@st.composite
def dates(draw, reference: dt.date):
    """A date of birth before ``reference`` and an expiry within 50 years of it, after the birth."""
    birth = draw(st.dates(min_value=max(dt.date(1900, 1, 1), _years(reference, -99)), max_value=reference))
    low = max(birth + dt.timedelta(days=1), _years(reference, -49))
    expiry = draw(st.dates(min_value=low, max_value=_years(reference, 49)))
    return birth, expiry


@st.composite
def prc_records(draw, doc_type: str = "passport"):
    reference = draw(st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2060, 12, 31)))
    birth, expiry = draw(dates(reference))
    surname_cn = draw(_SURNAMES)
    given_cn = "".join(draw(st.lists(_HAN, min_size=1, max_size=3)))
    if doc_type == "passport":
        number = "E" + draw(st.one_of(st.text(_DIGITS, min_size=8, max_size=8),
                                      st.builds(str.__add__, st.sampled_from(_LETTERS), st.text(_DIGITS, min_size=7, max_size=7))))
    else:
        number = draw(st.sampled_from(_LETTERS)) + draw(st.text(_DIGITS, min_size=8, max_size=8))
    record = {
        "doc_type": doc_type,
        "surname_cn": surname_cn,
        "given_name_cn": given_cn,
        "surname_latin": draw(st.sampled_from(["", chinese_to_pinyin(surname_cn, surname=True)])),
        "given_name_latin": "",
        "sex": draw(st.sampled_from("FMX")),
        "date_of_birth": birth.isoformat(),
        "nationality": "CHN",
        "document_number": number,
        "date_of_expiry": expiry.isoformat(),
    }
    return record, reference


@SETTINGS
@given(prc_records())
def test_prc_passport_round_trip(case):
    record, reference = case
    result = decode(encode_record(record), reference_date=reference)
    assert result.valid, [str(e) for e in result.errors]
    name_cn = record["surname_cn"] + record["given_name_cn"]
    assert result.record_fields() == {
        "surname_latin": chinese_to_pinyin(record["surname_cn"], surname=True),
        "given_name_latin": chinese_to_pinyin(record["given_name_cn"]),
        "sex": record["sex"],
        "date_of_birth": record["date_of_birth"],
        "date_of_expiry": record["date_of_expiry"],
        "nationality": "CHN",
        "document_number": record["document_number"],
        "name_cn_prefix": name_cn[:3],
    }
    assert result.fields["name_cn_truncated"] is (len(name_cn) > 3)
    # The century comes from the MRZ itself: no reference date needed for the birth.
    assert decode(result.lines).fields["date_of_birth"] == record["date_of_birth"]


@SETTINGS
@given(st.sampled_from(["hk_macau_permit", "taiwan_permit"]).flatmap(prc_records))
def test_prc_permit_round_trip(case):
    record, reference = case
    lines = encode_record(record)
    assert len(lines) == 1 and len(lines[0]) == 30
    result = decode(lines, reference_date=reference)
    assert result.valid, [str(e) for e in result.errors]
    assert result.document_code == {"hk_macau_permit": "CS", "taiwan_permit": "CD"}[record["doc_type"]]
    fields = result.record_fields()
    assert (fields["document_number"], fields["date_of_birth"], fields["date_of_expiry"]) == (
        record["document_number"], record["date_of_birth"], record["date_of_expiry"])


_WORDS = st.text(_LETTERS + "ÄÖÜÉÑØÅß", min_size=1, max_size=12)
_NAMES = st.lists(_WORDS, min_size=1, max_size=3).map(" ".join)
_NUMBER = st.text(_LETTERS + _DIGITS, min_size=1, max_size=9)
_CODES = st.sampled_from(["UTO", "CHN", "D", "GBR", "FRA", "XXA", "HKG"])

ENCODERS = {
    "TD1": (encode_td1, "optional_data_2", 11),
    "TD2": (encode_td2, "optional_data", 7),
    "TD3": (encode_td3, "personal_number", 14),
    "MRVA": (encode_mrva, "optional_data", 16),
    "MRVB": (encode_mrvb, "optional_data", 8),
}


@st.composite
def icao_documents(draw):
    fmt = draw(st.sampled_from(sorted(ENCODERS)))
    encoder, optional_name, optional_length = ENCODERS[fmt]
    reference = draw(st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2070, 1, 1)))
    birth, expiry = draw(dates(reference))
    args = dict(
        issuing_state=draw(_CODES),
        nationality=draw(_CODES),
        surname=draw(_NAMES),
        given_names=draw(st.one_of(st.just(""), _NAMES)),
        document_number=draw(_NUMBER),
        date_of_birth=birth,
        sex=draw(st.sampled_from("FMX")),
        date_of_expiry=expiry,
    )
    args[optional_name] = draw(st.text(_LETTERS + _DIGITS, max_size=optional_length))
    return fmt, encoder, optional_name, args, reference


@SETTINGS
@given(icao_documents())
def test_icao_formats_round_trip(case):
    from factory.mrz.names import transliterate

    fmt, encoder, optional_name, args, reference = case
    lines = encoder(**args)
    result = decode(lines, reference_date=reference)
    assert result.valid, [str(e) for e in result.errors]
    assert result.format == fmt
    f = result.fields
    assert f["issuing_state"] == args["issuing_state"] and f["nationality"] == args["nationality"]
    assert f["document_number"] == args["document_number"]
    assert f["date_of_birth"] == args["date_of_birth"].isoformat()
    assert f["date_of_expiry"] == args["date_of_expiry"].isoformat()
    assert f["sex"] == args["sex"]
    assert f[optional_name] == args[optional_name]
    surname = transliterate(args["surname"]).replace("<", " ")
    given_names = transliterate(args["given_names"]).replace("<", " ")
    name_length = {"TD1": 30, "TD2": 31, "MRVB": 31}.get(fmt, 39)
    if len(surname) + 2 + len(given_names) <= name_length or (not given_names and len(surname) <= name_length):
        assert (f["surname"], f["given_names"]) == (surname, given_names)
    else:  # truncated (ICAO 9303 Part 4, 4.2.3): what is kept is a prefix of each component
        assert f["name_possibly_truncated"]
        assert surname.startswith(f["surname"][:1])


# --------------------------------------------------------------------------- single changes

_CHECKED_TD3 = [s for s in TD3.fields if s.line == 1 and s.name not in ("nationality", "sex")]


@SETTINGS
@given(
    st.one_of(prc_records().map(lambda c: (encode_record(c[0]), c[1])),
              icao_documents().filter(lambda c: c[0] == "TD3").map(lambda c: (c[1](**c[3]), c[4]))),
    st.sampled_from(_CHECKED_TD3),
    st.integers(0, 13),
    st.sampled_from(MRZ_ALPHABET),
)
def test_any_single_change_in_a_checked_field_is_detected(case, spec, offset, char):
    (line1, line2), reference = case
    col = spec.start + offset % spec.length
    if line2[col] == char:
        return
    changed = (line1, line2[:col] + char + line2[col + 1 :])
    result = decode(changed, reference_date=reference)
    if (char_value(char) - char_value(line2[col])) % 10:
        # Weights 7, 3 and 1 are prime to 10: any change of value mod 10 moves the sum.
        assert not result.valid, (changed, spec.name)
    if spec.kind in ("date", "birth", "check") and char != "<":
        # Digit-only positions: a digit changes the value mod 10, anything else is a type error.
        assert not result.valid, (changed, spec.name)


@SETTINGS
@given(prc_records(), st.integers(0, 29), st.sampled_from(MRZ_ALPHABET))
def test_any_single_change_in_a_permit_line_is_detected(case, col, char):
    record, reference = case
    record = dict(record, doc_type="hk_macau_permit", document_number="C" + record["document_number"][-8:].rjust(8, "0"))
    if not record["document_number"][1:].isdigit():
        return
    (line,) = encode_record(record)
    if line[col] == char or col < 2:
        return
    if col == 2 and char.isalpha() and (char_value(char) - char_value(line[col])) % 10 == 0:
        return  # the number's letter: C and M (12, 22) weigh the same mod 10
    result = decode((line[:col] + char + line[col + 1 :],), reference_date=reference)
    # Every other position is a digit or a separator: every change is caught.
    assert not result.valid
