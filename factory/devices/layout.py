"""Where everything sits on a data page: one data structure the printer and QA both read.

A ``PageLayout`` is the page size, its resolution and its zones: the text
fields, the portrait, the ghost image, the signature and the MRZ, each a box
in millimetres and in pixels. The renderer draws into the zones; QA cuts the
same boxes out of a capture to check each field.

Geometry sources:

- TD3 data page 125 x 88 mm, TD1 card 85.6 x 54 mm (ICAO 9303 Part 4 and 5, 2.1).
- MRZ in OCR-B size 1 at a fixed pitch of 2.54 mm, 10 characters per inch
  (ICAO 9303 Part 3, 4.4); nominal capital height 2.46 mm.
- TD3: the left edge of the first character 6.0 mm from the left edge of the
  page (Part 4, 4.2.1.3); reference centre lines 15.75 mm and 9.40 mm above
  the bottom edge, 6.35 mm apart (Part 4, Figure 3); the MRZ is 23.2 mm deep.
- TD1: the first character 5.0 mm from the left edge (Part 5, 4.2.1.3); lines
  4.23 mm apart (Part 5, Figure 6). The PRC permit cards carry one 30-character
  line; we put its reference centre line 6.35 mm above the bottom edge (our
  choice, the lowest line of a TD1 zone; Doc 9303 has no one-line card).

Pure data: no fonts are loaded here (``factory.devices.render`` does that).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from factory.config import DocumentType
from factory.errors import InvalidField

__all__ = [
    "DEFAULT_DPI",
    "MRZ_PITCH_MM",
    "MRZ_CAP_HEIGHT_MM",
    "ZONE_KINDS",
    "TEXT_ZONES",
    "Box",
    "Zone",
    "MrzGeometry",
    "PageLayout",
    "page_layout",
    "field_texts",
    "format_visual_date",
    "mm_to_px",
]

DEFAULT_DPI = 300
MRZ_PITCH_MM = 2.54
"""ICAO 9303 Part 3, 4.4: 10 characters per 25.4 mm."""
MRZ_CAP_HEIGHT_MM = 2.46
"""OCR-B size 1 nominal capital height (ISO 1073-2)."""

ZONE_KINDS = ("text", "photo", "ghost", "signature", "mrz")
TEXT_ZONES = (
    "document_number",
    "surname_cn",
    "surname_latin",
    "given_name_cn",
    "given_name_latin",
    "sex",
    "nationality",
    "date_of_birth",
    "place_of_birth",
    "date_of_issue",
    "date_of_expiry",
)
"""The variable text fields printed on every data page, in printing order."""

_CJK_ZONES = frozenset({"surname_cn", "given_name_cn", "sex", "nationality", "place_of_birth"})


def mm_to_px(mm: float, dpi: int) -> int:
    """Millimetres to whole pixels at ``dpi`` (rounded to nearest)."""
    return int(round(mm * dpi / 25.4))


@dataclass(frozen=True, slots=True)
class Box:
    """A pixel rectangle, half-open: rows ``y0:y1``, columns ``x0:x1``."""

    x0: int
    y0: int
    x1: int
    y1: int

    @property
    def width(self) -> int:
        return self.x1 - self.x0

    @property
    def height(self) -> int:
        return self.y1 - self.y0

    @property
    def slices(self) -> tuple[slice, slice]:
        """``page[box.slices]`` is the zone (rows, columns)."""
        return slice(self.y0, self.y1), slice(self.x0, self.x1)


@dataclass(frozen=True, slots=True, kw_only=True)
class Zone:
    name: str
    """A record field (``surname_cn``), or ``photo``, ``ghost``, ``signature``, ``mrz``."""
    kind: str
    """One of ``ZONE_KINDS``."""
    box_mm: tuple[float, float, float, float]
    """(x, y, width, height) in millimetres from the page's top-left corner."""
    box: Box
    """The same rectangle in pixels at the layout's resolution."""
    font: str = ""
    """For text zones: ``cjk`` (AR PL UMing) or ``latin`` (OCR-B)."""
    text_px: int = 0
    """For text zones: the font size (em) in pixels."""
    label_cn: str = ""
    label_en: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class MrzGeometry:
    """Where the MRZ characters are, in pixels relative to the ``mrz`` zone's top-left corner."""

    line_count: int
    line_length: int
    pitch_px: int
    """Character pitch: 2.54 mm, exactly 30 px at 300 dpi."""
    cap_height_px: float
    cell_height_px: int
    """Height of one character cell (the capital height plus a margin)."""
    first_char_x: int
    """Left edge of the first character cell of every line."""
    line_center_y: tuple[int, ...]
    """The reference centre line of each line, top line first."""

    @property
    def line_top_y(self) -> tuple[int, ...]:
        """Top row of each line's cells."""
        return tuple(c - self.cell_height_px // 2 for c in self.line_center_y)

    @property
    def line_width_px(self) -> int:
        return self.line_length * self.pitch_px


@dataclass(frozen=True, slots=True, kw_only=True)
class PageLayout:
    name: str
    """``td3_booklet``, ``td1_card_1line`` (PRC permits) or ``td1_card`` (no MRZ)."""
    doc_type: str
    title_cn: str
    title_en: str
    width_mm: float
    height_mm: float
    dpi: int
    zones: tuple[Zone, ...]
    mrz: MrzGeometry | None
    """None for documents without a machine-readable zone (residence permits)."""

    @property
    def shape(self) -> tuple[int, int]:
        """(height, width) of the page in pixels."""
        return mm_to_px(self.height_mm, self.dpi), mm_to_px(self.width_mm, self.dpi)

    @property
    def zone_names(self) -> tuple[str, ...]:
        return tuple(z.name for z in self.zones)

    def zone(self, name: str) -> Zone:
        for zone in self.zones:
            if zone.name == name:
                return zone
        raise KeyError(f"{self.name} has no zone {name!r}")

    def has_zone(self, name: str) -> bool:
        return any(z.name == name for z in self.zones)

    def crop(self, page: np.ndarray, name: str) -> np.ndarray:
        """The zone ``name`` of ``page`` (a view, not a copy)."""
        return page[self.zone(name).box.slices]


# --------------------------------------------------------------------------- building


def _zone(name: str, kind: str, x: float, y: float, w: float, h: float, dpi: int, **extra: Any) -> Zone:
    box = Box(mm_to_px(x, dpi), mm_to_px(y, dpi), mm_to_px(x + w, dpi), mm_to_px(y + h, dpi))
    return Zone(name=name, kind=kind, box_mm=(x, y, w, h), box=box, **extra)


def _text_zone(name: str, x: float, y: float, w: float, h: float, dpi: int, *, em_mm: float,
               label: tuple[str, str]) -> Zone:
    return _zone(
        name, "text", x, y, w, h, dpi,
        font="cjk" if name in _CJK_ZONES else "latin",
        text_px=mm_to_px(em_mm, dpi),
        label_cn=label[0], label_en=label[1],
    )


_LABELS = {
    "document_number": ("证件号码", "No."),
    "surname_cn": ("姓", "Surname"),
    "given_name_cn": ("名", "Given names"),
    "surname_latin": ("", ""),
    "given_name_latin": ("", ""),
    "sex": ("性别", "Sex"),
    "nationality": ("国籍", "Nationality"),
    "date_of_birth": ("出生日期", "Date of birth"),
    "place_of_birth": ("出生地点", "Place of birth"),
    "date_of_issue": ("签发日期", "Date of issue"),
    "date_of_expiry": ("有效期至", "Date of expiry"),
}


def _mrz_geometry(line_count: int, line_length: int, zone_top_mm: float, page_h_mm: float,
                  first_char_mm: float, centres_from_bottom_mm: tuple[float, ...], dpi: int) -> MrzGeometry:
    pitch = MRZ_PITCH_MM * dpi / 25.4
    if abs(pitch - round(pitch)) > 1e-6:
        # A whole-pixel pitch keeps every character cell on the pixel grid, so the
        # renderer and the reader cut cells without resampling.
        raise InvalidField("dpi", "must give a whole-pixel MRZ pitch (2.54 mm), e.g. 300 or 600", dpi)
    cap = MRZ_CAP_HEIGHT_MM * dpi / 25.4
    top_px = mm_to_px(zone_top_mm, dpi)
    return MrzGeometry(
        line_count=line_count,
        line_length=line_length,
        pitch_px=int(round(pitch)),
        cap_height_px=cap,
        cell_height_px=int(round(cap * 1.3)),
        first_char_x=mm_to_px(first_char_mm, dpi),
        line_center_y=tuple(mm_to_px(page_h_mm - c, dpi) - top_px for c in centres_from_bottom_mm),
    )


def _booklet(doc: DocumentType, dpi: int) -> PageLayout:
    width, height = 125.0, 88.0
    em = 3.3
    rows = (17.5, 24.0, 30.5, 37.0, 43.5, 50.0)
    c1, c2 = 41.0, 75.0
    zones = [
        _zone("photo", "photo", 5.0, 17.0, 32.0, 42.0, dpi),
        _text_zone("document_number", 93.0, rows[0], 29.0, 5.0, dpi, em_mm=em, label=_LABELS["document_number"]),
        _text_zone("surname_cn", c1, rows[1], 20.0, 5.0, dpi, em_mm=4.0, label=_LABELS["surname_cn"]),
        _text_zone("surname_latin", 62.0, rows[1], 58.0, 5.0, dpi, em_mm=em, label=_LABELS["surname_latin"]),
        _text_zone("given_name_cn", c1, rows[2], 20.0, 5.0, dpi, em_mm=4.0, label=_LABELS["given_name_cn"]),
        _text_zone("given_name_latin", 62.0, rows[2], 58.0, 5.0, dpi, em_mm=em, label=_LABELS["given_name_latin"]),
        _text_zone("sex", c1, rows[3], 16.0, 5.0, dpi, em_mm=em, label=_LABELS["sex"]),
        _text_zone("nationality", 60.0, rows[3], 40.0, 5.0, dpi, em_mm=em, label=_LABELS["nationality"]),
        _text_zone("date_of_birth", c1, rows[4], 32.0, 5.0, dpi, em_mm=em, label=_LABELS["date_of_birth"]),
        _text_zone("place_of_birth", c2, rows[4], 26.0, 5.0, dpi, em_mm=em, label=_LABELS["place_of_birth"]),
        _text_zone("date_of_issue", c1, rows[5], 32.0, 5.0, dpi, em_mm=em, label=_LABELS["date_of_issue"]),
        _text_zone("date_of_expiry", c2, rows[5], 26.0, 5.0, dpi, em_mm=em, label=_LABELS["date_of_expiry"]),
        _zone("signature", "signature", c1, 56.5, 48.0, 8.0, dpi, label_cn="持证人签名", label_en="Signature"),
        _zone("ghost", "ghost", 103.0, 41.0, 17.0, 22.0, dpi),
    ]
    mrz = None
    if doc.mrz != "none":
        zone_top = height - 23.2  # ICAO 9303 Part 4, Figure 3: the MRZ is 23.2 mm deep
        zones.append(_zone("mrz", "mrz", 0.0, zone_top, width, 23.2, dpi))
        mrz = _mrz_geometry(2, 44, zone_top, height, 6.0, (15.75, 9.40), dpi)
    return PageLayout(name="td3_booklet", doc_type=doc.name, title_cn=doc.title_cn, title_en=doc.title_en,
                      width_mm=width, height_mm=height, dpi=dpi, zones=tuple(zones), mrz=mrz)


def _card(doc: DocumentType, dpi: int) -> PageLayout:
    width, height = 85.6, 54.0
    em, em_cn = 2.6, 3.0
    rows = (11.5, 16.5, 21.5, 26.5, 31.5)
    c1, c2 = 29.0, 57.0
    h = 3.4
    zones = [
        _zone("photo", "photo", 3.0, 11.0, 23.0, 30.0, dpi),
        _text_zone("document_number", 61.0, 6.2, 23.0, h, dpi, em_mm=em, label=_LABELS["document_number"]),
        _text_zone("surname_cn", c1, rows[0], 14.0, h, dpi, em_mm=em_cn, label=_LABELS["surname_cn"]),
        _text_zone("surname_latin", 44.0, rows[0], 26.0, h, dpi, em_mm=em, label=_LABELS["surname_latin"]),
        _text_zone("given_name_cn", c1, rows[1], 14.0, h, dpi, em_mm=em_cn, label=_LABELS["given_name_cn"]),
        _text_zone("given_name_latin", 44.0, rows[1], 26.0, h, dpi, em_mm=em, label=_LABELS["given_name_latin"]),
        _text_zone("sex", c1, rows[2], 12.0, h, dpi, em_mm=em, label=_LABELS["sex"]),
        _text_zone("nationality", 43.0, rows[2], 24.0, h, dpi, em_mm=em, label=_LABELS["nationality"]),
        _text_zone("date_of_birth", c1, rows[3], 27.0, h, dpi, em_mm=em, label=_LABELS["date_of_birth"]),
        _text_zone("place_of_birth", c2, rows[3], 18.0, h, dpi, em_mm=em, label=_LABELS["place_of_birth"]),
        _text_zone("date_of_issue", c1, rows[4], 27.0, h, dpi, em_mm=em, label=_LABELS["date_of_issue"]),
        _text_zone("date_of_expiry", c2, rows[4], 27.0, h, dpi, em_mm=em, label=_LABELS["date_of_expiry"]),
        _zone("signature", "signature", c1, 37.0, 32.0, 5.6, dpi, label_cn="持证人签名", label_en="Signature"),
        _zone("ghost", "ghost", 71.5, 11.0, 11.5, 15.0, dpi),
    ]
    mrz = None
    name = "td1_card"
    if doc.mrz == "prc_permit":
        zone_top = 43.0
        zones.append(_zone("mrz", "mrz", 0.0, zone_top, width, height - zone_top, dpi))
        mrz = _mrz_geometry(1, 30, zone_top, height, 5.0, (6.35,), dpi)
        name = "td1_card_1line"
    elif doc.mrz == "td3":
        raise InvalidField(f"documents.{doc.name}.mrz", "a TD3 MRZ does not fit a card", doc.mrz)
    return PageLayout(name=name, doc_type=doc.name, title_cn=doc.title_cn, title_en=doc.title_en,
                      width_mm=width, height_mm=height, dpi=dpi, zones=tuple(zones), mrz=mrz)


def page_layout(doc: DocumentType, *, dpi: int = DEFAULT_DPI) -> PageLayout:
    """The data-page layout of a document type.

    Parameters
    ----------
    doc : DocumentType
        Booklet documents (pool ``booklet``) get a TD3 data page with a 2 x 44 MRZ;
        card documents a TD1 card with the one 30-character PRC permit line, or
        no MRZ when the profile is ``none``.
    dpi : int
        Print resolution; must make the 2.54 mm MRZ pitch a whole number of
        pixels (300 gives 30 px).

    Returns
    -------
    PageLayout
        Zones in pixels at ``dpi``; page shape ``(1039, 1476)`` (TD3) or
        ``(638, 1011)`` (TD1) at 300 dpi.

    Raises
    ------
    InvalidField
        For a resolution off the MRZ pitch grid, or a TD3 MRZ on a card.
    """
    if dpi < 150 or dpi > 1200:
        raise InvalidField("dpi", "must be between 150 and 1200", dpi)
    return _booklet(doc, dpi) if doc.pool == "booklet" else _card(doc, dpi)


# --------------------------------------------------------------------------- texts

_SEX_TEXT = {"M": "男/M", "F": "女/F", "X": "X"}
_NATIONALITY_TEXT = {"CHN": "中国/CHN"}


def format_visual_date(day: dt.date | None) -> str:
    """Dates in the visual zone as PRC documents print them: ``2036.03.01``."""
    return "" if day is None else f"{day.year:04d}.{day.month:02d}.{day.day:02d}"


def field_texts(record: Any) -> Mapping[str, str]:
    """What each text zone shows for ``record`` (an ``Application``), keyed by zone name.

    Unbound document fields (no blank serial yet) print as empty strings.
    QA compares a capture against these same strings.
    """
    return {
        "document_number": record.document_number or "",
        "surname_cn": record.surname_cn,
        "surname_latin": record.surname_latin,
        "given_name_cn": record.given_name_cn,
        "given_name_latin": record.given_name_latin,
        "sex": _SEX_TEXT.get(record.sex, record.sex),
        "nationality": _NATIONALITY_TEXT.get(record.nationality, record.nationality),
        "date_of_birth": format_visual_date(record.date_of_birth),
        "place_of_birth": record.place_of_birth,
        "date_of_issue": format_visual_date(record.date_of_issue),
        "date_of_expiry": format_visual_date(record.date_of_expiry),
    }
