"""A second opinion on uncertain MRZ characters, from tesseract.

Stock tesseract reads whole MRZs badly (0/30 documents exact in the research
notes) but a single, isolated character with a whitelist is a fair second
reader. It runs as a subprocess (~50-200 ms a call), so it is never on the hot
path: ``factory.qa.mrz_readback.compare_mrz`` asks it only about characters
the template matcher read with a low confidence *and* that disagree with the
record. This is the one module of ``factory.qa`` that leaves the process;
the command-line shell passes a ``TesseractReader`` in.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from factory.errors import InvalidField

__all__ = ["TesseractReader", "tesseract_available"]

_WHITELIST = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<"


def tesseract_available() -> bool:
    """True when the ``tesseract`` program (Debian tesseract-ocr) is on the PATH."""
    return shutil.which("tesseract") is not None


@dataclass(frozen=True, slots=True)
class TesseractReader:
    """Reads single MRZ character cells with tesseract (``--psm 10``, MRZ whitelist, one thread)."""

    upscale: int = 2
    """Cells are enlarged before reading: tesseract prefers capitals 30 px or taller."""
    margin_px: int = 12

    timeout_s: float = 10.0

    def __call__(self, cells: Sequence[np.ndarray]) -> list[str]:
        program = shutil.which("tesseract")
        if program is None:
            raise InvalidField("tesseract", "not found: install the Debian package tesseract-ocr")
        # One OpenMP thread: tesseract's default two threads are 3x slower per call here.
        env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
        command = [program, "stdin", "stdout", "--psm", "10", "-c", f"tessedit_char_whitelist={_WHITELIST}"]
        out = []
        for cell in cells:
            grey = cell if cell.ndim == 2 else cv2.cvtColor(cell, cv2.COLOR_BGR2GRAY)
            big = cv2.resize(grey, None, fx=self.upscale, fy=self.upscale, interpolation=cv2.INTER_CUBIC)
            padded = cv2.copyMakeBorder(big, self.margin_px, self.margin_px, self.margin_px, self.margin_px,
                                        cv2.BORDER_CONSTANT, value=int(np.median(grey)))
            ok, png = cv2.imencode(".png", padded)
            if not ok:
                out.append("")
                continue
            try:
                result = subprocess.run(command, input=png.tobytes(), capture_output=True, env=env,
                                        timeout=self.timeout_s, check=False)
            except subprocess.TimeoutExpired:
                out.append("")
                continue
            text = result.stdout.decode("utf-8", "replace").strip().replace(" ", "")
            out.append(text[:1] if result.returncode == 0 and text else "")
        return out
