"""Print-quality checks: the printed page against the expected page, vectorized over a batch.

Everything here works on a batch of one layout at half resolution (150 dpi
for 300-dpi pages): ``printed`` and ``expected`` are ``(n, h, w) float32``
grey pages, their difference is the residual. Each check family is one pass
over the whole batch:

- ``misregistration``: the shift of each colour plane against the others over
  the MRZ (or the text block), by one Lucas-Kanade step on normalised planes;
  the neutral black inks put the same edges in every plane, so any shift
  between planes is misregistration (research notes, qa-anchors.md section 5).
- ``smudge``: the residual relative to the expected level, blurred; a smudge
  is a soft blob darker than it should be.
- ``dropout``: where ink was expected, pixels much lighter than expected that
  line up along a row or a column (a nozzle or a laser line out).
- ``banding``: a periodic ripple of the row (or column) means of the relative
  residual over flat areas: the peak of its spectrum.
- ``missing_field``: per zone, the ink printed over the ink expected.
"""

from __future__ import annotations

import cv2
import numpy as np

__all__ = [
    "halve",
    "plane_shifts",
    "smudge_depth",
    "dropout_length",
    "banding_amplitude",
    "ink_ratio",
    "local_difference",
]


def halve(images: np.ndarray) -> np.ndarray:
    """Average 2 x 2 blocks of the two leading image axes of ``(h, w[, c])`` (odd edges dropped)."""
    h, w = images.shape[0] // 2 * 2, images.shape[1] // 2 * 2
    return cv2.resize(images[:h, :w], (w // 2, h // 2), interpolation=cv2.INTER_AREA)


def _normalised(planes: np.ndarray) -> np.ndarray:
    """Zero-mean, unit-variance per image over the last two axes."""
    mean = planes.mean(axis=(-2, -1), keepdims=True)
    std = planes.std(axis=(-2, -1), keepdims=True)
    return (planes - mean) / np.maximum(std, 1e-3)


def plane_shifts(regions: np.ndarray, *, blur_sigma: float = 1.0) -> np.ndarray:
    """Largest shift (pixels) between any two colour planes of each region.

    Parameters
    ----------
    regions : np.ndarray
        ``(n, h, w, 3)`` uint8 BGR crops holding neutral (black) ink.
    blur_sigma : float
        Smoothing before the gradient step (pixels), which sets how large a
        shift one step still measures (about twice the sigma).

    Returns
    -------
    np.ndarray
        ``(n,) float64``: the largest ``|d|`` over the pairs (B, G), (R, G), (B, R),
        from one gradient step of B and R against G.
    """
    n = regions.shape[0]
    planes = regions.astype(np.float32).transpose(0, 3, 1, 2)  # (n, 3, h, w)
    if blur_sigma > 0:
        flat = planes.reshape(n * 3, *planes.shape[2:])
        flat = np.stack([cv2.GaussianBlur(p, (0, 0), blur_sigma) for p in flat])
        planes = flat.reshape(planes.shape)
    planes = _normalised(planes)
    reference = planes[:, 1]
    gy, gx = np.gradient(reference, axis=(1, 2))
    sxx = (gx * gx).sum(axis=(1, 2))
    syy = (gy * gy).sum(axis=(1, 2))
    sxy = (gx * gy).sum(axis=(1, 2))
    det = sxx * syy - sxy * sxy
    usable = np.abs(det) > 1e-9
    safe = np.where(usable, det, 1.0)
    shifts = []
    for other in (0, 2):
        error = planes[:, other] - reference
        bx = -(gx * error).sum(axis=(1, 2))
        by = -(gy * error).sum(axis=(1, 2))
        dx = np.where(usable, (syy * bx - sxy * by) / safe, 0.0)
        dy = np.where(usable, (sxx * by - sxy * bx) / safe, 0.0)
        shifts.append((dx, dy))
    (bx_, by_), (rx, ry) = shifts
    return np.max(np.stack([np.hypot(bx_, by_), np.hypot(rx, ry), np.hypot(bx_ - rx, by_ - ry)]), axis=0)


def smudge_depth(relative: np.ndarray, *, sigma: float = 2.0) -> tuple[np.ndarray, np.ndarray]:
    """How much darker than expected the darkest soft blob of each page is.

    Parameters
    ----------
    relative : np.ndarray
        ``(n, h, w) float32``: (printed - expected) / (expected + offset), the
        relative residual.
    sigma : float
        Blur (pixels) that keeps blobs and drops stroke-sized noise.

    Returns
    -------
    (np.ndarray, np.ndarray)
        ``(n,)`` depth (0-1, positive = darker) and ``(n, 2)`` its (row, column).
    """
    n = relative.shape[0]
    depth = np.zeros(n)
    where = np.zeros((n, 2), np.int64)
    for i in range(n):
        # Blobs are 12 px across or more: halve once more and blur half as much.
        blurred = cv2.GaussianBlur(halve(relative[i]), (0, 0), sigma / 2)
        k = int(np.argmin(blurred))
        depth[i] = -float(blurred.flat[k])
        where[i] = np.array(np.unravel_index(k, blurred.shape)) * 2
    return depth, where


def dropout_length(difference: np.ndarray, *, tolerance: float, extent: int) -> tuple[np.ndarray, np.ndarray]:
    """Straight streaks along the feed direction (page columns): a line of the print head out.

    A streak crosses strokes, tints, images and paper alike and leaves bare
    paper along its line: every pixel there differs from what was expected,
    even if only a little (a one-pixel streak over a tint line changes a
    half-resolution pixel by ~5 grey levels; over a portrait's light
    background it may darken rather than lighten). Summed along the line, the
    differences stand well above the noise of a clean print (under 2.5 levels
    anywhere), while a misprinted character or a swapped image differs in a
    compact patch, not along a long thin line.

    Parameters
    ----------
    difference : np.ndarray
        ``(n, h, w) float32`` absolute difference of printed and expected grey levels.
    tolerance : float
        Grey levels a pixel may differ from expected and still count as clean.
    extent : int
        Least distance (pixels) between the first and the last differing pixel
        of a two-pixel-wide column for it to count as a streak.

    Returns
    -------
    (np.ndarray, np.ndarray)
        ``(n,)`` the summed excess difference (grey levels) of the worst streak
        column and ``(n, 2)`` (row, column) of its middle.
    """
    n, h, _ = difference.shape
    excess = np.maximum(difference - tolerance, 0.0)
    light = excess > 0
    sums = excess.sum(axis=1)  # (n, w)
    sums = sums[:, :-1] + sums[:, 1:]  # two-pixel-wide columns
    present = light.any(axis=1)
    first = np.where(present, light.argmax(axis=1), h)
    last = np.where(present, h - 1 - light[:, ::-1].argmax(axis=1), -1)
    first = np.minimum(first[:, :-1], first[:, 1:])
    last = np.maximum(last[:, :-1], last[:, 1:])
    spread = np.where(present[:, :-1] | present[:, 1:], last - first, 0)
    score = np.where(spread >= extent, sums, 0.0)
    best = score.argmax(axis=1)
    rows = np.arange(n)
    found = score[rows, best]
    where = np.stack([(first[rows, best] + last[rows, best]) // 2, best], axis=1)
    return found, np.where(found[:, None] > 0, where, 0)


def banding_amplitude(relative: np.ndarray, flat: np.ndarray, *, periods: tuple[float, float] = (4.0, 40.0)) -> np.ndarray:
    """Amplitude of the strongest periodic ripple of the row (and column) means of the relative residual.

    Banding changes the density of whole rows (or columns) by a few percent,
    periodically: the mean of each row's relative residual over the usable
    pixels follows the ripple, and its spectrum peaks at the ripple's period.

    Parameters
    ----------
    relative : np.ndarray
        ``(n, h, w) float32`` relative residual (printed - expected) / (expected + offset).
    flat : np.ndarray
        ``(n, h, w)`` or ``(h, w) bool``: the pixels to average (light areas, where a
        density change shows and the relative residual is steady).
    periods : (float, float)
        Ripple periods searched, in pixels.

    Returns
    -------
    np.ndarray
        ``(n,)``: the amplitude (relative density, 0.02 = 2 %) of the strongest ripple.
    """
    n = relative.shape[0]
    flat = np.broadcast_to(flat, relative.shape)
    masked = np.where(flat, relative, 0.0)
    out = np.zeros(n)
    for axis in (1, 2):  # row means (a ripple along the page height), then column means
        other = 2 if axis == 1 else 1
        weight = flat.sum(axis=other).astype(np.float64)  # (n, length)
        profile = masked.sum(axis=other) / np.maximum(weight, 1.0)
        size = profile.shape[1]
        if size < 4 * periods[1]:
            continue
        usable = weight > flat.shape[other] * 0.1
        profile = np.where(usable, profile, 0.0)
        profile = profile - profile.sum(axis=1, keepdims=True) / np.maximum(usable.sum(axis=1, keepdims=True), 1)
        profile = np.where(usable, profile, 0.0)
        spectrum = np.abs(np.fft.rfft(profile * np.hanning(size), axis=1)) * (4.0 / size)
        frequency = np.fft.rfftfreq(size)
        band = (frequency >= 1.0 / periods[1]) & (frequency <= 1.0 / periods[0])
        if band.any():
            out = np.maximum(out, spectrum[:, band].max(axis=1))
    return out


def ink_ratio(printed_ink: np.ndarray, expected_ink: np.ndarray) -> np.ndarray:
    """``(n,)`` printed ink over expected ink of a zone (1 = all there, 0 = missing)."""
    expected = expected_ink.reshape(len(expected_ink), -1).sum(axis=1)
    printed = printed_ink.reshape(len(printed_ink), -1).sum(axis=1)
    return np.where(expected > 1e-6, printed / np.maximum(expected, 1e-6), 1.0)


def local_difference(difference: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """The largest mean of ``difference`` over a ``size x size`` window, per image.

    A misprinted character differs from the expected one in a compact patch
    (玉 for 王 is one dot), so the test is local, not a mean over the field.

    Parameters
    ----------
    difference : np.ndarray
        ``(n, h, w) float32`` non-negative differences of a zone, in units of the ink contrast.
    size : int
        Window side in pixels.

    Returns
    -------
    (np.ndarray, np.ndarray)
        ``(n,)`` the largest window mean and ``(n, 2)`` its (row, column).
    """
    n = difference.shape[0]
    value = np.zeros(n)
    where = np.zeros((n, 2), np.int64)
    for i in range(n):
        local = cv2.blur(difference[i], (size, size), borderType=cv2.BORDER_CONSTANT)
        k = int(np.argmax(local))
        value[i] = float(local.flat[k])
        where[i] = np.unravel_index(k, local.shape)
    return value, where
