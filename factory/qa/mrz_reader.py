"""Reading the printed MRZ back: template matching of OCR-B glyphs at the known pitch.

Stock tesseract cannot read an MRZ (0/30 documents exact, research notes in
``qa-anchors.md``), but the font, the pitch and the position are known, so a
border reader's approach works: cut the zone into character cells where the
layout says they are and correlate every cell with the 37 glyphs of the MRZ
alphabet rendered in the same font at the same scale.

- ``build_mrz_templates`` turns a glyph atlas (``factory.devices.render.render_mrz_glyphs``,
  or a captured calibration card) into zero-mean, unit-norm templates with
  small shifts baked in.
- ``read_mrz`` registers each zone (line rows from the row profile, column
  phase from the Fourier phase of the column profile at the pitch frequency),
  cuts every cell of the batch, and scores them all as ONE matrix product
  ``cells @ templates.T``. It returns the best character per cell and the
  margin between the best and the second-best character as its confidence.

Pure: numpy and OpenCV over arrays; no files, no clock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import NamedTuple

import cv2
import numpy as np

from factory.devices.layout import MrzGeometry, PageLayout
from factory.errors import InvalidField

__all__ = [
    "MRZ_GLYPHS",
    "MrzTemplates",
    "MrzReadout",
    "build_mrz_templates",
    "mrz_zones",
    "read_mrz",
]

MRZ_GLYPHS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<"
"""Template order (the same as ``factory.devices.render.MRZ_GLYPHS``)."""


@dataclass(frozen=True, slots=True)
class MrzTemplates:
    """Zero-mean, unit-norm glyph templates for one MRZ geometry; build once, reuse per batch."""

    geometry: MrzGeometry
    matrix: np.ndarray
    """``(shifts * 37, d) float32``: the alphabet at each baked-in shift in turn, one glyph a row."""
    shifts: int
    """Variants per glyph (``(2 * shift_px + 1) ** 2``)."""
    downsample: int
    """Cells are averaged over ``downsample x downsample`` pixel blocks before matching."""
    cell_shape: tuple[int, int]
    """(height, width) in pixels of the cell cut from the zone, before downsampling."""
    ink_left: int
    """Typical left bearing of a glyph in its cell (pixels): finds the first character."""
    ink_centre: float
    """Mean horizontal ink centre of a glyph within its cell (pixels)."""


class MrzReadout(NamedTuple):
    texts: list[tuple[str, ...]]
    """Per document, the lines read."""
    confidences: np.ndarray
    """``(n, lines, chars) float32``: correlation of the best glyph minus the second best (0-2)."""
    scores: np.ndarray
    """``(n, lines, chars) float32``: correlation of the best glyph (-1 to 1)."""
    offsets: np.ndarray
    """``(n, 1 + lines) int32``: the column offset, then each line's row offset, in pixels."""


def _normalise(rows: np.ndarray) -> np.ndarray:
    rows = rows - rows.mean(axis=1, keepdims=True)
    norm = np.linalg.norm(rows, axis=1, keepdims=True)
    return np.divide(rows, norm, out=np.zeros_like(rows), where=norm > 1e-6)


def _shrink(cells: np.ndarray, factor: int) -> np.ndarray:
    """Block-average the last two axes by ``factor`` (they must divide)."""
    if factor == 1:
        return cells
    *lead, h, w = cells.shape
    return cells.reshape(*lead, h // factor, factor, w // factor, factor).mean(axis=(-3, -1))


def build_mrz_templates(
    glyphs: np.ndarray,
    geometry: MrzGeometry,
    *,
    shift_px: int = 1,
    blur_sigma: float = 0.8,
    downsample: int = 2,
) -> MrzTemplates:
    """Glyph templates for ``read_mrz``.

    Parameters
    ----------
    glyphs : np.ndarray
        ``(37, cell_h, pitch) uint8`` ink coverage in ``MRZ_GLYPHS`` order, at
        the page scale (``factory.devices.render.render_mrz_glyphs``).
    geometry : MrzGeometry
        The layout's MRZ geometry (pitch, cell height, positions).
    shift_px : int
        Shifts from ``-shift_px`` to ``+shift_px`` pixels in x and y are baked
        in, so a cell cut up to that far off still matches.
    blur_sigma : float
        Gaussian blur (pixels) of the templates, as print and optics blur ink.
    downsample : int
        Block size of the averaging before matching; must divide the pitch.

    Returns
    -------
    MrzTemplates
    """
    if glyphs.ndim != 3 or glyphs.shape[0] != len(MRZ_GLYPHS):
        raise InvalidField("glyphs", f"must be ({len(MRZ_GLYPHS)}, h, w)", glyphs.shape)
    if geometry.pitch_px % downsample:
        raise InvalidField("downsample", f"must divide the pitch {geometry.pitch_px}", downsample)
    height = glyphs.shape[1] - glyphs.shape[1] % downsample
    width = geometry.pitch_px
    pad = shift_px
    blurred = [cv2.GaussianBlur(g, (0, 0), blur_sigma) if blur_sigma > 0 else g for g in glyphs.astype(np.float32)]
    padded = [np.pad(g, pad) for g in blurred]
    variants = []
    # Shift-major order: rows [k * 37:(k + 1) * 37] are the alphabet at shift k.
    for dy in range(-shift_px, shift_px + 1):
        for dx in range(-shift_px, shift_px + 1):
            for glyph in padded:
                # A cell cut dx pixels right of the glyph sees it dx pixels to the left.
                variants.append(glyph[pad - dy:pad - dy + height, pad - dx:pad - dx + width])
    stack = _shrink(np.stack(variants), downsample)
    matrix = _normalise(stack.reshape(len(variants), -1)).astype(np.float32)
    ink = glyphs.astype(np.float32)
    columns = ink.sum(axis=1)  # (37, pitch)
    filled = columns > columns.max(axis=1, keepdims=True) * 0.05
    ink_left = int(np.median(filled.argmax(axis=1)))
    ink_centre = float((columns * np.arange(width)).sum() / columns.sum())
    return MrzTemplates(
        geometry=geometry,
        matrix=matrix,
        shifts=(2 * shift_px + 1) ** 2,
        downsample=downsample,
        cell_shape=(height, width),
        ink_left=ink_left,
        ink_centre=ink_centre,
    )


def mrz_zones(pages: Sequence[np.ndarray] | np.ndarray, layout: PageLayout) -> np.ndarray:
    """Cut the MRZ zone out of each page and convert it to grey.

    Parameters
    ----------
    pages : sequence of np.ndarray
        ``(h, w, 3) uint8`` BGR (or ``(h, w)`` grey) pages of one layout.
    layout : PageLayout
        Must have an MRZ.

    Returns
    -------
    np.ndarray
        ``(n, zone_h, zone_w) uint8``.
    """
    if layout.mrz is None:
        raise InvalidField("layout", f"{layout.doc_type} has no MRZ", layout.name)
    box = layout.zone("mrz").box
    out = np.empty((len(pages), box.height, box.width), np.uint8)
    for i, page in enumerate(pages):
        zone = page[box.slices]
        if zone.shape[:2] != (box.height, box.width):
            raise InvalidField(f"pages[{i}]", f"is smaller than the {layout.name} page", page.shape)
        out[i] = cv2.cvtColor(zone, cv2.COLOR_BGR2GRAY) if zone.ndim == 3 else zone
    return out


def _shifted(geometry: MrzGeometry, dx: int, dy: int) -> MrzGeometry:
    return replace(geometry, first_char_x=geometry.first_char_x + dx,
                   line_center_y=tuple(c + dy for c in geometry.line_center_y))


def _with_geometry(templates: MrzTemplates, geometry: MrzGeometry) -> MrzTemplates:
    return replace(templates, geometry=geometry)


def _band_offsets(ink: np.ndarray, g: MrzGeometry, half: int, search_px: int,
                  segments: int) -> tuple[np.ndarray, np.ndarray]:
    """Per line and column segment, the row offset whose cap-height band holds the most ink.

    ``ink`` is a reading window in which every line's search range lies inside.
    When several offsets hold all the ink (the band is a little taller than the
    glyphs) the middle of them is taken, which centres the line to a fraction
    of a pixel. Returns the offsets ``(lines, segments) float64`` and the ink
    each best band holds (0 for a segment with no ink).
    """
    seg_w = g.line_width_px // segments
    x0 = g.first_char_x
    span = 2 * half + 1
    offsets = np.zeros((g.line_count, segments))
    weights = np.zeros((g.line_count, segments))
    candidates = np.arange(-search_px, search_px + 1, dtype=np.float64)[:, None]
    for line, centre in enumerate(g.line_center_y):
        lo = centre - search_px - half
        block = ink[lo:lo + 2 * search_px + span, x0:x0 + seg_w * segments]
        profiles = block.reshape(block.shape[0], segments, seg_w).sum(axis=2, dtype=np.float64)  # (rows, segments)
        csum = np.concatenate((np.zeros((1, segments)), np.cumsum(profiles, axis=0)))
        bands = csum[span:] - csum[:-span]  # (2 * search_px + 1, segments)
        best = bands.max(axis=0)
        ties = bands >= best * (1 - 1e-6)
        offsets[line] = np.where(best > 0, (ties * candidates).sum(axis=0) / np.maximum(ties.sum(axis=0), 1), 0.0)
        weights[line] = best
    return offsets, weights


def _column_offset(ink: np.ndarray, templates: MrzTemplates, dys: Sequence[int], half: int,
                   search_px: int) -> int:
    """The column offset: the phase of the column profile at the pitch frequency, placed by the first ink."""
    g = templates.geometry
    x_start, x_stop = g.first_char_x, g.first_char_x + g.line_width_px
    columns = np.zeros(ink.shape[1], np.float64)
    for centre, dy in zip(g.line_center_y, dys):
        columns += ink[centre + dy - half:centre + dy + half + 1].sum(axis=0)
    lo, hi = x_start - search_px, x_stop + search_px
    window = columns[lo:hi]
    if float(window.sum()) <= 0:
        return 0
    xs = np.arange(lo, hi, dtype=np.float64)
    spectrum = (window * np.exp(-2j * np.pi * xs / g.pitch_px)).sum()
    centre = (-np.angle(spectrum) * g.pitch_px / (2 * np.pi)) % g.pitch_px
    expected = (x_start + templates.ink_centre) % g.pitch_px
    fine = (centre - expected + g.pitch_px / 2) % g.pitch_px - g.pitch_px / 2
    inked = np.flatnonzero(window > window.max() * 0.05)
    coarse = (lo + inked[0]) - (x_start + templates.ink_left) if inked.size else 0
    return int(round(fine + g.pitch_px * round((coarse - fine) / g.pitch_px)))


def _ink(window: np.ndarray) -> np.ndarray:
    """Ink density (uint8): how much darker than the paper each pixel is, saturating at 0."""
    # The paper is most of the window: the mode of a sparse sample is its level.
    paper = int(np.bincount(window[::4, ::4].ravel(), minlength=256).argmax())
    return cv2.subtract(np.full_like(window, paper), window)


_SEGMENTS = 4


def _register(ink: np.ndarray, templates: MrzTemplates, search_px: int) -> tuple[int, np.ndarray, float]:
    """Column offset, per-line row offsets (at the lines' middle) and slope of one window's ink.

    The slope (rows per column) is one straight-line fit through each line's
    segment offsets, so a page skewed by up to about a degree still has every
    character cell found within a pixel, without rotating the image. Segments
    with little ink (a line printed only in part) do not take part in the fit.
    """
    g = templates.geometry
    half = int(round(g.cap_height_px / 2))
    segment_dys, ink_held = _band_offsets(ink, g, half, search_px, _SEGMENTS)
    seg_w = g.line_width_px // _SEGMENTS
    x = (np.arange(_SEGMENTS) - (_SEGMENTS - 1) / 2) * seg_w
    used = ink_held > 0.25 * ink_held.max(axis=1, keepdims=True)
    slope = 0.0
    intercepts = np.zeros(g.line_count)
    for line in range(g.line_count):
        if used[line].any():
            intercepts[line] = segment_dys[line, used[line]].mean()
    # One common slope: the lines are parallel; each line keeps its own intercept.
    xs, dys = [], []
    for line in range(g.line_count):
        if used[line].sum() >= 2:
            xl = x[used[line]]
            xs.append(xl - xl.mean())
            dys.append(segment_dys[line, used[line]] - segment_dys[line, used[line]].mean())
    if xs:
        xc, dyc = np.concatenate(xs), np.concatenate(dys)
        if (xc * xc).sum() > 0:
            slope = float((xc * dyc).sum() / (xc * xc).sum())
            # Intercepts at the line's middle, from the segments that were used.
            for line in range(g.line_count):
                if used[line].any():
                    intercepts[line] = (segment_dys[line, used[line]] - slope * x[used[line]]).mean()
    if abs(slope) * g.line_width_px < 1.0:
        slope = 0.0
    rounded = [int(round(v)) for v in intercepts]
    return _column_offset(ink, templates, rounded, half, search_px), intercepts, slope


def read_mrz(
    zones: np.ndarray | Sequence[np.ndarray],
    templates: MrzTemplates,
    *,
    search_px: int = 8,
) -> MrzReadout:
    """Read the MRZ characters of a batch of zones.

    Parameters
    ----------
    zones : np.ndarray
        ``(n, h, w) uint8`` grey MRZ zones, dark ink on light paper, cut at the
        layout's ``mrz`` box (``mrz_zones``); a capture may be off by up to
        ``search_px`` pixels.
    templates : MrzTemplates
        From ``build_mrz_templates`` for the layout's geometry.
    search_px : int
        How far (pixels) the registration searches for the lines.

    Returns
    -------
    MrzReadout
        ``texts`` (per document, a tuple of lines), ``confidences`` and
        ``scores`` ``(n, lines, chars) float32``, ``offsets`` ``(n, 1 + lines) int32``.
    """
    g = templates.geometry
    n = len(zones)
    lines, chars = g.line_count, g.line_length
    cell_h, cell_w = templates.cell_shape
    ds = templates.downsample
    d = (cell_h // ds) * (cell_w // ds)
    cells = np.zeros((n, lines, chars, d), np.float32)
    offsets = np.zeros((n, 1 + lines), np.int32)
    # Only the reading window (the lines plus the search margin) is converted to ink;
    # the margin keeps every search inside the window, padding the zone's edge if need be.
    margin = search_px + cell_h
    wy0, wy1 = min(g.line_top_y) - margin, max(g.line_top_y) + cell_h + margin
    wx0, wx1 = g.first_char_x - margin, g.first_char_x + g.line_width_px + margin
    window_geometry = _shifted(g, -wx0, -wy0)
    window_templates = _with_geometry(templates, window_geometry)
    cell_x = np.arange(chars) * cell_w
    x_mid = window_geometry.first_char_x + g.line_width_px / 2
    for i in range(n):
        zone = np.asarray(zones[i])
        if zone.ndim != 2 or zone.dtype != np.uint8:
            raise InvalidField(f"zones[{i}]", "must be a (h, w) uint8 grey image", zone.shape)
        window = zone[max(wy0, 0):wy1, max(wx0, 0):wx1]
        if window.shape != (wy1 - wy0, wx1 - wx0):
            top, left = max(-wy0, 0), max(-wx0, 0)
            window = np.pad(window, ((top, wy1 - wy0 - window.shape[0] - top),
                                     (left, wx1 - wx0 - window.shape[1] - left)), mode="edge")
        ink = _ink(window)
        dx, dys, slope = _register(ink, window_templates, search_px)
        offsets[i] = (dx, *np.round(dys).astype(int))
        # Every cell's top-left corner, following the fitted slope; then one gather of all cells.
        xs = window_geometry.first_char_x + dx + cell_x
        ys = (np.asarray(window_geometry.line_top_y, np.float64)[:, None] + dys[:, None]
              + slope * (xs[None, :] + cell_w / 2 - x_mid))
        ys = np.clip(np.round(ys).astype(np.intp), 0, ink.shape[0] - cell_h)
        xs = np.clip(xs, 0, ink.shape[1] - cell_w)
        windows = np.lib.stride_tricks.sliding_window_view(ink, (cell_h, cell_w))
        patches = windows[ys, np.broadcast_to(xs, ys.shape)].astype(np.float32)  # (lines, chars, h, w)
        if ds > 1:  # an exact block average: the factor divides the cell's sides
            stacked = patches.reshape(lines * chars * cell_h, cell_w)
            patches = cv2.resize(stacked, (cell_w // ds, lines * chars * cell_h // ds), interpolation=cv2.INTER_AREA)
        cells[i] = patches.reshape(lines, chars, d)
    flat = _normalise(cells.reshape(-1, d))
    scores = flat @ templates.matrix.T  # the one matrix product of the batch
    glyph_count = len(MRZ_GLYPHS)
    per_glyph = scores[:, :glyph_count].copy()
    for k in range(1, templates.shifts):
        np.maximum(per_glyph, scores[:, k * glyph_count:(k + 1) * glyph_count], out=per_glyph)
    best = per_glyph.argmax(axis=1)
    rows = np.arange(len(per_glyph))
    best_score = per_glyph[rows, best]
    per_glyph[rows, best] = -np.inf
    second_score = per_glyph.max(axis=1)
    alphabet = np.frombuffer(MRZ_GLYPHS.encode(), np.uint8)
    letters = alphabet[best].reshape(n, lines, chars)
    texts = [tuple(row.tobytes().decode() for row in doc) for doc in letters]
    return MrzReadout(
        texts=texts,
        confidences=(best_score - second_score).reshape(n, lines, chars).astype(np.float32),
        scores=best_score.reshape(n, lines, chars).astype(np.float32),
        offsets=offsets,
    )
