"""Intake: every bad row rejected with its reasons, nothing half-stored; the command."""

import json

import pytest

from factory.cli import main
from factory.ledger import prepare_intake, read_jsonl


def test_valid_rows_are_admitted_with_their_queue_keys(records, config, calendar):
    admissions, rejections = prepare_intake([(f"line {i}", r) for i, r in enumerate(records, 1)], config, calendar)
    assert rejections == [] and len(admissions) == 40
    first = admissions[0]
    assert first.pool == config.documents[first.application.doc_type].pool
    assert first.production_date >= first.application.accepted_at.date()
    assert json.loads(first.record_json)["application_id"] == first.application.application_id


def test_an_invalid_row_is_rejected_with_every_reason(records, config, calendar):
    bad = dict(records[0], sex="Q", date_of_birth="1990-13-01")
    admissions, rejections = prepare_intake([("line 1", bad), ("line 2", records[1])], config, calendar)
    assert [a.where for a in admissions] == ["line 2"]
    assert rejections[0].where == "line 1"
    assert sorted(rejections[0].error.fields()) == ["date_of_birth", "sex"]
    assert rejections[0].as_dict()["application_id"] == records[0]["application_id"]


def test_a_repeated_id_and_unreadable_json_are_rejected(records, config, calendar):
    rows = read_jsonl([json.dumps(records[0]), "", "{not json", json.dumps(records[0])])
    admissions, rejections = prepare_intake(rows, config, calendar)
    assert len(admissions) == 1
    assert [(r.where, r.error.errors[0].field) for r in rejections] == [("line 3", "record"),
                                                                        ("line 4", "application_id")]


def test_a_year_the_calendar_does_not_cover_rejects_the_row_naming_the_year(records, config, calendar):
    late = dict(records[0], application_id="LATE1", accepted_at="2027-12-20T10:00:00+08:00")
    admissions, rejections = prepare_intake([("line 1", late), ("line 2", records[1])], config, calendar)
    assert [a.where for a in admissions] == ["line 2"]
    assert "2027" in str(rejections[0].error) or "2028" in str(rejections[0].error)


@pytest.mark.integration
def test_factory_intake_stores_the_valid_rows_and_reports_the_rest(records, tmp_path, capsys):
    path = tmp_path / "in.jsonl"
    lines = [json.dumps(r, ensure_ascii=False) for r in records[:5]] + ['{"application_id": "X1", "sex": "Q"}']
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    command = ["intake", str(path), "--ledger", str(tmp_path / "l.db")]
    assert main(command) == 1
    first = capsys.readouterr()
    assert "5 stored, 0 already in the ledger, 1 rejected" in first.out
    assert "rejected line 6: " in first.err and "sex: must be F, M or X (got 'Q')" in first.err
    assert main(command) == 1
    assert "0 stored, 5 already in the ledger, 1 rejected" in capsys.readouterr().out
    assert main(["audit", "--ledger", str(tmp_path / "l.db")]) == 0
    assert "applications: queued 5" in capsys.readouterr().out


def test_factory_intake_of_an_unreadable_file_is_a_clear_error(tmp_path, capsys):
    assert main(["intake", str(tmp_path / "missing.jsonl"), "--ledger", str(tmp_path / "l.db")]) == 2
    assert "cannot read" in capsys.readouterr().err
