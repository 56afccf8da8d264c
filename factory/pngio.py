"""Fast PNG writing for generated and printed images.

libpng at its fastest level spends ~8 ms on a 390x567 portrait; the same
image swapped to RGB by OpenCV, given the PNG 'Up' filter in numpy (one
pass, no further copies) and deflated by zlib-ng takes ~2.3 CPU-ms at level 1
or ~3.8 at level 2 (files ~50 % smaller). Files are standard PNG (8-bit grey or
RGB, non-interlaced) that any reader opens; reading stays with OpenCV.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import cv2
import numpy as np
from zlib_ng import zlib_ng

__all__ = ["encode_png", "write_png"]

_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_FILTER_UP = 2


def _chunk(kind: bytes, data) -> bytes:
    crc = zlib.crc32(data, zlib.crc32(kind)) & 0xFFFFFFFF
    return b"".join((struct.pack(">I", len(data)), kind, data, struct.pack(">I", crc)))


def encode_png(image: np.ndarray, *, level: int = 2) -> bytes:
    """Encode an OpenCV-style image (grey ``(h, w)`` or BGR ``(h, w, 3)``, uint8) as PNG bytes.

    ``level`` is zlib-ng's: 1 (its 'quick' deflate, static Huffman codes) is
    about 40 % faster than 2 on a portrait and writes files about 50 % larger.
    """
    if image.dtype != np.uint8:
        raise ValueError(f"image must be uint8, not {image.dtype}")
    if image.ndim == 2:
        colour_type, rows = 0, image
    elif image.ndim == 3 and image.shape[2] == 3:
        colour_type = 2
        rows = cv2.cvtColor(image, cv2.COLOR_BGR2RGB).reshape(image.shape[0], -1)  # SIMD, not a strided copy
    else:
        raise ValueError(f"image must be (h, w) or (h, w, 3), not {image.shape}")
    height, width = image.shape[:2]
    filtered = np.empty((height, rows.shape[1] + 1), np.uint8)
    filtered[:, 0] = _FILTER_UP
    filtered[0, 0] = 0  # the first row has no row above it
    filtered[0, 1:] = rows[0]
    np.subtract(rows[1:], rows[:-1], out=filtered[1:, 1:])  # modulo 256, as the filter is defined
    header = struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0)
    return b"".join((
        _SIGNATURE,
        _chunk(b"IHDR", header),
        _chunk(b"IDAT", zlib_ng.compress(filtered.data, level)),
        _chunk(b"IEND", b""),
    ))


def write_png(path: str | Path, image: np.ndarray, *, level: int = 2, atomic: bool = True) -> None:
    """Write ``image`` to ``path`` as PNG.

    With ``atomic`` the file is written beside ``path`` and renamed into
    place, so a reader never sees half a file; bulk writers whose files are
    only announced afterwards (the sample generator) pass ``atomic=False``.
    """
    path = Path(path)
    data = encode_png(image, level=level)
    if not atomic:
        path.write_bytes(data)
        return
    tmp = path.with_name(path.name + ".part")
    tmp.write_bytes(data)
    tmp.replace(path)
