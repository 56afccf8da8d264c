"""Realistic generated applications: names, ages, document mix, photos, signatures.

Owns: the name and place tables, the procedural portrait (a drawn frontal face
that a standard face detector finds exactly once), the brush-style signature,
and the seeded generator of a day's intake. Pure functions taking an
``np.random.Generator``; files are written by ``factory.commands.sample``.

May import ``factory.config``, ``factory.records``, ``factory.mrz.names``,
``factory.qa.faces``, numpy, OpenCV and Pillow.
"""

from factory.samples.generate import SampleApplication, generate_applications
from factory.samples.portraits import PORTRAIT_SIZE, draw_portrait
from factory.samples.signatures import SignatureWriter

__all__ = [
    "PORTRAIT_SIZE",
    "SampleApplication",
    "SignatureWriter",
    "draw_portrait",
    "generate_applications",
]
