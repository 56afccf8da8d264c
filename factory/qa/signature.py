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
_COARSE = 2
"""The slant and the cuts are searched on the signature scaled down by this factor."""
_ALIGN_WITHIN = 0.15
"""ECC-align only the look-alikes whose plain correlation is within this of the record character's.

ECC raises a cell's correlation with a glyph by 0.00-0.15 (median 0.06), and a look-alike that ends
up closer than 0.02 to the record character after alignment was at most 0.19 below it before
(docs/qa.md); one further behind cannot overtake it, and is reported with its plain correlation."""
_ECC_CRITERIA = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 50, 1e-3)


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
    _units: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

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

    def units(self, chars: Sequence[str]) -> np.ndarray:
        """``(len(chars), 48 * 48) float32``: each glyph blurred, zero-mean and of unit norm (``_unit``)."""
        out = np.empty((len(chars), _CELL * _CELL), np.float32)
        for i, char in enumerate(chars):
            cached = self._units.get(char)
            if cached is None:
                cached = _unit(self.glyph(char)).ravel()
                cached.setflags(write=False)
                if len(self._units) < 20000:
                    self._units[char] = cached
            out[i] = cached
        return out


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


def _unit_rows(cells: np.ndarray) -> np.ndarray:
    """``_unit`` of each ``(48, 48)`` cell of ``cells`` ``(m, 48, 48) float32``, as ``(m, 48 * 48)`` rows.

    One Gaussian blur over the cells stacked on top of each other: each cell has a ``_PAD``-pixel
    zero border, as wide as the blur's reach, so no cell bleeds into its neighbour and the result
    is the blur of each cell alone.
    """
    m = cells.shape[0]
    blurred = cv2.GaussianBlur(cells.reshape(m * _CELL, _CELL), (0, 0), 1.0).reshape(m, _CELL * _CELL)
    blurred -= blurred.mean(axis=1, keepdims=True)
    norms = np.linalg.norm(blurred, axis=1, keepdims=True)
    np.divide(blurred, norms, out=blurred, where=norms > 0)
    return blurred


def _squares(ink: np.ndarray, segments: Sequence[tuple[int, int]]) -> np.ndarray:
    """``_square`` of the column ranges ``[lo, hi)`` of ``ink``, as ``(m, 48, 48) float32``.

    The ink rows of every range come from one cumulative count of the inked pixels per row.
    """
    inked = ink > 60
    counts = np.zeros((ink.shape[0], ink.shape[1] + 1), np.int16)
    np.cumsum(inked, axis=1, dtype=np.int16, out=counts[:, 1:])
    columns = np.flatnonzero(inked.any(axis=0))
    out = np.zeros((len(segments), _CELL, _CELL), np.float32)
    if not columns.size or not len(segments):
        return out
    los, his = np.asarray(segments).T
    rows = counts[:, his] != counts[:, los]
    r0 = rows.argmax(axis=0)
    r1 = rows.shape[0] - rows[::-1].argmax(axis=0)
    c0 = columns[np.minimum(np.searchsorted(columns, los), columns.size - 1)]
    c1 = columns[np.maximum(np.searchsorted(columns, his) - 1, 0)] + 1
    inner = _CELL - 2 * _PAD
    for i in np.flatnonzero(rows.any(axis=0)).tolist():
        crop = ink[r0[i]:r1[i], c0[i]:c1[i]]
        ch, cw = crop.shape
        side = max(ch, cw)
        y0, x0 = (side - ch) // 2, (side - cw) // 2
        square = cv2.copyMakeBorder(crop, y0, side - ch - y0, x0, side - cw - x0, cv2.BORDER_CONSTANT, value=0)
        out[i, _PAD:_PAD + inner, _PAD:_PAD + inner] = cv2.resize(square, (inner, inner),
                                                                 interpolation=cv2.INTER_AREA)
    return out


def _unsheared(ink: np.ndarray, slant: float) -> np.ndarray:
    # The writer's slant sheared x by slant * (y - h); undo it so characters stand apart.
    h, w = ink.shape
    return cv2.warpAffine(ink, np.float32([[1, -slant, slant * h], [0, 1, 0]]), (w, h), borderValue=0)


def _segment(signature: np.ndarray, name: str, kit: SignatureKit) -> tuple[np.ndarray, np.ndarray]:
    """``segment_signature``'s cells ``(n, 48, 48)`` and their ``_unit`` rows ``(n, 48 * 48)``.

    The slant (every third of ``_SLANTS``, then the two beside the best) and the cuts are chosen
    on the signature scaled down by ``_COARSE`` (a character
    spans 50 px or more there, still more than the 40 px of a cell): for each slant the distinct
    cells of all candidate cuts are squared once and scored against their position's glyph in
    one product, a cut's fit being the sum of its cells' scores. The chosen cut is then taken
    from the full-resolution signature.
    """
    ink = cv2.bitwise_not(signature)
    h, w = ink.shape
    n = len(name)
    coarse = _COARSE if min(h, w) >= 40 * _COARSE else 1
    small = cv2.resize(ink, (w // coarse, h // coarse), interpolation=cv2.INTER_AREA) if coarse > 1 else ink
    templates = kit.units(name)

    def fit(slant: float) -> tuple[float, float, tuple[int, ...]] | None:
        unsheared = _unsheared(small, slant)
        profile = unsheared.sum(axis=0, dtype=np.float32)
        top = profile.max()
        if top <= 0:
            return None
        inked = np.flatnonzero(profile > top * 0.02)
        a, b = int(inked[0]), int(inked[-1]) + 1
        width = (b - a) / n
        options = [_valleys(profile, int(a + width * (k - 0.4)), int(a + width * (k + 0.4))) for k in range(1, n)]
        index: dict[tuple[int, int, int], int] = {}
        combos: list[list[int]] = []
        edge_sets: list[tuple[int, ...]] = []
        for cuts in itertools.product(*options):
            edges = (a, *cuts, b)
            if any(edges[k + 1] - edges[k] < width * 0.3 for k in range(n)):
                continue
            combos.append([index.setdefault((k, edges[k], edges[k + 1]), len(index)) for k in range(n)])
            edge_sets.append(edges)
        if not combos:
            return None
        keys = list(index)
        units = _unit_rows(_squares(unsheared, [(lo, hi) for _, lo, hi in keys]))
        scores = np.einsum("ij,ij->i", units, templates[[k for k, _, _ in keys]])
        fits = scores[np.asarray(combos)].sum(axis=1)
        pick = int(np.argmax(fits))
        return float(fits[pick]), float(slant), edge_sets[pick]

    # Every third slant first, then the two beside the best of those: the fit changes smoothly with the slant.
    tried = {i: fit(_SLANTS[i]) for i in range(0, len(_SLANTS), 3)}

    def rank(i: int) -> float:
        return tried[i][0] if tried[i] is not None else -np.inf

    first = max(tried, key=rank)
    for i in (first - 1, first + 1):
        if 0 <= i < len(_SLANTS) and i not in tried:
            tried[i] = fit(_SLANTS[i])
    found = [tried[i] for i in sorted(tried) if tried[i] is not None]
    best = max(found, key=lambda f: f[0]) if found else None
    if best is None:
        return np.zeros((n, _CELL, _CELL), np.float32), np.zeros((n, _CELL * _CELL), np.float32)
    _, slant, edges = best
    full = [min(e * coarse, w) for e in edges]
    full[-1] = min(edges[-1] * coarse + coarse - 1, w)
    cells = _squares(_unsheared(ink, slant), [(full[k], full[k + 1]) for k in range(n)])
    return cells, _unit_rows(cells)


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
    return list(_segment(signature, name, kit)[0])


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
    cells, units = _segment(grey, name, kit)
    scores = []
    for position, (cell, unit, char) in enumerate(zip(cells, units, name)):
        own = _aligned_score(kit.glyph(char), cell)
        others = kit.lookalikes.of(char)
        best_char, best_score = "", -1.0
        if others:
            # ECC is the costly step: align only the look-alikes that already fit best unaligned and
            # come within _ALIGN_WITHIN of the record character; the others keep their plain score.
            quick = kit.units((char, *others)) @ unit
            order = np.argsort(quick[1:])[::-1]
            best_char, best_score = others[order[0]], float(quick[1 + order[0]])
            aligned = -1.0
            for k in order[:kit.candidates]:
                if quick[1 + k] < quick[0] - _ALIGN_WITHIN:
                    break
                s = _aligned_score(kit.glyph(others[k]), cell)
                if s > aligned:
                    best_char, best_score, aligned = others[k], s, s
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
