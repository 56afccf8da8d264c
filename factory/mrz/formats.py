"""The MRZ layouts: where each field sits, what it may hold, which digits check it.

Positions here are 0-based (Python slices); ICAO 9303 numbers them from 1, and
errors reported to users do too. Sources:

- TD3 (passports): ICAO 9303 Part 4, 4.2.2: 2 lines of 44.
- TD1 (cards): ICAO 9303 Part 5, 4.2.2: 3 lines of 30.
- TD2: ICAO 9303 Part 6, 4.2.2: 2 lines of 36.
- MRV-A and MRV-B (visas): ICAO 9303 Part 7, 4.2.2: 2 lines of 44 and of 36,
  no composite check digit.
- PRC_CARD: the one-line, 30-character MRZ of the PRC Exit-Entry Permit for
  travelling to and from Hong Kong and Macao (code CS) and the Taiwan travel
  permit (code CD): ``CSC000000004<2404200<8108038<6`` is code (2), document
  number (9), check digit, ``<``, date of expiry (6), check digit, ``<``, date
  of birth (6), check digit, ``<``, composite check digit over the document
  number, expiry and birth fields with their check digits (the separators
  left out, as ICAO composites leave out the fields between them).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["FieldSpec", "MrzFormat", "FORMATS", "TD1", "TD2", "TD3", "MRVA", "MRVB", "PRC_CARD"]


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One MRZ field: ``lines[line][start:start + length]``."""

    name: str
    line: int
    start: int
    length: int
    kind: str
    """What the field holds: code, country, name, number, date, birth, sex, check,
    check_optional (a check digit that may be ``<``), filler."""

    @property
    def end(self) -> int:
        return self.start + self.length


@dataclass(frozen=True, slots=True)
class MrzFormat:
    """An MRZ layout: its lines, fields, check digits and composite."""

    name: str
    line_count: int
    line_length: int
    fields: tuple[FieldSpec, ...]
    checks: tuple[tuple[str, str], ...]
    """(check-digit field, field it checks) pairs."""
    composite: tuple[tuple[int, int, int], ...] = ()
    """(line, start, end) ranges the composite check digit covers, in order."""
    name_length: int = 0
    """Positions of the name field (0 when the format has no name)."""
    document_code_first: str = ""
    """The letters allowed first in the document code."""

    def field(self, name: str) -> FieldSpec:
        for spec in self.fields:
            if spec.name == name:
                return spec
        raise KeyError(name)

    @property
    def shape(self) -> tuple[int, int]:
        """(line count, line length)."""
        return self.line_count, self.line_length


def _f(name: str, line: int, start: int, length: int, kind: str) -> FieldSpec:
    return FieldSpec(name, line, start, length, kind)


TD3 = MrzFormat(
    name="TD3",
    line_count=2,
    line_length=44,
    fields=(
        _f("document_code", 0, 0, 2, "code"),
        _f("issuing_state", 0, 2, 3, "country"),
        _f("name", 0, 5, 39, "name"),
        _f("document_number", 1, 0, 9, "number"),
        _f("document_number_check", 1, 9, 1, "check"),
        _f("nationality", 1, 10, 3, "country"),
        _f("date_of_birth", 1, 13, 6, "birth"),
        _f("date_of_birth_check", 1, 19, 1, "check"),
        _f("sex", 1, 20, 1, "sex"),
        _f("date_of_expiry", 1, 21, 6, "date"),
        _f("date_of_expiry_check", 1, 27, 1, "check"),
        _f("personal_number", 1, 28, 14, "number"),
        _f("personal_number_check", 1, 42, 1, "check_optional"),
        _f("composite_check", 1, 43, 1, "check"),
    ),
    checks=(
        ("document_number_check", "document_number"),
        ("date_of_birth_check", "date_of_birth"),
        ("date_of_expiry_check", "date_of_expiry"),
        ("personal_number_check", "personal_number"),
    ),
    # ICAO 9303 Part 4, 4.2.4: positions 1-10, 14-20 and 22-43 of line 2.
    composite=((1, 0, 10), (1, 13, 20), (1, 21, 43)),
    name_length=39,
    document_code_first="P",
)

TD2 = MrzFormat(
    name="TD2",
    line_count=2,
    line_length=36,
    fields=(
        _f("document_code", 0, 0, 2, "code"),
        _f("issuing_state", 0, 2, 3, "country"),
        _f("name", 0, 5, 31, "name"),
        _f("document_number", 1, 0, 9, "number"),
        _f("document_number_check", 1, 9, 1, "check_optional"),
        _f("nationality", 1, 10, 3, "country"),
        _f("date_of_birth", 1, 13, 6, "birth"),
        _f("date_of_birth_check", 1, 19, 1, "check"),
        _f("sex", 1, 20, 1, "sex"),
        _f("date_of_expiry", 1, 21, 6, "date"),
        _f("date_of_expiry_check", 1, 27, 1, "check"),
        _f("optional_data", 1, 28, 7, "number"),
        _f("composite_check", 1, 35, 1, "check"),
    ),
    checks=(
        ("document_number_check", "document_number"),
        ("date_of_birth_check", "date_of_birth"),
        ("date_of_expiry_check", "date_of_expiry"),
    ),
    # ICAO 9303 Part 6, 4.2.2.2: positions 1-10, 14-20 and 22-35 of line 2.
    composite=((1, 0, 10), (1, 13, 20), (1, 21, 35)),
    name_length=31,
    document_code_first="ACI",
)

TD1 = MrzFormat(
    name="TD1",
    line_count=3,
    line_length=30,
    fields=(
        _f("document_code", 0, 0, 2, "code"),
        _f("issuing_state", 0, 2, 3, "country"),
        _f("document_number", 0, 5, 9, "number"),
        _f("document_number_check", 0, 14, 1, "check_optional"),
        _f("optional_data_1", 0, 15, 15, "number"),
        _f("date_of_birth", 1, 0, 6, "birth"),
        _f("date_of_birth_check", 1, 6, 1, "check"),
        _f("sex", 1, 7, 1, "sex"),
        _f("date_of_expiry", 1, 8, 6, "date"),
        _f("date_of_expiry_check", 1, 14, 1, "check"),
        _f("nationality", 1, 15, 3, "country"),
        _f("optional_data_2", 1, 18, 11, "number"),
        _f("composite_check", 1, 29, 1, "check"),
        _f("name", 2, 0, 30, "name"),
    ),
    checks=(
        ("document_number_check", "document_number"),
        ("date_of_birth_check", "date_of_birth"),
        ("date_of_expiry_check", "date_of_expiry"),
    ),
    # ICAO 9303 Part 5, 4.2.2: line 1 positions 6-30, line 2 positions 1-7, 9-15, 19-29.
    composite=((0, 5, 30), (1, 0, 7), (1, 8, 15), (1, 18, 29)),
    name_length=30,
    document_code_first="ACI",
)

MRVA = MrzFormat(
    name="MRVA",
    line_count=2,
    line_length=44,
    fields=(
        _f("document_code", 0, 0, 2, "code"),
        _f("issuing_state", 0, 2, 3, "country"),
        _f("name", 0, 5, 39, "name"),
        _f("document_number", 1, 0, 9, "number"),
        _f("document_number_check", 1, 9, 1, "check"),
        _f("nationality", 1, 10, 3, "country"),
        _f("date_of_birth", 1, 13, 6, "birth"),
        _f("date_of_birth_check", 1, 19, 1, "check"),
        _f("sex", 1, 20, 1, "sex"),
        _f("date_of_expiry", 1, 21, 6, "date"),
        _f("date_of_expiry_check", 1, 27, 1, "check"),
        _f("optional_data", 1, 28, 16, "number"),
    ),
    checks=(
        ("document_number_check", "document_number"),
        ("date_of_birth_check", "date_of_birth"),
        ("date_of_expiry_check", "date_of_expiry"),
    ),
    name_length=39,
    document_code_first="V",
)

MRVB = MrzFormat(
    name="MRVB",
    line_count=2,
    line_length=36,
    fields=(
        _f("document_code", 0, 0, 2, "code"),
        _f("issuing_state", 0, 2, 3, "country"),
        _f("name", 0, 5, 31, "name"),
        _f("document_number", 1, 0, 9, "number"),
        _f("document_number_check", 1, 9, 1, "check"),
        _f("nationality", 1, 10, 3, "country"),
        _f("date_of_birth", 1, 13, 6, "birth"),
        _f("date_of_birth_check", 1, 19, 1, "check"),
        _f("sex", 1, 20, 1, "sex"),
        _f("date_of_expiry", 1, 21, 6, "date"),
        _f("date_of_expiry_check", 1, 27, 1, "check"),
        _f("optional_data", 1, 28, 8, "number"),
    ),
    checks=(
        ("document_number_check", "document_number"),
        ("date_of_birth_check", "date_of_birth"),
        ("date_of_expiry_check", "date_of_expiry"),
    ),
    name_length=31,
    document_code_first="V",
)

PRC_CARD = MrzFormat(
    name="PRC_CARD",
    line_count=1,
    line_length=30,
    fields=(
        _f("document_code", 0, 0, 2, "code"),
        _f("document_number", 0, 2, 9, "number"),
        _f("document_number_check", 0, 11, 1, "check"),
        _f("separator_1", 0, 12, 1, "filler"),
        _f("date_of_expiry", 0, 13, 6, "date"),
        _f("date_of_expiry_check", 0, 19, 1, "check"),
        _f("separator_2", 0, 20, 1, "filler"),
        _f("date_of_birth", 0, 21, 6, "date"),
        _f("date_of_birth_check", 0, 27, 1, "check"),
        _f("separator_3", 0, 28, 1, "filler"),
        _f("composite_check", 0, 29, 1, "check"),
    ),
    checks=(
        ("document_number_check", "document_number"),
        ("date_of_expiry_check", "date_of_expiry"),
        ("date_of_birth_check", "date_of_birth"),
    ),
    # Positions 3-12, 14-20 and 22-28: both specimens (CS..., CD...) validate with it.
    composite=((0, 2, 12), (0, 13, 20), (0, 21, 28)),
    document_code_first="C",
)

FORMATS: dict[str, MrzFormat] = {f.name: f for f in (TD1, TD2, TD3, MRVA, MRVB, PRC_CARD)}
"""Every layout by name: TD1, TD2, TD3, MRVA, MRVB, PRC_CARD."""
