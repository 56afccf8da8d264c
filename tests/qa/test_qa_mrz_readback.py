"""MRZ read-back against the record (factory.qa.mrz_readback)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
from qa_helpers import clean_page, page_with_texts

from factory.mrz import encode_record
from factory.qa.mrz_readback import MRZ_CHECKS, compare_mrz, mrz_checks, validity_check


def _passports(applicants):
    return [a for a in applicants if a.record.doc_type == "passport"]


def test_a_clean_mrz_reads_back_as_the_record(applicants, render_kit, qa_kit):
    batch = _passports(applicants)[:3]
    lq = qa_kit.layouts["passport"]
    comparison = compare_mrz([a.record for a in batch], [clean_page(a, render_kit) for a in batch], lq.layout,
                             lq.templates)
    assert not comparison.differs.any()
    assert [tuple(t) for t in comparison.readout.texts] == [encode_record(a.record) for a in batch]
    checks = mrz_checks([a.record for a in batch], comparison)
    assert [c.name for c in checks] == list(MRZ_CHECKS)
    assert all(c.ok.all() for c in checks)


def test_a_misprinted_name_character_is_caught_field_by_field(applicants, render_kit, qa_kit):
    a = _passports(applicants)[0]
    lines = list(encode_record(a.record))
    k = 5  # the first letter of the surname in line 1
    lines[0] = lines[0][:k] + ("Q" if lines[0][k] != "Q" else "X") + lines[0][k + 1:]
    lq = qa_kit.layouts["passport"]
    page = page_with_texts(a, render_kit, mrz_lines=tuple(lines))
    checks = {c.name: c for c in mrz_checks([a.record], compare_mrz([a.record], [page], lq.layout, lq.templates))}
    assert not checks["mrz_name"].ok[0] and checks["mrz_name"].value[0] == 1
    assert "line 1 column 6" in checks["mrz_name"].details[0]
    assert checks["mrz_document_number"].ok[0]
    assert not checks["mrz_viz_consistency"].ok[0]  # the MRZ names someone else than the visual zone


def test_the_second_opinion_is_asked_only_about_uncertain_characters(applicants, render_kit, qa_kit):
    a = _passports(applicants)[0]
    lq = qa_kit.layouts["passport"]
    page = clean_page(a, render_kit).copy()
    asked = []

    def reader(cells):
        asked.append(len(cells))
        return ["" for _ in cells]

    compare_mrz([a.record], [page], lq.layout, lq.templates, second_opinion=reader)
    assert asked == []  # a clean page has nothing uncertain
    # Blot out one character: it reads as something uncertain.
    g = lq.layout.mrz
    box = lq.layout.zone("mrz").box
    x0 = box.x0 + g.first_char_x + 3 * g.pitch_px
    y0 = box.y0 + g.line_top_y[1]
    page[y0:y0 + g.cell_height_px, x0:x0 + g.pitch_px] = page[y0 - 40, x0]
    comparison = compare_mrz([a.record], [page], lq.layout, lq.templates, second_opinion=reader,
                             min_confidence=1.0)
    assert asked and comparison.differs[0, 1, 3]

    # A reader that sees the record's character there confirms it.
    def agreeing(cells):
        return [encode_record(a.record)[1][3]] * len(cells)

    comparison = compare_mrz([a.record], [page], lq.layout, lq.templates, second_opinion=agreeing,
                             min_confidence=1.0)
    assert comparison.confirmed[0, 1, 3] and not comparison.differs[0, 1, 3]


def test_validity_is_issue_plus_the_validity_for_the_age(applicants, config):
    a = applicants[0].record
    assert validity_check([a], config.documents).ok[0]
    wrong = dataclasses.replace(a, date_of_expiry=a.date_of_expiry + dt.timedelta(days=365))
    check = validity_check([wrong], config.documents)
    assert not check.ok[0] and check.value[0] in (365, 366)
    unbound = dataclasses.replace(a, document_number=None, date_of_issue=None, date_of_expiry=None)
    check = validity_check([unbound], config.documents)
    assert not check.ok[0] and np.isnan(check.value[0])
