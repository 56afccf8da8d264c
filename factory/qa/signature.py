"""Signature checks: the captured signature against the name, and the printed signature against the capture.

Before printing (``check_signature_name``): each character of the captured
signature is compared, as a glyph image, with the record's character and with
its look-alikes (``factory.qa.lookalikes``), all rendered in AR PL UKai, the
brush style closest to handwriting. The signature is cut into as many
characters as the name has (column profile after undoing the writer's slant;
of the few candidate cuts the one whose cells best fit the name's glyphs);
each cell is aligned to each candidate glyph by ECC (affine) and scored by the
correlation after alignment (research notes, qa-anchors.md section 3: ECC on
same-style candidates, 94-99 % caught at 1-3 % false alarms). Two checks:

- ``signature_lookalike``: a look-alike fits a character better than the
  record's own character (the applicant signed 哓 for 晓);
- ``signature_name``: some character fits the record's character poorly,
  whatever was written instead (a look-alike the table does not hold, such as
  朋 for 鹏 or 叡 for 睿, or a different name).

After printing, ``signature_print_similarity`` compares the printed signature
zone with the captured image drawn into that zone (see ``factory.qa.printed``).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from factory.errors import InvalidField
from factory.qa.lookalikes import LookalikeTable, load_lookalikes
from factory.qa.verdicts import Check, make_check

__all__ = [
    "UKAI_FONT",
    "SignatureKit",
    "CharacterScore",
    "build_signature_kit",
    "score_signature",
    "check_signature_name",
    "LOOKALIKE_MARGIN",
    "NAME_MATCH_FLOOR",
    "MIN_INK_FRACTION",
]

UKAI_FONT = Path("/usr/share/fonts/truetype/arphic/ukai.ttc")

LOOKALIKE_MARGIN = 0.0
"""Flag when the best look-alike's score minus the record character's exceeds this.

Genuine characters beat their best look-alike by 0.018 or more after alignment
(天 and 夭 come closest; docs/qa.md has the measured distributions)."""
NAME_MATCH_FLOOR = 0.94
"""Flag when a character's aligned correlation with the record's character is below this."""
MIN_INK_FRACTION = 0.005
"""A signature with less ink than this share of its pixels is missing."""

_CELL = 48
_PAD = 4
_SLANTS = np.linspace(-0.3, 0.15, 10)
_CUT_CANDIDATES = 3
_ECC_CRITERIA = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 50, 1e-4)


@dataclass(frozen=True, slots=True)
class CharacterScore:
    """How one character of a signature fits the record's character and its look-alikes."""

    position: int
    expected: str
    score: float
    """Aligned correlation with the record's character (-1 to 1)."""
    best_lookalike: str
    """The look-alike that fits best ('' when the character has none)."""
    lookalike_score: float
    """Its aligned correlation (-1 when there is none)."""


@dataclass(slots=True)
class SignatureKit:
    """The brush font and the look-alike table; build once per process with ``build_signature_kit``.

    Holds a memo of rendered glyphs (a cache: the same character always renders the same).
    """

    font: ImageFont.FreeTypeFont
    lookalikes: LookalikeTable
    candidates: int = 6
    """Look-alikes aligned per character (the best by plain correlation first)."""
    _glyphs: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    def glyph(self, char: str) -> np.ndarray:
        """``(48, 48) float32`` ink of ``char`` in UKai, cropped to its ink and centred."""
        cached = self._glyphs.get(char)
        if cached is None:
            side = int(self.font.size * 1.6)
            canvas = Image.new("L", (side, side), 0)
            ImageDraw.Draw(canvas).text((side / 2, side / 2), char, font=self.font, fill=255, anchor="mm")
            cached = _square(np.asarray(canvas))
            cached.setflags(write=False)
            if len(self._glyphs) < 20000:
                self._glyphs[char] = cached
        return cached


def build_signature_kit(
    font_path: Path = UKAI_FONT, *, lookalikes: LookalikeTable | None = None, candidates: int = 6
) -> SignatureKit:
    """Load the UKai font and the look-alike table (the files this family reads)."""
    if not font_path.exists():
        raise InvalidField("font", "not found: install the Debian package fonts-arphic-ukai", str(font_path))
    return SignatureKit(
        font=ImageFont.truetype(str(font_path), 96),
        lookalikes=lookalikes if lookalikes is not None else load_lookalikes(),
        candidates=candidates,
    )


def _square(ink: np.ndarray) -> np.ndarray:
    """Crop ``ink`` (uint8, ink bright) to its ink box, centre it in a square, scale to the cell."""
    rows = np.flatnonzero(ink.max(axis=1) > 60)
    cols = np.flatnonzero(ink.max(axis=0) > 60)
    if not rows.size:
        return np.zeros((_CELL, _CELL), np.float32)
    crop = ink[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    side = max(crop.shape)
    square = np.zeros((side, side), np.uint8)
    y0, x0 = (side - crop.shape[0]) // 2, (side - crop.shape[1]) // 2
    square[y0:y0 + crop.shape[0], x0:x0 + crop.shape[1]] = crop
    inner = _CELL - 2 * _PAD
    small = cv2.resize(square, (inner, inner), interpolation=cv2.INTER_AREA)
    return np.pad(small, _PAD).astype(np.float32)


def _unit(image: np.ndarray) -> np.ndarray:
    blurred = cv2.GaussianBlur(image, (0, 0), 1.0)
    blurred = blurred - blurred.mean()
    norm = float(np.linalg.norm(blurred))
    return blurred / norm if norm > 0 else blurred


def _valleys(profile: np.ndarray, lo: int, hi: int) -> list[int]:
    """Up to ``_CUT_CANDIDATES`` columns in ``[lo, hi)`` where the ink profile is locally lowest."""
    lo, hi = max(lo, 1), min(hi, profile.size - 1)
    if hi <= lo:
        return [lo]
    segment = profile[lo:hi]
    inner = np.flatnonzero((segment[1:-1] <= segment[:-2]) & (segment[1:-1] <= segment[2:])) + 1
    order = sorted(set(inner.tolist()) | {int(np.argmin(segment))}, key=lambda i: segment[i])
    picked: list[int] = []
    for i in order:
        if all(abs(i - j) > 3 for j in picked):
            picked.append(i)
        if len(picked) == _CUT_CANDIDATES:
            break
    return [lo + i for i in picked]


def segment_signature(signature: np.ndarray, name: str, kit: SignatureKit) -> list[np.ndarray]:
    """Cut a signature into ``len(name)`` character cells.

    Parameters
    ----------
    signature : np.ndarray
        ``(h, w) uint8`` grey, dark ink on white.
    name : str
        What it should read; its length is the number of cells, and its glyphs
        choose among the candidate cuts.

    Returns
    -------
    list of np.ndarray
        ``(48, 48) float32`` ink cells, one per character, in writing order.
    """
    ink = np.subtract(255, signature, dtype=np.int16).clip(0, 255).astype(np.uint8)
    h, w = ink.shape
    n = len(name)
    templates = [_unit(kit.glyph(c)) for c in name]
    best: tuple[float, list[np.ndarray]] | None = None
    for slant in _SLANTS:
        # The writer's slant sheared x by slant * (y - h); undo it so characters stand apart.
        unsheared = cv2.warpAffine(ink, np.float32([[1, -slant, slant * h], [0, 1, 0]]), (w, h), borderValue=0)
        profile = unsheared.sum(axis=0, dtype=np.float32)
        inked = np.flatnonzero(profile > profile.max() * 0.02) if profile.max() > 0 else np.zeros(0, int)
        if inked.size == 0:
            continue
        a, b = int(inked[0]), int(inked[-1]) + 1
        width = (b - a) / n
        options = [_valleys(profile, int(a + width * (k - 0.4)), int(a + width * (k + 0.4))) for k in range(1, n)]
        for cuts in itertools.product(*options):
            edges = [a, *cuts, b]
            if any(edges[k + 1] - edges[k] < width * 0.3 for k in range(n)):
                continue
            cells = [_square(unsheared[:, edges[k]:edges[k + 1]]) for k in range(n)]
            fit = sum(float((_unit(cell) * t).sum()) for cell, t in zip(cells, templates))
            if best is None or fit > best[0]:
                best = (fit, cells)
    if best is None:
        return [np.zeros((_CELL, _CELL), np.float32) for _ in name]
    return best[1]


def _aligned_score(template: np.ndarray, image: np.ndarray) -> float:
    """Correlation of ``image`` with ``template`` after ECC affine alignment (-1 when it diverges)."""
    warp = np.eye(2, 3, dtype=np.float32)
    try:
        score, _ = cv2.findTransformECC(template, image, warp, cv2.MOTION_AFFINE, _ECC_CRITERIA, None, 5)
    except cv2.error:
        return -1.0
    return float(score)


def score_signature(signature: np.ndarray, name: str, kit: SignatureKit) -> list[CharacterScore]:
    """Score each character of ``signature`` against ``name``'s character and its look-alikes.

    Parameters
    ----------
    signature : np.ndarray
        ``(h, w) uint8`` grey (or BGR), dark ink on a light background.
    name : str
        The record's name in Chinese characters (surname then given name).

    Returns
    -------
    list of CharacterScore
        One per character of ``name``.
    """
    grey = _as_grey(signature)
    cells = segment_signature(grey, name, kit)
    scores = []
    for position, (cell, char) in enumerate(zip(cells, name)):
        own = _aligned_score(kit.glyph(char), cell)
        others = kit.lookalikes.of(char)
        best_char, best_score = "", -1.0
        if others:
            # Align only the look-alikes that already fit best unaligned: ECC is the costly step.
            unit = _unit(cell)
            quick = [float((unit * _unit(kit.glyph(c))).sum()) for c in others]
            for k in np.argsort(quick)[::-1][:kit.candidates]:
                s = _aligned_score(kit.glyph(others[k]), cell)
                if s > best_score:
                    best_char, best_score = others[k], s
        scores.append(CharacterScore(position, char, own, best_char, best_score))
    return scores


def _as_grey(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image)
    if image.dtype != np.uint8:
        raise InvalidField("signature", "must be a uint8 image", str(image.dtype))
    if image.ndim == 3 and image.shape[2] in (3, 4):
        return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY if image.shape[2] == 3 else cv2.COLOR_BGRA2GRAY)
    if image.ndim != 2:
        raise InvalidField("signature", "must be (h, w) grey or (h, w, 3) BGR", image.shape)
    return image


def ink_fraction(signature: np.ndarray) -> float:
    """Share of the pixels that are ink (darker than mid-grey)."""
    grey = _as_grey(signature)
    return float((grey < 128).mean()) if grey.size else 0.0


def check_signature_name(
    signatures: Sequence[np.ndarray | None],
    names: Sequence[str],
    kit: SignatureKit,
    *,
    lookalike_margin: float = LOOKALIKE_MARGIN,
    name_floor: float = NAME_MATCH_FLOOR,
) -> tuple[Check, Check, Check]:
    """The before-printing signature checks of a batch.

    Parameters
    ----------
    signatures : sequence of np.ndarray or None
        Captured signatures, ``(h, w) uint8`` grey, dark ink on white; None when unreadable.
    names : sequence of str
        Each record's Chinese name (``surname_cn + given_name_cn``).

    Returns
    -------
    (Check, Check, Check)
        ``signature_present`` (ink share), ``signature_lookalike`` (best
        look-alike score minus the record character's score, worst character)
        and ``signature_name`` (lowest record-character score).
    """
    if len(signatures) != len(names):
        raise InvalidField("signatures", "must have one entry per record", (len(signatures), len(names)))
    n = len(names)
    ink = np.zeros(n)
    lookalike = np.full(n, np.nan)
    own = np.full(n, np.nan)
    look_details = ["no signature to compare with the name"] * n
    own_details = ["no signature to compare with the name"] * n
    for i, (signature, name) in enumerate(zip(signatures, names)):
        if signature is None:
            continue
        ink[i] = ink_fraction(signature)
        if ink[i] < MIN_INK_FRACTION or not name:
            continue
        scores = score_signature(signature, name, kit)
        worst_gap = max(scores, key=lambda s: s.lookalike_score - s.score)
        lookalike[i] = worst_gap.lookalike_score - worst_gap.score
        look_details[i] = (
            f"character {worst_gap.position + 1} of {name}: {worst_gap.best_lookalike} fits the signature "
            f"better than {worst_gap.expected} ({worst_gap.lookalike_score:.3f} vs {worst_gap.score:.3f})"
        )
        weakest = min(scores, key=lambda s: s.score)
        own[i] = weakest.score
        own_details[i] = (
            f"character {weakest.position + 1} of {name}: the signature does not show {weakest.expected} "
            f"(aligned correlation {weakest.score:.3f})"
        )
    present = ink >= MIN_INK_FRACTION
    return (
        make_check("signature_present", ink, threshold=MIN_INK_FRACTION, rule=f">= {MIN_INK_FRACTION}",
                   zone="signature"),
        make_check("signature_lookalike", lookalike, threshold=lookalike_margin, rule=f"<= {lookalike_margin}",
                   zone="signature", ok=present & ~(lookalike > lookalike_margin), details=look_details),
        make_check("signature_name", own, threshold=name_floor, rule=f">= {name_floor}", zone="signature",
                   ok=present & (own >= name_floor), details=own_details),
    )
