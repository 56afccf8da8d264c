#!/usr/bin/env python3
"""Build factory/qa/data/lookalikes.npz: the look-alike (形近字) table of all GB2312 characters.

Every one of the 6,763 GB2312 hanzi is rendered in AR PL UKai (the brush style
closest to handwriting) and AR PL UMing (a Ming/Song style), cropped to its ink
box, centred in a square, scaled to 40 x 40, blurred and z-normalised; the two
renderings are concatenated, so two characters are look-alikes when they look
alike in both styles. One matrix product gives every pair's correlation; the
table keeps the ``--top`` best neighbours of each character (research notes,
qa-anchors.md section 3: 晓 -> 哓 0.70, 未 -> 末 0.84), plus up to
``--homophones`` characters read the same (toneless pinyin, any reading) whose
glyph correlation is at least ``--homophone-floor``: a writer who swaps a
character for a look-alike mostly swaps it for one that also sounds alike
(洋 -> 详, 浩 -> 诰, 晨 -> 辰), which the glyph ranking alone puts lower.

Run once (about a minute on two cores) and commit the output::

    .venv/bin/python scripts/build_lookalikes.py

The output holds ``chars`` (6763,) uint16 code points, ``neighbours`` (6763, k)
uint16 code points (0 pads a short row) and ``similarity`` (6763, k) uint8
(glyph correlation x 250), best first.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont
from pypinyin import Style, pinyin

FONTS = (
    Path("/usr/share/fonts/truetype/arphic/ukai.ttc"),
    Path("/usr/share/fonts/truetype/arphic/uming.ttc"),
)
SIDE = 40
RENDER_PX = 64
OUT = Path(__file__).resolve().parent.parent / "factory" / "qa" / "data" / "lookalikes.npz"


def gb2312_hanzi() -> list[str]:
    """The 6,763 hanzi of GB2312: rows 16-55 (level 1) and 56-87 (level 2)."""
    chars = []
    for row in range(0xB0, 0xF8):
        for cell in range(0xA1, 0xFF):
            try:
                chars.append(bytes((row, cell)).decode("gb2312"))
            except UnicodeDecodeError:
                continue  # the five unused cells at the end of row 55
    return chars


def glyph_features(chars: list[str], font_path: Path) -> np.ndarray:
    """``(len(chars), SIDE * SIDE) float32``: z-normalised blurred ink of each character."""
    font = ImageFont.truetype(str(font_path), RENDER_PX)
    canvas_side = int(RENDER_PX * 1.5)
    out = np.zeros((len(chars), SIDE * SIDE), np.float32)
    for i, char in enumerate(chars):
        canvas = Image.new("L", (canvas_side, canvas_side), 0)
        ImageDraw.Draw(canvas).text((canvas_side / 2, canvas_side / 2), char, font=font, fill=255, anchor="mm")
        ink = np.asarray(canvas)
        rows, cols = np.flatnonzero(ink.max(axis=1) > 40), np.flatnonzero(ink.max(axis=0) > 40)
        if not rows.size:
            continue
        crop = ink[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
        side = max(crop.shape)
        square = np.zeros((side, side), np.uint8)
        y0, x0 = (side - crop.shape[0]) // 2, (side - crop.shape[1]) // 2
        square[y0:y0 + crop.shape[0], x0:x0 + crop.shape[1]] = crop
        small = cv2.resize(square, (SIDE, SIDE), interpolation=cv2.INTER_AREA).astype(np.float32)
        small = cv2.GaussianBlur(small, (0, 0), 1.0)
        small -= small.mean()
        norm = np.linalg.norm(small)
        if norm > 0:
            out[i] = small.ravel() / norm
    return out


def readings(chars: list[str]) -> list[frozenset[str]]:
    """Every toneless pinyin reading of each character."""
    return [frozenset(pinyin(c, style=Style.NORMAL, heteronym=True)[0]) for c in chars]


def build(top: int, homophones: int, homophone_floor: float) -> dict[str, np.ndarray]:
    chars = gb2312_hanzi()
    features = np.concatenate([glyph_features(chars, f) for f in FONTS], axis=1) / np.sqrt(len(FONTS))
    similarity = features @ features.T
    np.fill_diagonal(similarity, -np.inf)
    by_reading: dict[str, list[int]] = {}
    sounds = readings(chars)
    for i, sound in enumerate(sounds):
        for reading in sound:
            by_reading.setdefault(reading, []).append(i)
    width = top + homophones
    neighbours = np.zeros((len(chars), width), np.int64)
    scores = np.full((len(chars), width), -np.inf, np.float32)
    for i in range(len(chars)):
        row = similarity[i]
        best = np.argpartition(-row, top)[:top]
        same_sound = np.array(sorted({j for r in sounds[i] for j in by_reading[r]} - {i} - set(best.tolist())),
                              np.int64)
        if same_sound.size:
            same_sound = same_sound[row[same_sound] >= homophone_floor]
            same_sound = same_sound[np.argsort(-row[same_sound])][:homophones]
        picked = np.concatenate([best, same_sound])
        picked = picked[np.argsort(-row[picked])]
        neighbours[i, :picked.size] = picked
        scores[i, :picked.size] = row[picked]
    codes = np.array([ord(c) for c in chars], np.uint16)
    return {
        "chars": codes,
        "neighbours": np.where(np.isfinite(scores), codes[neighbours], 0).astype(np.uint16),
        "similarity": np.clip(np.round(np.nan_to_num(scores, neginf=0.0) * 250), 0, 250).astype(np.uint8),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--top", type=int, default=8, help="neighbours kept per character (default 8)")
    parser.add_argument("--homophones", type=int, default=4, help="same-sound neighbours added (default 4)")
    parser.add_argument("--homophone-floor", type=float, default=0.3,
                        help="least glyph correlation of an added same-sound neighbour (default 0.3)")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    table = build(args.top, args.homophones, args.homophone_floor)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.out, **table)
    lookup = {chr(c): i for i, c in enumerate(table["chars"])}
    for char in "晓未己戌士侯汩杨玲莹宇鹏睿洋博帅浩晨":
        i = lookup[char]
        shown = " ".join(f"{chr(n)}{s / 250:.2f}" for n, s in zip(table["neighbours"][i], table["similarity"][i]) if n)
        print(char, "->", shown)
    print(f"{len(table['chars'])} characters, top {args.top}: {args.out} ({args.out.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
