import datetime as dt
import json
import subprocess
import sys

import pytest

from factory.errors import InvalidField, InvalidRecord
from factory.records import (
    RECORD_FIELDS,
    Application,
    bind_document,
    compute_date_of_expiry,
    parse_application,
)


def test_a_valid_record_parses_and_derives_pinyin(config, valid_record):
    app = parse_application(valid_record, config)
    assert isinstance(app, Application)
    assert app.surname_latin == "LYU"          # GB/T 28039: ü written YU
    assert app.given_name_latin == "XIAOMING"
    assert app.accepted_at.utcoffset() == dt.timedelta(hours=8)
    assert app.name_cn == "吕晓明"
    assert not app.is_bound


def test_json_form_round_trips(config, valid_record):
    app = parse_application(valid_record, config)
    again = parse_application(json.loads(json.dumps(app.to_json())), config)
    assert again == app


def test_every_bad_field_is_reported_at_once(config, valid_record):
    record = dict(valid_record)
    record.update(doc_type="visa", sex="Q", date_of_birth="1990-13-01", accepted_at="2026-02-24T09:15:00")
    del record["photo"]
    record["shoe_size"] = 42
    with pytest.raises(InvalidRecord) as caught:
        parse_application(record, config, where="row 3")
    reasons = {e.field: e.reason for e in caught.value.errors}
    assert reasons == {
        "shoe_size": "is not a field of the application record",
        "photo": "is required",
        "doc_type": "is not one of passport, hk_macau_permit, taiwan_permit, residence_permit, hmt_residence_permit",
        "sex": "must be F, M or X",
        "date_of_birth": "not a date",
        "accepted_at": "must carry a time zone (e.g. +08:00)",
    }
    assert str(caught.value).startswith("row 3: ")
    assert "sex: must be F, M or X (got 'Q')" in str(caught.value)


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        ({"surname_cn": "Smith"}, "surname_cn", "must be Chinese characters only"),
        ({"surname_latin": "lü"}, "surname_latin", "must be upper-case letters A-Z"),
        ({"date_of_birth": "2026-03-01"}, "date_of_birth", "is after the application was accepted"),
        ({"service_class": "urgent", "doc_type": "residence_permit"}, "service_class", "is not offered for residence_permit"),
        ({"delivery": "mail"}, "mail_address", "is required for mail delivery"),
        ({"delivery": "drone"}, "delivery", "must be pickup or mail"),
        ({"photo": "face.jpg"}, "photo", "must be the path of a PNG file"),
        ({"application_id": "A 1"}, "application_id", "must be 1-40 letters, digits, '-' or '_'"),
        ({"document_number": "E12345678"}, "date_of_issue", "is required once a document is bound (all three or none)"),
        ({"nationality": "China"}, "nationality", "must be a three-letter ICAO code"),
    ],
)
def test_single_field_problems(config, valid_record, change, field, reason):
    record = {**valid_record, **change}
    with pytest.raises(InvalidRecord) as caught:
        parse_application(record, config)
    assert (field, reason) in [(e.field, e.reason) for e in caught.value.errors]


def test_not_an_object(config):
    with pytest.raises(InvalidRecord) as caught:
        parse_application(["a", "list"], config)
    assert caught.value.fields() == ["record"]


def test_binding_a_blank_sets_number_issue_and_expiry(config, valid_record):
    app = parse_application(valid_record, config)
    bound = bind_document(app, "E12345678", dt.date(2026, 2, 25), config)
    assert bound.document_number == "E12345678"
    assert bound.date_of_expiry == dt.date(2036, 2, 24)   # the day before the tenth anniversary
    assert parse_application(bound.to_json(), config) == bound
    with pytest.raises(InvalidField) as caught:
        bind_document(app, "C12345678", dt.date(2026, 2, 25), config)
    assert caught.value.field == "document_number"


def test_bound_document_number_must_match_the_document_type(config, valid_record):
    record = {**valid_record, "document_number": "C00000000", "date_of_issue": "2026-02-25",
              "date_of_expiry": "2036-02-24"}
    with pytest.raises(InvalidRecord) as caught:
        parse_application(record, config)
    assert caught.value.errors[0].reason == "must start with 'E' for passport"


def test_validity_is_shorter_for_children_and_handles_29_february(config):
    passport = config.documents["passport"]
    child = compute_date_of_expiry(passport, dt.date(2026, 2, 25), dt.date(2015, 6, 1))
    adult = compute_date_of_expiry(passport, dt.date(2026, 2, 25), dt.date(2000, 6, 1))
    assert child == dt.date(2031, 2, 24)
    assert adult == dt.date(2036, 2, 24)
    assert compute_date_of_expiry(passport, dt.date(2028, 2, 29), dt.date(1990, 1, 1)) == dt.date(2038, 2, 27)


def test_free_mail_from_65(config, valid_record):
    old = parse_application({**valid_record, "date_of_birth": "1961-02-24", "delivery": "mail",
                             "mail_address": "山东省济南市经十路1号"}, config)
    young = parse_application({**valid_record, "date_of_birth": "1961-02-25", "delivery": "mail",
                               "mail_address": "山东省济南市经十路1号"}, config)
    assert old.free_mail and not young.free_mail


def test_schema_document_lists_every_field():
    from pathlib import Path

    schema = json.loads((Path(__file__).parent.parent / "docs" / "application.schema.json").read_text())
    assert set(schema["properties"]) == set(RECORD_FIELDS)
    doc = (Path(__file__).parent.parent / "docs" / "application-record.md").read_text()
    for name in RECORD_FIELDS:
        assert f"`{name}`" in doc


def test_error_types_survive_pickling():
    import pickle

    err = InvalidRecord([InvalidField("sex", "must be F, M or X", "Q")], where="row 1")
    again = pickle.loads(pickle.dumps(err))
    assert str(again) == str(err)
