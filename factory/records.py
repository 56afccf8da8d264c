"""The application record used by every part: plain, frozen data.

``parse_application(data, config)`` validates a JSON-like mapping and returns an
``Application``, or raises ``InvalidRecord`` listing every bad field with its
reason. ``Application.to_json()`` gives the mapping back. The schema is
documented in ``docs/application-record.md`` and ``docs/application.schema.json``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from factory.config import Config, DocumentType
from factory.errors import InvalidField, InvalidRecord
from factory.mrz.names import chinese_to_pinyin, is_chinese_name

__all__ = [
    "SEXES",
    "DELIVERIES",
    "FREE_MAIL_AGE",
    "RECORD_FIELDS",
    "Application",
    "parse_application",
    "age_on",
    "compute_date_of_expiry",
    "bind_document",
]

SEXES = ("F", "M", "X")
DELIVERIES = ("pickup", "mail")
FREE_MAIL_AGE = 65
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$")
_LATIN = re.compile(r"^[A-Z]+( [A-Z]+)*$")
_NATIONALITY = re.compile(r"^[A-Z]{3}$")
_SERIAL = re.compile(r"^[A-Z][A-Z0-9]{7,9}$")


@dataclass(frozen=True, slots=True, kw_only=True)
class Application:
    application_id: str
    doc_type: str
    service_class: str
    accepted_at: dt.datetime
    """When the acceptance point took the application, with its time zone."""
    acceptance_point: str
    surname_cn: str
    given_name_cn: str
    surname_latin: str
    """Upper-case pinyin (GB/T 28039, ü as YU): derived from surname_cn when absent."""
    given_name_latin: str
    sex: str
    date_of_birth: dt.date
    place_of_birth: str
    nationality: str
    photo: str
    """Path of the enrolled portrait (PNG)."""
    signature: str
    """Path of the captured signature (PNG)."""
    delivery: str
    mail_address: str = ""
    document_number: str | None = None
    """The serial of the blank the document is printed on, bound at print time."""
    date_of_issue: dt.date | None = None
    date_of_expiry: dt.date | None = None

    @property
    def name_cn(self) -> str:
        return self.surname_cn + self.given_name_cn

    @property
    def age_at_acceptance(self) -> int:
        return age_on(self.date_of_birth, self.accepted_at.date())

    @property
    def free_mail(self) -> bool:
        """Mail delivery is free for applicants aged 65 and over (seeds)."""
        return self.delivery == "mail" and self.age_at_acceptance >= FREE_MAIL_AGE

    @property
    def is_bound(self) -> bool:
        return self.document_number is not None

    def to_json(self) -> dict[str, Any]:
        """The record's JSON form: ISO dates, ``None`` for unbound document fields."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            out[f.name] = value.isoformat() if isinstance(value, dt.date) else value
        return out


RECORD_FIELDS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(Application))
_REQUIRED = (
    "application_id", "doc_type", "service_class", "accepted_at", "acceptance_point",
    "surname_cn", "given_name_cn", "sex", "date_of_birth", "place_of_birth", "photo",
    "signature", "delivery",
)


def age_on(date_of_birth: dt.date, day: dt.date) -> int:
    """Completed years of age on ``day``."""
    years = day.year - date_of_birth.year
    if (day.month, day.day) < (date_of_birth.month, date_of_birth.day):
        years -= 1
    return years


def _add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a year that has none
        return day.replace(year=day.year + years, day=28)


def compute_date_of_expiry(doc: DocumentType, date_of_issue: dt.date, date_of_birth: dt.date) -> dt.date:
    """Expiry as PRC documents print it: the day before the anniversary of issue.

    The validity is ``validity_years_under_16`` for applicants under 16 on the
    day of issue, otherwise ``validity_years``.
    """
    years = doc.validity_years_under_16 if age_on(date_of_birth, date_of_issue) < 16 else doc.validity_years
    return _add_years(date_of_issue, years) - dt.timedelta(days=1)


def bind_document(
    app: Application, document_number: str, date_of_issue: dt.date, config: Config
) -> Application:
    """The application with its blank serial, issue and expiry dates filled in."""
    doc = config.documents[app.doc_type]
    if not document_number.startswith(doc.serial_prefix) or not _SERIAL.match(document_number):
        raise InvalidField("document_number", f"is not a {doc.name} blank serial", document_number)
    return dataclasses.replace(
        app,
        document_number=document_number,
        date_of_issue=date_of_issue,
        date_of_expiry=compute_date_of_expiry(doc, date_of_issue, app.date_of_birth),
    )


# --------------------------------------------------------------------------- parsing


def _parse_datetime(value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError:
            raise ValueError("not a date-time (ISO 8601, e.g. 2026-03-02T09:15:00+08:00)") from None
    else:
        raise ValueError("must be an ISO 8601 date-time string")
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise ValueError("must carry a time zone (e.g. +08:00)")
    return parsed


def _parse_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        raise ValueError("must be a date, not a date-time")
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str):
        raise ValueError("must be a date string YYYY-MM-DD")
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValueError("not a date") from None


def parse_application(data: Any, config: Config, *, where: str = "") -> Application:
    """Validate one application record and return it as an ``Application``.

    Parameters
    ----------
    data : Mapping
        The JSON object of one record (keys as in ``RECORD_FIELDS``).
    config : Config
        Supplies the document types and service classes.
    where : str
        Prefix for the error, e.g. ``"line 12"``.

    Raises
    ------
    InvalidRecord
        Listing every invalid field (``field``, ``reason``), never only the first.
    """
    if not isinstance(data, Mapping):
        raise InvalidRecord([InvalidField("record", "must be a JSON object", type(data).__name__)], where=where)
    errors: list[InvalidField] = []
    values: dict[str, Any] = {}

    def bad(field: str, reason: str, value: Any = None) -> None:
        errors.append(InvalidField(field, reason) if value is None else InvalidField(field, reason, value))

    for key in data:
        if key not in RECORD_FIELDS:
            bad(str(key), "is not a field of the application record")
    for key in _REQUIRED:
        if data.get(key) in (None, ""):
            bad(key, "is required")

    def text(key: str, *, required: bool = True) -> str | None:
        value = data.get(key)
        if value in (None, ""):
            return None if required else ""
        if not isinstance(value, str):
            bad(key, "must be a string", value)
            return None
        if value != value.strip():
            bad(key, "has leading or trailing spaces", value)
        return value

    app_id = text("application_id")
    if app_id is not None and not _ID.match(app_id):
        bad("application_id", "must be 1-40 letters, digits, '-' or '_'", app_id)
    values["application_id"] = app_id

    doc: DocumentType | None = None
    doc_type = text("doc_type")
    if doc_type is not None:
        doc = config.documents.get(doc_type)
        if doc is None:
            bad("doc_type", "is not one of " + ", ".join(config.documents), doc_type)
    values["doc_type"] = doc_type

    service_class = text("service_class")
    if service_class is not None:
        if service_class not in config.service_classes:
            bad("service_class", "is not one of " + ", ".join(config.service_classes), service_class)
        elif doc is not None and service_class not in doc.service_classes:
            bad("service_class", f"is not offered for {doc.name}", service_class)
    values["service_class"] = service_class

    for key, parse in (("accepted_at", _parse_datetime), ("date_of_birth", _parse_date)):
        raw = data.get(key)
        values[key] = None
        if raw not in (None, ""):
            try:
                values[key] = parse(raw)
            except ValueError as err:
                bad(key, str(err), raw)

    accepted, born = values["accepted_at"], values["date_of_birth"]
    if born is not None:
        if born.year < 1900:
            bad("date_of_birth", "is before 1900", born.isoformat())
        elif accepted is not None and born > accepted.date():
            bad("date_of_birth", "is after the application was accepted", born.isoformat())

    for key in ("acceptance_point", "place_of_birth", "photo", "signature"):
        values[key] = text(key)
    for key in ("photo", "signature"):
        if values[key] is not None and not values[key].lower().endswith(".png"):
            bad(key, "must be the path of a PNG file", values[key])

    for key in ("surname_cn", "given_name_cn"):
        value = text(key)
        if value is not None and not is_chinese_name(value):
            bad(key, "must be Chinese characters only", value)
            value = None
        values[key] = value

    for key, source, is_surname in (
        ("surname_latin", "surname_cn", True),
        ("given_name_latin", "given_name_cn", False),
    ):
        value = text(key, required=False)
        if value:
            if not _LATIN.match(value):
                bad(key, "must be upper-case letters A-Z", value)
        elif values[source] is not None:
            try:
                value = chinese_to_pinyin(values[source], surname=is_surname, field=key)
            except InvalidField as err:
                errors.append(err)
        values[key] = value

    sex = text("sex")
    if sex is not None and sex not in SEXES:
        bad("sex", "must be F, M or X", sex)
    values["sex"] = sex

    nationality = text("nationality", required=False) or "CHN"
    if not _NATIONALITY.match(nationality):
        bad("nationality", "must be a three-letter ICAO code", nationality)
    values["nationality"] = nationality

    delivery = text("delivery")
    if delivery is not None and delivery not in DELIVERIES:
        bad("delivery", "must be pickup or mail", delivery)
    values["delivery"] = delivery
    values["mail_address"] = text("mail_address", required=False) or ""
    if delivery == "mail" and not values["mail_address"]:
        bad("mail_address", "is required for mail delivery")

    _parse_document_binding(data, doc, values, bad)

    if errors:
        raise InvalidRecord(errors, where=where)
    return Application(**values)


def _parse_document_binding(data: Mapping[str, Any], doc: DocumentType | None, values: dict[str, Any], bad) -> None:
    number = data.get("document_number")
    issue, expiry = data.get("date_of_issue"), data.get("date_of_expiry")
    given = [k for k, v in (("document_number", number), ("date_of_issue", issue), ("date_of_expiry", expiry)) if v not in (None, "")]
    values.update(document_number=None, date_of_issue=None, date_of_expiry=None)
    if not given:
        return
    if len(given) != 3:
        missing = sorted({"document_number", "date_of_issue", "date_of_expiry"} - set(given))
        for key in missing:
            bad(key, "is required once a document is bound (all three or none)")
        return
    if not isinstance(number, str) or not _SERIAL.match(number):
        bad("document_number", "must be a blank serial: a letter then 7-9 letters or digits", number)
    elif doc is not None and not number.startswith(doc.serial_prefix):
        bad("document_number", f"must start with {doc.serial_prefix!r} for {doc.name}", number)
    else:
        values["document_number"] = number
    for key, raw in (("date_of_issue", issue), ("date_of_expiry", expiry)):
        try:
            values[key] = _parse_date(raw)
        except ValueError as err:
            bad(key, str(err), raw)
    if values["date_of_issue"] and values["date_of_expiry"]:
        if values["date_of_expiry"] <= values["date_of_issue"]:
            bad("date_of_expiry", "must be after date_of_issue", values["date_of_expiry"].isoformat())
        born = values.get("date_of_birth")
        if born is not None and values["date_of_issue"] < born:
            bad("date_of_issue", "is before date_of_birth", values["date_of_issue"].isoformat())
