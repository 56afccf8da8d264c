"""The look-alike (形近字) table: for each GB2312 character, the characters a writer may put in its place.

Built once by ``scripts/build_lookalikes.py`` from all 6,763 GB2312 hanzi
rendered in AR PL UKai and AR PL UMing (glyph correlation, top 8, plus up to
4 same-sound characters that also look alike) and shipped as
``factory/qa/data/lookalikes.npz``. 哓 is 晓's nearest neighbour, 末 is 未's.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Mapping

import numpy as np

from factory.errors import InvalidField

__all__ = ["LOOKALIKE_FILE", "LookalikeTable", "load_lookalikes"]

LOOKALIKE_FILE = Path(__file__).resolve().parent / "data" / "lookalikes.npz"


@dataclass(frozen=True, slots=True)
class LookalikeTable:
    """Character -> its look-alikes, most similar first, with their glyph correlation (0-1)."""

    neighbours: Mapping[str, tuple[tuple[str, float], ...]]

    def __len__(self) -> int:
        return len(self.neighbours)

    def __contains__(self, char: object) -> bool:
        return char in self.neighbours

    def of(self, char: str) -> tuple[str, ...]:
        """The look-alikes of ``char`` (empty for a character outside GB2312)."""
        return tuple(c for c, _ in self.neighbours.get(char, ()))

    def similarity(self, char: str, other: str) -> float:
        """Glyph correlation of ``other`` with ``char``, NaN when ``other`` is not in its row."""
        for c, s in self.neighbours.get(char, ()):
            if c == other:
                return s
        return float("nan")


def load_lookalikes(path: Path = LOOKALIKE_FILE, *, top: int | None = None) -> LookalikeTable:
    """Read the shipped table (the only file this module reads).

    Parameters
    ----------
    path : Path
        An ``.npz`` written by ``scripts/build_lookalikes.py``.
    top : int, optional
        Keep only the first ``top`` neighbours of each character.

    Raises
    ------
    InvalidField
        When the file is missing or not a look-alike table.
    """
    try:
        with np.load(path) as data:
            chars, neighbours, similarity = data["chars"], data["neighbours"], data["similarity"]
    except (OSError, KeyError, ValueError) as err:
        raise InvalidField("lookalikes", f"cannot read the look-alike table: {err}", str(path)) from None
    if neighbours.shape[0] != chars.shape[0] or similarity.shape != neighbours.shape:
        raise InvalidField("lookalikes", "arrays of different lengths", str(path))
    if top is not None:
        neighbours, similarity = neighbours[:, :top], similarity[:, :top]
    table = {}
    for code, row, scores in zip(chars.tolist(), neighbours.tolist(), similarity.tolist()):
        table[chr(code)] = tuple((chr(c), s / 250.0) for c, s in zip(row, scores) if c)
    return LookalikeTable(neighbours=MappingProxyType(table))
