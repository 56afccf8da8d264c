"""MRZ read-back: read the printed MRZ, parse it with ``factory.mrz``, compare it with the record.

The reading is ``factory.qa.mrz_reader`` (OCR-B template matching at the known
pitch, one matrix product per batch, a per-character confidence). Here the
lines read are held against the lines the record should give
(``factory.mrz.encode_record``), field by field, and parsed with
``factory.mrz.decode`` for the check digits and for the MRZ/VIZ consistency.

Characters read with a low confidence may get a second opinion
(``second_opinion``, a callable the shell passes in, e.g.
``factory.qa.second_opinion.TesseractReader``): where it reads the record's
character, the character is confirmed. Clean prints read with margins of
0.1 or more, so the hot path never calls one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from factory.devices.layout import PageLayout
from factory.errors import FactoryError
from factory.mrz import decode, encode_record, format_for_doc_type
from factory.qa.mrz_reader import MrzReadout, MrzTemplates, mrz_zones, read_mrz
from factory.qa.verdicts import Check, make_check

__all__ = [
    "MRZ_CHECKS",
    "MIN_CONFIDENCE",
    "SecondOpinion",
    "MrzComparison",
    "expected_mrz",
    "compare_mrz",
    "mrz_checks",
    "low_confidence_cells",
    "validity_check",
]

MIN_CONFIDENCE = 0.05
"""Top-2 margin under which a character read is uncertain (clean prints read with >= 0.12)."""

MRZ_CHECKS = (
    "mrz_confidence",
    "mrz_check_digits",
    "mrz_document_number",
    "mrz_name",
    "mrz_date_of_birth",
    "mrz_date_of_expiry",
    "mrz_other_fields",
    "mrz_viz_consistency",
)

SecondOpinion = Callable[[list[np.ndarray]], list[str]]
"""Reads single MRZ character cells (``(h, w) uint8`` grey), one character (or '') per cell."""

_FIELD_GROUPS = {
    "mrz_document_number": ("document_number", "document_number_check"),
    "mrz_name": ("name",),
    "mrz_date_of_birth": ("date_of_birth", "date_of_birth_check"),
    "mrz_date_of_expiry": ("date_of_expiry", "date_of_expiry_check"),
}


def expected_mrz(records: Sequence) -> list[tuple[str, ...] | None]:
    """The MRZ lines each record should print (None when it cannot be encoded)."""
    out: list[tuple[str, ...] | None] = []
    for record in records:
        try:
            out.append(tuple(encode_record(record)))
        except (FactoryError, ValueError):
            out.append(None)
    return out


@dataclass(frozen=True, slots=True)
class MrzComparison:
    """The MRZ of a batch of one layout: what was read, how sure, and where it differs."""

    readout: MrzReadout
    expected: list[tuple[str, ...] | None]
    differs: np.ndarray
    """``(n, lines, chars) bool``: the character read is not the one the record gives."""
    confirmed: np.ndarray
    """``(n, lines, chars) bool``: a second opinion read the record's character there."""


def low_confidence_cells(comparison: MrzComparison, zones: np.ndarray | Sequence[np.ndarray], templates: MrzTemplates,
                         *, min_confidence: float = MIN_CONFIDENCE) -> list[tuple[int, int, int, np.ndarray]]:
    """The uncertain characters of a batch as ``(doc, line, char, cell image)``."""
    g = templates.geometry
    cell_h, cell_w = templates.cell_shape
    out = []
    uncertain = comparison.readout.confidences < min_confidence
    for i, line, k in zip(*np.nonzero(uncertain)):
        dx, dy = comparison.readout.offsets[i, 0], comparison.readout.offsets[i, 1 + line]
        x0 = g.first_char_x + dx + k * g.pitch_px
        y0 = g.line_top_y[line] + dy
        pad = 6
        cell = zones[i][max(y0 - pad, 0):y0 + cell_h + pad, max(x0 - pad, 0):x0 + cell_w + pad]
        out.append((int(i), int(line), int(k), np.ascontiguousarray(cell)))
    return out


def compare_mrz(
    records: Sequence,
    pages: Sequence[np.ndarray] | np.ndarray,
    layout: PageLayout,
    templates: MrzTemplates,
    *,
    second_opinion: SecondOpinion | None = None,
    min_confidence: float = MIN_CONFIDENCE,
) -> MrzComparison:
    """Read the MRZ of a batch of pages of one layout and compare it with the records.

    Parameters
    ----------
    records : sequence of Application
        Bound records, one per page, all of ``layout``'s document type.
    pages : sequence of np.ndarray
        ``(h, w, 3) uint8`` BGR printed pages (``layout.shape``).
    layout : PageLayout
        Must have an MRZ.
    templates : MrzTemplates
        ``build_mrz_templates`` for ``layout.mrz``.
    second_opinion : callable, optional
        Asked only about characters read with a confidence below ``min_confidence``;
        those it reads as the record's character are confirmed.
    """
    zones = mrz_zones(pages, layout, views=True)  # no copy of grey pages' zones
    readout = read_mrz(zones, templates)
    expected = expected_mrz(records)
    g = templates.geometry
    n = len(records)
    shape = (n, g.line_count, g.line_length)
    read = np.zeros(shape, np.uint8)
    want = np.zeros(shape, np.uint8)
    valid = np.zeros(n, bool)
    for i, (lines, exp) in enumerate(zip(readout.texts, expected)):
        read[i] = np.frombuffer("".join(lines).encode(), np.uint8).reshape(g.line_count, g.line_length)
        if exp is not None and len(exp) == g.line_count and all(len(x) == g.line_length for x in exp):
            want[i] = np.frombuffer("".join(exp).encode(), np.uint8).reshape(g.line_count, g.line_length)
            valid[i] = True
    differs = (read != want) | ~valid[:, None, None]
    confirmed = np.zeros(shape, bool)
    comparison = MrzComparison(readout=readout, expected=expected, differs=differs, confirmed=confirmed)
    if second_opinion is not None:
        cells = low_confidence_cells(comparison, zones, templates, min_confidence=min_confidence)
        if cells:
            answers = second_opinion([c[3] for c in cells])
            for (i, line, k, _), answer in zip(cells, answers):
                if valid[i] and answer == chr(want[i, line, k]):
                    confirmed[i, line, k] = True
            differs = differs & ~confirmed
            comparison = MrzComparison(readout=readout, expected=expected, differs=differs, confirmed=confirmed)
    return comparison


def _viz_disagreements(record, result) -> list[str]:
    """Fields where the MRZ as read (``result`` of ``decode``) says something else than the visual zone should show."""
    found = result.record_fields()
    expected = {
        "document_number": record.document_number,
        "date_of_birth": record.date_of_birth.isoformat(),
        "date_of_expiry": record.date_of_expiry.isoformat() if record.date_of_expiry else None,
    }
    if "sex" in found:
        expected["sex"] = record.sex
    if "surname_latin" in found:
        expected["surname_latin"] = record.surname_latin
        expected["given_name_latin"] = record.given_name_latin
    if "nationality" in found:
        expected["nationality"] = record.nationality
    bad = [key for key, value in expected.items() if found.get(key) != value]
    prefix = found.get("name_cn_prefix")
    if prefix and not record.name_cn.startswith(prefix):
        bad.append("name_cn")
    return bad


def mrz_checks(
    records: Sequence,
    comparison: MrzComparison | None,
    *,
    min_confidence: float = MIN_CONFIDENCE,
) -> list[Check]:
    """The named MRZ checks of a batch of one layout (``MRZ_CHECKS`` order).

    With ``comparison`` None (a document type without an MRZ) every check
    passes with a NaN value: it does not apply.
    """
    n = len(records)
    if comparison is None or not records:
        return [make_check(name, np.full(n, np.nan), threshold=0, rule="== 0", zone="mrz",
                           applies=np.zeros(n, bool)) for name in MRZ_CHECKS]
    doc_type = records[0].doc_type
    fmt = format_for_doc_type(doc_type)
    readout = comparison.readout
    differs = comparison.differs
    uncertain = (readout.confidences < min_confidence) & ~comparison.confirmed
    lowest = readout.confidences.reshape(n, -1).min(axis=1)
    checks = [make_check(
        "mrz_confidence", lowest, threshold=min_confidence, rule=f">= {min_confidence}", zone="mrz",
        ok=~uncertain.reshape(n, -1).any(axis=1),
        details=[_uncertain_text(uncertain[i], readout.texts[i]) for i in range(n)],
    )]

    digit_errors = np.zeros(n)
    digit_details = [""] * n
    viz_bad = np.zeros(n)
    viz_details = [""] * n
    for i, (record, lines) in enumerate(zip(records, readout.texts)):
        result = decode(lines, reference_date=record.date_of_issue)
        bad = [e for e in result.errors if e.field.endswith("_check")]
        digit_errors[i] = len(bad)
        if bad:
            digit_details[i] = "; ".join(str(e) for e in bad)
        if record.date_of_issue is not None:
            disagree = _viz_disagreements(record, result)
            viz_bad[i] = len(disagree)
            if disagree:
                viz_details[i] = "the MRZ read says another " + ", ".join(disagree) + " than the visual zone"
    checks.append(make_check("mrz_check_digits", digit_errors, threshold=0, rule="== 0", zone="mrz",
                             details=digit_details))

    covered = np.zeros(differs.shape[1:], bool)
    for name, field_names in _FIELD_GROUPS.items():
        mask = np.zeros(differs.shape[1:], bool)
        for field_name in field_names:
            try:
                spec = fmt.field(field_name)
            except KeyError:
                continue
            mask[spec.line, spec.start:spec.end] = True
        covered |= mask
        count = (differs & mask).reshape(n, -1).sum(axis=1)
        applies = np.full(n, mask.any())
        checks.append(make_check(
            name, count, threshold=0, rule="== 0", zone="mrz", applies=applies,
            details=[_differ_text(name, differs[i] & mask, readout.texts[i], comparison.expected[i])
                     for i in range(n)],
        ))
    rest = (differs & ~covered).reshape(n, -1).sum(axis=1)
    checks.append(make_check(
        "mrz_other_fields", rest, threshold=0, rule="== 0", zone="mrz",
        details=[_differ_text("mrz_other_fields", differs[i] & ~covered, readout.texts[i], comparison.expected[i])
                 for i in range(n)],
    ))
    checks.append(make_check("mrz_viz_consistency", viz_bad, threshold=0, rule="== 0", zone="mrz",
                             details=viz_details))
    return checks


def _uncertain_text(uncertain: np.ndarray, lines: tuple[str, ...]) -> str:
    where = [f"line {line + 1} column {k + 1} ({lines[line][k]!r})" for line, k in zip(*np.nonzero(uncertain))]
    return "uncertain characters: " + ", ".join(where[:6]) if where else ""


def _differ_text(name: str, differs: np.ndarray, lines: tuple[str, ...], expected: tuple[str, ...] | None) -> str:
    where = list(zip(*np.nonzero(differs)))
    if not where:
        return ""
    if expected is None:
        return f"{name}: the record gives no MRZ to compare with"
    shown = [f"line {line + 1} column {k + 1}: read {lines[line][k]!r}, record gives {expected[line][k]!r}"
             for line, k in where[:4]]
    return f"{name}: " + "; ".join(shown)


def validity_check(records: Sequence, documents) -> Check:
    """``document_validity``: expiry = issue + the validity for the holder's age, minus a day.

    ``documents`` is ``config.documents``; value is the difference in days
    between the expiry the record carries and the one the rules give.
    """
    from factory.records import compute_date_of_expiry

    n = len(records)
    days = np.full(n, np.nan)
    details = [""] * n
    for i, record in enumerate(records):
        if record.date_of_issue is None or record.date_of_expiry is None:
            details[i] = "the record is not bound to a blank (no issue or expiry date)"
            continue
        doc = documents.get(record.doc_type)
        if doc is None:
            details[i] = f"unknown document type {record.doc_type!r}"
            continue
        rule = compute_date_of_expiry(doc, record.date_of_issue, record.date_of_birth)
        days[i] = (record.date_of_expiry - rule).days
        if days[i]:
            details[i] = (f"expiry {record.date_of_expiry.isoformat()} is not issue + validity for the age "
                          f"({rule.isoformat()})")
    return make_check("document_validity", days, threshold=0, rule="== 0", zone="date_of_expiry",
                      ok=days == 0, details=details)
