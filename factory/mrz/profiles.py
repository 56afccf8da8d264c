"""PRC document profiles: which MRZ each document type carries and what its fields hold.

=====================  ========  ====  =====================================
doc_type               format    code  document number
=====================  ========  ====  =====================================
passport               TD3       PO    E + 8 digits, or E + letter + 7 digits
hk_macau_permit        PRC_CARD  CS    a letter + 8 digits (C...)
taiwan_permit          PRC_CARD  CD    a letter + 8 digits (L...)
residence_permit       none
hmt_residence_permit   none
=====================  ========  ====  =====================================

The PRC passport's personal-number field (line 2, positions 29-42) is worked
out from every specimen we could find (证件样本 twice, 杨昭, 于洋, 杜爽, 董文):

- positions 29-40: the first three Chinese characters of the full name
  (surname then given name) as GBK hex written A-P, four letters a character,
  ``<``-filled when the name is shorter (杨昭 → ``NBOONFNB<<<<``);
- position 41: a letter-coded digit, A (0) when the whole Chinese name is
  encoded, B (1) when it had more than three characters (证件样本 → ``B``;
  every two-character name → ``A``);
- position 42: the second digit of the four-digit year of birth, i.e. the
  century (``9`` for 19YY, ``0`` for 20YY: 于洋 born 2003 → ``0``, all others
  born 1981-1990 → ``9``);
- position 43: the ordinary ICAO check digit over positions 29-42, and 44 the
  composite: ``EF12608921CHN8503208F2901178NGKELMPONBPJB978`` validates as a
  plain TD3 (personal-number check digit 7, composite 8).

So the 16-letter encoding of 证件样本 does not fit: 12 letters (证件样) are
written, and the B says the name was cut. A name of four or more characters
leaves line 2 without any ``<``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from factory.errors import InvalidRecord, MrzError
from factory.mrz.encoder import encode_prc_card, encode_td3
from factory.mrz.formats import PRC_CARD, TD3, MrzFormat
from factory.mrz.names import gbk_letters, gbk_letters_to_text, transliterate

__all__ = [
    "DOC_TYPE_FORMATS",
    "format_for_doc_type",
    "prc_personal_number",
    "parse_prc_personal_number",
    "profile_of",
    "encode_record",
]

DOC_TYPE_FORMATS: dict[str, tuple[MrzFormat, str] | None] = {
    "passport": (TD3, "PO"),
    "hk_macau_permit": (PRC_CARD, "CS"),
    "taiwan_permit": (PRC_CARD, "CD"),
    "residence_permit": None,
    "hmt_residence_permit": None,
}
"""doc_type → (MRZ format, document code), or None for documents without an MRZ."""

PROFILES = {
    ("TD3", "PO", "CHN"): "prc_passport",
    ("PRC_CARD", "CS", ""): "prc_hk_macau_permit",
    ("PRC_CARD", "CD", ""): "prc_taiwan_permit",
}

# Per-position character kinds that a profile narrows, (line, start) → kinds:
# A letter, D digit, d digit or filler, L letter or digit, H hex letter A-P or filler.
PROFILE_KINDS: dict[str, tuple[tuple[int, int, str], ...]] = {
    # Document number: E, then a letter or a digit, then 7 digits; personal number:
    # 12 hex letters or fillers, a flag letter, the century digit (or < if unknown).
    "prc_passport": ((1, 0, "ALDDDDDDD"), (1, 28, "HHHHHHHHHHHHAd")),
    "prc_hk_macau_permit": ((0, 2, "ADDDDDDDD"),),
    "prc_taiwan_permit": ((0, 2, "ADDDDDDDD"),),
}

_PASSPORT_NUMBER = re.compile(r"E(?:\d{8}|[A-Z]\d{7})")
_CARD_NUMBER = re.compile(r"[A-Z]\d{8}")


def format_for_doc_type(doc_type: str) -> MrzFormat | None:
    """The MRZ format of a document type, or None when it has no MRZ.

    ``format_for_doc_type("passport").shape == (2, 44)``;
    ``format_for_doc_type("hk_macau_permit").shape == (1, 30)``.

    Raises
    ------
    MrzError
        For a document type this package does not know.
    """
    try:
        entry = DOC_TYPE_FORMATS[doc_type]
    except KeyError:
        known = ", ".join(DOC_TYPE_FORMATS)
        raise MrzError("doc_type", f"unknown document type; expected one of {known}", doc_type) from None
    return None if entry is None else entry[0]


def profile_of(format_name: str, document_code: str, issuing_state: str = "") -> str | None:
    """The PRC profile an MRZ follows, from its format, code and issuing state."""
    if format_name == "TD3":
        return PROFILES.get((format_name, document_code, issuing_state))
    return PROFILES.get((format_name, document_code, ""))


def prc_personal_number(name_cn: str, date_of_birth: dt.date | None, *, field: str = "name_cn") -> str:
    """The 14 characters of a PRC passport's personal-number field.

    Parameters
    ----------
    name_cn : str
        The full Chinese name, surname first: ``"证件样本"``. A middle dot
        (ethnic-minority names) is not written.
    date_of_birth : datetime.date or None
        Gives the century digit; None writes ``<`` (date unknown).
    field : str
        The field named in the error.

    Returns
    -------
    str
        ``"NGKELMPONBPJB9"`` for 证件样本 born 1985.

    Raises
    ------
    MrzError
        When a character of the first three has no GBK code.
    """
    chars = name_cn.replace("·", "").replace("•", "")
    letters = gbk_letters(chars[:3], field=field)
    flag = "B" if len(chars) > 3 else "A"
    century = "<" if date_of_birth is None else str(date_of_birth.year // 100 % 10)
    return letters + "<" * (12 - len(letters)) + flag + century


def parse_prc_personal_number(raw: str) -> tuple[dict[str, Any], list[tuple[int, int, str]]]:
    """Read a PRC passport's personal-number field.

    Returns
    -------
    tuple of (dict, list)
        The fields ``name_cn`` (the characters carried), ``name_cn_truncated``
        and ``birth_century`` (e.g. 19, or None), and the problems found as
        (offset in the field, length, reason).
    """
    fields: dict[str, Any] = {}
    problems: list[tuple[int, int, str]] = []
    letters = raw[:12]
    body = letters.rstrip("<")
    if "<" in body:
        problems.append((body.index("<"), 12 - body.index("<"), "fillers may only follow the name letters"))
    elif len(body) % 4:
        problems.append((0, 12, "name letters must come in groups of four (one GBK character each)"))
    else:
        try:
            fields["name_cn"] = gbk_letters_to_text(body, field="personal_number")
        except MrzError as err:
            problems.append((0, max(len(body), 1), err.reason))
    flag = raw[12:13]
    if flag == "A":
        fields["name_cn_truncated"] = False
    elif flag == "B":
        fields["name_cn_truncated"] = True
    else:
        problems.append((12, 1, "must be A (whole Chinese name encoded) or B (truncated)"))
    if flag == "B" and len(body) < 12:
        problems.append((12, 1, "B (truncated) but fewer than three characters are encoded"))
    century = raw[13:14]
    if century.isdigit():
        # The second digit of the year: 9 → 19YY, 0 → 20YY, 8 → 18YY.
        fields["birth_century"] = {"9": 19, "0": 20, "8": 18, "1": 21}.get(century)
        if fields["birth_century"] is None:
            problems.append((13, 1, "must be the century digit of the year of birth (9 or 0)"))
    elif century == "<":
        fields["birth_century"] = None
    else:
        problems.append((13, 1, "must be the century digit of the year of birth (9 or 0)"))
    return fields, problems


def check_document_number(profile: str, number: str) -> str | None:
    """Why ``number`` does not fit the profile's numbering, or None."""
    if profile == "prc_passport":
        if not _PASSPORT_NUMBER.fullmatch(number):
            return "a PRC passport number is E + 8 digits or E + letter + 7 digits"
    elif profile in ("prc_hk_macau_permit", "prc_taiwan_permit"):
        if not _CARD_NUMBER.fullmatch(number):
            return "a PRC permit number is a letter + 8 digits"
    return None


# --------------------------------------------------------------------------- records

_NO_VALUE = object()


def _get(record: Any, key: str) -> Any:
    if isinstance(record, Mapping):
        return record.get(key, _NO_VALUE)
    return getattr(record, key, _NO_VALUE)


def _as_date(value: Any, field: str, errors: list[MrzError]) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    if value is _NO_VALUE or value is None:
        errors.append(MrzError(field, "is required for the MRZ"))
    else:
        errors.append(MrzError(field, "is not a date", value))
    return None


def _as_text(record: Any, key: str, errors: list[MrzError], *, required: bool = True) -> str:
    value = _get(record, key)
    if value is _NO_VALUE or value is None:
        if required:
            errors.append(MrzError(key, "is required for the MRZ"))
        return ""
    if not isinstance(value, str):
        errors.append(MrzError(key, "must be text", value))
        return ""
    return value


def encode_record(record: Any) -> tuple[str, ...]:
    """The MRZ lines of an application record, as its document type prescribes.

    Parameters
    ----------
    record : Application or mapping
        Anything with the application record's attributes (or a mapping with
        its JSON keys, ISO dates): ``doc_type``, ``surname_cn``,
        ``given_name_cn``, ``surname_latin``, ``given_name_latin``, ``sex``,
        ``date_of_birth``, ``nationality``, ``document_number``,
        ``date_of_expiry``. The document fields must be bound (filled in).

    Returns
    -------
    tuple of str
        passport: the two TD3 lines, code PO, PRC personal number;
        hk_macau_permit / taiwan_permit: the one 30-character line (CS / CD);
        residence_permit / hmt_residence_permit: ``()``.

    Raises
    ------
    MrzError
        When one field is missing or cannot go into the MRZ (the error names it).
    InvalidRecord
        When several fields are wrong: every one is listed.
    """
    errors: list[MrzError] = []
    doc_type = _as_text(record, "doc_type", errors)
    if errors:
        raise errors[0]
    entry = DOC_TYPE_FORMATS.get(doc_type, _NO_VALUE)
    if entry is _NO_VALUE:
        format_for_doc_type(doc_type)  # raises the unknown-type error
    if entry is None:
        return ()
    fmt, code = entry  # type: ignore[misc]
    number = _as_text(record, "document_number", errors)
    expiry = _as_date(_get(record, "date_of_expiry"), "date_of_expiry", errors)
    birth = _as_date(_get(record, "date_of_birth"), "date_of_birth", errors)
    if fmt is PRC_CARD:
        if errors:
            _raise(errors)
        return encode_prc_card(
            document_code=code, document_number=number, date_of_expiry=expiry, date_of_birth=birth  # type: ignore[arg-type]
        )
    surname_cn = _as_text(record, "surname_cn", errors, required=False)
    given_cn = _as_text(record, "given_name_cn", errors, required=False)
    surname = _as_text(record, "surname_latin", errors, required=False)
    given = _as_text(record, "given_name_latin", errors, required=False)
    sex = _as_text(record, "sex", errors)
    nationality = _as_text(record, "nationality", errors, required=False) or "CHN"
    personal = ""
    try:
        # GB/T 28039 pinyin from the Chinese name when the Latin one is not given.
        if not surname and surname_cn:
            surname = transliterate(surname_cn, field="surname_cn", surname=True)
        if not given and given_cn:
            given = transliterate(given_cn, field="given_name_cn")
    except MrzError as err:
        errors.append(err)
    try:
        personal = prc_personal_number(surname_cn + given_cn, birth, field="surname_cn")
    except MrzError as err:
        errors.append(err)
    if errors:
        _raise(errors)
    return encode_td3(
        document_code=code,
        issuing_state="CHN",
        surname=surname,
        given_names=given,
        document_number=number,
        nationality=nationality,
        date_of_birth=birth,  # type: ignore[arg-type]
        sex=sex,
        date_of_expiry=expiry,  # type: ignore[arg-type]
        personal_number=personal,
        field_names={"surname": "surname_latin", "given_names": "given_name_latin"},
    )


def _raise(errors: list[MrzError]) -> None:
    if len(errors) == 1:
        raise errors[0]
    raise InvalidRecord(errors, where="mrz")
