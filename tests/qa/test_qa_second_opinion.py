"""Tesseract as a second opinion on single MRZ characters (factory.qa.second_opinion)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from factory.qa.second_opinion import TesseractReader, tesseract_available

pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(not tesseract_available(), reason="tesseract-ocr is not installed")]


def _cell(char: str) -> np.ndarray:
    font = ImageFont.truetype("/usr/share/fonts/opentype/ocr-b/OCRB.otf", 40)
    image = Image.new("L", (42, 52), 240)
    ImageDraw.Draw(image).text((5, 4), char, font=font, fill=16)
    return np.asarray(image)


def test_tesseract_reads_single_ocr_b_characters():
    assert TesseractReader()([_cell(c) for c in "E8<K"]) == ["E", "8", "<", "K"]


def test_a_blank_cell_reads_as_nothing():
    assert TesseractReader()([np.full((52, 42), 240, np.uint8)]) == [""]
