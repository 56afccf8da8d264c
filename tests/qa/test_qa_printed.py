"""After printing: every printed page against its record, in batches (factory.qa.printed)."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from factory.devices.defects import DEFECT_KINDS
from factory.devices.layout import format_visual_date
from factory.errors import InvalidField
from factory.mrz import encode_record
from factory.qa.expected import as_grey
from factory.qa.print_quality import halve
from factory.qa.printed import PRINTED_CHECKS, check_printed, expected_pages

from qa_helpers import clean_page, defective_page, page_with_texts


def _check(applicants, pages, kit, photos=None):
    return check_printed([a.record for a in applicants], pages,
                         photos if photos is not None else [a.photo for a in applicants],
                         [a.signature for a in applicants], kit)


def test_there_are_at_least_twenty_named_checks():
    assert len(PRINTED_CHECKS) >= 20
    assert len(set(PRINTED_CHECKS)) == len(PRINTED_CHECKS)


def test_clean_pages_of_every_document_type_pass_every_check(applicants, render_kit, qa_kit):
    doc_types = {a.record.doc_type for a in applicants}
    assert {"passport", "hk_macau_permit", "taiwan_permit", "residence_permit"} <= doc_types
    pages = [clean_page(a, render_kit) for a in applicants]
    verdict = _check(applicants, pages, qa_kit)
    assert verdict.names == PRINTED_CHECKS
    assert not verdict.flagged.any(), {i: verdict.failed(i) for i in range(verdict.n) if verdict.flagged[i]}
    for i in range(verdict.n):
        document = verdict.for_document(i)
        assert document["verdict"] == "pass"
        assert [c["name"] for c in document["checks"]] == list(PRINTED_CHECKS)
        json.dumps(document)  # NaN values (checks that do not apply) come out as null


def test_mrz_checks_do_not_apply_to_a_residence_permit(applicants, render_kit, qa_kit):
    permit = next(a for a in applicants if a.record.doc_type == "residence_permit")
    document = _check([permit], [clean_page(permit, render_kit)], qa_kit).for_document(0)
    mrz = [c for c in document["checks"] if c["name"].startswith("mrz_")]
    assert mrz and all(c["ok"] and c["value"] is None for c in mrz)


def test_a_photo_swapped_between_two_applications_of_a_batch_is_caught(applicants, render_kit, qa_kit):
    batch = [a for a in applicants if a.record.doc_type == "passport"][:4]
    pages = [clean_page(a, render_kit) for a in batch]
    # Applications 0 and 2 got each other's photo.
    pages[0] = page_with_texts(batch[0], render_kit, photo=batch[2].photo)
    pages[2] = page_with_texts(batch[2], render_kit, photo=batch[0].photo)
    verdict = _check(batch, pages, qa_kit)
    assert list(verdict.flagged) == [True, False, True, False]
    for i, other in ((0, 2), (2, 0)):
        assert "photo_swap" in verdict.failed(i)
        assert "photo_match" in verdict.failed(i)
        swap = next(c for c in verdict.for_document(i)["checks"] if c["name"] == "photo_swap")
        assert batch[other].record.application_id in swap["detail"]
        assert swap["zone"] == "photo"


def test_a_misprinted_mrz_check_digit_is_caught(applicants, render_kit, qa_kit):
    passport = next(a for a in applicants if a.record.doc_type == "passport")
    lines = list(encode_record(passport.record))
    digit = lines[1][9]  # ICAO 9303 TD3: the document number's check digit
    lines[1] = lines[1][:9] + str((int(digit) + 3) % 10) + lines[1][10:]
    page = page_with_texts(passport, render_kit, mrz_lines=tuple(lines))
    document = _check([passport], [page], qa_kit).for_document(0)
    failed = {c["name"]: c for c in document["checks"] if not c["ok"]}
    assert document["verdict"] == "flag"
    assert "mrz_check_digits" in failed and "document_number_check" in failed["mrz_check_digits"]["detail"]
    assert "mrz_document_number" in failed
    assert failed["mrz_check_digits"]["zone"] == "mrz"


def test_a_wrong_digit_in_the_printed_date_of_birth_is_caught(applicants, render_kit, qa_kit):
    applicant = applicants[0]
    printed = format_visual_date(applicant.record.date_of_birth)
    wrong = printed[:-1] + str((int(printed[-1]) + 1) % 10)
    page = page_with_texts(applicant, render_kit, texts={"date_of_birth": wrong})
    document = _check([applicant], [page], qa_kit).for_document(0)
    failed = {c["name"]: c for c in document["checks"] if not c["ok"]}
    assert "viz_date_of_birth" in failed
    assert failed["viz_date_of_birth"]["zone"] == "date_of_birth"
    assert printed in failed["viz_date_of_birth"]["detail"]
    # The MRZ was printed right: it agrees with the record.
    assert not any(name.startswith("mrz_") for name in failed)


@pytest.mark.parametrize("kind", DEFECT_KINDS)
def test_every_defect_the_simulated_printer_injects_is_caught(kind, applicants, render_kit, qa_kit):
    batch = [a for a in applicants if a.record.doc_type in ("passport", "hk_macau_permit")][:6]
    pages, kinds = [], []
    for i in range(len(batch)):
        page, defects = defective_page(batch, i, kind, render_kit, seed=3)
        pages.append(page)
        kinds.append([d.kind for d in defects])
    verdict = _check(batch, pages, qa_kit)
    injected = [i for i, k in enumerate(kinds) if k]
    assert injected
    assert all(verdict.flagged[i] for i in injected), {i: kinds[i] for i in injected if not verdict.flagged[i]}


def test_the_defects_own_checks_name_them(applicants, render_kit, qa_kit):
    passport = next(a for a in applicants if a.record.doc_type == "passport")
    expected = {
        "smudge": "print_smudge",
        "dropout": "print_dropout",
        "misregistration": "print_misregistration",
        "signature_swap": "signature_match",
        "missing_field": "print_missing_field",
    }
    batch = [a for a in applicants if a.record.doc_type == "passport"]
    for kind, check in expected.items():
        page, defects = defective_page(batch, 0, kind, render_kit, seed=11)
        assert defects, kind
        verdict = _check([passport], [page], qa_kit)
        assert check in verdict.failed(0), (kind, verdict.failed(0))
        zone = next(c for c in verdict.for_document(0)["checks"] if c["name"] == check)["zone"]
        assert zone


def test_banding_is_caught(applicants, render_kit, qa_kit):
    # The simulated printer injects no banding; a 4 % density ripple every 16 rows stands for it.
    applicant = applicants[0]
    page = clean_page(applicant, render_kit)
    rows = np.arange(page.shape[0], dtype=np.float32)[:, None, None]
    banded = np.clip(page * (1 + 0.04 * np.sin(2 * np.pi * rows / 16)), 0, 255).astype(np.uint8)
    verdict = _check([applicant, applicant], [page, banded], qa_kit)
    banding = verdict.check("print_banding")
    assert banding.ok.tolist() == [True, False]
    assert banding.value[0] < 0.002 < 0.025 < banding.value[1]


def test_expected_pages_match_the_renderer(applicants, render_kit, qa_kit):
    for doc_type in ("passport", "hk_macau_permit", "residence_permit"):
        group = [a for a in applicants if a.record.doc_type == doc_type][:2]
        expected = expected_pages([a.record for a in group], [a.photo for a in group],
                                  [a.signature for a in group], qa_kit)
        for a, wanted in zip(group, expected):
            printed = halve(as_grey(clean_page(a, render_kit))).astype(np.float32)
            assert printed.shape == wanted.shape
            assert np.abs(printed - wanted).max() < 4.0, doc_type


def test_a_page_of_the_wrong_size_is_flagged_without_sinking_the_batch(applicants, render_kit, qa_kit):
    batch = applicants[:3]
    pages = [clean_page(a, render_kit) for a in batch]
    pages[1] = cv2.resize(pages[1], (500, 300))
    verdict = _check(batch, pages, qa_kit)
    assert verdict.flagged.tolist() == [False, True, False]
    document = verdict.for_document(1)
    page_format = document["checks"][0]
    assert page_format["name"] == "page_format" and not page_format["ok"]
    assert "pages[1]" in page_format["detail"] and "500 x 300" in page_format["detail"]
    assert all(not c["ok"] for c in document["checks"])
    json.dumps(document)


def test_lengths_must_agree(applicants, render_kit, qa_kit):
    with pytest.raises(InvalidField) as err:
        check_printed([applicants[0].record], [], [None], [None], qa_kit)
    assert err.value.field == "pages"


def test_a_missing_enrolled_photo_flags_instead_of_crashing(applicants, render_kit, qa_kit):
    applicant = applicants[1]
    verdict = _check([applicant], [clean_page(applicant, render_kit)], qa_kit, photos=[None])
    assert "photo_match" in verdict.failed(0)


def test_an_empty_batch_gives_an_empty_verdict(qa_kit):
    verdict = check_printed([], [], [], [], qa_kit)
    assert verdict.n == 0 and verdict.flagged.shape == (0,)
    assert verdict.names == PRINTED_CHECKS
