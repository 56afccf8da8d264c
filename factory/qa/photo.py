"""Photo checks: compliance of the enrolled portrait, and identity of the printed photo.

Before printing (``check_portraits``), in the spirit of ISO/IEC 19794-5 and
OFIQ (ISO/IEC 29794-5), each a named check with a measured value: exactly one
face (OpenCV's Haar frontal cascade, ``factory.qa.faces``); the eyes (the two
darkest blobs of the face box's eye band, found with a difference of
Gaussians) give the eye midpoint (0.45-0.55 of the width), the eye line
(30-50 % of the height from the top) and the in-plane roll; the head width
(the extent of what is not background along the eye line, 50-75 % of the
width); exposure (mean face luminance), dynamic range (2nd-98th percentile
spread of the face), illumination uniformity (left against right face half),
background uniformity (mean Sobel gradient over the background, as OFIQ's
0x42) and sharpness (variance of the Laplacian over the face).

After printing (``photo_features``): a printed photo is compared with the
enrolled one on band-passed detail, not on the raw image: drawn portraits
share one layout, so plain correlation of blurred grey gives impostors up to
~0.98, while a difference of Gaussians keeps the per-person texture and the
clothing pattern that tell two applicants apart. One ``(n, n)`` matrix of
feature correlations per batch catches a photo swapped between two
applications (its row's best match is another application's photo).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from factory.errors import InvalidField
from factory.qa.faces import FaceDetector
from factory.qa.verdicts import Check, make_check

__all__ = [
    "PORTRAIT_LIMITS",
    "PortraitMeasures",
    "measure_portrait",
    "check_portraits",
    "FEATURE_SHAPE",
    "fit_cover",
    "photo_features",
    "band_pass",
]


@dataclass(frozen=True, slots=True)
class _Limit:
    low: float
    high: float
    zone: str = "photo"

    @property
    def rule(self) -> str:
        if self.low == -np.inf:
            return f"<= {self.high:g}"
        if self.high == np.inf:
            return f">= {self.low:g}"
        return f"in [{self.low:g}, {self.high:g}]"


PORTRAIT_LIMITS: dict[str, _Limit] = {
    # ISO/IEC 19794-5 full frontal geometry, fractions of the image size.
    "photo_eye_centre_x": _Limit(0.45, 0.55),
    "photo_eye_line_y": _Limit(0.30, 0.50),
    "photo_head_width": _Limit(0.50, 0.75),
    # ISO/IEC 19794-5 / ICAO: roll within about 5 degrees.
    "photo_roll_deg": _Limit(-np.inf, 5.0),
    # Grey levels of the face region: neither under- nor over-exposed.
    "photo_exposure": _Limit(60.0, 220.0),
    "photo_dynamic_range": _Limit(50.0, np.inf),
    # |mean(left half) - mean(right half)| / mean(face): even light on both cheeks.
    "photo_illumination": _Limit(-np.inf, 0.20),
    # Mean Sobel gradient magnitude over the background (OFIQ 0x42 measures the same).
    "photo_background": _Limit(-np.inf, 10.0),
    # Variance of the Laplacian of the face: a soft portrait gives ~9-20, a blurred one < 3.
    "photo_sharpness": _Limit(4.0, np.inf),
}
"""The pass band of each measured portrait check (docs/qa.md gives the measured distributions)."""


@dataclass(frozen=True, slots=True)
class PortraitMeasures:
    """What ``measure_portrait`` measures; NaN where no single face was found."""

    faces: int
    eye_centre_x: float
    eye_line_y: float
    head_width: float
    roll_deg: float
    exposure: float
    dynamic_range: float
    illumination: float
    background: float
    sharpness: float


def _as_bgr(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image)
    if image.dtype != np.uint8:
        raise InvalidField("photo", "must be a uint8 image", str(image.dtype))
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    if image.ndim == 3 and image.shape[2] == 3:
        return image
    if image.ndim == 3 and image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    raise InvalidField("photo", "must be (h, w), (h, w, 3) or (h, w, 4)", image.shape)


def _eyes(grey: np.ndarray, box: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Centres (x, y) of the left and right eye inside a face box: the darkest blob of each half."""
    x, y, w, h = (int(v) for v in box)
    y0, y1 = y + int(0.15 * h), y + int(0.6 * h)
    band = grey[max(y0, 0):y1, max(x, 0):x + w].astype(np.float32)
    # Dark pupil in a bright eye white: the difference of a wide and a narrow blur peaks there.
    scale = max(w / 234.0, 0.25)
    dog = cv2.GaussianBlur(band, (0, 0), 8 * scale) - cv2.GaussianBlur(band, (0, 0), 2.5 * scale)
    half = dog.shape[1] // 2
    left = np.unravel_index(int(np.argmax(dog[:, :half])), dog[:, :half].shape)
    right = np.unravel_index(int(np.argmax(dog[:, half:])), dog[:, half:].shape)
    return (np.array((max(x, 0) + left[1], max(y0, 0) + left[0]), float),
            np.array((max(x, 0) + half + right[1], max(y0, 0) + right[0]), float))


def measure_portrait(photo: np.ndarray, detector: FaceDetector) -> PortraitMeasures:
    """Measure one enrolled portrait.

    Parameters
    ----------
    photo : np.ndarray
        ``(h, w, 3) uint8`` BGR (or grey) portrait, e.g. 390 x 567.
    detector : FaceDetector
        Built once per process.

    Returns
    -------
    PortraitMeasures
        Geometry as fractions of the image size, roll in degrees, grey levels
        for exposure and dynamic range, ratios for illumination, gradient per
        pixel for the background, Laplacian variance for sharpness.
    """
    bgr = _as_bgr(photo)
    grey = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
    height, width = grey.shape
    boxes = detector.detect(grey)
    nan = float("nan")
    if len(boxes) != 1:
        return PortraitMeasures(len(boxes), nan, nan, nan, nan, nan, nan, nan, nan, nan)
    box = boxes[0]
    x, y, w, h = (int(v) for v in box)
    left, right = _eyes(grey, box)
    mid = (left + right) / 2
    roll = float(np.degrees(np.arctan2(right[1] - left[1], right[0] - left[0])))

    # Background colour from the top corners, which a compliant portrait leaves plain.
    k = max(8, int(0.06 * height))
    side = max(4, int(0.15 * width))
    corners = np.concatenate([bgr[:k, :side].reshape(-1, 3), bgr[:k, -side:].reshape(-1, 3)]).astype(np.float32)
    background = np.median(corners, axis=0)
    eye_row = int(np.clip(mid[1], 0, height - 1))
    # What is not background-coloured, only along the eye line (the band the head width is read on).
    rows = slice(max(eye_row - 6, 0), eye_row + 7)
    foreground = np.abs(bgr[rows].astype(np.float32) - background).max(axis=2) > 35
    band = foreground.mean(axis=0) > 0.5
    columns = np.flatnonzero(band)
    head_width = (columns[-1] - columns[0] + 1) / width if columns.size else 0.0
    # The background a compliant portrait leaves plain: the top corners and the strips beside the
    # head down to the eye line, taken by position (a busy background is not "background-coloured").
    # Only the rows above the plain region's end (and one more, the Sobel kernel's reach) are filtered.
    bottom = max(eye_row - h // 4, k)
    top = grey[:min(bottom + 1, height)]
    plain = np.zeros(top.shape, bool)
    plain[:k, :side] = plain[:k, -side:] = True
    strip = max(4, int(0.08 * width))
    plain[k:bottom, :strip] = plain[k:bottom, -strip:] = True
    gx = cv2.Sobel(top, cv2.CV_32F, 1, 0)
    gy = cv2.Sobel(top, cv2.CV_32F, 0, 1)
    gradient = float(np.sqrt(gx[plain] ** 2 + gy[plain] ** 2).mean())

    face = grey[max(y + int(0.2 * h), 0):y + int(0.85 * h), max(x + int(0.2 * w), 0):x + int(0.8 * w)]
    low, high = np.percentile(face, [2, 98])
    mean = float(face.mean())
    halves = face[:, :face.shape[1] // 2], face[:, face.shape[1] // 2:]
    illumination = abs(float(halves[0].mean()) - float(halves[1].mean())) / max(mean, 1.0)
    sharpness = float(cv2.Laplacian(cv2.GaussianBlur(face, (0, 0), 0.8), cv2.CV_32F).var())
    return PortraitMeasures(
        faces=1,
        eye_centre_x=float(mid[0] / width),
        eye_line_y=float(mid[1] / height),
        head_width=float(head_width),
        roll_deg=roll,
        exposure=mean,
        dynamic_range=float(high - low),
        illumination=illumination,
        background=gradient,
        sharpness=sharpness,
    )


def check_portraits(photos: Sequence[np.ndarray | None], detector: FaceDetector) -> list[Check]:
    """The before-printing portrait checks of a batch.

    Parameters
    ----------
    photos : sequence of np.ndarray or None
        Enrolled portraits, ``(h, w, 3) uint8`` BGR; None for one that could not be read.

    Returns
    -------
    list of Check
        ``photo_face_count`` and the checks of ``PORTRAIT_LIMITS``; a portrait
        without exactly one face fails them all (there is nothing to measure).
    """
    measures = [measure_portrait(p, detector) if p is not None else None for p in photos]
    faces = np.array([m.faces if m is not None else 0 for m in measures], float)
    one_face = faces == 1
    checks = [make_check("photo_face_count", faces, threshold=1, rule="== 1", zone="photo",
                         details=[f"photo_face_count: {int(f)} faces found (must be exactly 1)" for f in faces])]
    fields = {
        "photo_eye_centre_x": "eye_centre_x",
        "photo_eye_line_y": "eye_line_y",
        "photo_head_width": "head_width",
        "photo_roll_deg": "roll_deg",
        "photo_exposure": "exposure",
        "photo_dynamic_range": "dynamic_range",
        "photo_illumination": "illumination",
        "photo_background": "background",
        "photo_sharpness": "sharpness",
    }
    for name, attribute in fields.items():
        limit = PORTRAIT_LIMITS[name]
        values = np.array([getattr(m, attribute) if m is not None else np.nan for m in measures], float)
        measured = np.abs(values) if name == "photo_roll_deg" else values
        with np.errstate(invalid="ignore"):
            ok = one_face & (measured >= limit.low) & (measured <= limit.high)
        details = [
            f"{name}: {v:.3g} (must be {'|value| ' if name == 'photo_roll_deg' else ''}{limit.rule})" if good
            else f"{name}: not measured, no single face"
            for v, good in zip(values, one_face)
        ]
        rule = f"|value| {limit.rule}" if name == "photo_roll_deg" else limit.rule
        checks.append(make_check(name, values, threshold=limit.high if limit.high != np.inf else limit.low,
                                 rule=rule, zone=limit.zone, ok=ok, details=details))
    return checks


# --------------------------------------------------------------------------- identity after printing

FEATURE_SHAPE = (96, 126)
"""(width, height) at which photos are compared: 3 px per mm of a 32 x 42 mm photo zone."""
_DOG_SIGMAS = (1.0, 2.5)


def fit_cover(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """Scale and centre-crop ``image`` to exactly ``(height, width)``, keeping proportions.

    The same framing the printer uses to put the enrolled portrait into the
    photo zone (``factory.devices.render``), so the two can be compared.
    """
    ih, iw = image.shape[:2]
    scale = max(width / iw, height / ih)
    cw, ch = min(iw, int(round(width / scale))), min(ih, int(round(height / scale)))
    x0, y0 = (iw - cw) // 2, (ih - ch) // 2
    crop = image[y0:y0 + ch, x0:x0 + cw]
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    return cv2.resize(crop, (width, height), interpolation=interpolation)


def band_pass(grey: np.ndarray, sigmas: tuple[float, float] = _DOG_SIGMAS) -> np.ndarray:
    """Difference of Gaussians of a ``(h, w) float32`` image: detail between the two scales."""
    return cv2.GaussianBlur(grey, (0, 0), sigmas[0]) - cv2.GaussianBlur(grey, (0, 0), sigmas[1])


def photo_features(images: Sequence[np.ndarray] | np.ndarray, *, crop: bool = False) -> np.ndarray:
    """Band-passed, zero-mean, unit-norm features of photos for identity comparison.

    Parameters
    ----------
    images : sequence of np.ndarray
        BGR or grey uint8 images: printed photo zones (already framed as the
        zone), or enrolled portraits with ``crop=True`` (framed to the zone's
        proportions first).
    crop : bool
        Cover-crop each image to ``FEATURE_SHAPE``'s proportions first.

    Returns
    -------
    np.ndarray
        ``(n, 96 * 126) float32``; the dot product of two rows is their correlation.
    """
    width, height = FEATURE_SHAPE
    out = np.zeros((len(images), width * height), np.float32)
    for i, image in enumerate(images):
        image = np.asarray(image)
        grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
        small = fit_cover(grey, width, height) if crop else cv2.resize(grey, (width, height),
                                                                       interpolation=cv2.INTER_AREA)
        detail = band_pass(small.astype(np.float32)).ravel()
        detail -= detail.mean()
        norm = float(np.linalg.norm(detail))
        if norm > 1e-6:
            out[i] = detail / norm
    return out
