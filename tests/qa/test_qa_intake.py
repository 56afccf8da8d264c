"""Before printing: the whole intake verdict and the return to the acceptance point (factory.qa.intake)."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from factory.errors import InvalidField
from factory.qa.intake import INTAKE_CHECKS, check_intake, intake_outcome, return_form


def test_generated_applications_are_fit_to_print(applicants, intake_kit):
    batch = applicants[:6]
    verdict = check_intake([a.record for a in batch], [a.photo for a in batch], [a.signature for a in batch],
                           intake_kit)
    assert verdict.names == INTAKE_CHECKS
    assert not verdict.flagged.any(), {i: verdict.failed(i) for i in range(verdict.n)}


def test_a_flagged_application_goes_back_to_its_acceptance_point_with_the_reasons(applicants, intake_kit, writer):
    applicant = applicants[0]
    name = applicant.record.surname_cn + applicant.record.given_name_cn
    # The applicant wrote a different character for the last one of the name.
    wrong = name[:-1] + ("哓" if name[-1] != "哓" else "末")
    signature = writer.write(wrong, np.random.default_rng(5))
    dark = (applicant.photo * 0.3).astype(np.uint8)
    verdict = check_intake([applicant.record], [dark], [signature], intake_kit)
    result = return_form(verdict, 0, applicant.record)
    assert result["verdict"] == "flag"
    assert result["return_to"] == applicant.record.acceptance_point
    failed = {c["name"] for c in result["checks"] if not c["ok"]}
    assert "photo_exposure" in failed and ("signature_name" in failed or "signature_lookalike" in failed)
    assert len(result["reasons"]) == len(failed)
    assert result["outcome"] == "return"  # a photo to retake: no reviewer can fix that
    json.dumps(result, ensure_ascii=False)


def test_a_passing_application_has_no_return(applicants, intake_kit):
    a = applicants[1]
    result = return_form(check_intake([a.record], [a.photo], [a.signature], intake_kit), 0, a.record)
    assert result["verdict"] == "pass" and "return_to" not in result


def test_lengths_must_agree(applicants, intake_kit):
    with pytest.raises(InvalidField):
        check_intake([applicants[0].record], [], [None], intake_kit)


def test_only_a_look_alike_signature_goes_to_a_reviewer_anything_else_goes_back():
    assert intake_outcome([]) == "passed"
    assert intake_outcome(["signature_lookalike"]) == "review"
    assert intake_outcome(["signature_lookalike", "signature_name"]) == "review"
    assert intake_outcome(["signature_name"]) == "return"  # not a look-alike: a signature to capture again
    assert intake_outcome(["signature_lookalike", "photo_sharpness"]) == "return"
    assert intake_outcome(["photo_sharpness"]) == "return"


def test_a_look_alike_signature_is_for_review(applicants, intake_kit, writer):
    applicant = applicants[2]
    record = dataclasses.replace(applicant.record, given_name_cn="晓")  # the real case: signed 哓 for 晓
    signature = writer.write(record.surname_cn + "哓", np.random.default_rng(7))
    result = return_form(check_intake([record], [applicant.photo], [signature], intake_kit), 0, record)
    assert "signature_lookalike" in [c["name"] for c in result["checks"] if not c["ok"]]
    assert result["outcome"] == "review"
