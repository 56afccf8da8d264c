"""The ICAO 9303 check digit, for one string and for numpy batches of strings.

ICAO 9303 Part 3, 4.9: each character has a value (0-9 for digits, 10-35 for
A-Z, 0 for the filler ``<``); the values are multiplied by the repeating
weights 7, 3, 1 and the sum modulo 10 is the check digit.
"""

from __future__ import annotations

import numpy as np

from factory.errors import MrzError

__all__ = ["MRZ_ALPHABET", "char_value", "check_digit", "check_digits", "is_mrz_text"]

MRZ_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ<"
"""The 37 characters allowed in a machine-readable zone (ICAO 9303 Part 3, 4.3)."""

# Only the value modulo 10 matters for a mod-10 sum, so each byte is translated
# straight to its value mod 10; 0xFF marks a byte outside the MRZ alphabet.
_INVALID = 0xFF
_MOD10 = bytearray([_INVALID]) * 256
for _value, _char in enumerate(MRZ_ALPHABET[:-1]):
    _MOD10[ord(_char)] = _value % 10
_MOD10[ord("<")] = 0  # ICAO 9303 Part 3, 4.9: the filler counts as zero
_MOD10_TABLE = bytes(_MOD10)

# The same table for numpy batches, where NUL is the padding of fixed-width
# strings and so contributes zero.
_BATCH = bytearray(_MOD10_TABLE)
_BATCH[0] = 0
_BATCH_TABLE = bytes(_BATCH)


def char_value(char: str) -> int:
    """The ICAO value of one MRZ character: 0-9, A=10 ... Z=35, ``<`` = 0."""
    if len(char) != 1 or char not in MRZ_ALPHABET:
        raise MrzError("character", "is not in the MRZ alphabet A-Z 0-9 <", char)
    return 0 if char == "<" else MRZ_ALPHABET.index(char)


def is_mrz_text(text: str) -> bool:
    """True when every character of ``text`` is in A-Z, 0-9 or ``<``."""
    try:
        raw = text.encode("ascii")
    except UnicodeEncodeError:
        return False
    return _INVALID not in raw.translate(_MOD10_TABLE)


def _check_digit(text: str) -> int:
    # Fast path for text already known to be in the alphabet: bytes.translate and
    # sum() over strided bytes run in C (about 0.3 us for a 9-character field).
    t = text.encode("ascii").translate(_MOD10_TABLE)
    return (7 * sum(t[0::3]) + 3 * sum(t[1::3]) + sum(t[2::3])) % 10


def check_digit(text: str) -> int:
    """The ICAO 9303 check digit of ``text``.

    Parameters
    ----------
    text : str
        MRZ characters (A-Z, 0-9, ``<``), e.g. a document number ``"L898902C3"``.

    Returns
    -------
    int
        The check digit, 0-9: ``check_digit("L898902C3") == 6``.

    Raises
    ------
    MrzError
        When ``text`` holds a character outside the MRZ alphabet.
    """
    try:
        t = text.encode("ascii").translate(_MOD10_TABLE)
    except UnicodeEncodeError:
        t = bytes([_INVALID])
    if _INVALID in t:
        raise MrzError("value", "has a character outside A-Z 0-9 <", text)
    return (7 * sum(t[0::3]) + 3 * sum(t[1::3]) + sum(t[2::3])) % 10


def check_digits(values: np.ndarray) -> np.ndarray:
    """Check digits of a batch of fields, vectorized.

    Parameters
    ----------
    values : array_like of str, shape (n,) or any shape
        Fields in the MRZ alphabet, e.g. ``np.array(["L898902C3", "740812"])``.
        Numpy ``str_`` (``<U``) and ``bytes_`` (``S``) arrays are used without
        copying; anything else is converted with ``np.asarray(values, dtype=str)``.

    Returns
    -------
    numpy.ndarray of int8, same shape as ``values``
        The check digit of each field, 0-9, or -1 for a field holding a
        character outside A-Z 0-9 ``<`` (a QA batch of OCR output is not
        rejected as a whole for one bad read).
    """
    arr = np.asarray(values)
    if arr.dtype.kind not in "US":
        arr = np.asarray(values, dtype=str)
    arr = np.ascontiguousarray(arr)
    shape = arr.shape
    if arr.dtype.kind == "U":
        width = arr.dtype.itemsize // 4
        codes = arr.view(np.uint32).reshape(shape + (width,))
        non_ascii = codes.max(initial=0) >= 128
        raw = codes.astype(np.uint8)  # wraps above 255: those rows are marked below
        if non_ascii:
            raw[codes >= 128] = _INVALID
    else:
        width = arr.dtype.itemsize
        raw = arr.view(np.uint8).reshape(shape + (width,))
    if width == 0 or arr.size == 0:
        return np.zeros(shape, dtype=np.int8)
    # One bytes.translate over the whole buffer maps every character to its value
    # mod 10 (0xFF when outside the alphabet), at memory speed.
    vals = np.frombuffer(raw.tobytes().translate(_BATCH_TABLE), dtype=np.uint8)
    vals = vals.reshape(shape + (width,))
    # ICAO 9303 Part 3, 4.9: weights 7, 3, 1 repeated; 63 * width fits uint16 up to
    # width 1040, int32 beyond.
    acc = np.uint16 if width <= 1040 else np.int32
    weights = np.resize(np.array([7, 3, 1], dtype=acc), width)
    total = vals.astype(acc) @ weights
    result = (total % 10).astype(np.int8)
    result[vals.max(axis=-1) == _INVALID] = -1
    return result
