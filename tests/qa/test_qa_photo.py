"""Portrait compliance before printing, and photo identity after printing (factory.qa.photo)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from factory.errors import InvalidField
from factory.qa.faces import FaceDetector
from factory.qa.photo import PORTRAIT_LIMITS, check_portraits, fit_cover, measure_portrait, photo_features
from factory.samples.portraits import draw_portrait


@pytest.fixture(scope="module")
def detector() -> FaceDetector:
    return FaceDetector()


@pytest.fixture(scope="module")
def portraits() -> list[np.ndarray]:
    rng = np.random.default_rng(40)
    return [draw_portrait(rng) for _ in range(3)]


def _warp(photo: np.ndarray, matrix) -> np.ndarray:
    h, w = photo.shape[:2]
    return cv2.warpAffine(photo, np.float32(matrix), (w, h), borderMode=cv2.BORDER_REPLICATE)


def _busy(photo: np.ndarray) -> np.ndarray:
    h, w = photo.shape[:2]
    lines = photo.copy()
    for x in range(0, w, 12):
        cv2.line(lines, (x, 0), (x + 30, h), (40, 40, 40), 3)
    plain = np.abs(photo.astype(int) - photo[5, 5].astype(int)).max(axis=2) < 30
    return np.where(plain[..., None], lines, photo).astype(np.uint8)


def _two_faces(photo: np.ndarray) -> np.ndarray:
    h, w = photo.shape[:2]
    pair = cv2.resize(np.hstack([photo, photo]), (w, h // 2))
    return np.vstack([pair, np.full((h - h // 2, w, 3), 230, np.uint8)])


def _uneven(photo: np.ndarray) -> np.ndarray:
    out = photo.astype(np.float32)
    out[:, : photo.shape[1] // 2] *= 0.55
    return out.astype(np.uint8)


# Each non-compliant variant and the check that must name it.
VARIANTS = {
    "no face": (lambda p: np.full_like(p, 230), "photo_face_count"),
    "two faces": (_two_faces, "photo_face_count"),
    "off centre": (lambda p: _warp(p, [[1, 0, 0.2 * p.shape[1]], [0, 1, 0]]), "photo_eye_centre_x"),
    "eyes too low": (lambda p: _warp(p, [[1, 0, 0], [0, 1, 0.2 * p.shape[0]]]), "photo_eye_line_y"),
    "too dark": (lambda p: (p * 0.3).astype(np.uint8), "photo_exposure"),
    "flat": (lambda p: (p * 0.2 + p.mean() * 0.8).astype(np.uint8), "photo_dynamic_range"),
    "half in shadow": (_uneven, "photo_illumination"),
    "busy background": (_busy, "photo_background"),
    "blurred": (lambda p: cv2.GaussianBlur(p, (0, 0), 4), "photo_sharpness"),
    "tilted": (lambda p: cv2.warpAffine(p, cv2.getRotationMatrix2D((p.shape[1] / 2, p.shape[0] * 0.42), 12, 1.0),
                                        (p.shape[1], p.shape[0]), borderMode=cv2.BORDER_REPLICATE),
               "photo_roll_deg"),
}


def test_generated_portraits_are_compliant(detector):
    rng = np.random.default_rng(7)
    photos = [draw_portrait(rng) for _ in range(12)]
    checks = check_portraits(photos, detector)
    assert [c.name for c in checks] == ["photo_face_count", *PORTRAIT_LIMITS]
    for check in checks:
        assert check.ok.all(), (check.name, check.value)


@pytest.mark.parametrize("variant", VARIANTS)
def test_a_non_compliant_portrait_fails_its_check(variant, portraits, detector):
    make, check_name = VARIANTS[variant]
    checks = {c.name: c for c in check_portraits([make(p) for p in portraits], detector)}
    assert not checks[check_name].ok.any(), (variant, checks[check_name].value)
    assert checks[check_name].details[0].startswith(check_name)


def test_a_small_head_is_caught(portraits, detector):
    small = [_warp(p, [[0.6, 0, 0.2 * p.shape[1]], [0, 0.6, 0.25 * p.shape[0]]]) for p in portraits]
    checks = {c.name: c for c in check_portraits(small, detector)}
    # Either no face is found at that size, or its head is too narrow.
    assert not (checks["photo_face_count"].ok & checks["photo_head_width"].ok).any()


def test_measures_are_in_image_fractions(portraits, detector):
    m = measure_portrait(portraits[0], detector)
    assert m.faces == 1
    assert 0.45 <= m.eye_centre_x <= 0.55 and 0.3 <= m.eye_line_y <= 0.5 and 0.5 <= m.head_width <= 0.75


def test_an_unreadable_photo_fails_instead_of_crashing(detector):
    checks = check_portraits([None], detector)
    assert not any(c.ok[0] for c in checks)


def test_a_float_image_is_an_error(detector):
    with pytest.raises(InvalidField):
        measure_portrait(np.zeros((10, 10, 3), np.float32), detector)


def test_band_passed_features_tell_drawn_portraits_apart(render_kit):
    # Drawn portraits share a layout: plain correlation of blurred grey is high between
    # two applicants; the band-passed detail is not, while the printed copy matches its own.
    rng = np.random.default_rng(21)
    photos = [draw_portrait(rng) for _ in range(10)]
    zone = render_kit.layout("passport").zone("photo").box
    printed = [fit_cover(p, zone.width, zone.height) for p in photos]
    similarity = photo_features(printed) @ photo_features(photos, crop=True).T
    genuine = np.diag(similarity)
    impostor = similarity[~np.eye(len(photos), dtype=bool)]
    assert genuine.min() > 0.95
    assert impostor.max() < 0.8
