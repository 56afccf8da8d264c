"""Print defects the simulated printer injects, each with its ground truth.

Two families, both pure functions taking the generator:

- content defects change what is printed before rendering: a wrong character
  in a printed field, a misprinted MRZ character, the photo or the signature
  of another application of the batch, a missing field;
- raster defects change the printed page after rendering: a smudge (a soft
  dark blob), a dropout streak (a nozzle out, along the feed direction), the
  misregistration of one colour plane.

Each applied defect is reported as a ``Defect`` (kind, zone, detail) for the
ground-truth sidecar that only evaluation tools read: the QA stage never does.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import cv2
import numpy as np

from factory.devices.layout import TEXT_ZONES, PageLayout
from factory.devices.render import MRZ_GLYPHS, PageContent, RenderKit, render_content

__all__ = [
    "DEFECT_KINDS",
    "CONTENT_DEFECTS",
    "RASTER_DEFECTS",
    "Defect",
    "Neighbour",
    "apply_content_defects",
    "apply_raster_defects",
    "print_page",
]

CONTENT_DEFECTS = ("wrong_character", "mrz_character", "photo_swap", "signature_swap", "missing_field")
RASTER_DEFECTS = ("smudge", "dropout", "misregistration")
DEFECT_KINDS = CONTENT_DEFECTS + RASTER_DEFECTS

# Characters a print head or a data error turns into one another (look-alikes
# first, so the defect is the kind a reader may miss).
_MRZ_CONFUSIONS = {"0": "O", "O": "0", "1": "I", "I": "1", "5": "S", "S": "5", "8": "B", "B": "8",
                   "2": "Z", "Z": "2", "<": "K", "K": "<", "D": "0", "G": "6", "6": "G"}
_CJK_LOOKALIKES = {"晓": "哓", "未": "末", "末": "未", "己": "已", "已": "己", "戌": "戍", "士": "土",
                   "土": "士", "侯": "候", "候": "侯", "汩": "汨", "杨": "扬", "扬": "杨", "玲": "铃",
                   "莹": "萤", "明": "朋", "王": "玉", "玉": "王", "日": "曰", "人": "入", "大": "太"}
_CJK_FALLBACK = "伟芳娜敏静丽强磊军洋勇艳杰娟涛超明霞平刚桂"
_MISSABLE = ("photo", "signature") + TEXT_ZONES


@dataclass(frozen=True, slots=True)
class Defect:
    kind: str
    """One of ``DEFECT_KINDS``."""
    zone: str
    """The layout zone it affects, or ``page`` for the whole page."""
    detail: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"type": self.kind, "zone": self.zone, "detail": dict(self.detail)}


@dataclass(frozen=True, slots=True)
class Neighbour:
    """Another application of the batch the printer printed recently (for swaps)."""

    application_id: str
    photo: np.ndarray | None
    signature: np.ndarray | None


def _other_char(char: str, rng: np.random.Generator) -> str:
    if char.isdigit():
        options = [d for d in "0123456789" if d != char]
    elif "A" <= char <= "Z":
        options = [c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" if c != char]
    elif "\u4e00" <= char <= "\u9fff":
        if char in _CJK_LOOKALIKES:
            return _CJK_LOOKALIKES[char]
        options = [c for c in _CJK_FALLBACK if c != char]
    else:
        return ""
    return options[int(rng.integers(len(options)))]


def _wrong_character(content: PageContent, rng: np.random.Generator) -> tuple[PageContent, Defect | None]:
    candidates = [(zone, text) for zone, text in content.texts.items()
                  if zone not in content.omit and any(_other_char(c, rng) for c in text)]
    if not candidates:
        return content, None
    zone, text = candidates[int(rng.integers(len(candidates)))]
    positions = [i for i, c in enumerate(text) if c.isdigit() or "A" <= c <= "Z" or "\u4e00" <= c <= "\u9fff"]
    at = positions[int(rng.integers(len(positions)))]
    printed = _other_char(text[at], rng)
    texts = dict(content.texts)
    texts[zone] = text[:at] + printed + text[at + 1:]
    detail = {"position": at, "expected": text[at], "printed": printed, "text": texts[zone]}
    return dataclasses.replace(content, texts=MappingProxyType(texts)), Defect("wrong_character", zone, detail)


def _mrz_character(content: PageContent, rng: np.random.Generator) -> tuple[PageContent, Defect | None]:
    if not content.mrz_lines or "mrz" in content.omit:
        return content, None
    line = int(rng.integers(len(content.mrz_lines)))
    text = content.mrz_lines[line]
    at = int(rng.integers(len(text)))
    expected = text[at]
    if expected in _MRZ_CONFUSIONS and rng.random() < 0.7:
        printed = _MRZ_CONFUSIONS[expected]
    else:
        options = [c for c in MRZ_GLYPHS if c != expected]
        printed = options[int(rng.integers(len(options)))]
    lines = list(content.mrz_lines)
    lines[line] = text[:at] + printed + text[at + 1:]
    detail = {"line": line, "position": at, "expected": expected, "printed": printed}
    return dataclasses.replace(content, mrz_lines=tuple(lines)), Defect("mrz_character", "mrz", detail)


def _swap(content: PageContent, kind: str, neighbours: Sequence[Neighbour],
          rng: np.random.Generator) -> tuple[PageContent, Defect | None]:
    attribute = "photo" if kind == "photo_swap" else "signature"
    usable = [n for n in neighbours if getattr(n, attribute) is not None]
    if not usable or getattr(content, attribute) is None or attribute in content.omit:
        return content, None
    other = usable[int(rng.integers(len(usable)))]
    changed = dataclasses.replace(content, **{attribute: getattr(other, attribute)})
    return changed, Defect(kind, attribute, {"from_application": other.application_id})


def _missing_field(content: PageContent, layout: PageLayout,
                   rng: np.random.Generator) -> tuple[PageContent, Defect | None]:
    present = [z for z in _MISSABLE if layout.has_zone(z) and z not in content.omit
               and (content.texts.get(z) if z in TEXT_ZONES else getattr(content, z) is not None)]
    if not present:
        return content, None
    zone = present[int(rng.integers(len(present)))]
    omit = content.omit | {zone, "ghost"} if zone == "photo" else content.omit | {zone}
    return dataclasses.replace(content, omit=frozenset(omit)), Defect("missing_field", zone, {})


def apply_content_defects(
    content: PageContent,
    kinds: Sequence[str],
    layout: PageLayout,
    rng: np.random.Generator,
    *,
    neighbours: Sequence[Neighbour] = (),
) -> tuple[PageContent, tuple[Defect, ...]]:
    """Apply the content defects among ``kinds`` to what is printed.

    A defect that cannot apply (no other application in the batch yet for a
    swap, no MRZ on the document) is skipped and not reported.

    Returns
    -------
    (PageContent, tuple of Defect)
        The changed content (the input is not modified) and what was done.
    """
    defects: list[Defect] = []
    for kind in kinds:
        if kind == "wrong_character":
            content, defect = _wrong_character(content, rng)
        elif kind == "mrz_character":
            content, defect = _mrz_character(content, rng)
        elif kind in ("photo_swap", "signature_swap"):
            content, defect = _swap(content, kind, neighbours, rng)
        elif kind == "missing_field":
            content, defect = _missing_field(content, layout, rng)
        else:
            continue
        if defect is not None:
            defects.append(defect)
    return content, tuple(defects)


def _zone_at(layout: PageLayout, x: int, y: int) -> str:
    for zone in layout.zones:
        b = zone.box
        if b.x0 <= x < b.x1 and b.y0 <= y < b.y1:
            return zone.name
    return "page"


def _smudge(page: np.ndarray, layout: PageLayout, rng: np.random.Generator) -> Defect:
    h, w = page.shape[:2]
    radius = int(rng.integers(12, 51))
    zone = layout.zones[int(rng.integers(len(layout.zones)))].box
    cx = int(rng.integers(zone.x0, zone.x1))
    cy = int(rng.integers(zone.y0, zone.y1))
    density = float(rng.uniform(0.3, 0.45))
    y0, y1 = max(cy - 2 * radius, 0), min(cy + 2 * radius, h)
    x0, x1 = max(cx - 2 * radius, 0), min(cx + 2 * radius, w)
    yy, xx = np.mgrid[y0:y1, x0:x1]
    blob = np.exp(-(((xx - cx) ** 2 + (yy - cy) ** 2) / (2.0 * (radius / 1.6) ** 2))).astype(np.float32)
    region = page[y0:y1, x0:x1].astype(np.float32)
    region *= (1.0 - density * blob)[..., None]
    page[y0:y1, x0:x1] = (region + 0.5).astype(np.uint8)
    return Defect("smudge", _zone_at(layout, cx, cy), {"x": cx, "y": cy, "radius": radius, "density": round(density, 3)})


def _dropout(page: np.ndarray, layout: PageLayout, rng: np.random.Generator) -> Defect:
    h, w = page.shape[:2]
    # Across inked zones, where a missing nozzle shows (over bare paper it is harmless).
    inked = [z for z in layout.zones if z.kind in ("text", "mrz", "photo")]
    zone = inked[int(rng.integers(len(inked)))]
    width = int(rng.integers(1, 3))
    x = int(rng.integers(zone.box.x0, max(zone.box.x1 - width, zone.box.x0 + 1)))
    length = int(rng.integers(250, 400))
    y0 = max(0, min(h - length, (zone.box.y0 + zone.box.y1) // 2 - int(rng.integers(length // 4, 3 * length // 4))))
    paper = np.median(page[::16, ::16].reshape(-1, page.shape[2]), axis=0)
    page[y0:y0 + length, x:x + width] = paper.astype(np.uint8)
    return Defect("dropout", zone.name, {"x": x, "y0": y0, "y1": y0 + length, "width": width})


def _misregistration(page: np.ndarray, rng: np.random.Generator) -> Defect:
    channel = int(rng.integers(3))
    magnitude = float(rng.uniform(2.0, 3.0))
    angle = float(rng.uniform(0, 2 * np.pi))
    dx, dy = magnitude * np.cos(angle), magnitude * np.sin(angle)
    shift = np.float32([[1, 0, dx], [0, 1, dy]])
    plane = np.ascontiguousarray(page[:, :, channel])
    page[:, :, channel] = cv2.warpAffine(plane, shift, (plane.shape[1], plane.shape[0]), flags=cv2.INTER_LINEAR,
                                         borderMode=cv2.BORDER_REPLICATE)
    return Defect("misregistration", "page", {"channel": "BGR"[channel], "dx": round(dx, 2), "dy": round(dy, 2)})


def apply_raster_defects(
    page: np.ndarray, kinds: Sequence[str], layout: PageLayout, rng: np.random.Generator
) -> tuple[np.ndarray, tuple[Defect, ...]]:
    """Apply the raster defects among ``kinds`` to a rendered page.

    Parameters
    ----------
    page : np.ndarray
        ``(h, w, 3) uint8`` BGR; not modified.

    Returns
    -------
    (np.ndarray, tuple of Defect)
        A defective copy of the page and what was done.
    """
    out = page.copy()
    defects = []
    for kind in kinds:
        if kind == "smudge":
            defects.append(_smudge(out, layout, rng))
        elif kind == "dropout":
            defects.append(_dropout(out, layout, rng))
        elif kind == "misregistration":
            defects.append(_misregistration(out, rng))
    return out, tuple(defects)


def print_page(
    content: PageContent,
    kinds: Sequence[str],
    kit: RenderKit,
    rng: np.random.Generator,
    *,
    neighbours: Sequence[Neighbour] = (),
) -> tuple[np.ndarray, tuple[Defect, ...]]:
    """What the machine prints for ``content`` with the defects ``kinds``: the page and its ground truth."""
    layout = kit.layout(content.doc_type)
    content, content_defects = apply_content_defects(content, kinds, layout, rng, neighbours=neighbours)
    page = render_content(content, kit)
    raster = [k for k in kinds if k in RASTER_DEFECTS]
    if raster:
        page, raster_defects = apply_raster_defects(page, raster, layout, rng)
    else:
        raster_defects = ()
    return page, content_defects + raster_defects
