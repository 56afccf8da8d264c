"""Verdicts: checks as arrays and the JSON of one document (factory.qa.verdicts)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from factory.errors import InvalidField
from factory.qa.verdicts import BatchVerdict, make_check, merge_verdicts


def test_rules_decide_ok():
    values = [0.1, 0.5, 0.9]
    assert make_check("a", values, threshold=0.5, rule=">= 0.5", zone="z").ok.tolist() == [False, True, True]
    assert make_check("a", values, threshold=0.5, rule="<= 0.5", zone="z").ok.tolist() == [True, True, False]
    assert make_check("a", values, threshold=0.5, rule="< 0.5", zone="z").ok.tolist() == [True, False, False]
    assert make_check("a", values, threshold=0.5, rule="> 0.5", zone="z").ok.tolist() == [False, False, True]
    assert make_check("a", [0, 1], threshold=0, rule="== 0", zone="z").ok.tolist() == [True, False]
    with pytest.raises(InvalidField):
        make_check("a", values, threshold=0.5, rule="~ 0.5", zone="z")


def test_checks_that_do_not_apply_pass_with_no_value():
    check = make_check("mrz_x", [3.0, 3.0], threshold=0, rule="== 0", zone="mrz", applies=np.array([True, False]))
    assert check.ok.tolist() == [False, True]
    assert np.isnan(check.value[1])
    verdict = BatchVerdict(checks=(check,), n=2)
    assert verdict.for_document(1)["checks"][0]["value"] is None
    json.dumps(verdict.for_document(1))


def test_a_document_is_flagged_when_any_check_fails_and_shows_its_zone():
    a = make_check("a", [1.0, 0.0], threshold=0.5, rule=">= 0.5", zone="photo")
    b = make_check("b", [0.0, 0.0], threshold=0, rule="== 0", zone="mrz", zones=["", ""])
    c = make_check("c", [9.0, 0.0], threshold=1, rule="<= 1", zone="page", zones=["signature", ""])
    verdict = BatchVerdict(checks=(a, b, c), n=2)
    assert verdict.flagged.tolist() == [True, True]
    assert verdict.failed(0) == ["c"] and verdict.failed(1) == ["a"]
    first = verdict.for_document(0)
    assert first["verdict"] == "flag"
    failed = [c for c in first["checks"] if not c["ok"]]
    assert failed == [{"name": "c", "ok": False, "value": 9, "detail": "c: 9 (must be <= 1)", "threshold": 1,
                       "rule": "<= 1", "zone": "signature"}]
    assert all(c["zone"] is None and c["detail"] == "" for c in first["checks"] if c["ok"])


def test_values_are_read_only():
    check = make_check("a", [1.0], threshold=0, rule=">= 0", zone="z")
    with pytest.raises(ValueError):
        check.value[0] = 2.0


def test_merge_puts_sub_batches_back_in_place():
    first = BatchVerdict(checks=(make_check("a", [1.0, 0.0], threshold=0.5, rule=">= 0.5", zone="z"),), n=2)
    second = BatchVerdict(checks=(make_check("a", [0.0], threshold=0.5, rule=">= 0.5", zone="z"),), n=1)
    merged = merge_verdicts([(np.array([2, 0]), first), (np.array([1]), second)], 3)
    assert merged.check("a").value.tolist() == [0.0, 0.0, 1.0]
    assert merged.flagged.tolist() == [True, True, False]


def test_a_check_of_the_wrong_length_is_refused():
    with pytest.raises(InvalidField):
        BatchVerdict(checks=(make_check("a", [1.0], threshold=0, rule=">= 0", zone="z"),), n=2)
