"""What :func:`factory.mrz.decode` returns: fields, per-field validity, errors, corrections."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from factory.errors import MrzError

__all__ = ["FieldError", "Correction", "DecodeResult"]


@dataclass(frozen=True, slots=True)
class FieldError:
    """One thing wrong in an MRZ: the field, where (1-based, as ICAO counts), and why."""

    field: str
    reason: str
    line: int | None = None
    """1-based line of the first character concerned (None for the MRZ as a whole)."""
    column: int | None = None
    """1-based column of the first character concerned."""
    length: int = 1
    """How many characters from ``column`` are concerned."""
    value: str | None = None
    """The text read there."""

    @property
    def position(self) -> tuple[int, int] | None:
        """(line, column), 1-based, or None."""
        return None if self.line is None or self.column is None else (self.line, self.column)

    def as_dict(self) -> dict[str, Any]:
        """The JSON form: ``{"field", "position": {"line", "column", "length"}, "reason", "value"}``."""
        position = (
            None
            if self.line is None or self.column is None
            else {"line": self.line, "column": self.column, "length": self.length}
        )
        return {"field": self.field, "position": position, "reason": self.reason, "value": self.value}

    def as_exception(self) -> MrzError:
        """The same error as an exception, for callers that raise."""
        where = f" at line {self.line}, column {self.column}" if self.position else ""
        if self.value is None:
            return MrzError(self.field, self.reason + where)
        return MrzError(self.field, self.reason + where, self.value)

    def __str__(self) -> str:
        where = f" (line {self.line}, column {self.column})" if self.position else ""
        return f"{self.field}{where}: {self.reason}"


@dataclass(frozen=True, slots=True)
class Correction:
    """One character the decoder changed because the field's type forbids what was read."""

    field: str
    line: int
    """1-based."""
    column: int
    """1-based."""
    original: str
    """What was read ("" when a filler was inserted)."""
    corrected: str
    """What the decoder used instead ("" when a character was removed)."""
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "field": self.field,
            "line": self.line,
            "column": self.column,
            "original": self.original,
            "corrected": self.corrected,
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class DecodeResult:
    """A decoded MRZ.

    ``fields`` holds JSON values only (str, bool, None; dates as ISO strings),
    so ``json.dumps(result.as_dict())`` works as is.
    """

    valid: bool
    format: str | None
    """TD1, TD2, TD3, MRVA, MRVB, PRC_CARD; None when the lines fit no format."""
    document_code: str | None
    fields: dict[str, Any] = field(default_factory=dict)
    field_validity: dict[str, bool] = field(default_factory=dict)
    """Every field of the format: False when an error names it."""
    errors: tuple[FieldError, ...] = ()
    corrections: tuple[Correction, ...] = ()
    lines: tuple[str, ...] = ()
    """The lines as decoded, after any corrections."""

    @property
    def profile(self) -> str | None:
        """The PRC document profile recognised (prc_passport, ...), or None."""
        return self.fields.get("profile")

    def as_dict(self) -> dict[str, Any]:
        """The JSON form printed by ``factory mrz decode --json``."""
        return {
            "valid": self.valid,
            "format": self.format,
            "document_code": self.document_code,
            "fields": dict(self.fields),
            "field_validity": dict(self.field_validity),
            "errors": [e.as_dict() for e in self.errors],
            "corrections": [c.as_dict() for c in self.corrections],
            "lines": list(self.lines),
        }

    def record_fields(self) -> dict[str, Any]:
        """The decoded values under the application record's attribute names.

        Keys present when decoded: ``surname_latin``, ``given_name_latin``
        (components joined by spaces), ``sex`` (F, M or X), ``date_of_birth``,
        ``date_of_expiry`` (ISO strings), ``nationality``, ``document_number``
        and, for PRC passports, ``name_cn_prefix`` (the first characters of the
        Chinese name the MRZ carries). QA compares these with the record.
        """
        f = self.fields
        mapping = {
            "surname": "surname_latin",
            "given_names": "given_name_latin",
            "sex": "sex",
            "date_of_birth": "date_of_birth",
            "date_of_expiry": "date_of_expiry",
            "nationality": "nationality",
            "document_number": "document_number",
            "name_cn": "name_cn_prefix",
        }
        return {out: f[key] for key, out in mapping.items() if key in f}


_NEW = object.__new__
_SLOTS = tuple(DecodeResult.__dict__[name].__set__ for name in (
    "valid", "format", "document_code", "fields", "field_validity", "errors", "corrections", "lines"
))


def _valid_result(format_name: str, document_code: str, fields: dict, validity: dict, lines: tuple) -> DecodeResult:
    """A valid DecodeResult, built through the slots: a frozen dataclass's __init__
    goes through object.__setattr__ field by field, and QA decodes by the batch."""
    result = _NEW(DecodeResult)
    for setter, value in zip(_SLOTS, (True, format_name, document_code, fields, validity, (), (), lines)):
        setter(result, value)
    return result
