"""Reading the printed MRZ back: template matching of OCR-B glyphs at the known pitch.

Stock tesseract cannot read an MRZ (0/30 documents exact, research notes in
``qa-anchors.md``), but the font, the pitch and the position are known, so a
border reader's approach works: cut the zone into character cells where the
layout says they are and correlate every cell with the 37 glyphs of the MRZ
alphabet rendered in the same font at the same scale.

- ``build_mrz_templates`` turns a glyph atlas (``factory.devices.render.render_mrz_glyphs``,
  or a captured calibration card) into zero-mean, unit-norm templates with
  small shifts baked in.
- ``read_mrz`` registers the zones of a batch together: each line's rows
  from its baseline, found per column segment and fitted with one common skew
  (no image is rotated); the column phase from the Fourier phase of the column
  profile at the pitch frequency. Registration works on chunks of 16
  documents, small enough that its passes over the ink read from cache. It
  cuts the cells (a line without skew as one strip), sums them over 3x3
  blocks in integers, and scores every cell of the batch as ONE matrix
  product ``cells @ templates.T`` with the unshifted glyphs; only cells
  without a clear winner are scored again against the shifted ones. It
  returns the best character per cell and the margin between the best and
  the second-best character as its confidence.

Measured: clean renders read exactly (1,200 of 1,200), and so do simulated
captures with up to 1 degree of skew, 6 px off, blur sigma 1.5 and noise
sigma 8 (600 of 600). Speed (``benchmarks/bench_mrz_reader.py``: CPU time,
``time.process_time``, of ``read_mrz`` over 1,000 zones in one process with
one BLAS thread, on the 2-core machine at load average ~1.5): 3,260 TD3 and
6,430 one-line permit documents per CPU second (the code before, measured
the same way that day: 1,825 and 4,520; the 2,700 and 5,700 once written
here were not reproduced). Where the time goes now, for a TD3 zone of about
0.31 ms: the ink subtraction (the one pass over the zone's pixels) about a
third, the row and column profiles a quarter, cutting and summing the cells
a fifth, the normalisation and the matrix product a tenth (stage timings,
CPU time).

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
    band_px: int = 0
    """Height of the band that finds a line: the tallest letter or digit plus a margin."""
    band_top: int = 0
    """Rows above the cell's top where that band starts at offset 0."""
    plateau_first: int = 0
    """For a line in place, the first band offset (from ``-band_top``) holding all the ink of the letters."""
    plateau_width: int = 0
    """How many further offsets hold it all, for letters and digits (fillers give many more)."""


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
    downsample: int = 3,
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
    # The line finder's calibration: its plateau for letters and digits in place ('<' floats).
    alnum = ink[:-1]
    inked_rows = np.flatnonzero(alnum.max(axis=(0, 2)) > 64)
    band_px = int(inked_rows[-1] - inked_rows[0] + 1) + 4
    band_top = max(0, (band_px - glyphs.shape[1]) // 2 + 1)
    search = 8  # any search range calibrates the same: offsets are taken from its middle
    profile = np.zeros((1, band_px + 2 * search + glyphs.shape[1], 1))
    start = search + band_top
    profile[0, start:start + glyphs.shape[1], 0] = alnum.astype(np.float64).sum(axis=(0, 2))
    first, last, _ = _plateau(_held(profile, band_px, 2 * search + 1))
    plateau_first, plateau_width = int(first[0, 0]) - search, int(last[0, 0] - first[0, 0])
    return MrzTemplates(
        geometry=geometry,
        matrix=matrix,
        shifts=(2 * shift_px + 1) ** 2,
        downsample=downsample,
        cell_shape=(height, width),
        ink_left=ink_left,
        ink_centre=ink_centre,
        band_px=band_px,
        band_top=band_top,
        plateau_first=plateau_first,
        plateau_width=plateau_width,
    )


def mrz_zones(pages: Sequence[np.ndarray] | np.ndarray, layout: PageLayout, *,
              views: bool = False) -> np.ndarray | list[np.ndarray]:
    """Cut the MRZ zone out of each page and convert it to grey.

    Parameters
    ----------
    pages : sequence of np.ndarray
        ``(h, w, 3) uint8`` BGR (or ``(h, w)`` grey) pages of one layout.
    layout : PageLayout
        Must have an MRZ.
    views : bool
        Return a list of zones, views into grey pages (no copy: ``read_mrz``
        takes a sequence and reads only its windows), instead of one array.

    Returns
    -------
    np.ndarray or list of np.ndarray
        ``(n, zone_h, zone_w) uint8``, or with ``views`` ``n`` arrays ``(zone_h, zone_w) uint8``.
    """
    if layout.mrz is None:
        raise InvalidField("layout", f"{layout.doc_type} has no MRZ", layout.name)
    box = layout.zone("mrz").box
    out: np.ndarray | list[np.ndarray] = [] if views else np.empty((len(pages), box.height, box.width), np.uint8)
    for i, page in enumerate(pages):
        zone = page[box.slices]
        if zone.shape[:2] != (box.height, box.width):
            raise InvalidField(f"pages[{i}]", f"is smaller than the {layout.name} page", page.shape)
        grey = cv2.cvtColor(zone, cv2.COLOR_BGR2GRAY) if zone.ndim == 3 else zone
        if views:
            out.append(grey)
        else:
            out[i] = grey
    return out


def _shifted(geometry: MrzGeometry, dx: int, dy: int) -> MrzGeometry:
    return replace(geometry, first_char_x=geometry.first_char_x + dx,
                   line_center_y=tuple(c + dy for c in geometry.line_center_y))


_SEGMENTS = 4
"""Each line is cut into this many column segments to fit its skew."""
_CHUNK = 16
"""Documents registered together: ~5 MB of ink for TD3, which the passes after the first read from cache
(128 documents, 40 MB, read 1.3x slower)."""


def _window_views(zones: np.ndarray | Sequence[np.ndarray], start: int, stop: int,
                  box: tuple[int, int, int, int]) -> list[np.ndarray]:
    """The reading windows ``(H, W) uint8`` of zones ``start:stop``: views into the zones where a
    window lies inside its zone (no copy), edge-padded copies where it leaves it."""
    y0, y1, x0, x1 = box
    shape = (y1 - y0, x1 - x0)
    out = []
    for i in range(start, stop):
        zone = zones[i]
        if not isinstance(zone, np.ndarray) or zone.ndim != 2 or zone.dtype != np.uint8:
            raise InvalidField(f"zones[{i}]", "must be a (h, w) uint8 grey image", getattr(zone, "shape", zone))
        crop = zone[max(y0, 0):y1, max(x0, 0):x1]
        if crop.shape != shape:
            top, left = max(-y0, 0), max(-x0, 0)
            bottom, right = shape[0] - crop.shape[0] - top, shape[1] - crop.shape[1] - left
            if crop.size == 0 or bottom < 0 or right < 0:
                crop = np.full(shape, 255, np.uint8)
            else:
                crop = np.pad(crop, ((top, bottom), (left, right)), mode="edge")
        out.append(crop)
    return out


def _ink(windows: Sequence[np.ndarray]) -> np.ndarray:
    """Ink density ``(k, H, W) uint8``: how much darker than its paper each pixel is (saturating at 0).

    One pass per window, straight from the zone into the chunk's ink (no copy of the window first).
    """
    k = len(windows)
    # The paper is most of each window: the mode of a sparse sample is its level (one bincount for all).
    sample = np.stack([w[::8, ::8] for w in windows]).reshape(k, -1).astype(np.intp)
    counts = np.bincount((sample + 256 * np.arange(k)[:, None]).ravel(), minlength=256 * k).reshape(k, 256)
    paper = counts.argmax(axis=1)
    ink = np.empty((k, *windows[0].shape), np.uint8)
    for i in range(k):
        cv2.subtract(int(paper[i]), windows[i], dst=ink[i])  # saturating: paper - pixel, or 0
    return ink


def _segment_rows(ink: np.ndarray, x0: int, seg_w: int) -> np.ndarray:
    """Ink of every row of every window in each of ``_SEGMENTS`` column segments from ``x0``:
    ``(k, H, segments) int32``, one ``cv2.reduce`` per segment for the whole chunk."""
    k, h, w = ink.shape
    rows = ink.reshape(k * h, w)
    out = np.empty((k * h, _SEGMENTS), np.int32)
    for s in range(_SEGMENTS):
        out[:, s] = cv2.reduce(rows[:, x0 + s * seg_w:x0 + (s + 1) * seg_w], 1, cv2.REDUCE_SUM,
                               dtype=cv2.CV_32S)[:, 0]
    return out.reshape(k, h, _SEGMENTS)


_TOLERANCE = 0.01
"""A band 'holds all the ink' when it holds at least this much less than the most any band holds."""


def _held(profiles: np.ndarray, band: int, count: int) -> np.ndarray:
    """Ink a band of ``band`` rows holds at each of ``count`` successive positions down ``profiles``
    ``(k, rows, segments)``: ``(k, count, segments)``."""
    k, _, segments = profiles.shape
    csum = np.concatenate((np.zeros((k, 1, segments)), np.cumsum(profiles, axis=1)), axis=1)
    return csum[:, band:band + count] - csum[:, :count]


def _plateau(held: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The first and last position whose band holds (almost) all the ink, and that ink.

    ``held`` is ``(k, positions, segments)``; positions set to -inf are not considered.
    """
    count = held.shape[1]
    best = held.max(axis=1)
    full = held >= best[:, None, :] * (1 - _TOLERANCE)
    first = full.argmax(axis=1)
    last = count - 1 - full[:, ::-1].argmax(axis=1)
    return first, last, np.maximum(best, 0.0)


_SKEW_PX = 10
"""How far a segment's line may sit from the whole line's (pixels): about a degree over a TD3 line."""


def _line_offsets(segment_rows: np.ndarray, templates: MrzTemplates, search_px: int) -> tuple[np.ndarray, np.ndarray]:
    """Per document, line and column segment: the row offset of the line, from its baseline.

    A band a little taller than the tallest glyph slides down each segment; the
    positions where it holds all the ink form a plateau whose upper end is set
    by the lowest ink: the baseline every letter and digit of OCR-B stands on.
    That places a line to a fraction of a pixel whatever it says (digits are
    taller than capitals). The whole line is placed first, within
    ``search_px``; each segment then within ``_SKEW_PX`` of it, so a skewed
    line is followed to its ends. A segment of fillers only ('<' floats above
    the baseline) shows a much wider plateau and is given no weight.
    ``segment_rows`` ``(k, H, segments)`` is the ink of each row of reading
    windows in which every line's search range lies inside (``_segment_rows``).
    Returns offsets ``(k, lines, segments) float64`` and weights.
    """
    g = templates.geometry
    k = len(segment_rows)
    band = templates.band_px
    reach = search_px + _SKEW_PX
    count = 2 * reach + 1
    positions = np.arange(count)[None, :, None]
    offsets = np.zeros((k, g.line_count, _SEGMENTS))
    weights = np.zeros((k, g.line_count, _SEGMENTS))
    for line, top in enumerate(g.line_top_y):
        lo = top - reach - templates.band_top
        profiles = segment_rows[:, lo:lo + count + band - 1].astype(np.float64)
        profiles -= profiles.min(axis=1, keepdims=True)  # the noise floor of a capture is not ink
        held = _held(profiles, band, count)
        whole = held.sum(axis=2, keepdims=True)
        whole[:, :_SKEW_PX] = whole[:, count - _SKEW_PX:] = -np.inf  # the line itself within search_px
        first, last, _ = _plateau(whole)
        middle = (first + last) / 2.0  # (k, 1): the whole line's position
        near = np.abs(positions - middle[:, None, :]) <= _SKEW_PX
        first, last, best = _plateau(np.where(near, held, -np.inf))
        offsets[:, line] = first - reach - templates.plateau_first
        letters = (last - first) <= templates.plateau_width + 4
        weights[:, line] = np.where(letters, best, 0.0)
    return offsets, weights


def _fit_lines(segment_dys: np.ndarray, ink_held: np.ndarray, g: MrzGeometry) -> tuple[np.ndarray, np.ndarray]:
    """Per document, one common slope (rows per column) and each line's row offset at the lines' middle.

    A least-squares line through each line's segment offsets, the lines
    parallel; segments with little ink (a line printed only in part) are left
    out. A slope moving the line ends by less than a pixel counts as none.
    """
    seg_w = g.line_width_px // _SEGMENTS
    x = (np.arange(_SEGMENTS) - (_SEGMENTS - 1) / 2) * seg_w  # segment centres about the lines' middle
    used = (ink_held > 0.3 * ink_held.max(axis=2, keepdims=True)) & (ink_held > 0)
    w = used.astype(np.float64)
    count = w.sum(axis=2)
    x_mean = (w * x).sum(axis=2) / np.maximum(count, 1)
    d_mean = (w * segment_dys).sum(axis=2) / np.maximum(count, 1)
    dx = (x - x_mean[..., None]) * w
    numerator = (dx * (segment_dys - d_mean[..., None])).sum(axis=(1, 2))
    denominator = (dx * dx).sum(axis=(1, 2))
    slope = np.divide(numerator, denominator, out=np.zeros_like(numerator), where=denominator > 0)
    slope[np.abs(slope) * g.line_width_px < 1.0] = 0.0
    intercepts = np.where(count > 0, d_mean - slope[:, None] * x_mean, 0.0)
    return slope, intercepts


def _cut_cells(ink: np.ndarray, ys: np.ndarray, xs: np.ndarray, templates: MrzTemplates) -> np.ndarray:
    """The block sums of every cell ``(k, lines, chars, h // ds, w // ds)`` whose top-left corners are ``ys, xs``.

    A line cut at one row (no skew to follow: most captures) is one strip of
    adjacent cells: it is cut and block-summed whole, rows of a line's width at
    a time. The other documents' cells are cut one by one. Both give the same
    sums.
    """
    k, lines, chars = ys.shape
    cell_h, cell_w = templates.cell_shape
    ds = templates.downsample
    dtype = np.uint16 if ds * ds * 255 < 2 ** 16 else np.uint32
    out = np.empty((k, lines, chars, cell_h // ds, cell_w // ds), dtype)
    level = ((ys == ys[:, :, :1]).all(axis=(1, 2))
             & (xs == xs[:, :, :1] + np.arange(chars) * cell_w).all(axis=(1, 2)))
    if level.any():
        docs = np.flatnonzero(level)
        strips = np.lib.stride_tricks.sliding_window_view(ink, (cell_h, chars * cell_w), axis=(1, 2))
        cut = strips[docs[:, None], ys[docs, :, 0], xs[docs, :, 0]]  # (m, lines, h, chars * w) uint8
        sums = _block_sums(cut, ds, dtype)  # (m, lines, h // ds, chars * w // ds)
        out[docs] = sums.reshape(len(docs), lines, cell_h // ds, chars, cell_w // ds).transpose(0, 1, 3, 2, 4)
    if not level.all():
        docs = np.flatnonzero(~level)
        views = np.lib.stride_tricks.sliding_window_view(ink, (cell_h, cell_w), axis=(1, 2))
        patches = views[docs[:, None, None], ys[docs], xs[docs]]  # (m, lines, chars, h, w) uint8
        out[docs] = _block_sums(patches, ds, dtype)
    return out


def _block_sums(patches: np.ndarray, factor: int, dtype: type) -> np.ndarray:
    """Exact sums over ``factor x factor`` blocks of the last two axes (they must divide), in ``dtype``.

    Sums, not means: the correlation that follows does not see the scale, and
    integer sums are exact (a block average rounded to uint8 is not).
    """
    *lead, h, w = patches.shape
    rows = patches.reshape(-1, h // factor, factor, w)
    total = rows[:, :, 0].astype(dtype)
    for j in range(1, factor):
        total += rows[:, :, j]
    columns = total.reshape(-1, h // factor, w // factor, factor)
    out = columns[..., 0].copy()
    for j in range(1, factor):
        out += columns[..., j]
    return out.reshape(*lead, h // factor, w // factor)


def _normalise_counts(counts: np.ndarray) -> np.ndarray:
    """``_normalise`` for rows of integer counts, as float32; a row's norm from exact integer sums.

    ``d * sum(x**2) - sum(x)**2`` is computed exactly (float64 holds the integers
    involved), so a flat row is exactly zero, as ``_normalise`` makes it.
    """
    d = counts.shape[1]
    rows = counts.astype(np.float32)
    total = counts.sum(axis=1, dtype=np.float64)
    spread = d * np.einsum("ij,ij->i", rows, rows, dtype=np.float64) - total * total  # d**2 * variance
    scale = np.divide(np.sqrt(d), np.sqrt(spread), out=np.zeros_like(spread), where=spread > 0)
    rows -= (total / d).astype(np.float32)[:, None]
    rows *= scale.astype(np.float32)[:, None]
    return rows


def _column_offsets(ink: np.ndarray, templates: MrzTemplates, search_px: int) -> np.ndarray:
    """Per document, the column offset: the phase of the column profile at the pitch frequency, placed by the first ink."""
    g = templates.geometry
    half = int(round(g.cap_height_px / 2))
    x_start, x_stop = g.first_char_x, g.first_char_x + g.line_width_px
    lo, hi = x_start - search_px, x_stop + search_px
    reach = search_px + _SKEW_PX
    # The band with its search and skew margins: wide enough for any row offset, clear of the other line.
    bands = [ink[:, centre - half - reach:centre + half + reach + 1, lo:hi] for centre in g.line_center_y]
    # Sums of uint8 rows accumulate exactly in uint16 while they cannot pass 65,535 (twice as fast as uint32).
    wide = np.uint16 if sum(b.shape[1] for b in bands) * 255 < 2 ** 16 else np.uint32
    total = bands[0].sum(axis=1, dtype=wide)
    for more in bands[1:]:
        total += more.sum(axis=1, dtype=wide)
    columns = total.astype(np.float64)
    phases = 2 * np.pi * np.arange(lo, hi, dtype=np.float64) / g.pitch_px
    # The Fourier coefficient at the pitch frequency, as two real dot products (no complex copy of the profiles).
    real, imag = columns @ np.cos(phases), -(columns @ np.sin(phases))
    centre = (-np.arctan2(imag, real) * g.pitch_px / (2 * np.pi)) % g.pitch_px
    expected = (x_start + templates.ink_centre) % g.pitch_px
    fine = (centre - expected + g.pitch_px / 2) % g.pitch_px - g.pitch_px / 2
    # The noise floor of a capture (a tenth of the columns are gaps between characters) is not ink.
    floor = np.partition(total, total.shape[1] // 10, axis=1)[:, total.shape[1] // 10, None].astype(np.float64)
    peak = columns.max(axis=1, keepdims=True) - floor
    inked = columns - floor > peak * 0.2
    first = np.where(inked.any(axis=1), inked.argmax(axis=1), x_start + templates.ink_left - lo)
    coarse = (lo + first) - (x_start + templates.ink_left)
    dx = fine + g.pitch_px * np.round((coarse - fine) / g.pitch_px)
    return np.where(peak[:, 0] > 0, np.round(dx), 0).astype(np.int64)


def read_mrz(
    zones: np.ndarray | Sequence[np.ndarray],
    templates: MrzTemplates,
    *,
    search_px: int = 8,
    refine_margin: float = 0.12,
    refine_below: float = 0.95,
) -> MrzReadout:
    """Read the MRZ characters of a batch of zones.

    Parameters
    ----------
    zones : np.ndarray
        ``(n, h, w) uint8`` grey MRZ zones, dark ink on light paper, cut at the
        layout's ``mrz`` box (``mrz_zones``), or a sequence of such 2-D arrays.
        A capture may be off by up to ``search_px`` pixels and skewed by about
        a degree.
    templates : MrzTemplates
        From ``build_mrz_templates`` for the layout's geometry.
    search_px : int
        How far (pixels) the registration searches for the lines.
    refine_margin : float
        Cells whose best unshifted glyph leads the second by less than this, or
        scores below ``refine_below`` (a cell cut a pixel off), are matched again
        against every baked-in shift (0: always match all shifts).
    refine_below : float
        See ``refine_margin``: the unshifted correlation a cell must reach to be taken as it is.

    Returns
    -------
    MrzReadout
        ``texts`` (per document, a tuple of lines), ``confidences`` and
        ``scores`` ``(n, lines, chars) float32``, ``offsets`` ``(n, 1 + lines) int32``.

    Raises
    ------
    InvalidField
        ``zones[i]`` for an input that is not a 2-D uint8 image.
    """
    g = templates.geometry
    n = len(zones)
    lines, chars = g.line_count, g.line_length
    cell_h, cell_w = templates.cell_shape
    ds = templates.downsample
    d = (cell_h // ds) * (cell_w // ds)
    # Only the reading window (the lines plus the search and skew margins) is looked at.
    margin = search_px + _SKEW_PX + cell_h
    wy0, wy1 = min(g.line_top_y) - margin, max(g.line_top_y) + cell_h + margin
    wx0, wx1 = g.first_char_x - margin, g.first_char_x + g.line_width_px + margin
    window = _shifted(g, -wx0, -wy0)
    window_templates = replace(templates, geometry=window)
    cells = np.zeros((n, lines, chars, d), np.uint16 if ds * ds * 255 < 2 ** 16 else np.uint32)
    offsets = np.zeros((n, 1 + lines), np.int32)
    cell_x = np.arange(chars) * cell_w
    x_mid = window.first_char_x + g.line_width_px / 2
    tops = np.asarray(window.line_top_y, np.float64)
    for start in range(0, n, _CHUNK):
        stop = min(start + _CHUNK, n)
        k = stop - start
        ink = _ink(_window_views(zones, start, stop, (wy0, wy1, wx0, wx1)))
        rows = _segment_rows(ink, window.first_char_x, g.line_width_px // _SEGMENTS)
        segment_dys, ink_held = _line_offsets(rows, window_templates, search_px)
        slope, intercepts = _fit_lines(segment_dys, ink_held, g)
        dx = _column_offsets(ink, window_templates, search_px)
        offsets[start:stop, 0] = dx
        offsets[start:stop, 1:] = np.round(intercepts)
        # Every cell's top-left corner, following the fitted slope.
        xs = window.first_char_x + dx[:, None] + cell_x[None, :]  # (k, chars)
        ys = (tops[None, :, None] + intercepts[:, :, None]
              + slope[:, None, None] * (xs[:, None, :] + cell_w / 2 - x_mid))  # (k, lines, chars)
        ys = np.clip(np.round(ys).astype(np.intp), 0, ink.shape[1] - cell_h)
        xs = np.clip(np.broadcast_to(xs[:, None, :], ys.shape), 0, ink.shape[2] - cell_w)
        cells[start:stop] = _cut_cells(ink, ys, xs, templates).reshape(k, lines, chars, d)
    flat = _normalise_counts(cells.reshape(-1, d))
    glyph_count = len(MRZ_GLYPHS)
    # Most cells are found within a fraction of a pixel: match them with the unshifted
    # glyphs first, and only cells without a clear winner against every shift as well.
    centre = templates.shifts // 2
    if refine_margin <= 0 or templates.shifts == 1:
        scores = flat @ templates.matrix.T
        per_glyph = scores.reshape(len(flat), templates.shifts, glyph_count).max(axis=1)
    else:
        per_glyph = flat @ templates.matrix[centre * glyph_count:(centre + 1) * glyph_count].T  # (cells, 37)
        top2 = np.partition(per_glyph, -2, axis=1)[:, -2:]
        unsure = np.flatnonzero((top2[:, 1] - top2[:, 0] < refine_margin) | (top2[:, 1] < refine_below))
        if unsure.size:
            scores = flat[unsure] @ templates.matrix.T  # (unsure, shifts * 37)
            shifted = scores.reshape(len(unsure), templates.shifts, glyph_count).max(axis=1)
            per_glyph[unsure] = shifted
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
