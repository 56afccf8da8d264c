"""The public names of factory.qa, pinned."""

from __future__ import annotations

import factory.qa


def test_public_names():
    assert sorted(factory.qa.__all__) == sorted([
        "BatchVerdict", "Check", "FaceDetector", "INTAKE_CHECKS", "IntakeKit", "LookalikeTable", "MrzReadout",
        "MrzTemplates", "PRINTED_CHECKS", "PrintedThresholds", "QaKit", "build_intake_kit", "build_mrz_templates",
        "build_qa_kit", "check_intake", "check_printed", "load_lookalikes", "make_check", "merge_verdicts",
        "mrz_zones", "read_mrz", "return_form", "REVIEW_CHECKS", "intake_outcome",
    ])
    for name in factory.qa.__all__:
        assert getattr(factory.qa, name) is not None


def test_at_least_twenty_checks_in_all():
    assert len(factory.qa.PRINTED_CHECKS) >= 20
    assert len(set(factory.qa.PRINTED_CHECKS) | set(factory.qa.INTAKE_CHECKS)) >= 40
