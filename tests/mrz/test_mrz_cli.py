"""``factory mrz encode RECORD.json`` and ``factory mrz decode LINE ... --json``."""

from __future__ import annotations

import json

import pytest

from factory.cli import main

EXAMPLES = {
    "TD3": ["P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<", "L898902C36UTO7408122F1204159ZE184226B<<<<<10"],
    "TD1": ["I<UTOD231458907<<<<<<<<<<<<<<<", "7408122F1204159UTO<<<<<<<<<<<6", "ERIKSSON<<ANNA<MARIA<<<<<<<<<<"],
    "TD2": ["I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<", "D231458907UTO7408122F1204159<<<<<<<6"],
    "PRC_PASSPORT": ["POCHNZHENGJIAN<<YANGBEN<<<<<<<<<<<<<<<<<<<<<", "EF12608921CHN8503208F2901178NGKELMPONBPJB978"],
    "PRC_HK": ["CSC000000004<2404200<8108038<6"],
    "PRC_TW": ["CDL000000007<2508197<8208031<6"],
}


@pytest.mark.parametrize("name", EXAMPLES)
def test_decode_json_of_each_example(name, capsys):
    status = main(["mrz", "decode", *EXAMPLES[name], "--json", "--reference-date", "2025-06-01"])
    out = json.loads(capsys.readouterr().out)
    assert status == 0
    assert out["valid"] is True
    assert {"valid", "format", "document_code", "fields", "errors", "corrections"} <= set(out)
    assert out["errors"] == [] and out["corrections"] == []
    assert out["fields"]["date_of_birth"] is not None
    assert out["fields"]["date_of_expiry"] is not None
    assert all(out["field_validity"].values())


def test_the_prc_specimen_line_2_alone_validates_as_a_lower_line(capsys):
    """The issue quotes the PRC specimen's line 2 by itself: every checked field is on it."""
    status = main(["mrz", "decode", EXAMPLES["PRC_PASSPORT"][1], "--json"])
    out = json.loads(capsys.readouterr().out)
    assert status == 0 and out["valid"] is True and out["errors"] == []
    assert out["format"] == "TD3" and out["document_code"] is None
    fields = out["fields"]
    assert fields["line_2_only"] is True and fields["profile"] == "prc_passport"
    assert (fields["document_number"], fields["nationality"], fields["sex"]) == ("EF1260892", "CHN", "F")
    assert (fields["date_of_birth"], fields["date_of_expiry"]) == ("1985-03-20", "2029-01-17")
    assert fields["name_cn"] == "证件样"  # 证件样本's first three characters as GBK letters
    assert "surname" not in fields and "issuing_state" not in fields  # line 1 is not there to read
    assert all(out["field_validity"].values())


@pytest.mark.parametrize("column", [9, 20, 28, 44])
def test_a_lone_line_2_with_one_digit_changed_is_caught_where_it_is(column, capsys):
    for line in (EXAMPLES["PRC_PASSPORT"][1], EXAMPLES["TD3"][1], EXAMPLES["TD2"][1]):
        if column > len(line):
            continue
        digit = line[column - 1]
        changed = line[: column - 1] + str((int(digit) + 1) % 10 if digit.isdigit() else 0) + line[column:]
        assert main(["mrz", "decode", changed, "--json"]) == 1
        out = json.loads(capsys.readouterr().out)
        assert out["errors"], changed
        assert all(e["position"]["line"] == 1 for e in out["errors"])


def test_decode_invalid_exits_1_with_errors(capsys):
    line2 = EXAMPLES["TD3"][1][:19] + "3" + EXAMPLES["TD3"][1][20:]
    status = main(["mrz", "decode", EXAMPLES["TD3"][0], line2, "--json"])
    out = json.loads(capsys.readouterr().out)
    assert status == 1
    assert out["valid"] is False
    assert out["errors"][0] == {
        "field": "date_of_birth_check",
        "position": {"line": 2, "column": 20, "length": 1},
        "reason": "check digit 3 does not match date_of_birth '740812': expected 2",
        "value": "3",
    }


def test_decode_with_corrections(capsys):
    # The permit number is a letter and 8 digits: O read for 0 is repaired there.
    status = main(["mrz", "decode", "CSCOOOOOOOO4<24O4200<8108038<6", "--json", "--correct"])
    out = json.loads(capsys.readouterr().out)
    assert status == 0
    assert out["lines"] == ["CSC000000004<2404200<8108038<6"]
    assert [(c["column"], c["original"], c["corrected"]) for c in out["corrections"]] == [
        *((col, "O", "0") for col in range(4, 12)),
        (16, "O", "0"),
    ]


def test_decode_text_output(capsys):
    assert main(["mrz", "decode", *EXAMPLES["PRC_HK"]]) == 0
    text = capsys.readouterr().out
    assert text.startswith("PRC_CARD CS: valid")
    assert "document_number" in text and "C00000000" in text


def test_encode_record_file(tmp_path, capsys):
    record = {
        "application_id": "A1",
        "doc_type": "passport",
        "surname_cn": "证件",
        "given_name_cn": "样本",
        "surname_latin": "ZHENGJIAN",
        "given_name_latin": "YANGBEN",
        "sex": "F",
        "date_of_birth": "1985-03-20",
        "nationality": "CHN",
        "document_number": "EF1260892",
        "date_of_issue": "2019-01-18",
        "date_of_expiry": "2029-01-17",
    }
    path = tmp_path / "record.json"
    path.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    assert main(["mrz", "encode", str(path)]) == 0
    assert capsys.readouterr().out.splitlines() == EXAMPLES["PRC_PASSPORT"]


def test_encode_residence_permit_prints_nothing(tmp_path, capsys):
    path = tmp_path / "record.json"
    path.write_text(json.dumps({"doc_type": "residence_permit"}), encoding="utf-8")
    assert main(["mrz", "encode", str(path)]) == 0
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "record: cannot be read"),
        ("{not json", "record: is not JSON"),
        ("[1, 2]", "record: must be a JSON object"),
        ('{"doc_type": "passport", "sex": "F"}', "mrz: document_number: is required"),
        ('{"doc_type": "taiwan_permit", "document_number": "L00000000", "date_of_birth": "1982-13-01",'
         ' "date_of_expiry": "2025-08-19"}', "date_of_birth: is not a date"),
    ],
)
def test_encode_bad_input_exits_2_naming_the_field(tmp_path, capsys, content, message):
    path = tmp_path / "record.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    assert main(["mrz", "encode", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("factory: ")
    assert message in err
