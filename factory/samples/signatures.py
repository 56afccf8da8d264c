"""Handwritten-looking signatures: the name in a brush font with per-writer jitter.

A real signature varies from one writer to the next and a little from one
character to the next: stroke weight, slant, character size, baseline and
spacing. The writer's habits (weight, slant, size, spacing) are drawn once
per applicant; each character then gets its own small rotation, size and
baseline wobble. The font is AR PL UKai (Debian fonts-arphic-ukai), the
brush style closest to handwriting among the packaged fonts.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

__all__ = ["SIGNATURE_SIZE", "UKAI_FONT", "SignatureWriter"]

SIGNATURE_SIZE = (480, 160)
"""(width, height) in pixels of the captured signature (ink on white)."""

UKAI_FONT = Path("/usr/share/fonts/truetype/arphic/ukai.ttc")


class SignatureWriter:
    """Renders signatures; holds the loaded font (build once, reuse).

    Parameters
    ----------
    font_path : Path
        A font with the GB2312 characters; AR PL UKai by default.
    glyph_px : int
        Nominal character height in pixels.
    """

    def __init__(self, font_path: Path = UKAI_FONT, *, glyph_px: int = 96) -> None:
        if not font_path.exists():
            raise FileNotFoundError(f"{font_path}: install the Debian package fonts-arphic-ukai")
        self.glyph_px = glyph_px
        self._font = ImageFont.truetype(str(font_path), glyph_px)
        self._glyphs: dict[str, np.ndarray] = {}

    def glyph(self, char: str) -> np.ndarray:
        """One character, black on white, ``(glyph_px * 1.25, glyph_px * 1.25)`` uint8."""
        glyph = self._glyphs.get(char)
        if glyph is None:  # rasterizing costs ~0.3 ms; names share a few hundred characters
            side = int(self.glyph_px * 1.25)
            canvas = Image.new("L", (side, side), 255)
            ImageDraw.Draw(canvas).text((side / 2, side / 2), char, font=self._font, fill=0, anchor="mm")
            glyph = np.asarray(canvas)
            glyph.flags.writeable = False
            self._glyphs[char] = glyph
        return glyph

    def write(self, text: str, rng: np.random.Generator) -> np.ndarray:
        """The signature of ``text`` by a writer drawn from ``rng``.

        Returns
        -------
        np.ndarray
            ``(160, 480)`` uint8 grey image, dark ink on a white background.
        """
        width, height = SIGNATURE_SIZE
        slant = rng.uniform(-0.25, 0.1)          # shear: most writers lean right
        weight = int(rng.integers(-1, 3))        # erode (<0) or dilate (>0) the strokes
        size = rng.uniform(0.85, 1.15)
        spacing = rng.uniform(0.78, 1.0)
        ink = np.full((height * 2, width * 2), 255, np.uint8)  # room before scaling down
        x = 20.0
        rows_used, right = [ink.shape[0], 0], 0
        for char in text:
            glyph = self.glyph(char)
            scale = size * rng.uniform(0.92, 1.08)
            angle = rng.uniform(-6, 6)
            side = glyph.shape[0]
            rotation = cv2.getRotationMatrix2D((side / 2, side / 2), angle, scale)
            warped = cv2.warpAffine(glyph, rotation, (side, side), borderValue=255)
            top = int(height - side / 2 + rng.uniform(-10, 10))
            left = int(x)
            if left + side > ink.shape[1]:
                break
            np.minimum(ink[top:top + side, left:left + side], warped, out=ink[top:top + side, left:left + side])
            rows_used, right = [min(rows_used[0], top), max(rows_used[1], top + side)], left + side
            x += side * spacing * scale
        # Shear only the written band (x' = x + slant * (y - height)), with a white
        # margin for the stroke weight: a quarter of the canvas, the same result.
        pad = 4
        r0, r1 = max(0, rows_used[0] - pad), min(ink.shape[0], rows_used[1] + pad)
        c0, c1 = max(0, 20 - pad), min(ink.shape[1], right + pad)
        if r1 <= r0:
            r0, r1 = 0, 1
        band = ink[r0:r1, c0:c1]
        reach = int(np.ceil(abs(slant) * (r1 - r0))) + pad
        shift = reach - int(np.floor(slant * (r0 - height)))  # whole pixels: the same sub-pixel phase
        out_w = band.shape[1] + 2 * reach
        shear = np.float32([[1, slant, slant * (r0 - height) + shift], [0, 1, 0]])
        ink = cv2.warpAffine(band, shear, (out_w, band.shape[0]), borderValue=255)
        if weight:
            kernel = np.ones((abs(weight) + 1, abs(weight) + 1), np.uint8)
            ink = cv2.erode(ink, kernel) if weight > 0 else cv2.dilate(ink, kernel)
        rows = np.where(ink.min(axis=1) < 200)[0]
        cols = np.where(ink.min(axis=0) < 200)[0]
        out = np.full((height, width), 255, np.uint8)
        if not rows.size:
            return out
        crop = ink[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
        # Fit the written line into the capture box with a margin, keeping its proportions.
        margin = 12
        scale = min((width - 2 * margin) / crop.shape[1], (height - 2 * margin) / crop.shape[0])
        small = cv2.resize(crop, (max(1, int(crop.shape[1] * scale)), max(1, int(crop.shape[0] * scale))),
                           interpolation=cv2.INTER_AREA)
        y0 = (height - small.shape[0]) // 2
        x0 = margin + int(rng.uniform(0, max(0, width - 2 * margin - small.shape[1])) * 0.3)
        out[y0:y0 + small.shape[0], x0:x0 + small.shape[1]] = small
        return out
