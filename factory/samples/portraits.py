"""Procedural portraits: a frontal face drawn from random parameters.

No face data set or model can be downloaded here, so each applicant's photo is
drawn: a light, slightly graded background, shoulders in patterned clothing, a
hair mass, ears, a shaded face ellipse, eye sockets with eyes and brows, a
nose and a mouth, then a per-person mid-frequency texture (skin and hair
detail, uneven light) and a soft blur and sensor noise. The layout follows the
ICAO frontal geometry (eyes near 45 % of the height from the top, head about
60 % of the width), and the contrast pattern (dark eyes and brows under a
lighter forehead, a light nose bridge) is what Haar-like frontal-face
detectors key on. Every parameter is drawn from the generator, so two
applicants share no photo; the generator checks each portrait with the
standard detector and redraws the rare one it does not find exactly once.
"""

from __future__ import annotations

import cv2
import numpy as np

__all__ = ["PORTRAIT_SIZE", "draw_portrait"]

PORTRAIT_SIZE = (390, 567)
"""(width, height) in pixels: the PRC digital photo size (33x48 mm at 300 dpi)."""

_W, _H = PORTRAIT_SIZE


_DRAW_SCALE = 0.5
"""Faces are drawn at half size and scaled up: the portrait is soft anyway, and
drawing a quarter of the pixels keeps 10,000 applicants within a minute."""


def _texture(rng: np.random.Generator, cells: tuple[int, int], amplitude: float, size: tuple[int, int]) -> np.ndarray:
    """A smooth random field of ``size`` (w, h), float32, within +-amplitude."""
    small = rng.normal(0.0, 1.0, (cells[1], cells[0])).astype(np.float32)
    small *= amplitude / (np.abs(small).max() + 1e-6)
    return cv2.resize(small, size, interpolation=cv2.INTER_CUBIC)


def _colour(values) -> tuple[float, float, float]:
    return tuple(float(min(255.0, max(0.0, v))) for v in values)


def draw_portrait(rng: np.random.Generator) -> np.ndarray:
    """Draw one applicant's portrait.

    Parameters
    ----------
    rng : np.random.Generator
        The only source of variation; the same generator state gives the same face.

    Returns
    -------
    np.ndarray
        ``(567, 390, 3)`` uint8, BGR.
    """
    k = _DRAW_SCALE
    w, h = int(_W * k), int(_H * k)

    def pt(x: float, y: float) -> tuple[int, int]:
        return int(x * k), int(y * k)

    def ax2(a: float, b: float) -> tuple[int, int]:
        return max(1, int(a * k)), max(1, int(b * k))

    def thick(t: float) -> int:
        return max(1, int(round(t * k)))

    base = rng.uniform(200, 248) + rng.uniform(-10, 10, 3)
    ramp = np.linspace(-0.5, 0.5, h, dtype=np.float32) * rng.uniform(-20, 20)
    column = np.clip(base[None, :] + ramp[:, None], 0, 255).astype(np.uint8)  # (h, 3)
    img = np.repeat(column[:, None, :], w, axis=1)  # 3x faster than a broadcast copy

    red = rng.uniform(185, 240)
    green = red * rng.uniform(0.72, 0.85)
    skin = np.array([green * rng.uniform(0.75, 0.9), green, red])
    hair_level = rng.uniform(15, 75)
    hair = _colour((hair_level, hair_level * rng.uniform(1.0, 1.1), hair_level * rng.uniform(1.0, 1.3)))

    cx = _W / 2 + rng.uniform(-10, 10)
    cy = _H * 0.45 + rng.uniform(-12, 12)
    ax, ay = rng.uniform(85, 110), rng.uniform(118, 142)

    # Shoulders in clothing with stripes of random colour, width and angle.
    cloth = np.repeat(np.tile(np.array(_colour(rng.uniform(20, 220, 3)), np.uint8), (1, w, 1)), h, axis=0)
    stripe = _colour(rng.uniform(20, 220, 3))
    angle, period = rng.uniform(0, np.pi), rng.uniform(10, 35)
    width = period * rng.uniform(0.2, 0.5)
    dx, dy = np.cos(angle), np.sin(angle)
    for n in range(-40, 41):
        ox, oy = _W / 2 + n * period * -dy, _H / 2 + n * period * dx
        cv2.line(cloth, pt(ox - 700 * dx, oy - 700 * dy), pt(ox + 700 * dx, oy + 700 * dy), stripe, thick(width))
    body = np.zeros((h, w), np.uint8)
    cv2.ellipse(body, pt(cx, _H + 60), ax2(rng.uniform(165, 215), rng.uniform(170, 210)), 0, 180, 360, 255, -1)
    cv2.copyTo(cloth, body, img)

    cv2.rectangle(img, pt(cx - 36, cy + ay - 40), pt(cx + 36, cy + ay + 60), _colour(skin * 0.82), -1)
    style = int(rng.integers(0, 4))
    cv2.ellipse(img, pt(cx, cy - 18 + style * 12), ax2(ax + rng.uniform(10, 30), ay + 12 + style * 18),
                0, 0, 360, hair, -1)
    for side in (-1, 1):
        cv2.ellipse(img, pt(cx + side * ax * 0.98, cy + 4), ax2(13, 25), 0, 0, 360, _colour(skin * 0.9), -1)

    # The face, darker towards its rim as a lit rounded surface is.
    x0, x1 = int((cx - ax) * k), int((cx + ax) * k) + 1
    y0, y1 = int((cy - ay) * k), int((cy + ay) * k) + 1
    fy = (np.arange(y0, y1, dtype=np.float32)[:, None] / k - cy) / ay
    fx = (np.arange(x0, x1, dtype=np.float32)[None, :] / k - cx) / ax
    radius2 = fy * fy + fx * fx
    shade = 1.0 - 0.22 * radius2 ** 1.5
    shaded = np.clip(shade[..., None] * skin.astype(np.float32), 0, 255).astype(np.uint8)
    cv2.copyTo(shaded, (radius2 <= 1.0).astype(np.uint8), img[y0:y1, x0:x1])

    cv2.ellipse(img, pt(cx + rng.uniform(-15, 15), cy - ay * 0.78), ax2(ax * 1.03, ay * rng.uniform(0.25, 0.45)),
                rng.uniform(-8, 8), 180, 360, hair, -1)

    eye_y = cy - ay * rng.uniform(0.1, 0.18)
    eye_dx = ax * rng.uniform(0.4, 0.48)
    eye_w = rng.uniform(14, 19)
    brow = _colour(np.array(hair) * 1.1)
    for side in (-1, 1):
        ex = cx + side * eye_dx
        cv2.ellipse(img, pt(ex, eye_y - rng.uniform(16, 22)), ax2(eye_w + 6, 5), 0, 180, 360, brow, thick(4))
        cv2.ellipse(img, pt(ex, eye_y), ax2(eye_w + 6, 12), 0, 0, 360, _colour(skin * 0.8), -1)
        cv2.ellipse(img, pt(ex, eye_y), ax2(eye_w, 7), 0, 0, 360, (235, 238, 240), -1)
        cv2.circle(img, pt(ex + rng.uniform(-2, 2), eye_y), max(1, int(6 * k)), (35, 30, 30), -1)

    nose_y = cy + ay * rng.uniform(0.17, 0.25)
    cv2.line(img, pt(cx, eye_y + 8), pt(cx - 5, nose_y), _colour(skin * 0.72), thick(2))
    cv2.ellipse(img, pt(cx, nose_y), ax2(rng.uniform(11, 16), 6), 0, 0, 180, _colour(skin * 0.62), thick(2))
    mouth_y = cy + ay * rng.uniform(0.45, 0.55)
    lips = (rng.uniform(70, 110), rng.uniform(70, 100), rng.uniform(150, 200))
    cv2.ellipse(img, pt(cx, mouth_y), ax2(rng.uniform(20, 30), rng.uniform(3, 8)), 0, 0, 180, lips, thick(4))

    # Per-person detail at two scales (skin and hair texture, uneven light):
    # this, more than the common layout, tells two drawn faces apart.
    detail = _texture(rng, (12, 17), 14.0, (w, h))
    detail += _texture(rng, (40, 58), 10.0, (w, h))
    small = cv2.add(img, cv2.merge([detail, detail, detail]), dtype=cv2.CV_8U)
    small = cv2.GaussianBlur(small, (0, 0), 1.4 * k)
    return cv2.resize(small, (_W, _H), interpolation=cv2.INTER_LINEAR)
