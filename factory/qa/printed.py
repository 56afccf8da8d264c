"""After printing: every printed page against its record, in batches.

``build_qa_kit`` prepares once per process everything that does not change
between pages: the render kit's fonts and backgrounds (in grey, at half
resolution), the print model measured from the renderer, the MRZ templates
of each layout. ``check_printed(records, pages, photos, signatures, kit)`` is
then a pure function of arrays and records: it groups the batch by layout and
runs each check family once per group over ``(n, h, w)`` arrays, then the
batch-wide photo similarity matrix, and returns one ``BatchVerdict``.

The checks (``PRINTED_CHECKS``), each with a value, a threshold and a zone:

- the capture: ``page_format`` (a page of the wrong size, dtype or channels
  fails it, and every other check with it, instead of sinking the batch);
- MRZ: ``mrz_confidence``, ``mrz_check_digits``, ``mrz_document_number``,
  ``mrz_name``, ``mrz_date_of_birth``, ``mrz_date_of_expiry``,
  ``mrz_other_fields``, ``mrz_viz_consistency``;
- the record: ``document_validity`` (expiry = issue + validity for the age);
- the visual zone, rendered and compared field by field: ``viz_<field>`` for
  the 11 text fields of ``factory.devices.layout.TEXT_ZONES``, and the MRZ as
  an image: ``mrz_print``;
- images: ``photo_match``, ``photo_swap`` (batch similarity matrix),
  ``ghost_match``, ``signature_match``;
- print quality: ``print_misregistration``, ``print_smudge``,
  ``print_dropout``, ``print_banding``, ``print_missing_field``,
  ``print_fidelity``.

The expected page is composed in grey at half resolution (``expected_pages``,
parts from ``factory.qa.expected``); every comparison but the MRZ read-back
(full resolution) and the colour planes runs there.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

import cv2
import numpy as np

from factory.config import DocumentType
from factory.devices.layout import TEXT_ZONES, Box, PageLayout, field_texts
from factory.devices.render import RenderKit
from factory.errors import InvalidField
from factory.qa.expected import PrintModel, as_grey, calibrate_print_model, mrz_alpha, text_alpha
from factory.qa.mrz_reader import MrzTemplates, build_mrz_templates
from factory.qa.mrz_readback import MRZ_CHECKS, SecondOpinion, compare_mrz, expected_mrz, mrz_checks, validity_check
from factory.qa.photo import FEATURE_SHAPE, band_pass, fit_cover, photo_features
from factory.qa.print_quality import (
    banding_amplitude,
    dropout_length,
    halve,
    ink_ratio,
    local_difference,
    plane_shifts,
    smudge_depth,
)
from factory.qa.verdicts import BatchVerdict, Check, make_check, merge_verdicts

__all__ = [
    "PRINTED_CHECKS",
    "PrintedThresholds",
    "QaKit",
    "build_qa_kit",
    "check_printed",
    "expected_pages",
]

_CHUNK = 8
"""Pages checked together per pass; the photo similarity matrix still spans the whole batch."""

PRINTED_CHECKS: tuple[str, ...] = (
    "page_format",
    *MRZ_CHECKS,
    "document_validity",
    *(f"viz_{name}" for name in TEXT_ZONES),
    "mrz_print",
    "photo_match",
    "photo_swap",
    "ghost_match",
    "signature_match",
    "print_misregistration",
    "print_smudge",
    "print_dropout",
    "print_banding",
    "print_missing_field",
    "print_fidelity",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class PrintedThresholds:
    """The limits of the after-printing checks (measured separations in docs/qa.md)."""

    mrz_min_confidence: float = 0.05
    """Top-2 margin of the MRZ template match under which a character is uncertain."""
    viz_difference: float = 0.15
    """Largest mean difference over a small window (``viz_window``), as a share of the ink contrast."""
    viz_window: int = 5
    """Side (half-resolution pixels, 0.85 mm) of the window a misprinted stroke must fill."""
    photo_match: float = 0.80
    """Least band-passed correlation of the printed photo with the enrolled one."""
    photo_swap_margin: float = 0.0
    """Another enrolled photo of the batch may not match a printed photo better than its own plus this."""
    ghost_match: float = 0.80
    signature_match: float = 0.80
    misregistration_px: float = 0.6
    """Largest shift between colour planes, in full-resolution pixels."""
    smudge_depth: float = 0.08
    """Relative darkening of the darkest soft blob (0.08 = 8 % darker than expected)."""
    dropout: float = 60.0
    """Summed excess difference (grey levels) along the worst two-pixel line (half resolution)."""
    dropout_tolerance: float = 2.5
    """Grey levels a pixel may differ from expected and still count as clean (clean prints: under 3
    anywhere, almost never above 2.5 along a line)."""
    dropout_extent: int = 60
    """Least length (half-resolution pixels, 10 mm) a streak's differing pixels spread over."""
    banding: float = 0.02
    """Amplitude of a periodic density ripple over the light areas (0.02: a 4 % ripple measures 0.033)."""
    missing_ink_ratio: float = 0.5
    """Least share of a zone's expected ink that must be on the page."""
    fidelity: float = 6.0
    """Largest difference (grey levels, half resolution) between the printed and the expected page.

    The simulated print path adds no capture noise, so a clean print differs
    from the expected page by rounding only (under 3 levels); a camera's noise
    floor would set this limit on a real line."""


@dataclass(frozen=True, slots=True)
class _LayoutQa:
    layout: PageLayout
    background: np.ndarray
    """``(h, w) float32`` grey static background, full resolution."""
    background_half: np.ndarray
    """``(h // 2, w // 2) float32``."""
    half_boxes: Mapping[str, Box]
    """Zone name -> its box at half resolution (covering the zone)."""
    templates: MrzTemplates | None
    registration_box: Box
    """Half-resolution box of neutral ink where colour planes are compared."""
    cacheable: frozenset[str]
    """Text zones no later zone overlaps: their half-resolution block depends on the text only."""


@dataclass(slots=True)
class QaKit:
    """Everything ``check_printed`` needs besides the batch; build once per process with ``build_qa_kit``.

    ``text_memo`` caches the expected half-resolution block of text zones
    (the same text in the same zone always prints the same): sexes,
    nationalities, places, issue and expiry dates and common surnames repeat
    from page to page. The oldest entries go first when it is full.
    """

    render: RenderKit
    documents: Mapping[str, DocumentType]
    model: PrintModel
    layouts: Mapping[str, _LayoutQa]
    thresholds: PrintedThresholds = PrintedThresholds()
    text_memo: dict[tuple[str, str, str], np.ndarray] = field(default_factory=dict, repr=False)
    memo_limit: int = 4096

    def text_alpha(self, doc_type: str, zone_name: str, text: str) -> np.ndarray:
        """``(zh, zw) float32`` ink coverage of ``text`` in a zone."""
        zone = self.layouts[doc_type].layout.zone(zone_name)
        if not text:
            return np.zeros((zone.box.height, zone.box.width), np.float32)
        alpha = text_alpha(text, zone, self.render.fonts[(zone.font, zone.text_px)]).astype(np.float32)
        alpha *= 1.0 / 255.0
        return alpha

    def text_block(self, doc_type: str, zone_name: str, text: str) -> np.ndarray:
        """The expected half-resolution block of a cacheable text zone."""
        key = (doc_type, zone_name, text)
        block = self.text_memo.get(key)
        if block is None:
            lq = self.layouts[doc_type]
            half = lq.half_boxes[zone_name]
            target = np.zeros((half.y1, half.x1), np.float32)
            _compose_zone(target, lq, zone_name, self.text_alpha(doc_type, zone_name, text), [], alpha=True,
                          ink=self.model.text_ink)
            block = target[half.y0:, half.x0:]
            block.setflags(write=False)
            while len(self.text_memo) >= self.memo_limit:
                del self.text_memo[next(iter(self.text_memo))]
            self.text_memo[key] = block
        return block


def _half_box(box: Box) -> Box:
    return Box(box.x0 // 2, box.y0 // 2, (box.x1 + 1) // 2, (box.y1 + 1) // 2)


def build_qa_kit(render_kit: RenderKit, documents: Mapping[str, DocumentType], *,
                 thresholds: PrintedThresholds = PrintedThresholds()) -> QaKit:
    """Prepare the after-printing checks for the document types of a render kit.

    Parameters
    ----------
    render_kit : RenderKit
        ``factory.devices.render.build_render_kit(config.documents)``.
    documents : Mapping[str, DocumentType]
        ``config.documents`` (validity rules).
    thresholds : PrintedThresholds
        The limits of the checks.
    """
    model = calibrate_print_model(render_kit)
    layouts = {}
    for doc_type, layout in render_kit.layouts.items():
        background = as_grey(render_kit.backgrounds[doc_type]).astype(np.float32)
        background_half = halve(background)
        half_boxes = {zone.name: _half_box(zone.box) for zone in layout.zones}
        templates = None
        if layout.mrz is not None:
            templates = build_mrz_templates(render_kit.glyphs_for(layout.mrz), layout.mrz)
            mrz_box = half_boxes["mrz"]
            g = layout.mrz
            top = (layout.zone("mrz").box.y0 + min(g.line_top_y)) // 2
            bottom = (layout.zone("mrz").box.y0 + max(g.line_top_y) + g.cell_height_px) // 2
            left = (layout.zone("mrz").box.x0 + g.first_char_x) // 2
            right = left + g.line_width_px // 2
            registration = Box(left, max(top - 2, mrz_box.y0), right, min(bottom + 2, mrz_box.y1))
        else:
            text = [half_boxes[name] for name in TEXT_ZONES if name in half_boxes]
            registration = Box(min(b.x0 for b in text), min(b.y0 for b in text),
                               max(b.x1 for b in text), max(b.y1 for b in text))
        cacheable = set()
        for k, zone in enumerate(layout.zones):
            box = half_boxes[zone.name]
            later = [half_boxes[z.name] for z in layout.zones[k + 1:]]
            if zone.kind == "text" and not any(b.x0 < box.x1 and box.x0 < b.x1 and b.y0 < box.y1 and box.y0 < b.y1
                                               for b in later):
                cacheable.add(zone.name)
        for array in (background, background_half):
            array.setflags(write=False)
        layouts[doc_type] = _LayoutQa(layout=layout, background=background, background_half=background_half,
                                      half_boxes=MappingProxyType(half_boxes),
                                      templates=templates, registration_box=registration,
                                      cacheable=frozenset(cacheable))
    return QaKit(render=render_kit, documents=documents, model=model, layouts=MappingProxyType(layouts),
                 thresholds=thresholds)


# --------------------------------------------------------------------------- the expected page


@dataclass(slots=True)
class _Expected:
    grey: np.ndarray
    """``(n, h2, w2) float32`` expected grey pages at half resolution."""
    photo_ok: np.ndarray
    """``(n,) bool``: an enrolled photo was given."""


def _compose_zone(target: np.ndarray, lq: _LayoutQa, name: str, content: np.ndarray, done: list, *,
                  alpha: bool, ink: float = 0.0) -> None:
    """Lay ``content`` (alpha or grey of the zone, full resolution) and write its half-resolution block.

    ``done`` holds the full-resolution regions composed so far on this page:
    zones may overlap (a card's ghost image lies over the end of its expiry
    date), and a later zone is laid over what the earlier ones left, as the
    printer does.
    """
    box = lq.layout.zone(name).box
    half = lq.half_boxes[name]
    y0, x0 = half.y0 * 2, half.x0 * 2
    y1, x1 = min(half.y1 * 2, lq.background.shape[0]), min(half.x1 * 2, lq.background.shape[1])
    region = lq.background[y0:y1, x0:x1].copy()
    for (dy0, dx0, dy1, dx1), earlier in done:
        oy0, ox0, oy1, ox1 = max(y0, dy0), max(x0, dx0), min(y1, dy1), min(x1, dx1)
        if oy0 < oy1 and ox0 < ox1:
            region[oy0 - y0:oy1 - y0, ox0 - x0:ox1 - x0] = earlier[oy0 - dy0:oy1 - dy0, ox0 - dx0:ox1 - dx0]
    inner = region[box.y0 - y0:box.y1 - y0, box.x0 - x0:box.x1 - x0]
    if alpha:
        inner += (ink - inner) * content
    else:
        inner[...] = content
    done.append(((y0, x0, y1, x1), region))
    small = halve(region)
    target[half.y0:half.y0 + small.shape[0], half.x0:half.x0 + small.shape[1]] = small


def _expected_group(records: Sequence, photos: Sequence, signatures: Sequence, mrz_lines: Sequence,
                    lq: _LayoutQa, kit: QaKit) -> _Expected:
    n = len(records)
    layout = lq.layout
    doc_type = layout.doc_type
    model = kit.model
    grey = np.repeat(lq.background_half[None], n, axis=0)
    photo_ok = np.zeros(n, bool)
    for i, record in enumerate(records):
        texts = field_texts(record)
        page = grey[i]
        done: list = []
        for zone in layout.zones:
            if zone.kind == "text" and zone.name in lq.cacheable:
                half = lq.half_boxes[zone.name]
                block = kit.text_block(doc_type, zone.name, texts.get(zone.name, ""))
                page[half.y0:half.y0 + block.shape[0], half.x0:half.x0 + block.shape[1]] = block
            elif zone.kind == "text":
                _compose_zone(page, lq, zone.name, kit.text_alpha(doc_type, zone.name, texts.get(zone.name, "")),
                              done, alpha=True, ink=model.text_ink)
            elif zone.kind == "photo" and photos[i] is not None:
                photo_ok[i] = True
                _compose_zone(page, lq, zone.name,
                              fit_cover(as_grey(photos[i]), zone.box.width, zone.box.height).astype(np.float32), done,
                              alpha=False)
            elif zone.kind == "ghost" and photos[i] is not None:
                fitted = fit_cover(as_grey(photos[i]), zone.box.width, zone.box.height)
                _compose_zone(page, lq, zone.name, model.ghost_alpha[fitted], done, alpha=True, ink=model.ghost_ink)
            elif zone.kind == "signature" and signatures[i] is not None:
                sig = as_grey(signatures[i])
                ih, iw = sig.shape
                scale = min(zone.box.width / iw, zone.box.height / ih)
                w, h = max(1, int(iw * scale)), max(1, int(ih * scale))
                small = cv2.resize(sig, (w, h), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
                alpha = np.zeros((zone.box.height, zone.box.width), np.float32)
                dy = (zone.box.height - h) // 2
                alpha[dy:dy + h, :w] = model.signature_alpha[small]
                _compose_zone(page, lq, zone.name, alpha, done, alpha=True, ink=model.signature_ink)
            elif zone.kind == "mrz" and layout.mrz is not None and mrz_lines[i] is not None:
                alpha = mrz_alpha(mrz_lines[i], layout, kit.render.glyphs_for(layout.mrz)).astype(np.float32)
                _compose_zone(page, lq, zone.name, alpha * (1.0 / 255.0), done, alpha=True, ink=model.mrz_ink)
    return _Expected(grey=grey, photo_ok=photo_ok)


def expected_pages(records: Sequence, photos: Sequence, signatures: Sequence, kit: QaKit) -> np.ndarray:
    """The expected grey pages of records of one document type, at half resolution.

    Parameters
    ----------
    records : sequence of Application
        Bound records, all of one document type.
    photos, signatures : sequence of np.ndarray or None
        The enrolled portraits (BGR) and captured signatures (grey).
    kit : QaKit
        From ``build_qa_kit``.

    Returns
    -------
    np.ndarray
        ``(n, h // 2, w // 2) float32`` grey levels: what a clean print looks
        like once halved (``factory.qa.print_quality.halve``) and turned grey.
    """
    doc_types = {r.doc_type for r in records}
    if len(doc_types) > 1:
        raise InvalidField("records", "must be of one document type", sorted(doc_types))
    if not records:
        return np.zeros((0, 0, 0), np.float32)
    lq = kit.layouts[records[0].doc_type]
    lines = expected_mrz(records) if lq.layout.mrz is not None else [() for _ in records]
    return _expected_group(records, photos, signatures, lines, lq, kit).grey


# --------------------------------------------------------------------------- the checks of one group


def _zone_at(lq: _LayoutQa, row: int, column: int) -> str:
    for name, box in lq.half_boxes.items():
        if box.y0 <= row < box.y1 and box.x0 <= column < box.x1:
            return name
    return "page"


def _ncc(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise normalised cross-correlation of ``(n, d)`` arrays."""
    a = a - a.mean(axis=1, keepdims=True)
    b = b - b.mean(axis=1, keepdims=True)
    den = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)
    return np.where(den > 1e-6, (a * b).sum(axis=1) / np.maximum(den, 1e-6), 0.0)


def _band_passed(images: np.ndarray, sigmas: tuple[float, float]) -> np.ndarray:
    return np.stack([band_pass(np.ascontiguousarray(im), sigmas) for im in images]).reshape(len(images), -1)


def _check_group(records, pages, photos, signatures, lq: _LayoutQa, kit: QaKit,
                 second_opinion: SecondOpinion | None) -> tuple[BatchVerdict, np.ndarray, np.ndarray]:
    """The checks of one layout's pages; also the printed and enrolled photo features ``(n, d)``."""
    t = kit.thresholds
    n = len(records)
    layout = lq.layout
    checks: list[Check] = []

    # MRZ read-back (full resolution zone, one matrix product for the group).
    greys = [cv2.cvtColor(p, cv2.COLOR_BGR2GRAY) for p in pages]
    comparison = None
    if lq.templates is not None:
        comparison = compare_mrz(records, greys, layout, lq.templates, second_opinion=second_opinion,
                                 min_confidence=t.mrz_min_confidence)
    checks.extend(mrz_checks(records, comparison, min_confidence=t.mrz_min_confidence))
    checks.append(validity_check(records, kit.documents))

    # Half-resolution printed and expected pages.
    printed = np.stack([halve(g) for g in greys]).astype(np.float32)
    lines = expected_mrz(records) if layout.mrz is not None else [() for _ in records]
    expected = _expected_group(records, photos, signatures, lines, lq, kit)
    residual = printed - expected.grey
    contrast = lq.background_half[None] - kit.model.text_ink

    # The visual zone, field by field, and the MRZ as an image: rendered and compared.
    for name in (*TEXT_ZONES, "mrz"):
        check_name = "mrz_print" if name == "mrz" else f"viz_{name}"
        if name not in lq.half_boxes:
            checks.append(make_check(check_name, np.full(n, np.nan), threshold=t.viz_difference,
                                     rule=f"<= {t.viz_difference}", zone=name, applies=np.zeros(n, bool)))
            continue
        box = lq.half_boxes[name]
        region = (slice(None), slice(box.y0, box.y1), slice(box.x0, box.x1))
        scale = float(contrast[0][region[1:]].mean())
        value, where = local_difference(np.abs(residual[region]) * (1.0 / max(scale, 1.0)), t.viz_window)
        if name == "mrz":
            details = [f"mrz_print: the printed MRZ differs from the record's near ({2 * c}, {2 * r}) px of the "
                       f"zone ({v:.2f} of the ink contrast)" for v, (r, c) in zip(value, where)]
        else:
            texts = [field_texts(r)[name] for r in records]
            details = [f"viz_{name}: printed text differs from {texts[i]!r} near x = {2 * int(where[i, 1])} px "
                       f"of the zone ({value[i]:.2f} of the ink contrast)" for i in range(n)]
        checks.append(make_check(check_name, value, threshold=t.viz_difference, rule=f"<= {t.viz_difference}",
                                 zone=name, details=details))

    # Photo, ghost and signature against the enrolled images.
    photo_box = lq.half_boxes["photo"]
    printed_photos = printed[:, photo_box.y0:photo_box.y1, photo_box.x0:photo_box.x1]
    features = photo_features(printed_photos.astype(np.uint8))
    enrolled = np.zeros_like(features)
    have = np.flatnonzero(expected.photo_ok)
    if have.size:
        enrolled[have] = photo_features([photos[i] for i in have], crop=True)
    match = (features * enrolled).sum(axis=1)
    checks.append(make_check("photo_match", match, threshold=t.photo_match, rule=f">= {t.photo_match}",
                             zone="photo", ok=(match >= t.photo_match) & expected.photo_ok,
                             details=[f"photo_match: the printed photo correlates {m:.3f} with the enrolled one"
                                      if ok else "no enrolled photo to compare with"
                                      for m, ok in zip(match, expected.photo_ok)]))
    for name, threshold, sigmas in (("ghost", t.ghost_match, (1.0, 2.5)), ("signature", t.signature_match, (0.7, 3.0))):
        box = lq.half_boxes[name]
        region = (slice(None), slice(box.y0, box.y1), slice(box.x0, box.x1))
        background = lq.background_half[region[1:]][None]
        seen = _band_passed(background - printed[region], sigmas)
        wanted = _band_passed(background - expected.grey[region], sigmas)
        score = _ncc(seen, wanted)
        checks.append(make_check(f"{name}_match", score, threshold=threshold, rule=f">= {threshold}", zone=name,
                                 details=[f"{name}_match: the printed {name} correlates {s:.3f} with the expected one"
                                          for s in score]))

    # Print quality.
    box = lq.registration_box
    colour = np.stack([halve(p[2 * box.y0:2 * box.y1, 2 * box.x0:2 * box.x1]) for p in pages])
    shifts = plane_shifts(colour) * 2.0  # back to full-resolution pixels
    checks.append(make_check("print_misregistration", shifts, threshold=t.misregistration_px,
                             rule=f"<= {t.misregistration_px}", zone="mrz" if lq.templates is not None else "page",
                             details=[f"print_misregistration: colour planes {s:.2f} px apart" for s in shifts]))
    relative = residual / (expected.grey + 30.0)
    depth, where = smudge_depth(relative)
    smudge_zones = [_zone_at(lq, int(r), int(c)) for r, c in where]
    checks.append(make_check("print_smudge", depth, threshold=t.smudge_depth, rule=f"<= {t.smudge_depth}",
                             zone="page", zones=smudge_zones,
                             details=[f"print_smudge: {d:.0%} darker than expected at ({2 * c}, {2 * r}) px in {z}"
                                      for d, (r, c), z in zip(depth, where, smudge_zones)]))
    absolute = np.abs(residual)
    streak, where = dropout_length(absolute, tolerance=t.dropout_tolerance, extent=t.dropout_extent)
    dropout_zones = [_zone_at(lq, int(r), int(c)) for r, c in where]
    checks.append(make_check("print_dropout", streak, threshold=t.dropout, rule=f"<= {t.dropout}",
                             zone="page", zones=dropout_zones,
                             details=[f"print_dropout: a streak unlike the expected print ({s:.0f} grey levels along "
                                      f"its line) near ({2 * c}, {2 * r}) px in {z}"
                                      for s, (r, c), z in zip(streak, where, dropout_zones)]))
    banding = banding_amplitude(relative, expected.grey > 100.0)
    checks.append(make_check("print_banding", banding, threshold=t.banding, rule=f"<= {t.banding}", zone="page",
                             details=[f"print_banding: a periodic ripple of {b:.1%} density" for b in banding]))
    worst = np.ones(n)
    worst_zone = [""] * n
    for zone in layout.zones:
        box = lq.half_boxes[zone.name]
        region = (slice(None), slice(box.y0, box.y1), slice(box.x0, box.x1))
        background = lq.background_half[region[1:]][None]
        if zone.kind == "photo":
            seen = np.abs(printed[region] - background)
            wanted = np.abs(expected.grey[region] - background)
        else:
            seen = np.clip(background - printed[region], 0, None)
            wanted = np.clip(background - expected.grey[region], 0, None)
        ratio = ink_ratio(seen, wanted)
        lower = ratio < worst
        worst = np.where(lower, ratio, worst)
        for i in np.flatnonzero(lower):
            worst_zone[i] = zone.name
    checks.append(make_check("print_missing_field", worst, threshold=t.missing_ink_ratio,
                             rule=f">= {t.missing_ink_ratio}", zone="page", zones=worst_zone,
                             details=[f"print_missing_field: {z} carries {r:.0%} of its expected ink"
                                      for r, z in zip(worst, worst_zone)]))
    deviation = absolute.reshape(n, -1)
    worst_at = deviation.argmax(axis=1)
    largest = deviation[np.arange(n), worst_at]
    rows, columns = np.divmod(worst_at, residual.shape[2])
    fidelity_zones = [_zone_at(lq, int(r), int(c)) for r, c in zip(rows, columns)]
    checks.append(make_check("print_fidelity", largest, threshold=t.fidelity, rule=f"<= {t.fidelity}", zone="page",
                             zones=fidelity_zones,
                             details=[f"print_fidelity: the print differs from the expected page by {v:.0f} grey "
                                      f"levels at ({2 * c}, {2 * r}) px in {z}"
                                      for v, r, c, z in zip(largest, rows, columns, fidelity_zones)]))
    # Placeholder for the batch-wide photo_swap check, filled in by check_printed.
    checks.insert(len(MRZ_CHECKS) + 1 + len(TEXT_ZONES) + 2,
                  make_check("photo_swap", np.zeros(n), threshold=0, rule="< 0", zone="photo"))
    read = tuple(tuple(t) for t in comparison.readout.texts) if comparison is not None else ((),) * n
    return BatchVerdict(checks=tuple(checks), n=n, mrz_read=read), features, enrolled


def check_printed(
    records: Sequence,
    pages: Sequence[np.ndarray],
    photos: Sequence[np.ndarray | None],
    signatures: Sequence[np.ndarray | None],
    kit: QaKit,
    *,
    second_opinion: SecondOpinion | None = None,
) -> BatchVerdict:
    """Check a batch of printed pages against their records.

    Parameters
    ----------
    records : sequence of Application
        Bound to their blanks (``document_number``, ``date_of_issue``,
        ``date_of_expiry``); any mix of document types.
    pages : sequence of np.ndarray
        The captured pages, ``(h, w, 3) uint8`` BGR at the kit's resolution
        (``(1039, 1476, 3)`` for a TD3 page, ``(638, 1011, 3)`` for a card at
        300 dpi), one per record.
    photos : sequence of np.ndarray or None
        The enrolled portraits, ``(h, w, 3) uint8`` BGR.
    signatures : sequence of np.ndarray or None
        The captured signatures, ``(h, w) uint8`` grey.
    kit : QaKit
        From ``build_qa_kit``.
    second_opinion : callable, optional
        Reads uncertain MRZ characters (e.g. tesseract); never needed on the hot path.

    Returns
    -------
    BatchVerdict
        The checks of ``PRINTED_CHECKS`` for the ``n`` documents.

    Raises
    ------
    InvalidField
        When the lengths differ or a record's document type has no layout in
        the kit. A page of the wrong shape or dtype does not raise: it fails
        ``page_format`` (and every other check, not run), naming the page.
    """
    n = len(records)
    for name, values in (("pages", pages), ("photos", photos), ("signatures", signatures)):
        if len(values) != n:
            raise InvalidField(name, f"must have one entry per record ({n})", len(values))
    groups: dict[str, list[int]] = {}
    unusable: dict[int, str] = {}
    for i, record in enumerate(records):
        if record.doc_type not in kit.layouts:
            raise InvalidField(f"records[{i}].doc_type", "has no page layout in the QA kit", record.doc_type)
        problem = _page_problem(pages[i], kit.layouts[record.doc_type].layout)
        if problem:
            unusable[i] = f"pages[{i}] {problem}"
        else:
            groups.setdefault(record.doc_type, []).append(i)
    parts = []
    features = np.zeros((n, FEATURE_SHAPE[0] * FEATURE_SHAPE[1]), np.float32)
    enrolled = np.zeros_like(features)
    for doc_type, members in groups.items():
        # Chunks keep the (n, h, w) working arrays in cache-sized pieces: a 100-page
        # group would otherwise allocate ~150 MB per intermediate array.
        for start in range(0, len(members), _CHUNK):
            chunk = members[start:start + _CHUNK]
            index = np.array(chunk)
            verdict, chunk_features, chunk_enrolled = _check_group(
                [records[i] for i in chunk], [pages[i] for i in chunk], [photos[i] for i in chunk],
                [signatures[i] for i in chunk], kit.layouts[doc_type], kit, second_opinion)
            features[index] = chunk_features
            enrolled[index] = chunk_enrolled
            parts.append((index, verdict))
    if unusable:
        index = np.array(sorted(unusable))
        reasons = [unusable[i] for i in index]
        failed = tuple(make_check(name, np.full(len(index), np.nan), threshold=0, rule="== 0", zone="page",
                                  ok=np.zeros(len(index), bool), details=[f"{name}: not checked, {r}" for r in reasons])
                       for name in PRINTED_CHECKS[1:])
        parts.append((index, BatchVerdict(checks=failed, n=len(index))))
    merged = merge_verdicts(parts, n)
    if not merged.checks:  # an empty batch still names every check
        merged = BatchVerdict(checks=tuple(make_check(name, np.zeros(0), threshold=0, rule="== 0", zone="page")
                                           for name in PRINTED_CHECKS[1:]), n=0)
    usable = np.array([i not in unusable for i in range(n)], bool)
    page_format = make_check("page_format", usable.astype(float), threshold=1, rule="== 1", zone="page",
                             details=[unusable.get(i, "") for i in range(n)])
    swap = _photo_swap(records, features, enrolled, photos, kit.thresholds)
    checks = [swap if c.name == "photo_swap" else c for c in merged.checks]
    return BatchVerdict(checks=(page_format, *checks), n=n, mrz_read=merged.mrz_read or ((),) * n)


def _page_problem(page, layout: PageLayout) -> str:
    """Why ``page`` cannot be checked against ``layout`` ('' when it can)."""
    if not isinstance(page, np.ndarray):
        return "is not an image"
    if page.dtype != np.uint8 or page.ndim != 3 or page.shape[2] != 3:
        return f"must be a BGR uint8 image (got {page.dtype} {page.shape})"
    if page.shape[:2] != layout.shape:
        return (f"must be {layout.shape[1]} x {layout.shape[0]} px for {layout.doc_type} "
                f"(got {page.shape[1]} x {page.shape[0]})")
    return ""


def _photo_swap(records: Sequence, printed: np.ndarray, enrolled: np.ndarray, photos: Sequence,
                t: PrintedThresholds) -> Check:
    """One ``(n, n)`` similarity matrix: is a printed photo someone else's in this batch?"""
    n = len(records)
    have = np.array([p is not None for p in photos], bool)
    similarity = printed @ enrolled.T  # (printed i, enrolled j)
    own = np.diag(similarity).copy()
    others = similarity.copy()
    np.fill_diagonal(others, -np.inf)
    others[:, ~have] = -np.inf
    best = others.argmax(axis=1) if n > 1 else np.zeros(n, int)
    best_score = others[np.arange(n), best] if n > 1 else np.full(n, -np.inf)
    margin = np.where(np.isfinite(best_score), best_score - own, -1.0)
    details = [f"photo_swap: the printed photo is application {records[b].application_id}'s "
               f"({s:.3f}, own {o:.3f})" for b, s, o in zip(best, best_score, own)]
    return make_check("photo_swap", margin, threshold=t.photo_swap_margin, rule=f"< {t.photo_swap_margin}",
                      zone="photo", details=details)
