"""Writing MRZ lines: TD1, TD2, TD3, MRV-A, MRV-B and the PRC one-line card.

Every encoder validates all its inputs first and reports every bad one at
once (one :class:`MrzError`, or :class:`InvalidRecord` holding several); it
returns the lines only when all are good.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from typing import Any

from factory.errors import InvalidRecord, MrzError
from factory.mrz.checkdigit import _MOD10_TABLE, _check_digit
from factory.mrz.countries import COUNTRY_CODES, is_country_code
from factory.mrz.dates import format_date
from factory.mrz.formats import MRVA, MRVB, PRC_CARD, TD1, TD2, TD3, MrzFormat
from factory.mrz.names import format_name, transliterate

__all__ = ["encode", "encode_td1", "encode_td2", "encode_td3", "encode_mrva", "encode_mrvb", "encode_prc_card"]

_ALNUM = re.compile(r"[A-Z0-9<]*")
_LETTERS = re.compile(r"[A-Z]{1,3}")
# ICAO 9303 Part 4, 4.2.2.2: special characters and spaces in a number become fillers.
_SPECIAL = re.compile(r"[^A-Z0-9]")
_SEX = {"F": "F", "M": "M", "X": "<", "<": "<", "": "<"}
_OPTIONAL_LENGTH = {"TD3": 14, "TD2": 7, "MRVA": 16, "MRVB": 8}


class _Errors:
    """Collects the MrzError of each input so that all are reported together."""

    __slots__ = ("errors", "names")

    def __init__(self, names: Mapping[str, str] | None) -> None:
        self.errors: list[MrzError] = []
        self.names = names or {}

    def run(self, fn: Callable[..., str], *args: Any, **kwargs: Any) -> str:
        try:
            return fn(*args, **kwargs)
        except MrzError as err:
            if err.field in self.names:
                err = MrzError(self.names[err.field], err.reason, err.value)
            self.errors.append(err)
            return ""

    def raise_any(self) -> None:
        if len(self.errors) == 1:
            raise self.errors[0]
        if self.errors:
            raise InvalidRecord(self.errors, where="mrz")


def _document_code(value: str, fmt: MrzFormat) -> str:
    code = value.upper() if isinstance(value, str) else value
    if not isinstance(code, str) or not re.fullmatch(r"[A-Z][A-Z<]?", code):
        raise MrzError("document_code", "must be one or two letters", value)
    if code[0] not in fmt.document_code_first:
        allowed = " or ".join(fmt.document_code_first)
        raise MrzError("document_code", f"must start with {allowed} in {fmt.name}", value)
    if fmt.name in ("TD1", "TD2") and code[1:] == "V":
        # ICAO 9303 Part 5/6, 4.2.2: V is not used as second character (visa confusion).
        raise MrzError("document_code", "second character V is reserved for visas", value)
    return code.ljust(2, "<")


def _country(value: str, field: str) -> str:
    code = value.upper().rstrip("<") if isinstance(value, str) else value
    if not isinstance(code, str) or not _LETTERS.fullmatch(code):
        raise MrzError(field, "must be a code of one to three letters (ICAO 9303 Part 3, 5)", value)
    if not is_country_code(code):
        raise MrzError(field, "is not an ICAO 9303 Part 3 country code", value)
    return code.ljust(3, "<")


def _number(value: str, length: int, field: str, *, overflow: int = 0) -> str:
    if not isinstance(value, str):
        raise MrzError(field, "must be text", value)
    text = _SPECIAL.sub("<", value.strip().upper())
    if len(text) > length + overflow:
        raise MrzError(field, f"is longer than {length + overflow} characters", value)
    return text


def _sex(value: str) -> str:
    try:
        return _SEX[value.upper() if isinstance(value, str) else value]
    except (KeyError, TypeError):
        raise MrzError("sex", "must be F, M or X (X is written < in the MRZ)", value) from None


def _name(surname: str, given_names: str, length: int, variants: Mapping[str, str] | None) -> str:
    errors = _Errors(None)
    primary = errors.run(transliterate, surname or "", field="surname", surname=True, variants=variants)
    secondary = errors.run(transliterate, given_names or "", field="given_names", variants=variants)
    if errors.errors:
        if len(errors.errors) == 1:
            raise errors.errors[0]
        raise InvalidRecord(errors.errors, where="mrz")
    field = "surname" if primary or not secondary else "given_names"
    return format_name(primary, secondary, length, field=field)[0]


def _pad(text: str, length: int) -> str:
    return text + "<" * (length - len(text))


_PLAIN_NAME = re.compile(r"[A-Z]+(?: [A-Z]+)*")
_PLAIN_NUMBER = re.compile(r"[A-Z0-9]{1,9}")
_PADDED_COUNTRY = {code: code.ljust(3, "<") for code in COUNTRY_CODES}
# Every valid document code of each format, as given ("P", "PO", "P<") → as written.
_PADDED_CODE: dict[tuple[str, str], str] = {
    (fmt.name, first + second): (first + second).ljust(2, "<")
    for fmt in (TD3, TD2, MRVA, MRVB)
    for first in fmt.document_code_first
    for second in ("", "<", *"ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    if not (fmt is TD2 and second == "V")
}


def _date6(value: dt.date | str, field: str, allow_unknown: bool = False) -> str:
    if type(value) is dt.date:
        iso = value.isoformat()
        return iso[2:4] + iso[5:7] + iso[8:10]
    return format_date(value, field=field, allow_unknown=allow_unknown)


def _fast_two_line(
    fmt: MrzFormat,
    document_code: str,
    issuing_state: str,
    surname: str,
    given_names: str,
    document_number: str,
    nationality: str,
    date_of_birth: dt.date | str,
    sex: str,
    date_of_expiry: dt.date | str,
    optional: str,
    optional_length: int,
) -> tuple[str, str] | None:
    """The lines for plain inputs (upper-case A-Z names that fit, short numbers,
    known codes), or None: the checked path then validates and reports."""
    code = _PADDED_CODE.get((fmt.name, document_code))
    state = _PADDED_COUNTRY.get(issuing_state)
    nat = _PADDED_COUNTRY.get(nationality)
    sx = _SEX.get(sex)
    if code is None or state is None or nat is None or sx is None:
        return None
    if not (_PLAIN_NUMBER.fullmatch(document_number) and _PLAIN_NAME.fullmatch(surname)):
        return None
    if optional and not (len(optional) <= optional_length and _ALNUM.fullmatch(optional)):
        return None
    if given_names:
        if not _PLAIN_NAME.fullmatch(given_names):
            return None
        name = surname.replace(" ", "<") + "<<" + given_names.replace(" ", "<")
    else:
        name = surname.replace(" ", "<")
    length = fmt.name_length
    if len(name) > length:
        return None
    try:
        birth = _date6(date_of_birth, "date_of_birth", True)
        expiry = _date6(date_of_expiry, "date_of_expiry")
    except MrzError:
        return None
    number = document_number + "<" * (9 - len(document_number))
    opt = optional + "<" * (optional_length - len(optional))
    # All check digits from per-residue sums over one translated buffer (ICAO 9303
    # Part 3, 4.9), the composite reusing the fields' sums (see the decoder).
    t = (number + birth + expiry + opt).encode("ascii").translate(_MOD10_TABLE)
    a = 7 * sum(t[0:9:3]) + 3 * sum(t[1:9:3]) + sum(t[2:9:3])
    b0, b1, b2 = sum(t[9:15:3]), sum(t[10:15:3]), sum(t[11:15:3])
    c0, c1, c2 = sum(t[15:21:3]), sum(t[16:21:3]), sum(t[17:21:3])
    nd, bd, ed = a % 10, (7 * b0 + 3 * b1 + b2) % 10, (7 * c0 + 3 * c1 + c2) % 10
    line2 = f"{number}{nd}{nat}{birth}{bd}{sx}{expiry}{ed}{opt}"
    if fmt is TD3 or fmt is TD2:
        o = 7 * sum(t[21::3]) + 3 * sum(t[22::3]) + sum(t[23::3])
        composite = a + 7 * nd + 3 * b0 + b1 + 7 * b2 + 3 * bd + c0 + 7 * c1 + 3 * c2 + ed + o
        if fmt is TD3:
            od = o % 10
            line2 = f"{line2}{od}{(composite + od) % 10}"  # the personal check digit at offset 38: weight 1
        else:
            line2 = f"{line2}{composite % 10}"
    return code + state + name + "<" * (length - len(name)), line2


def _encode_two_line(
    fmt: MrzFormat,
    *,
    document_code: str,
    issuing_state: str,
    surname: str,
    given_names: str,
    document_number: str,
    nationality: str,
    date_of_birth: dt.date | str,
    sex: str,
    date_of_expiry: dt.date | str,
    optional: str,
    variants: Mapping[str, str] | None,
    field_names: Mapping[str, str] | None,
) -> tuple[str, str]:
    optional_name = "personal_number" if fmt is TD3 else "optional_data"
    optional_length = _OPTIONAL_LENGTH[fmt.name]
    if {type(document_code), type(issuing_state), type(surname), type(given_names), type(document_number),
            type(nationality), type(sex), type(optional)} == {str}:
        lines = _fast_two_line(
            fmt, document_code, issuing_state, surname, given_names, document_number, nationality,
            date_of_birth, sex, date_of_expiry, optional, optional_length,
        )
        if lines is not None:
            return lines
    errors = _Errors(field_names)
    code = errors.run(_document_code, document_code, fmt)
    state = errors.run(_country, issuing_state, "issuing_state")
    try:
        name = _name(surname, given_names, fmt.name_length, variants)
    except InvalidRecord as group:
        errors.errors.extend(
            MrzError((field_names or {}).get(e.field, e.field), e.reason, e.value) for e in group.errors  # type: ignore[attr-defined]
        )
        name = ""
    except MrzError as err:
        errors.errors.append(MrzError((field_names or {}).get(err.field, err.field), err.reason, err.value))
        name = ""
    # TD2 numbers longer than 9 go on in the optional data (ICAO 9303 Part 6, note j).
    overflow = optional_length - 2 if fmt is TD2 else 0
    number = errors.run(_number, document_number, 9, "document_number", overflow=overflow)
    nat = errors.run(_country, nationality, "nationality")
    birth = errors.run(format_date, date_of_birth, field="date_of_birth", allow_unknown=True)
    sx = errors.run(_sex, sex)
    expiry = errors.run(format_date, date_of_expiry, field="date_of_expiry")
    opt = errors.run(_number, optional, optional_length, optional_name)
    if len(number) > 9 and len(number) - 9 + 2 + len(opt.rstrip("<")) > optional_length:
        errors.errors.append(
            MrzError(optional_name, "no room left after the long document number", optional)
        )
    errors.raise_any()
    if len(number) > 9:
        # ICAO 9303 Part 6: nine characters, a filler instead of the check digit,
        # then the rest of the number, its check digit and a filler in the optional data.
        head, rest = number[:9], number[9:]
        number_cd = "<"
        opt = rest + str(_check_digit(number)) + "<" + opt.rstrip("<")
    else:
        head = _pad(number, 9)
        number_cd = str(_check_digit(head))
    opt = _pad(opt, optional_length)
    line1 = code + state + name
    line2 = (
        head
        + number_cd
        + nat
        + birth
        + str(_check_digit(birth))
        + sx
        + expiry
        + str(_check_digit(expiry))
    )
    if fmt is TD3:
        # ICAO 9303 Part 4, 4.2.2.2: an unused personal number may have 0 or < as
        # its check digit; we write 0, which readers that expect a digit accept too.
        opt_cd = str(_check_digit(opt))
        line2 += opt + opt_cd
        line2 += str(_check_digit(line2[0:10] + line2[13:20] + line2[21:43]))
    elif fmt is TD2:
        line2 += opt
        line2 += str(_check_digit(line2[0:10] + line2[13:20] + line2[21:35]))
    else:  # visas have no composite (ICAO 9303 Part 7)
        line2 += opt
    return line1, line2


def encode_td3(
    *,
    document_code: str = "P",
    issuing_state: str,
    surname: str,
    given_names: str = "",
    document_number: str,
    nationality: str,
    date_of_birth: dt.date | str,
    sex: str,
    date_of_expiry: dt.date | str,
    personal_number: str = "",
    variants: Mapping[str, str] | None = None,
    field_names: Mapping[str, str] | None = None,
) -> tuple[str, str]:
    """The two 44-character lines of a TD3 (passport) MRZ, ICAO 9303 Part 4.

    Parameters
    ----------
    document_code : str
        ``"P"`` (written ``P<``) or two letters starting with P, e.g. ``"PO"``.
    issuing_state, nationality : str
        ICAO three-letter codes (``"UTO"``, ``"CHN"``; ``"D"`` for Germany).
    surname, given_names : str
        Primary and secondary identifiers as written in the visual zone: Latin
        (with national characters), Cyrillic or Han (written in pinyin).
    document_number : str
        Up to 9 characters.
    date_of_birth : datetime.date or str
        A date, or ``"YYMMDD"`` with ``<<`` for unknown parts.
    sex : str
        ``"F"``, ``"M"`` or ``"X"`` (written ``<``).
    date_of_expiry : datetime.date or str
    personal_number : str
        Up to 14 characters (positions 29-42).
    variants : mapping, optional
        Transliteration choices, see :func:`factory.mrz.names.transliterate`.
    field_names : mapping, optional
        Names to use in errors instead of the parameter names.

    Returns
    -------
    tuple of (str, str)

    Raises
    ------
    MrzError
        For one bad input (``err.field`` names it).
    InvalidRecord
        For several bad inputs; ``err.errors`` lists each MrzError.
    """
    if {type(document_code), type(issuing_state), type(surname), type(given_names), type(document_number),
            type(nationality), type(sex), type(personal_number)} == {str}:
        # Straight to the fast path: passports are encoded by the batch.
        lines = _fast_two_line(
            TD3, document_code, issuing_state, surname, given_names, document_number, nationality,
            date_of_birth, sex, date_of_expiry, personal_number, 14,
        )
        if lines is not None:
            return lines
    return _encode_two_line(
        TD3,
        document_code=document_code,
        issuing_state=issuing_state,
        surname=surname,
        given_names=given_names,
        document_number=document_number,
        nationality=nationality,
        date_of_birth=date_of_birth,
        sex=sex,
        date_of_expiry=date_of_expiry,
        optional=personal_number,
        variants=variants,
        field_names=field_names,
    )


def encode_td2(
    *,
    document_code: str = "I",
    issuing_state: str,
    surname: str,
    given_names: str = "",
    document_number: str,
    nationality: str,
    date_of_birth: dt.date | str,
    sex: str,
    date_of_expiry: dt.date | str,
    optional_data: str = "",
    variants: Mapping[str, str] | None = None,
    field_names: Mapping[str, str] | None = None,
) -> tuple[str, str]:
    """The two 36-character lines of a TD2 MRZ, ICAO 9303 Part 6.

    Parameters are those of :func:`encode_td3`, with ``optional_data`` (up to
    7 characters) instead of the personal number; the document code starts
    with A, C or I. A document number longer than 9 characters continues in
    the optional data, followed by its check digit (ICAO 9303 Part 6, note j).
    """
    return _encode_two_line(
        TD2,
        document_code=document_code,
        issuing_state=issuing_state,
        surname=surname,
        given_names=given_names,
        document_number=document_number,
        nationality=nationality,
        date_of_birth=date_of_birth,
        sex=sex,
        date_of_expiry=date_of_expiry,
        optional=optional_data,
        variants=variants,
        field_names=field_names,
    )


def encode_mrva(
    *,
    document_code: str = "V",
    issuing_state: str,
    surname: str,
    given_names: str = "",
    document_number: str,
    nationality: str,
    date_of_birth: dt.date | str,
    sex: str,
    date_of_expiry: dt.date | str,
    optional_data: str = "",
    variants: Mapping[str, str] | None = None,
    field_names: Mapping[str, str] | None = None,
) -> tuple[str, str]:
    """The two 44-character lines of a type A visa, ICAO 9303 Part 7 (no composite)."""
    return _encode_two_line(
        MRVA,
        document_code=document_code,
        issuing_state=issuing_state,
        surname=surname,
        given_names=given_names,
        document_number=document_number,
        nationality=nationality,
        date_of_birth=date_of_birth,
        sex=sex,
        date_of_expiry=date_of_expiry,
        optional=optional_data,
        variants=variants,
        field_names=field_names,
    )


def encode_mrvb(
    *,
    document_code: str = "V",
    issuing_state: str,
    surname: str,
    given_names: str = "",
    document_number: str,
    nationality: str,
    date_of_birth: dt.date | str,
    sex: str,
    date_of_expiry: dt.date | str,
    optional_data: str = "",
    variants: Mapping[str, str] | None = None,
    field_names: Mapping[str, str] | None = None,
) -> tuple[str, str]:
    """The two 36-character lines of a type B visa, ICAO 9303 Part 7 (no composite)."""
    return _encode_two_line(
        MRVB,
        document_code=document_code,
        issuing_state=issuing_state,
        surname=surname,
        given_names=given_names,
        document_number=document_number,
        nationality=nationality,
        date_of_birth=date_of_birth,
        sex=sex,
        date_of_expiry=date_of_expiry,
        optional=optional_data,
        variants=variants,
        field_names=field_names,
    )


def encode_td1(
    *,
    document_code: str = "I",
    issuing_state: str,
    document_number: str,
    optional_data_1: str = "",
    date_of_birth: dt.date | str,
    sex: str,
    date_of_expiry: dt.date | str,
    nationality: str,
    optional_data_2: str = "",
    surname: str,
    given_names: str = "",
    variants: Mapping[str, str] | None = None,
    field_names: Mapping[str, str] | None = None,
) -> tuple[str, str, str]:
    """The three 30-character lines of a TD1 (card) MRZ, ICAO 9303 Part 5.

    Parameters are those of :func:`encode_td3`, with ``optional_data_1`` (line
    1, up to 15 characters) and ``optional_data_2`` (line 2, up to 11). A
    document number longer than 9 characters continues in optional data 1,
    followed by its check digit and a filler (ICAO 9303 Part 5, note j).
    """
    errors = _Errors(field_names)
    code = errors.run(_document_code, document_code, TD1)
    state = errors.run(_country, issuing_state, "issuing_state")
    number = errors.run(_number, document_number, 9, "document_number", overflow=13)
    opt1 = errors.run(_number, optional_data_1, 15, "optional_data_1")
    birth = errors.run(format_date, date_of_birth, field="date_of_birth", allow_unknown=True)
    sx = errors.run(_sex, sex)
    expiry = errors.run(format_date, date_of_expiry, field="date_of_expiry")
    nat = errors.run(_country, nationality, "nationality")
    opt2 = errors.run(_number, optional_data_2, 11, "optional_data_2")
    try:
        name = _name(surname, given_names, TD1.name_length, variants)
    except InvalidRecord as group:
        errors.errors.extend(group.errors)  # type: ignore[arg-type]
        name = ""
    except MrzError as err:
        errors.errors.append(err)
        name = ""
    if len(number) > 9 and len(number) - 9 + 2 + len(opt1.rstrip("<")) > 15:
        errors.errors.append(MrzError("optional_data_1", "no room left after the long document number", opt1))
    errors.raise_any()
    if len(number) > 9:
        head, number_cd = number[:9], "<"
        opt1 = number[9:] + str(_check_digit(number)) + "<" + opt1.rstrip("<")
    else:
        head = _pad(number, 9)
        number_cd = str(_check_digit(head))
    line1 = code + state + head + number_cd + _pad(opt1, 15)
    line2 = birth + str(_check_digit(birth)) + sx + expiry + str(_check_digit(expiry)) + nat + _pad(opt2, 11)
    # ICAO 9303 Part 5, 4.2.2: line 1 positions 6-30, line 2 positions 1-7, 9-15, 19-29.
    line2 += str(_check_digit(line1[5:30] + line2[0:7] + line2[8:15] + line2[18:29]))
    return line1, line2, name


def encode_prc_card(
    *,
    document_code: str,
    document_number: str,
    date_of_expiry: dt.date | str,
    date_of_birth: dt.date | str,
    field_names: Mapping[str, str] | None = None,
) -> tuple[str]:
    """The one 30-character line of the PRC HK/Macao (CS) and Taiwan (CD) permit cards.

    ``encode_prc_card(document_code="CS", document_number="C00000000",
    date_of_expiry="240420", date_of_birth="810803")`` gives
    ``("CSC000000004<2404200<8108038<6",)``.
    """
    errors = _Errors(field_names)
    code = errors.run(_document_code, document_code, PRC_CARD)
    number = errors.run(_number, document_number, 9, "document_number")
    expiry = errors.run(format_date, date_of_expiry, field="date_of_expiry")
    birth = errors.run(format_date, date_of_birth, field="date_of_birth")
    errors.raise_any()
    number = _pad(number, 9)
    parts = (number + str(_check_digit(number)), expiry + str(_check_digit(expiry)), birth + str(_check_digit(birth)))
    composite = str(_check_digit("".join(parts)))
    return (code + "<".join(parts) + "<" + composite,)


_ENCODERS: dict[str, Callable[..., tuple[str, ...]]] = {
    "TD1": encode_td1,
    "TD2": encode_td2,
    "TD3": encode_td3,
    "MRVA": encode_mrva,
    "MRVB": encode_mrvb,
    "PRC_CARD": encode_prc_card,
}


def encode(format_name: str, **fields: Any) -> tuple[str, ...]:
    """Encode by format name: ``encode("TD3", issuing_state="UTO", ...)``.

    Raises
    ------
    MrzError
        For an unknown format, or as the format's encoder does.
    """
    try:
        encoder = _ENCODERS[format_name]
    except KeyError:
        raise MrzError("format", f"unknown MRZ format; expected one of {', '.join(_ENCODERS)}", format_name) from None
    return encoder(**fields)
