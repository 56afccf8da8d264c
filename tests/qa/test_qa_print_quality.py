"""Print-quality measures on synthetic arrays (factory.qa.print_quality)."""

from __future__ import annotations

import cv2
import numpy as np

from factory.qa.print_quality import (
    banding_amplitude,
    dropout_length,
    halve,
    ink_ratio,
    local_difference,
    plane_shifts,
    smudge_depth,
)


def _text_strip(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    strip = np.full((60, 400, 3), (232, 242, 247), np.uint8)
    for x in range(10, 390, 24):
        cv2.putText(strip, "AEKMXZ0123456789"[int(rng.integers(16))], (x, 45), cv2.FONT_HERSHEY_SIMPLEX, 1.3,
                    (16, 16, 16), 3, cv2.LINE_AA)
    return strip


def test_plane_shifts_measure_a_shifted_colour_plane():
    strip = _text_strip()
    shifted = strip.copy()
    shifted[:, :, 2] = cv2.warpAffine(strip[:, :, 2], np.float32([[1, 0, 1.0], [0, 1, 0.5]]), (400, 60),
                                      borderMode=cv2.BORDER_REPLICATE)
    shifts = plane_shifts(np.stack([strip, shifted]))
    assert shifts[0] < 0.05
    assert 0.7 < shifts[1] < 1.6


def test_smudge_depth_finds_the_darkened_blob():
    relative = np.zeros((2, 100, 100), np.float32)
    yy, xx = np.mgrid[0:100, 0:100]
    relative[1] = -0.35 * np.exp(-((xx - 60) ** 2 + (yy - 30) ** 2) / (2 * 6.0 ** 2))
    depth, where = smudge_depth(relative)
    assert depth[0] == 0 and depth[1] > 0.25
    assert tuple(where[1]) == (30, 60)


def test_dropout_finds_a_thin_long_streak_but_not_a_compact_patch():
    residual = np.zeros((3, 200, 100), np.float32)
    residual[1, 20:180, 40] = 20.0        # a streak
    residual[2, 50:70, 30:50] = 60.0      # a misprinted character
    found, where = dropout_length(np.abs(residual), tolerance=2.5, extent=60)
    assert found[0] == 0 and found[2] == 0
    assert found[1] > 1000 and where[1][1] in (39, 40)


def test_banding_finds_a_periodic_ripple():
    flat = np.ones((200, 200), bool)
    rows = np.arange(200, dtype=np.float32)[:, None]
    relative = np.zeros((2, 200, 200), np.float32)
    relative[1] = 0.04 * np.sin(2 * np.pi * rows / 16.0)
    amplitude = banding_amplitude(relative, flat)
    assert amplitude[0] < 1e-6
    assert 0.02 < amplitude[1] < 0.06


def test_local_difference_and_ink_ratio():
    difference = np.zeros((2, 30, 60), np.float32)
    difference[1, 10:15, 20:25] = 0.8
    value, where = local_difference(difference, 5)
    assert value[0] == 0 and abs(value[1] - 0.8) < 1e-6 and tuple(where[1]) == (12, 22)
    expected = np.ones((2, 4, 4), np.float32)
    assert ink_ratio(np.stack([np.ones((4, 4)), np.zeros((4, 4))]), expected).tolist() == [1.0, 0.0]


def test_halve_averages_blocks():
    image = np.arange(16, dtype=np.float32).reshape(4, 4)
    assert halve(image).tolist() == [[2.5, 4.5], [10.5, 12.5]]
    assert halve(np.zeros((5, 7, 3), np.uint8)).shape == (2, 3, 3)
