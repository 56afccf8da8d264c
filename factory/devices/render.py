"""Rendering a data page: what a personalization machine prints for one record.

``build_render_kit`` loads the fonts once and pre-renders, per document type,
everything that does not change from one document to the next (paper tone,
guilloche, title, field labels) and the OCR-B glyph cells of the MRZ. The kit
is passed in to ``render_page``, which is pure: it copies the background and
draws the variable parts (portrait, ghost image, names in Chinese and pinyin,
the other fields, the signature, the MRZ) into the zones of the layout.

Pages are ``(h, w, 3) uint8`` in OpenCV's BGR order, 300 dpi by default.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from factory.config import DocumentType
from factory.devices.layout import (
    DEFAULT_DPI,
    MrzGeometry,
    PageLayout,
    Zone,
    field_texts,
    mm_to_px,
    page_layout,
)
from factory.errors import InvalidField

__all__ = [
    "MRZ_GLYPHS",
    "FontFiles",
    "RenderKit",
    "PageContent",
    "build_render_kit",
    "render_mrz_glyphs",
    "text_alpha",
    "page_content",
    "render_content",
    "render_page",
]

MRZ_GLYPHS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<"
"""The 37 characters of the MRZ alphabet, in glyph-atlas order."""

_PAPER_BGR = (232, 242, 247)
_TINTS_BGR = ((214, 226, 200), (226, 208, 214), (200, 222, 232))
_LABEL_BGR = (120, 90, 60)
_TITLE_BGR = (40, 40, 150)
_TEXT_BGR = np.array((28, 24, 22), np.float32)
_MRZ_BGR = np.array((16, 16, 16), np.float32)
_SIGNATURE_BGR = np.array((70, 30, 20), np.float32)
_GHOST_BGR = np.array((120, 110, 100), np.float32)
_GHOST_STRENGTH = 0.45


@dataclass(frozen=True, slots=True)
class FontFiles:
    """The font files the printer uses (Debian fonts-ocr-b and fonts-arphic-uming)."""

    ocrb: Path = Path("/usr/share/fonts/opentype/ocr-b/OCRB.otf")
    cjk: Path = Path("/usr/share/fonts/truetype/arphic/uming.ttc")


@dataclass(frozen=True, slots=True)
class RenderKit:
    """Everything ``render_page`` needs besides the record: build once, pass in.

    Built by ``build_render_kit``; the arrays are read-only and only ``text_memo`` (a cache) changes.
    """

    dpi: int
    layouts: Mapping[str, PageLayout]
    """Per document type."""
    backgrounds: Mapping[str, np.ndarray]
    """Per document type: the static page, ``(h, w, 3) uint8`` BGR."""
    fonts: Mapping[tuple[str, int], Any] = field(repr=False)
    """(``cjk`` | ``latin``, size in px) -> loaded Pillow font."""
    mrz_glyphs: Mapping[tuple[int, int], np.ndarray] = field(repr=False)
    """(pitch, cell height) -> ``(37, cell_h, pitch) uint8`` ink coverage, ``MRZ_GLYPHS`` order."""
    text_memo: OrderedDict = field(default_factory=OrderedDict, repr=False, compare=False)
    """Drawn texts, least recently used first: (font, size, zone size, text) -> (ink box, top, left).
    Only a cache (the same text in the same zone always draws the same ink): sexes, nationalities,
    places, issue and expiry dates and common surnames repeat from page to page, and drawing text
    was a third of a page's rendering."""

    def layout(self, doc_type: str) -> PageLayout:
        try:
            return self.layouts[doc_type]
        except KeyError:
            raise InvalidField("doc_type", "has no page layout in this render kit", doc_type) from None

    def glyphs_for(self, geometry: MrzGeometry) -> np.ndarray:
        return self.mrz_glyphs[(geometry.pitch_px, geometry.cell_height_px)]


@dataclass(frozen=True, slots=True)
class PageContent:
    """The variable content of one page, ready to draw; print defects edit this."""

    doc_type: str
    texts: Mapping[str, str]
    """Zone name -> text; a text zone missing here is left blank."""
    photo: np.ndarray | None
    """``(h, w, 3) uint8`` BGR or ``(h, w) uint8``; None leaves photo and ghost blank."""
    signature: np.ndarray | None
    """``(h, w) uint8`` grey (ink dark on white) or BGR; None leaves it blank."""
    mrz_lines: tuple[str, ...]
    omit: frozenset[str] = frozenset()
    """Zones not printed at all (a missing-field defect)."""


# --------------------------------------------------------------------------- the kit


def _load_font(path: Path, size: float, *, index: int = 0) -> Any:
    if not path.exists():
        package = "fonts-ocr-b" if "ocr" in path.name.lower() else "fonts-arphic-uming"
        raise InvalidField("font", f"not found: install the Debian package {package}", str(path))
    return ImageFont.truetype(str(path), size, index=index)


def render_mrz_glyphs(font_path: Path, geometry: MrzGeometry) -> np.ndarray:
    """The 37 MRZ characters in OCR-B, one per character cell, at the page scale.

    The font size is chosen so that the glyph advance equals the pitch, which
    makes the capital height the nominal 2.46 mm of OCR-B size 1.

    Parameters
    ----------
    font_path : Path
        OCR-B (``OCRB.otf``).
    geometry : MrzGeometry
        Supplies the pitch and cell height in pixels.

    Returns
    -------
    np.ndarray
        ``(37, cell_height_px, pitch_px) uint8``: ink coverage 0-255 in ``MRZ_GLYPHS`` order,
        each glyph on the cell's baseline so that capitals centre on the cell.
    """
    probe = _load_font(font_path, 100)
    advance_per_px = probe.getlength("A") / 100.0
    font = _load_font(font_path, geometry.pitch_px / advance_per_px)
    pitch, height = geometry.pitch_px, geometry.cell_height_px
    baseline = height / 2 + geometry.cap_height_px / 2
    atlas = np.zeros((len(MRZ_GLYPHS), height, pitch), np.uint8)
    for i, char in enumerate(MRZ_GLYPHS):
        canvas = Image.new("L", (pitch, height), 0)
        ImageDraw.Draw(canvas).text((0, baseline), char, font=font, fill=255, anchor="ls")
        atlas[i] = np.asarray(canvas)
    atlas.setflags(write=False)
    return atlas


def _guilloche(shape: tuple[int, int], bottom: int, dpi: int) -> np.ndarray:
    """Fine interlaced curves in light tints over the page above ``bottom``: a deterministic pattern."""
    h, w = shape
    page = np.empty((h, w, 3), np.uint8)
    page[:] = _PAPER_BGR
    t = np.linspace(0.0, 2.0 * np.pi, 4000)
    cx, cy = w * 0.62, bottom * 0.55
    thickness = max(1, dpi // 300)
    for k in range(28):
        phase = k * np.pi / 14
        r = (0.30 + 0.05 * np.sin(7 * t + phase)) * min(w, bottom * 1.6)
        x = cx + r * np.cos(t + phase / 7) * 1.25
        y = cy + r * np.sin(t + phase / 7) * 0.55
        points = np.stack([x, y], axis=1).round().astype(np.int32)
        cv2.polylines(page, [points], True, _TINTS_BGR[k % 3], thickness, cv2.LINE_AA)
    for k in range(0, bottom, max(6, dpi // 40)):
        xs = np.arange(0, w, 4)
        ys = k + 3.0 * np.sin(xs / (w / 18.0) + k)
        points = np.stack([xs, ys], axis=1).round().astype(np.int32)
        cv2.polylines(page, [points], False, _TINTS_BGR[(k // 7) % 3], 1, cv2.LINE_AA)
    page[bottom:] = _PAPER_BGR  # ICAO 9303 Part 3: nothing in the MRZ may disturb reading
    return page


def _draw_static(page: np.ndarray, layout: PageLayout, fonts: FontFiles) -> np.ndarray:
    image = Image.fromarray(np.ascontiguousarray(page[:, :, ::-1]))  # Pillow draws RGB
    draw = ImageDraw.Draw(image)
    dpi = layout.dpi
    card = layout.width_mm < 100
    title_font = _load_font(fonts.cjk, mm_to_px(2.8 if card else 4.0, dpi))
    title_en_font = _load_font(fonts.cjk, mm_to_px(1.6 if card else 2.4, dpi))
    label_font = _load_font(fonts.cjk, mm_to_px(1.15 if card else 1.6, dpi))
    rgb = lambda bgr: tuple(reversed(bgr))  # noqa: E731
    w = layout.shape[1]
    if card:
        # A card's header sits at the top left, beside the document number.
        x, limit = mm_to_px(3.0, dpi), mm_to_px(55.0, dpi)
        lines = (("中华人民共和国", title_en_font, 0.8), (layout.title_cn, title_font, 2.4),
                 (layout.title_en.upper(), _load_font(fonts.cjk, mm_to_px(1.25, dpi)), 5.6))
        for text, font, y_mm in lines:
            while font.getlength(text) > limit and font.size > 8:
                font = font.font_variant(size=font.size - 1)
            draw.text((x, mm_to_px(y_mm, dpi)), text, font=font, fill=rgb(_TITLE_BGR), anchor="lt")
    else:
        draw.text((w / 2, mm_to_px(1.0, dpi)), "中华人民共和国", font=title_en_font, fill=rgb(_TITLE_BGR),
                  anchor="mt")
        y_title = mm_to_px(4.5, dpi)
        draw.text((w / 2, y_title), layout.title_cn, font=title_font, fill=rgb(_TITLE_BGR), anchor="mt")
        draw.text((w / 2, y_title + mm_to_px(5.0, dpi)), layout.title_en.upper(), font=title_en_font,
                  fill=rgb(_TITLE_BGR), anchor="mt")
    for zone in layout.zones:
        label = "/".join(p for p in (zone.label_cn, zone.label_en) if p)
        if label:
            draw.text((zone.box.x0, zone.box.y0 - 1), label, font=label_font, fill=rgb(_LABEL_BGR), anchor="lb")
    if layout.name == "td3_booklet":
        # The fixed data of a PRC passport page: type and issuing state, printed with the blank.
        value_font = _load_font(fonts.ocrb, mm_to_px(3.3, dpi))
        top = layout.zone("document_number").box
        for x_mm, label, value in ((41.0, "类型/Type", "P"), (60.0, "国家码/Country code", "CHN")):
            x = mm_to_px(x_mm, dpi)
            draw.text((x, top.y0 - 1), label, font=label_font, fill=rgb(_LABEL_BGR), anchor="lb")
            draw.text((x, (top.y0 + top.y1) / 2), value, font=value_font, fill=(22, 24, 28), anchor="lm")
    return np.asarray(image)[:, :, ::-1].copy()


def build_render_kit(
    documents: Mapping[str, DocumentType], *, dpi: int = DEFAULT_DPI, fonts: FontFiles = FontFiles()
) -> RenderKit:
    """Load the fonts and pre-render the static part of each document type's page.

    This is the only function of the module that reads files (the fonts).
    Takes about a second; build one kit per process and pass it in.

    Parameters
    ----------
    documents : Mapping[str, DocumentType]
        ``config.documents``: one layout and background per document type.
    dpi : int
        Print resolution (300 by default).
    fonts : FontFiles
        OCR-B and AR PL UMing font files.

    Raises
    ------
    InvalidField
        When a font file is missing (naming the Debian package) or the resolution is unusable.
    """
    layouts = {name: page_layout(doc, dpi=dpi) for name, doc in documents.items()}
    loaded: dict[tuple[str, int], Any] = {}
    glyphs: dict[tuple[int, int], np.ndarray] = {}
    backgrounds: dict[str, np.ndarray] = {}
    for name, layout in layouts.items():
        for zone in layout.zones:
            if zone.kind == "text" and (zone.font, zone.text_px) not in loaded:
                path = fonts.cjk if zone.font == "cjk" else fonts.ocrb
                loaded[(zone.font, zone.text_px)] = _load_font(path, zone.text_px)
        bottom = layout.zone("mrz").box.y0 if layout.mrz is not None else layout.shape[0]
        if layout.mrz is not None:
            key = (layout.mrz.pitch_px, layout.mrz.cell_height_px)
            if key not in glyphs:
                glyphs[key] = render_mrz_glyphs(fonts.ocrb, layout.mrz)
        background = _draw_static(_guilloche(layout.shape, bottom, dpi), layout, fonts)
        background.setflags(write=False)
        backgrounds[name] = background
    return RenderKit(
        dpi=dpi,
        layouts=MappingProxyType(layouts),
        backgrounds=MappingProxyType(backgrounds),
        fonts=MappingProxyType(loaded),
        mrz_glyphs=MappingProxyType(glyphs),
    )


# --------------------------------------------------------------------------- drawing


def _ink_box(alpha: np.ndarray) -> tuple[slice, slice] | None:
    """The rows and columns of ``alpha`` that hold any ink, as one box; None when there is none."""
    rows = np.flatnonzero(alpha.any(axis=1))
    if rows.size == 0:
        return None
    columns = np.flatnonzero(alpha.any(axis=0))
    return slice(int(rows[0]), int(rows[-1]) + 1), slice(int(columns[0]), int(columns[-1]) + 1)


def _apply_ink(region: np.ndarray, alpha: np.ndarray, colour: np.ndarray) -> None:
    """Lay ink of ``colour`` with coverage ``alpha`` (0-255) over ``region`` in place."""
    box = _ink_box(alpha)
    if box is None:
        return
    # Only the inked box is blended: a name fills a fraction of its zone, and the blend is
    # the page's costliest step (the pixels outside would come out unchanged anyway).
    alpha, region = alpha[box], region[box]
    ink = np.empty_like(region)
    ink[:] = colour
    # region + (colour - region) * alpha / 255 as one SIMD pass (3.5x numpy's float steps, same pixels).
    coverage = alpha.astype(np.float32)
    np.copyto(region, cv2.blendLinear(region, ink, 255.0 - coverage, coverage))


def text_alpha(text: str, zone: Zone, font: Any) -> np.ndarray:
    """The ink coverage of ``text`` in a zone-sized ``(h, w) uint8``; squeezed to fit if too long.

    QA draws the expected text with this same function.
    """
    w, h = zone.box.width, zone.box.height
    length = int(np.ceil(font.getlength(text))) + 2
    canvas = Image.new("L", (max(w, length), h), 0)
    ImageDraw.Draw(canvas).text((1, h / 2), text, font=font, fill=255, anchor="lm")
    alpha = np.asarray(canvas)
    if alpha.shape[1] > w:
        # A long name is printed condensed rather than cut off, as personalization software does.
        alpha = cv2.resize(alpha, (w, h), interpolation=cv2.INTER_AREA)
    return alpha


_TEXT_MEMO_LIMIT = 2048
"""Texts a kit remembers (a few MB: each keeps only its inked box)."""


def _text_ink(text: str, zone: Zone, kit: RenderKit) -> tuple[np.ndarray, int, int]:
    """``text_alpha`` of a zone cropped to its inked box, with the box's top and left in the zone."""
    key = (zone.font, zone.text_px, zone.box.width, zone.box.height, text)
    memo = kit.text_memo
    found = memo.get(key)
    if found is not None:
        memo.move_to_end(key)
        return found
    alpha = text_alpha(text, zone, kit.fonts[(zone.font, zone.text_px)])
    box = _ink_box(alpha)
    if box is None:
        found = (np.zeros((0, 0), np.uint8), 0, 0)
    else:
        ink = alpha[box].copy()
        ink.setflags(write=False)
        found = (ink, box[0].start, box[1].start)
    memo[key] = found
    while len(memo) > _TEXT_MEMO_LIMIT:
        memo.popitem(last=False)
    return found


def _fit(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """Scale and centre-crop ``image`` to exactly ``(height, width)`` (cover, keeping proportions)."""
    ih, iw = image.shape[:2]
    scale = max(width / iw, height / ih)
    cw, ch = min(iw, int(round(width / scale))), min(ih, int(round(height / scale)))
    x0, y0 = (iw - cw) // 2, (ih - ch) // 2
    crop = image[y0:y0 + ch, x0:x0 + cw]
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    return cv2.resize(crop, (width, height), interpolation=interpolation)


def _as_bgr(image: np.ndarray, what: str) -> np.ndarray:
    if image.dtype != np.uint8:
        raise InvalidField(what, "must be a uint8 image", str(image.dtype))
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    if image.ndim == 3 and image.shape[2] == 3:
        return image
    if image.ndim == 3 and image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    raise InvalidField(what, "must be (h, w), (h, w, 3) or (h, w, 4)", image.shape)


def _as_grey(image: np.ndarray, what: str) -> np.ndarray:
    if image.dtype != np.uint8:
        raise InvalidField(what, "must be a uint8 image", str(image.dtype))
    if image.ndim == 2:
        return image
    if image.ndim == 3 and image.shape[2] == 4:
        # Transparent pixels are paper, whatever colour they store.
        grey = cv2.cvtColor(image, cv2.COLOR_BGRA2GRAY)
        return np.where(image[:, :, 3] < 128, 255, grey).astype(np.uint8)
    if image.ndim == 3 and image.shape[2] == 3:
        return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    raise InvalidField(what, "must be (h, w), (h, w, 3) or (h, w, 4)", image.shape)


def _draw_photo(page: np.ndarray, zone: Zone, photo: np.ndarray) -> None:
    page[zone.box.slices] = _fit(_as_bgr(photo, "photo"), zone.box.width, zone.box.height)


def _draw_ghost(page: np.ndarray, zone: Zone, photo: np.ndarray) -> None:
    grey = _fit(_as_grey(photo, "photo"), zone.box.width, zone.box.height)
    alpha = ((255 - grey.astype(np.float32)) * _GHOST_STRENGTH).astype(np.uint8)
    _apply_ink(page[zone.box.slices], alpha, _GHOST_BGR)


def _draw_signature(page: np.ndarray, zone: Zone, signature: np.ndarray) -> None:
    grey = _as_grey(signature, "signature")
    ih, iw = grey.shape
    scale = min(zone.box.width / iw, zone.box.height / ih)
    w, h = max(1, int(iw * scale)), max(1, int(ih * scale))
    small = cv2.resize(grey, (w, h), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    # Paper in the capture (light grey) is not ink: only strokes transfer.
    alpha = np.clip((235.0 - small.astype(np.float32)) * (255.0 / 200.0), 0, 255).astype(np.uint8)
    y0 = zone.box.y0 + (zone.box.height - h) // 2
    x0 = zone.box.x0
    _apply_ink(page[y0:y0 + h, x0:x0 + w], alpha, _SIGNATURE_BGR)


def _draw_mrz(page: np.ndarray, zone: Zone, geometry: MrzGeometry, glyphs: np.ndarray,
              lines: Sequence[str]) -> None:
    if len(lines) != geometry.line_count:
        raise InvalidField("mrz_lines", f"must be {geometry.line_count} line(s)", len(lines))
    lookup = np.full(128, -1, np.int16)
    lookup[np.frombuffer(MRZ_GLYPHS.encode(), np.uint8)] = np.arange(len(MRZ_GLYPHS))
    h, p = geometry.cell_height_px, geometry.pitch_px
    for number, (line, top) in enumerate(zip(lines, geometry.line_top_y)):
        if len(line) != geometry.line_length or not line.isascii():
            raise InvalidField(f"mrz_lines[{number}]", f"must be {geometry.line_length} MRZ characters", line)
        index = lookup[np.frombuffer(line.encode(), np.uint8)]
        if (index < 0).any():
            raise InvalidField(f"mrz_lines[{number}]", "has a character outside A-Z, 0-9 and <", line)
        # (n, h, p) cells side by side -> one (h, n * p) strip, laid in one go.
        strip = glyphs[index].transpose(1, 0, 2).reshape(h, len(line) * p)
        y0 = zone.box.y0 + top
        x0 = zone.box.x0 + geometry.first_char_x
        _apply_ink(page[y0:y0 + h, x0:x0 + strip.shape[1]], strip, _MRZ_BGR)


def page_content(record: Any, photo: np.ndarray | None, signature: np.ndarray | None,
                 mrz_lines: Sequence[str]) -> PageContent:
    """The content a clean print of ``record`` carries (texts from ``field_texts``)."""
    return PageContent(
        doc_type=record.doc_type,
        texts=MappingProxyType(dict(field_texts(record))),
        photo=photo,
        signature=signature,
        mrz_lines=tuple(mrz_lines),
    )


def render_content(content: PageContent, kit: RenderKit) -> np.ndarray:
    """Draw ``content`` on a fresh copy of its document type's background.

    Returns
    -------
    np.ndarray
        ``(h, w, 3) uint8`` BGR at ``kit.dpi``; ``(1039, 1476, 3)`` for a TD3 page
        and ``(638, 1011, 3)`` for a TD1 card at 300 dpi.

    Raises
    ------
    InvalidField
        For an unknown document type, MRZ lines of the wrong count, length or
        alphabet, or images of the wrong dtype or shape.
    """
    layout = kit.layout(content.doc_type)
    page = kit.backgrounds[content.doc_type].copy()
    for zone in layout.zones:
        if zone.name in content.omit:
            continue
        if zone.kind == "text":
            text = content.texts.get(zone.name, "")
            if text:
                ink, top, left = _text_ink(text, zone, kit)
                y0, x0 = zone.box.y0 + top, zone.box.x0 + left
                _apply_ink(page[y0:y0 + ink.shape[0], x0:x0 + ink.shape[1]], ink, _TEXT_BGR)
        elif zone.kind == "photo" and content.photo is not None:
            _draw_photo(page, zone, content.photo)
        elif zone.kind == "ghost" and content.photo is not None:
            _draw_ghost(page, zone, content.photo)
        elif zone.kind == "signature" and content.signature is not None:
            _draw_signature(page, zone, content.signature)
        elif zone.kind == "mrz" and layout.mrz is not None:
            _draw_mrz(page, zone, layout.mrz, kit.glyphs_for(layout.mrz), content.mrz_lines)
    if layout.mrz is None and content.mrz_lines:
        raise InvalidField("mrz_lines", f"{content.doc_type} has no MRZ", content.mrz_lines)
    return page


def render_page(record: Any, photo: np.ndarray | None, signature: np.ndarray | None, kit: RenderKit,
                *, mrz_lines: Sequence[str] | None = None) -> np.ndarray:
    """Render the clean data page of a bound record.

    Parameters
    ----------
    record : Application
        Bound to its blank (``document_number``, ``date_of_issue``, ``date_of_expiry``).
    photo : np.ndarray
        The enrolled portrait, ``(h, w, 3) uint8`` BGR (or grey).
    signature : np.ndarray
        The captured signature, ``(h, w) uint8`` grey, dark ink on white.
    kit : RenderKit
        From ``build_render_kit``.
    mrz_lines : sequence of str, optional
        The MRZ as ``factory.mrz.encode_record(record)`` gives it; computed here when omitted.

    Returns
    -------
    np.ndarray
        ``(h, w, 3) uint8`` BGR page.
    """
    if mrz_lines is None:
        from factory.mrz import encode_record

        mrz_lines = encode_record(record)
    return render_content(page_content(record, photo, signature, mrz_lines), kit)

