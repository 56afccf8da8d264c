"""Signature against name: look-alike characters (factory.qa.signature)."""

from __future__ import annotations

import numpy as np
import pytest

from factory.errors import InvalidField
from factory.qa.signature import (
    LOOKALIKE_MARGIN,
    NAME_MATCH_FLOOR,
    build_signature_kit,
    check_signature_name,
    score_signature,
)


@pytest.fixture(scope="module")
def kit():
    return build_signature_kit()


def _checks(signatures, names, kit):
    present, lookalike, own = check_signature_name(signatures, names, kit)
    return {c.name: c for c in (present, lookalike, own)}


def test_the_applicant_who_signed_xiao_with_the_mouth_radical_is_caught(writer, kit):
    name = "张晓明"
    genuine = writer.write(name, np.random.default_rng(1))
    mistaken = writer.write("张哓明", np.random.default_rng(2))
    checks = _checks([genuine, mistaken], [name, name], kit)
    assert checks["signature_lookalike"].ok.tolist() == [True, False]
    assert checks["signature_name"].ok[0]
    detail = checks["signature_lookalike"].details[1]
    assert "哓" in detail and "晓" in detail and "character 2" in detail
    assert checks["signature_lookalike"].zone == "signature"


def test_wei_signed_as_mo_is_caught(writer, kit):
    name = "王未"
    scores = score_signature(writer.write("王末", np.random.default_rng(3)), name, kit)
    assert scores[1].best_lookalike == "末"
    assert scores[1].lookalike_score > scores[1].score + LOOKALIKE_MARGIN


def test_a_character_outside_the_table_is_caught_by_the_name_check(writer, kit):
    # 叡 is not in GB2312, so no table row can hold it: the signature simply does not show 睿.
    name = "刘睿"
    checks = _checks([writer.write("刘叡", np.random.default_rng(4))], [name], kit)
    assert not checks["signature_name"].ok[0]
    assert checks["signature_name"].value[0] < NAME_MATCH_FLOOR


@pytest.mark.parametrize("seed", range(4))
def test_genuine_signatures_pass(seed, writer, kit):
    names = ["李天", "欧阳晓明", "王一", "陈思琳", "张帅", "杨莹"]
    rng = np.random.default_rng(seed)
    signatures = [writer.write(n, rng) for n in names]
    checks = _checks(signatures, names, kit)
    for name in ("signature_present", "signature_lookalike", "signature_name"):
        assert checks[name].ok.all(), (name, checks[name].details)


def test_detection_on_a_seeded_sample_of_lookalike_pairs(writer, kit):
    pairs = {"晓": "哓", "未": "末", "杨": "扬", "玲": "铃", "莹": "萤", "宇": "字", "博": "搏", "帅": "师"}
    rng = np.random.default_rng(9)
    names, signatures = [], []
    for right, wrong in pairs.items():
        names.append("王" + right)
        signatures.append(writer.write("王" + wrong, rng))
    present, lookalike, own = check_signature_name(signatures, names, kit)
    caught = ~(lookalike.ok & own.ok)
    assert caught.all(), [n for n, c in zip(names, caught) if not c]


def test_a_blank_signature_fails_every_signature_check(kit):
    blank = np.full((160, 480), 255, np.uint8)
    checks = _checks([blank, None], ["王伟", "王伟"], kit)
    for check in checks.values():
        assert not check.ok.any()
    assert "no signature" in checks["signature_lookalike"].details[1]


def test_inputs_are_validated(kit):
    with pytest.raises(InvalidField):
        check_signature_name([np.zeros((10, 10), np.float32)], ["王"], kit)
    with pytest.raises(InvalidField):
        check_signature_name([], ["王"], kit)
