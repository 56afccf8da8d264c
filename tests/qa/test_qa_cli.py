"""``factory qa``, ``factory qa-intake`` and ``factory qa-eval``."""

from __future__ import annotations

import dataclasses
import json

import cv2
import pytest
from qa_helpers import clean_page, page_with_texts

from factory.cli import main
from factory.devices.layout import format_visual_date
from factory.qa.printed import PRINTED_CHECKS


@pytest.fixture()
def files(tmp_path, applicants, render_kit):
    applicant = next(a for a in applicants if a.record.doc_type == "passport")
    photo, signature = tmp_path / "photo.png", tmp_path / "signature.png"
    cv2.imwrite(str(photo), applicant.photo)
    cv2.imwrite(str(signature), applicant.signature)
    record = dataclasses.replace(applicant.record, photo=str(photo), signature=str(signature))
    path = tmp_path / "record.json"
    path.write_text(json.dumps(record.to_json(), ensure_ascii=False), encoding="utf-8")
    page = tmp_path / "page.png"
    cv2.imwrite(str(page), clean_page(applicant, render_kit))
    wrong = format_visual_date(applicant.record.date_of_birth)
    wrong = wrong[:-1] + str((int(wrong[-1]) + 5) % 10)
    bad = tmp_path / "bad.png"
    cv2.imwrite(str(bad), page_with_texts(applicant, render_kit, texts={"date_of_birth": wrong}))
    return path, page, bad


def test_qa_passes_a_clean_page_as_json(files, capsys):
    record, page, _ = files
    assert main(["qa", str(record), str(page), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["verdict"] == "pass"
    assert [c["name"] for c in out["checks"]] == list(PRINTED_CHECKS)
    assert all({"name", "ok", "value", "detail"} <= set(c) for c in out["checks"])


def test_qa_flags_a_misprinted_date_of_birth(files, capsys):
    record, _, bad = files
    assert main(["qa", str(record), str(bad), "--json", "--no-second-opinion"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["verdict"] == "flag"
    failed = {c["name"]: c for c in out["checks"] if not c["ok"]}
    assert failed["viz_date_of_birth"]["zone"] == "date_of_birth"


def test_qa_prints_a_table_without_json(files, capsys):
    record, _, bad = files
    assert main(["qa", str(record), str(bad), "--no-second-opinion"]) == 1
    text = capsys.readouterr().out
    assert "FLAG" in text and "FAIL viz_date_of_birth" in text


def test_qa_names_an_unreadable_page(files, tmp_path, capsys):
    record, _, _ = files
    assert main(["qa", str(record), str(tmp_path / "missing.png")]) == 2
    assert "page: cannot be read" in capsys.readouterr().err


def test_qa_refuses_an_unbound_record(files, tmp_path, capsys):
    record, page, _ = files
    data = json.loads(record.read_text(encoding="utf-8"))
    for key in ("document_number", "date_of_issue", "date_of_expiry"):
        data[key] = None
    unbound = tmp_path / "unbound.json"
    unbound.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    assert main(["qa", str(unbound), str(page)]) == 2
    assert "document_number" in capsys.readouterr().err


def test_qa_intake_checks_photo_and_signature(files, capsys):
    record, _, _ = files
    assert main(["qa-intake", str(record), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["verdict"] == "pass"
    assert {"photo_face_count", "signature_lookalike"} <= {c["name"] for c in out["checks"]}


def test_qa_intake_returns_a_bad_photo_with_reasons(files, tmp_path, capsys):
    record, _, _ = files
    data = json.loads(record.read_text(encoding="utf-8"))
    dark = tmp_path / "dark.png"
    cv2.imwrite(str(dark), (cv2.imread(data["photo"]) * 0.3).astype("uint8"))
    assert main(["qa-intake", str(record), "--photo", str(dark), "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["return_to"] == data["acceptance_point"]
    assert any("photo_exposure" in reason for reason in out["reasons"])


@pytest.mark.slow
def test_qa_eval_reports_every_defect_type(capsys):
    code = main(["qa-eval", "--count", "24", "--seed", "3", "--defect-rate", "0.75", "--workers", "1",
                 "--batch", "12", "--signatures", "3", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert out["pages"] == 24
    assert out["defects"] and all(d["caught"] == d["pages"] for d in out["defects"].values())
    assert out["clean"]["flagged"] == 0
    assert out["signatures"]["lookalike"] >= 3
    assert code == (0 if out["goals_met"] else 1)
