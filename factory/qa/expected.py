"""What a clean print of a record should look like: the parts and the ink levels.

QA renders what should be on the page and compares it with what was printed.
Calling the full renderer per page (~15-25 ms of BGR drawing) would eat the
whole time budget of the after-printing chain (100 documents/s on two cores),
so ``factory.qa.printed.expected_pages`` composes the expected page in grey
from parts that are cheap, which this module provides:

- the static background of each layout (``RenderKit.backgrounds``), converted
  to grey once;
- the ink coverage of each text zone, drawn by the renderer's own
  ``text_alpha`` with the kit's fonts and laid at the same place (the layout
  contract: text from (1, h/2), anchored left-middle, condensed to fit);
- the portrait and the ghost image, fitted to their zones (cover, centred);
- the signature, scaled to fit the zone's height, left-aligned, centred;
- the MRZ from the kit's OCR-B glyph atlas at the layout's pitch.

The ink levels (each ink's grey, the ghost and signature transfer curves) are
not copied from the renderer's code: ``calibrate_print_model`` measures them
once by rendering calibration content through the renderer's public API on
flat black and white backgrounds. A test holds the composed page against
``render_page`` on generated records.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from types import MappingProxyType

import cv2
import numpy as np

from factory.devices.layout import PageLayout
from factory.devices.render import MRZ_GLYPHS, PageContent, RenderKit, render_content, text_alpha
from factory.errors import InvalidField

__all__ = [
    "PrintModel",
    "calibrate_print_model",
    "text_alpha",
    "mrz_alpha",
    "as_grey",
]

_LUT_LEVELS = np.array([0, 32, 64, 96, 128, 160, 192, 208, 224, 232, 240, 248, 255])


@dataclass(frozen=True, slots=True)
class PrintModel:
    """Grey levels of the inks and the transfer curves of the images, measured from the renderer."""

    text_ink: float
    """Grey of text ink (0-255)."""
    mrz_ink: float
    signature_ink: float
    ghost_ink: float
    signature_alpha: np.ndarray
    """``(256,) float32``: ink coverage (0-1) for a signature pixel of each grey level."""
    ghost_alpha: np.ndarray
    """``(256,) float32``: ink coverage (0-1) of the ghost image for a portrait grey level."""


def as_grey(image: np.ndarray) -> np.ndarray:
    """``(h, w) uint8`` grey of a grey, BGR or BGRA uint8 image."""
    image = np.asarray(image)
    if image.dtype != np.uint8:
        raise InvalidField("image", "must be uint8", str(image.dtype))
    if image.ndim == 2:
        return image
    if image.ndim == 3 and image.shape[2] == 3:
        return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    if image.ndim == 3 and image.shape[2] == 4:
        grey = cv2.cvtColor(image, cv2.COLOR_BGRA2GRAY)
        return np.where(image[:, :, 3] < 128, 255, grey).astype(np.uint8)
    raise InvalidField("image", "must be (h, w), (h, w, 3) or (h, w, 4)", image.shape)


def mrz_alpha(lines: Sequence[str], layout: PageLayout, glyphs: np.ndarray) -> np.ndarray:
    """Ink coverage ``(zh, zw) uint8`` of MRZ ``lines`` in the layout's MRZ zone."""
    geometry = layout.mrz
    zone = layout.zone("mrz")
    out = np.zeros((zone.box.height, zone.box.width), np.uint8)
    if geometry is None or len(lines) != geometry.line_count:
        return out
    lookup = np.full(128, -1, np.int16)
    lookup[np.frombuffer(MRZ_GLYPHS.encode(), np.uint8)] = np.arange(len(MRZ_GLYPHS))
    h, p = geometry.cell_height_px, geometry.pitch_px
    for line, top in zip(lines, geometry.line_top_y):
        if len(line) != geometry.line_length or not line.isascii():
            continue
        index = lookup[np.frombuffer(line.encode(), np.uint8) & 127]
        if (index < 0).any():
            continue
        strip = glyphs[index].transpose(1, 0, 2).reshape(h, len(line) * p)
        x0 = geometry.first_char_x
        region = out[top:top + h, x0:x0 + strip.shape[1]]
        np.maximum(region, strip[:region.shape[0], :region.shape[1]], out=region)
    return out


def _flat_kit(kit: RenderKit, level: int) -> RenderKit:
    backgrounds = {name: np.full_like(bg, level) for name, bg in kit.backgrounds.items()}
    return dataclasses.replace(kit, backgrounds=MappingProxyType(backgrounds))


def calibrate_print_model(kit: RenderKit) -> PrintModel:
    """Measure the ink levels and transfer curves by rendering calibration pages.

    Renders content of known ink coverage on flat black and flat white
    backgrounds through ``render_content``; where a pixel ``p`` is printed with
    coverage ``a`` of ink ``c`` over background ``b``, ``p = b + (c - b) a``, so
    the two backgrounds give ``a = 1 - (p_white - p_black) / 255`` and
    ``c = p_black / a``.
    """
    doc_type = next((d for d, layout in kit.layouts.items() if layout.mrz is not None), None)
    if doc_type is None:
        raise InvalidField("kit", "needs a document type with an MRZ to calibrate the print model")
    layout = kit.layout(doc_type)
    black, white = _flat_kit(kit, 0), _flat_kit(kit, 255)
    text_zone = next(z for z in layout.zones if z.kind == "text")
    font = kit.fonts[(text_zone.font, text_zone.text_px)]
    texts = {text_zone.name: "MMMM"}
    mrz_lines = tuple("M" * layout.mrz.line_length for _ in range(layout.mrz.line_count))

    def transfer(photo_level: int, signature_level: int) -> tuple[np.ndarray, np.ndarray]:
        photo = np.full((80, 60), photo_level, np.uint8)
        signature = np.full((40, 120), signature_level, np.uint8)
        content = PageContent(doc_type=doc_type, texts=texts, photo=photo, signature=signature, mrz_lines=mrz_lines)
        return (as_grey(render_content(content, black)).astype(np.float32),
                as_grey(render_content(content, white)).astype(np.float32))

    def coverage(on_black: np.ndarray, on_white: np.ndarray) -> tuple[float, float]:
        alpha = float(np.median(1.0 - (on_white - on_black) / 255.0))
        ink = float(np.median(on_black)) / alpha if alpha > 0.02 else 0.0
        return alpha, ink

    def inner(zone_name: str) -> tuple[slice, slice]:
        box = layout.zone(zone_name).box
        # The signature is centred in its zone at its own height; sample the middle.
        return slice(box.y0 + box.height // 3, box.y1 - box.height // 3), slice(box.x0 + 2, box.x0 + 20)

    on_black, on_white = transfer(0, 0)
    solid = text_alpha("MMMM", text_zone, font) == 255
    text_ink = float(np.median(on_black[text_zone.box.slices][solid]))
    mrz_zone = layout.zone("mrz")
    full = mrz_alpha(mrz_lines, layout, kit.glyphs_for(layout.mrz)) == 255
    mrz_ink = float(np.median(on_black[mrz_zone.box.slices][full]))
    ghost_box = layout.zone("ghost").box.slices
    _, ghost_ink = coverage(on_black[ghost_box], on_white[ghost_box])
    _, signature_ink = coverage(on_black[inner("signature")], on_white[inner("signature")])
    ghost_curve, signature_curve = [], []
    for level in _LUT_LEVELS:
        on_black, on_white = transfer(int(level), int(level))
        ghost_curve.append(coverage(on_black[ghost_box], on_white[ghost_box])[0])
        signature_curve.append(coverage(on_black[inner("signature")], on_white[inner("signature")])[0])
    levels = np.arange(256)
    return PrintModel(
        text_ink=text_ink,
        mrz_ink=mrz_ink,
        signature_ink=signature_ink,
        ghost_ink=ghost_ink,
        signature_alpha=np.clip(np.interp(levels, _LUT_LEVELS, signature_curve), 0, 1).astype(np.float32),
        ghost_alpha=np.clip(np.interp(levels, _LUT_LEVELS, ghost_curve), 0, 1).astype(np.float32),
    )
