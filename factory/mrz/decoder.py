"""Reading MRZ lines back: format, every field, per-field validity, errors, corrections.

The decoder never raises on bad MRZ text: everything wrong is returned as a
:class:`FieldError` naming the field, the 1-based line and column, and the
reason. With ``correct=True`` it first repairs what OCR typically gets wrong
where the field's type leaves no doubt (ICAO 9303 Part 3, 4.3: each position
holds a known class of character):

- a letter in a digit-only position: O Q D → 0, I → 1, Z → 2, S → 5, G → 6, B → 8;
- a digit in a letter-only position: 0 → O, 1 → I, 2 → Z, 5 → S, 6 → G, 8 → B;
- K where a filler may stand but a letter may not (the PRC card separators,
  the sex, a date of birth, an optional check digit), and K inside the filler
  run that ends a name or a number, since OCR reads ``<`` as K more than
  anything else;
- lower-case letters, and a line one or two fillers too long or too short
  (the filler run is shortened or lengthened).

Every change is reported as a :class:`Correction`. Check digits cannot tell K
from ``<`` or A from 0 (their values are equal mod 10), so corrections are
limited to positions whose type decides.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from factory.mrz.checkdigit import _MOD10_TABLE, MRZ_ALPHABET, _check_digit
from factory.mrz.countries import COUNTRY_CODES, is_country_code
from factory.mrz.dates import parse_date
from factory.mrz.formats import MRVA, MRVB, PRC_CARD, TD1, TD2, TD3, MrzFormat
from factory.mrz.names import parse_name
from factory.mrz.profiles import PROFILE_KINDS, check_document_number, parse_prc_personal_number, profile_of
from factory.mrz.results import Correction, DecodeResult, FieldError, _valid_result

__all__ = ["decode", "detect_format"]

# Character kinds, one letter a position:
# A letter, a letter or filler, D digit, d digit or filler, L letter or digit,
# X letter, digit or filler, S sex (F M <), F filler, H hex letter A-P or filler.
_CLASSES = {
    "A": "A-Z",
    "a": "A-Z<",
    "D": "0-9",
    "d": "0-9<",
    "L": "A-Z0-9",
    "X": "A-Z0-9<",
    "S": "FM<",
    "F": "<",
    "H": "A-P<",
}
_ALLOWED = {
    "A": frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ"),
    "a": frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ<"),
    "D": frozenset("0123456789"),
    "d": frozenset("0123456789<"),
    "L": frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"),
    "X": frozenset(MRZ_ALPHABET),
    "S": frozenset("FM<"),
    "F": frozenset("<"),
    "H": frozenset("ABCDEFGHIJKLMNOP<"),
}
_EXPECTED = {
    "A": "a letter A-Z",
    "a": "a letter A-Z or <",
    "D": "a digit",
    "d": "a digit or <",
    "L": "a letter or a digit",
    "X": "A-Z, 0-9 or <",
    "S": "F, M or < (sex)",
    "F": "the filler <",
    "H": "a GBK hex letter A-P or <",
}
_FIELD_KINDS = {
    "code": lambda n: "A" + "a" * (n - 1),
    "country": lambda n: "a" * n,
    "name": lambda n: "a" * n,
    "number": lambda n: "X" * n,
    "date": lambda n: "D" * n,
    "birth": lambda n: "d" * n,
    "sex": lambda n: "S" * n,
    "check": lambda n: "D" * n,
    "check_optional": lambda n: "d" * n,
    "filler": lambda n: "F" * n,
}
# The usual OCR confusions (ICAO OCR-B glyph pairs), used only where the type decides.
_TO_DIGIT = {"O": "0", "Q": "0", "D": "0", "I": "1", "Z": "2", "S": "5", "G": "6", "B": "8"}
_TO_LETTER = {"0": "O", "1": "I", "2": "Z", "5": "S", "6": "G", "8": "B"}
_TO_FILLER = {"K": "<", "«": "<", "‹": "<", "(": "<", "[": "<", "{": "<"}
_SEX_NAMES = {"F": "F", "M": "M", "<": "X"}
_COUNTRY = re.compile(r"[A-Z]{1,3}<{0,2}")


@dataclass(frozen=True, slots=True)
class _Compiled:
    kinds: tuple[str, ...]
    patterns: tuple[re.Pattern[str], ...]
    owners: tuple[tuple[str, ...], ...]


_CACHE: dict[tuple[str, str | None], _Compiled] = {}


def _compile(fmt: MrzFormat, profile: str | None) -> _Compiled:
    key = (fmt.name, profile)
    compiled = _CACHE.get(key)
    if compiled is not None:
        return compiled
    kinds = [[""] * fmt.line_length for _ in range(fmt.line_count)]
    owners = [[""] * fmt.line_length for _ in range(fmt.line_count)]
    for spec in fmt.fields:
        for i, kind in enumerate(_FIELD_KINDS[spec.kind](spec.length)):
            kinds[spec.line][spec.start + i] = kind
            owners[spec.line][spec.start + i] = spec.name
    for line, start, override in PROFILE_KINDS.get(profile or "", ()):
        for i, kind in enumerate(override):
            kinds[line][start + i] = kind
    patterns = []
    for line_kinds in kinds:
        runs = re.finditer(r"(.)\1*", "".join(line_kinds))
        parts = [f"[{_CLASSES[run.group(1)]}]{{{len(run.group())}}}" for run in runs]
        patterns.append(re.compile("".join(parts)))
    compiled = _Compiled(tuple("".join(k) for k in kinds), tuple(patterns), tuple(tuple(o) for o in owners))
    _CACHE[key] = compiled
    return compiled


def detect_format(lines: Sequence[str]) -> MrzFormat | None:
    """The MRZ format that ``lines`` (already split and stripped) most likely are.

    Decided by the number of lines, then the length nearest 44 or 36 for two
    lines, then the document code (V for visas).
    """
    count = len(lines)
    if count == 3:
        return TD1
    if count == 1:
        return PRC_CARD
    if count != 2:
        return None
    length = max(len(lines[0]), len(lines[1]))
    first = lines[0][:1]
    if abs(length - 44) <= abs(length - 36):
        return MRVA if first == "V" else TD3
    return MRVB if first == "V" else TD2


def _split_input(lines: Sequence[str] | str, correct: bool, corrections: list[Correction]) -> list[str]:
    if isinstance(lines, str):
        lines = lines.splitlines()
    out = [str(line).strip() for line in lines]
    out = [line for line in out if line]
    if len(out) == 1 and len(out[0]) in (60, 72, 88, 90):
        # A whole MRZ read as one string: 2 x 30 never occurs, 3 x 30, 2 x 36, 2 x 44 do.
        text = out[0]
        size = {72: 36, 88: 44, 90: 30}.get(len(text))
        if size:
            out = [text[i : i + size] for i in range(0, len(text), size)]
    if correct:
        for n, line in enumerate(out):
            if " " in line:
                for col, char in enumerate(line):
                    if char == " ":
                        corrections.append(Correction("line", n + 1, col + 1, " ", "", "space inside an MRZ line"))
                out[n] = line.replace(" ", "")
    return out


def _fix_length(line: str, expected: int, n: int, corrections: list[Correction]) -> str | None:
    """Lengthen or shorten the longest filler run by one or two, or None."""
    diff = len(line) - expected
    if diff == 0 or abs(diff) > 2:
        return None
    runs = [(m.end() - m.start(), m.start(), m.end()) for m in re.finditer(r"<+", line)]
    if not runs:
        return None
    size, start, end = max(runs, key=lambda r: (r[0], r[1]))
    if diff > 0 and size <= diff:
        return None
    if diff > 0:
        for i in range(diff):
            corrections.append(Correction("line", n + 1, end - i, "<", "", f"line {n + 1} is {len(line)} long: filler removed"))
        return line[: end - diff] + line[end:]
    for i in range(-diff):
        corrections.append(Correction("line", n + 1, end + 1 + i, "", "<", f"line {n + 1} is {len(line)} long: filler added"))
    return line[:end] + "<" * (-diff) + line[end:]


def _fix_char(char: str, kind: str) -> str | None:
    allowed = _ALLOWED[kind]
    up = char.upper()
    if up in allowed:
        return up
    if kind in ("D", "d"):
        fixed = _TO_DIGIT.get(up)
    elif kind in ("A", "a", "H", "L"):
        fixed = _TO_LETTER.get(up)
    else:
        fixed = None
    if fixed is None and "<" in allowed:
        fixed = _TO_FILLER.get(up)
    return fixed if fixed is not None and fixed in allowed else None


def _check_chars(
    line: str,
    n: int,
    compiled: _Compiled,
    correct: bool,
    errors: list[FieldError],
    corrections: list[Correction],
) -> str:
    kinds, owners = compiled.kinds[n], compiled.owners[n]
    chars = list(line)
    for col, char in enumerate(chars):
        kind = kinds[col]
        if char in _ALLOWED[kind]:
            continue
        field = owners[col]
        if correct:
            fixed = _fix_char(char, kind)
            if fixed is not None:
                chars[col] = fixed
                corrections.append(
                    Correction(field, n + 1, col + 1, char, fixed, f"{char!r} cannot stand where {_EXPECTED[kind]} must")
                )
                continue
        if char not in MRZ_ALPHABET:
            reason = f"{char!r} is not an MRZ character (A-Z, 0-9, <)"
        else:
            reason = f"{char!r} is not {_EXPECTED[kind]}"
        errors.append(FieldError(field, reason, n + 1, col + 1, 1, char))
    return "".join(chars)


def _fix_fillers(text: str, *, name: bool) -> tuple[str, list[int]]:
    """K → < inside the filler run that ends a name or a number; the offsets changed."""
    if "K" not in text:
        return text, []
    if name:
        # The name ends at the second << (or at the first when there is no
        # secondary identifier); nothing but fillers may follow.
        i = text.find("<<")
        if i < 0:
            return text, []
        j = i if i + 2 >= len(text) or text[i + 2] == "<" else text.find("<<", i + 2)
        if j < 0:
            return text, []
        start = j
    else:
        body = text.rstrip("<K")
        first = text.find("<", len(body))
        if first < 0:
            return text, []
        start = first
    changed = [start + i for i, c in enumerate(text[start:]) if c == "K"]
    return text[:start] + text[start:].replace("K", "<"), changed


_AFTER = {
    "name": ("surname", "given_names", "name_possibly_truncated"),
    "date_of_birth": ("date_of_birth", "date_of_birth_raw"),
    "date_of_expiry": ("date_of_expiry", "date_of_expiry_raw"),
    "personal_number": ("personal_number", "name_cn", "name_cn_truncated", "birth_century"),
}


def _ordered(fmt: MrzFormat, fields: dict[str, Any]) -> dict[str, Any]:
    """The fields in the order they stand in the MRZ, derived values after their field."""
    out: dict[str, Any] = {}
    for spec in fmt.fields:
        for key in _AFTER.get(spec.name, (spec.name,)):
            if key in fields:
                out[key] = fields[key]
    for key, value in fields.items():
        out.setdefault(key, value)
    return out


_VALIDITY: dict[str, dict[str, bool]] = {}
_UNPADDED = {code.ljust(3, "<"): code for code in COUNTRY_CODES}
_DAYS_IN = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _fast_date(raw: str, birth: bool, reference: dt.date | None, century: int | None) -> tuple[int, int, int] | None:
    """(year, month, day) of an all-digit YYMMDD that is plainly a date; (0, m, d)
    when the century is unknown; None sends the caller the slow way."""
    y, m, d = int(raw[0:2]), int(raw[2:4]), int(raw[4:6])
    if not (1 <= m <= 12 and 1 <= d <= _DAYS_IN[m - 1]):
        return None  # includes 29 February: the full path decides on leap years
    if century is not None:
        return century * 100 + y, m, d
    if reference is None:
        return 0, m, d
    year = reference.year // 100 * 100 + y
    if birth:
        if (year, m, d) > (reference.year, reference.month, reference.day):
            year -= 100
    elif year < reference.year - 50:
        year += 100
    elif year >= reference.year + 50:
        year -= 100
    return year, m, d


def _decode_valid_two_line(
    fmt: MrzFormat, l1: str, l2: str, profile: str | None, reference_date: dt.date | None
) -> DecodeResult | None:
    """TD3, TD2, MRV-A, MRV-B whose characters all fit their kinds: the result when
    every check passes, else None (the caller then decodes the slow way).

    Must give exactly what the full path gives for a valid document; a test
    compares the two on random documents.
    """
    code = l1[0:2]
    if code[0] not in fmt.document_code_first or (fmt is TD2 and code[1] == "V"):
        return None
    state = _UNPADDED.get(l1[2:5])
    nationality = _UNPADDED.get(l2[10:13])
    if state is None or nationality is None:
        return None
    name = l1[5:]
    body = name.rstrip("<")
    if not body or body[0] == "<" or "<<<" in body:
        return None
    i = body.find("<<")
    if i >= 0 and body.find("<<", i + 2) >= 0:
        return None
    if l2[9] == "<":
        return None
    # Check digits from per-residue sums (ICAO 9303 Part 3, 4.9: weights 7, 3, 1
    # repeating), so that the composite reuses the fields' sums: a field that
    # starts at composite offset k is weighed from the (k mod 3)-th weight on.
    t = l2.encode("ascii").translate(_MOD10_TABLE)
    a0, a1, a2 = sum(t[0:9:3]), sum(t[1:9:3]), sum(t[2:9:3])
    b0, b1, b2 = sum(t[13:19:3]), sum(t[14:19:3]), sum(t[15:19:3])
    c0, c1, c2 = sum(t[21:27:3]), sum(t[22:27:3]), sum(t[23:27:3])
    if (7 * a0 + 3 * a1 + a2) % 10 != t[9] or (7 * b0 + 3 * b1 + b2) % 10 != t[19] or (7 * c0 + 3 * c1 + c2) % 10 != t[27]:
        return None
    # Composite: number+check at offset 0, birth+check at 10, expiry+check at 17.
    head = 7 * a0 + 3 * a1 + a2 + 7 * t[9] + 3 * b0 + b1 + 7 * b2 + 3 * t[19] + c0 + 7 * c1 + 3 * c2 + t[27]
    number = l2[0:9].rstrip("<")
    century = None
    extra: dict[str, Any] = {}
    if fmt is TD3:
        personal, personal_cd = l2[28:42], l2[42]
        p0, p1, p2 = sum(t[28:42:3]), sum(t[29:42:3]), sum(t[30:42:3])
        if personal == "<<<<<<<<<<<<<<":
            if personal_cd not in "<0":
                return None
        elif personal_cd == "<" or (7 * p0 + 3 * p1 + p2) % 10 != t[42]:
            return None
        # personal number at offset 24, its check digit at 38.
        if (head + 7 * p0 + 3 * p1 + p2 + t[42]) % 10 != t[43]:
            return None
        if profile == "prc_passport":
            if check_document_number(profile, number):
                return None
            prc, problems = parse_prc_personal_number(personal)
            if problems:
                return None
            century = prc["birth_century"]
            extra = prc
        optional_name, optional = "personal_number", personal.rstrip("<")
    elif fmt is TD2:
        o0, o1, o2 = sum(t[28:35:3]), sum(t[29:35:3]), sum(t[30:35:3])
        if (head + 7 * o0 + 3 * o1 + o2) % 10 != t[35]:  # optional data at offset 24
            return None
        optional_name, optional = "optional_data", l2[28:35].rstrip("<")
    else:
        optional_name, optional = "optional_data", l2[28:].rstrip("<")
    birth_raw, expiry_raw = l2[13:19], l2[21:27]
    if "<" in birth_raw:
        return None
    birth = _fast_date(birth_raw, True, reference_date, century)
    expiry = _fast_date(expiry_raw, False, reference_date, None)
    if birth is None or expiry is None:
        return None
    if birth[0] and reference_date is not None and birth > (reference_date.year, reference_date.month, reference_date.day):
        return None
    if birth[0] and expiry[0] and expiry <= birth:
        return None
    sex = l2[20]
    primary, sep, secondary = body.partition("<<")
    fields: dict[str, Any] = {
        "document_code": code.rstrip("<"),
        "issuing_state": state,
        "surname": primary.replace("<", " "),
        "given_names": secondary.replace("<", " ") if sep else "",
        "name_possibly_truncated": name[-1] != "<",
        "document_number": number,
        "document_number_check": l2[9],
        "nationality": nationality,
        "date_of_birth": f"{birth[0]:04d}-{birth_raw[2:4]}-{birth_raw[4:6]}" if birth[0] else None,
        "date_of_birth_raw": birth_raw,
        "date_of_birth_check": l2[19],
        "sex": "X" if sex == "<" else sex,
        "date_of_expiry": f"{expiry[0]:04d}-{expiry_raw[2:4]}-{expiry_raw[4:6]}" if expiry[0] else None,
        "date_of_expiry_raw": expiry_raw,
        "date_of_expiry_check": l2[27],
        optional_name: optional,
    }
    if extra:
        fields.update(extra)
    if fmt is TD3:
        fields["personal_number_check"] = l2[42]
        fields["composite_check"] = l2[43]
    elif fmt is TD2:
        fields["composite_check"] = l2[35]
    if expiry[0] and reference_date is not None:
        fields["expired"] = expiry < (reference_date.year, reference_date.month, reference_date.day)
    fields["profile"] = profile
    validity = _VALIDITY.get(fmt.name)
    if validity is None:
        validity = _VALIDITY[fmt.name] = {spec.name: True for spec in fmt.fields}
    return _valid_result(fmt.name, fields["document_code"], fields, dict(validity), (l1, l2))


_COVERED: dict[str, frozenset[str]] = {}


def _composite_fields(fmt: MrzFormat) -> frozenset[str]:
    """The fields the composite check digit covers."""
    covered = _COVERED.get(fmt.name)
    if covered is None:
        covered = frozenset(
            spec.name
            for spec in fmt.fields
            for line, a, b in fmt.composite
            if spec.line == line and spec.start < b and a < spec.end
        )
        _COVERED[fmt.name] = covered
    return covered


_LOWER_LINE_LENGTHS = {44: "TD3", 36: "TD2"}
_LINE_1_FIELDS = frozenset({"document_code", "issuing_state", "name", "surname", "given_names",
                            "name_possibly_truncated"})


def _decode_lower_line(line: str, *, reference_date: dt.date | None, correct: bool) -> DecodeResult:
    """Line 2 of a TD3 (44) or TD2 (36) MRZ on its own, as a specimen or a scan of the lower line gives it.

    Everything checked there is on line 2 (number, dates, personal number, their
    check digits and the composite), so it is validated in full; the line-1
    fields (code, issuing state, name) are absent from the result. Line 2 is
    decoded beside a stand-in line 1 whose own fields are then dropped: a
    ``PO`` passport of ``CHN`` when the line carries CHN nationality and a PRC
    passport number (so the GBK-letter personal number is read as such), any
    other passport otherwise.
    """
    width = len(line)
    upper = line.upper()
    prc = width == 44 and upper[10:13] == "CHN" and upper[:1] == "E"
    stand_in = ("POCHN" if prc else "P<UTO") + "X<<X"
    result = decode([stand_in.ljust(width, "<"), line], reference_date=reference_date, correct=correct)

    def on_line_1(field: str, line_number: int | None) -> bool:
        return line_number == 1 or field in _LINE_1_FIELDS

    errors = tuple(replace(e, line=1) for e in result.errors if not on_line_1(e.field, e.line))
    corrections = tuple(replace(c, line=1) for c in result.corrections if c.line != 1)
    fields = {k: v for k, v in result.fields.items() if k not in _LINE_1_FIELDS}
    fields["line_2_only"] = True
    validity = {k: v for k, v in result.field_validity.items() if k not in _LINE_1_FIELDS}
    return DecodeResult(
        valid=not errors,
        format=result.format,
        document_code=None,
        fields=fields,
        field_validity=validity,
        errors=errors,
        corrections=corrections,
        lines=result.lines[1:],
    )


def _strip(text: str) -> str:
    return text.rstrip("<")


def decode(
    lines: Sequence[str] | str,
    *,
    reference_date: dt.date | None = None,
    correct: bool = False,
) -> DecodeResult:
    """Decode and validate an MRZ.

    Parameters
    ----------
    lines : sequence of str, or str
        The MRZ lines (a string is split at line breaks; blank lines and
        surrounding spaces are ignored; a whole MRZ read as one string of 90,
        72 or 88 characters is split).
    reference_date : datetime.date, optional
        The day two-digit years are resolved against: a date of birth is the
        latest not after it, a date of expiry the one within 50 years of it.
        Without it, dates are still checked (impossible month or day) but
        ``fields["date_of_birth"]`` is None unless the document states the
        century (PRC passports do).
    correct : bool
        Repair OCR confusions where the field's type forbids what was read,
        and report each repair in ``corrections``.

    Returns
    -------
    DecodeResult
        ``valid`` is True when no error was found; ``format``, ``fields`` (JSON
        values), ``field_validity``, ``errors`` (field, 1-based position,
        reason), ``corrections`` and the decoded ``lines``.
    """
    if not correct and type(lines) in (tuple, list) and len(lines) == 2:
        # The common case first: two clean lines of a two-line format.
        l1, l2 = lines
        if type(l1) is str and type(l2) is str and len(l1) == len(l2) and len(l1) in (44, 36):
            fmt = (MRVA if l1[0] == "V" else TD3) if len(l1) == 44 else (MRVB if l1[0] == "V" else TD2)
            profile = profile_of(fmt.name, l1[0:2], l1[2:5] if fmt is TD3 else "")
            compiled = _compile(fmt, profile)
            if compiled.patterns[0].fullmatch(l1) and compiled.patterns[1].fullmatch(l2):
                fast = _decode_valid_two_line(fmt, l1, l2, profile, reference_date)
                if fast is not None:
                    return fast
    errors: list[FieldError] = []
    corrections: list[Correction] = []
    work = _split_input(lines, correct, corrections)
    if len(work) == 1 and len(work[0]) in _LOWER_LINE_LENGTHS:
        return _decode_lower_line(work[0], reference_date=reference_date, correct=correct)
    fmt = detect_format(work)
    if fmt is None:
        reason = f"expected 1 line of 30, 2 lines of 36 or 44, or 3 lines of 30 characters; got {len(work)} lines"
        errors.append(FieldError("lines", reason, None, None, 0, None))
        return DecodeResult(False, None, None, {}, {}, tuple(errors), tuple(corrections), tuple(work))

    # Line lengths: fix a filler run (correct) or report, then decode padded/cut lines.
    for n, line in enumerate(work):
        if len(line) != fmt.line_length:
            fixed = _fix_length(line, fmt.line_length, n, corrections) if correct else None
            if fixed is not None:
                work[n] = fixed
                continue
            reason = f"line {n + 1} has {len(line)} characters; {fmt.name} lines have {fmt.line_length}"
            column = min(len(line), fmt.line_length) + 1
            errors.append(FieldError("lines", reason, n + 1, column, abs(len(line) - fmt.line_length), line))
            work[n] = line[: fmt.line_length].ljust(fmt.line_length, "<")

    # The profile narrows character kinds, so it is read first, tolerating O/0 in codes.
    head = work[0]
    code_guess = head[0:2].upper().replace("0", "O")
    state_guess = head[2:5].upper().replace("0", "O") if fmt is TD3 else ""
    profile = profile_of(fmt.name, code_guess, state_guess)
    compiled = _compile(fmt, profile)
    if (
        fmt.line_count == 2
        and not errors
        and not corrections
        and compiled.patterns[0].fullmatch(work[0])
        and compiled.patterns[1].fullmatch(work[1])
        and not (correct and "K" in work[0][5:] + work[1])
    ):
        # Fast path for a well-formed document: it returns only when everything is
        # valid; anything else goes the full way below, which finds every error.
        fast = _decode_valid_two_line(fmt, work[0], work[1], profile, reference_date)
        if fast is not None:
            return fast
    for n, line in enumerate(work):
        if not compiled.patterns[n].fullmatch(line):
            work[n] = _check_chars(line, n, compiled, correct, errors, corrections)

    if correct:
        for spec in fmt.fields:
            if spec.kind not in ("name", "number"):
                continue
            line = work[spec.line]
            text = line[spec.start : spec.end]
            if spec.name == "personal_number" and profile == "prc_passport":
                text = text[:12]  # the GBK letters; K is a hex letter there
            fixed, changed = _fix_fillers(text, name=spec.kind == "name")
            if changed:
                work[spec.line] = line[: spec.start] + fixed + line[spec.start + len(fixed) :]
                for off in changed:
                    corrections.append(
                        Correction(spec.name, spec.line + 1, spec.start + off + 1, "K", "<", "K inside a filler run")
                    )

    raw = {spec.name: work[spec.line][spec.start : spec.end] for spec in fmt.fields}
    fields: dict[str, Any] = {}
    bad: set[str] = {e.field for e in errors}
    unreadable = frozenset(bad)  # fields with characters their type forbids
    suspect: set[str] = set()

    def fail(name: str, reason: str, offset: int = 0, length: int | None = None, value: str | None = None) -> None:
        spec = fmt.field(name)
        errors.append(
            FieldError(
                name,
                reason,
                spec.line + 1,
                spec.start + offset + 1,
                spec.length if length is None else length,
                raw[name] if value is None else value,
            )
        )
        bad.add(name)

    # Document code and states (ICAO 9303 Part 3, 5: three-letter codes).
    code = raw["document_code"]
    document_code = _strip(code)
    fields["document_code"] = document_code
    if "document_code" not in bad:
        if code[0] not in fmt.document_code_first:
            allowed = " or ".join(fmt.document_code_first)
            fail("document_code", f"must start with {allowed} in {fmt.name}", 0, 1)
        elif fmt in (TD1, TD2) and code[1] == "V":
            fail("document_code", "second character V is reserved for visas (ICAO 9303 Part 5/6)", 1, 1)
    for name in ("issuing_state", "nationality"):
        if name in raw:
            fields[name] = _strip(raw[name])
            if name not in bad:
                if not _COUNTRY.fullmatch(raw[name]):
                    fail(name, "must be a code of one to three letters followed by fillers")
                elif not is_country_code(raw[name]):
                    fail(name, f"{fields[name]} is not an ICAO 9303 Part 3 country code")

    # Names (ICAO 9303 Part 3, 4.6).
    if "name" in raw:
        text = raw["name"]
        primary, secondary, possibly_truncated = parse_name(text)
        fields["surname"] = primary
        fields["given_names"] = secondary
        fields["name_possibly_truncated"] = possibly_truncated
        body = text.rstrip("<")
        if not body:
            fail("name", "is empty")
        elif "name" not in bad:
            i = body.find("<<")
            if body.startswith("<"):
                fail("name", "no primary identifier before <<", 0, 2)
            elif "<<<" in body:
                j = body.find("<<<")
                fail("name", "three fillers inside the name (components take one, identifiers two)", j, 3)
            elif i >= 0 and "<<" in body[i + 2 :]:
                j = body.find("<<", i + 2)
                fail("name", "characters after the end of the name (only fillers may follow)", j, len(body) - j)

    # Document number, possibly continued in the optional data (TD1, TD2).
    number = raw["document_number"]
    number_cd = raw["document_number_check"]
    optional_name = {"TD1": "optional_data_1", "TD3": "personal_number"}.get(fmt.name, "optional_data")
    full_number = _strip(number)
    extended = fmt in (TD1, TD2) and number_cd == "<" and number[-1] != "<"
    if extended and optional_name not in bad:
        # ICAO 9303 Part 5/6: the rest of the number, its check digit, then a filler.
        opt = raw[optional_name]
        end = opt.find("<")
        end = len(opt) if end < 0 else end
        if end < 2 or not opt[end - 1].isdigit():
            fail("document_number_check", "is < but the optional data holds no continuation and check digit")
        else:
            full_number = number + opt[: end - 1]
            expected = _check_digit(full_number)
            fields[optional_name] = _strip(opt[end + 1 :])
            if int(opt[end - 1]) != expected:
                fail(
                    optional_name,
                    f"check digit of document number {full_number} is {opt[end - 1]}, expected {expected}",
                    end - 1,
                    1,
                    opt[end - 1],
                )
                suspect.add("document_number")
    elif number_cd == "<" and "document_number_check" not in bad:
        if fmt in (TD1, TD2):
            fail("document_number_check", "must be a digit (< only for a document number longer than 9)")
        else:
            fail("document_number_check", "must be a digit")
    fields["document_number"] = full_number
    if profile and "document_number" not in bad:
        reason = check_document_number(profile, full_number)
        if reason:
            fail("document_number", reason)

    # Check digits (ICAO 9303 Part 3, 4.9).
    for check_name, source in fmt.checks:
        value = raw[check_name]
        fields[check_name] = value
        if check_name in bad or source in bad:
            continue
        if source == "document_number" and extended:
            continue
        if check_name == "personal_number_check" and raw[source] == "<" * len(raw[source]):
            # ICAO 9303 Part 4: an unused personal number may have 0 or < as check digit.
            if value not in ("<", "0"):
                fail(check_name, f"must be < or 0 when the personal number is empty, not {value}")
            continue
        if not value.isdigit():
            fail(check_name, f"{value!r} is not a check digit")
            continue
        expected = _check_digit(raw[source])
        if int(value) != expected:
            fail(check_name, f"check digit {value} does not match {source} {raw[source]!r}: expected {expected}")
            suspect.add(source)  # one of the two is wrong; the value is still decoded
    if fmt.composite:
        value = raw["composite_check"]
        fields["composite_check"] = value
        # A character error in a covered field is already reported: a composite
        # mismatch would only repeat it.
        if "composite_check" not in bad and not unreadable & _composite_fields(fmt):
            text = "".join(work[line][a:b] for line, a, b in fmt.composite)
            expected = _check_digit(text)
            if int(value) != expected:
                fail("composite_check", f"composite check digit {value} does not match: expected {expected}")

    # Sex: F, M or < (unspecified; X in the visual zone).
    if "sex" in raw:
        fields["sex"] = _SEX_NAMES.get(raw["sex"], raw["sex"])

    # Optional data.
    for name in ("personal_number", "optional_data", "optional_data_1", "optional_data_2"):
        if name in raw and name not in fields:
            fields[name] = _strip(raw[name])

    # The PRC passport's personal number (see factory.mrz.profiles).
    century = None
    if profile == "prc_passport" and "personal_number" not in bad:
        prc, problems = parse_prc_personal_number(raw["personal_number"])
        fields.update(prc)
        century = prc.get("birth_century")
        for offset, length, reason in problems:
            fail("personal_number", reason, offset, length, raw["personal_number"][offset : offset + length])

    # Dates (ICAO 9303 Part 3, 4.8).
    birth = expiry = None
    birth_raw = raw["date_of_birth"]
    fields["date_of_birth_raw"] = birth_raw
    if "date_of_birth" not in bad:
        birth, reason = parse_date(birth_raw, kind="birth", reference_date=reference_date, century=century)
        if reason:
            fail("date_of_birth", reason)
        elif birth is not None and reference_date is not None and birth > reference_date:
            fail("date_of_birth", f"{birth.isoformat()} is after the reference date {reference_date.isoformat()}")
    fields["date_of_birth"] = birth.isoformat() if birth else None
    expiry_raw = raw["date_of_expiry"]
    fields["date_of_expiry_raw"] = expiry_raw
    if "date_of_expiry" not in bad:
        expiry, reason = parse_date(expiry_raw, kind="expiry", reference_date=reference_date)
        if reason:
            fail("date_of_expiry", reason)
        elif expiry is not None and birth is not None and expiry <= birth:
            fail("date_of_expiry", f"{expiry.isoformat()} is not after the date of birth {birth.isoformat()}")
    fields["date_of_expiry"] = expiry.isoformat() if expiry else None
    if expiry is not None and reference_date is not None:
        fields["expired"] = expiry < reference_date
    fields["profile"] = profile

    errors.sort(key=lambda e: (e.line or 0, e.column or 0))
    validity = {spec.name: spec.name not in bad and spec.name not in suspect for spec in fmt.fields}
    for e in errors:
        if e.field in validity:
            validity[e.field] = False
    fields = _ordered(fmt, fields)
    corrections.sort(key=lambda c: (c.line, c.column))
    return DecodeResult(
        valid=not errors,
        format=fmt.name,
        document_code=document_code,
        fields=fields,
        field_validity=validity,
        errors=tuple(errors),
        corrections=tuple(corrections),
        lines=tuple(work),
    )

