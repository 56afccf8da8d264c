"""Frames to bytes and back: pure, and every failure is a ``WireError(field, reason)``.

``encode(message, msg_id=..., sent_at=...)`` packs ``{v, kind, msg_id, sent_at,
body}`` with msgpack. ``decode_frame(data)`` unpacks, checks the header,
upgrades an older body (``upgrade.py``), and checks every field of the kind's
dataclass against its annotation (strings, integers, numbers, booleans, maps
with string keys, lists of items); unknown body keys are ignored (a newer
sender's optional fields). Sockets only move the bytes; the receive loops log,
count and drop what ``decode_frame`` refuses.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import msgpack

from factory.errors import WireError
from factory.wire import schema
from factory.wire.schema import KINDS, WIRE_VERSION, Message
from factory.wire.upgrade import upgrade_body

__all__ = ["MAX_FRAME_BYTES", "MAX_TEXT", "Frame", "encode", "decode", "decode_frame", "to_body"]

MAX_FRAME_BYTES = 16 * 1024 * 1024
"""Larger frames are refused before unpacking (the sockets are also capped)."""
MAX_TEXT = 8192
"""Longest string field outside a record."""

_MISSING = dataclasses.MISSING


@dataclass(frozen=True, slots=True)
class Frame:
    """A decoded frame: header and message."""

    v: int
    kind: str
    msg_id: int
    sent_at: float
    message: Message


# --------------------------------------------------------------------------- field checkers


Check = Callable[[Any, str], Any]


def _text(value: Any, path: str) -> str:
    if type(value) is not str:
        raise WireError(path, "must be a string", value)
    if len(value) > MAX_TEXT:
        raise WireError(path, f"is longer than {MAX_TEXT} characters")
    return value


def _integer(value: Any, path: str) -> int:
    if type(value) is not int:
        raise WireError(path, "must be an integer", value)
    if not -(2**63) <= value < 2**63:
        raise WireError(path, "is out of range", value)
    return value


def _number(value: Any, path: str) -> float:
    if type(value) is float:
        if not math.isfinite(value):
            raise WireError(path, "must be finite", value)
        return value
    if type(value) is int:
        return float(value)
    raise WireError(path, "must be a number", value)


def _boolean(value: Any, path: str) -> bool:
    if type(value) is not bool:
        raise WireError(path, "must be true or false", value)
    return value


def _mapping(value_check: Check | None) -> Check:
    def check(value: Any, path: str) -> dict:
        if type(value) is not dict:
            raise WireError(path, "must be a map", value)
        for key in value:
            if type(key) is not str:
                raise WireError(path, "must have string keys", key)
        if value_check is not None:
            return {k: value_check(v, f"{path}.{k}") for k, v in value.items()}
        return value

    return check


def _sequence(item_check: Check) -> Check:
    def check(value: Any, path: str) -> tuple:
        if type(value) is not list and type(value) is not tuple:
            raise WireError(path, "must be a list", value)
        return tuple(item_check(item, f"{path}[{i}]") for i, item in enumerate(value))

    return check


def _optional(inner: Check) -> Check:
    def check(value: Any, path: str) -> Any:
        return None if value is None else inner(value, path)

    return check


def _checker(hint: Any) -> Check:
    if hint is str:
        return _text
    if hint is bool:
        return _boolean
    if hint is int:
        return _integer
    if hint is float:
        return _number
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (types.UnionType, typing.Union) and len(args) == 2 and type(None) in args:
        return _optional(_checker(next(a for a in args if a is not type(None))))  # ``X | None``: nil or an X
    if origin is dict:
        return _mapping(None if args[1] is Any else _checker(args[1]))
    if origin is tuple:
        return _sequence(_checker(args[0]))
    if dataclasses.is_dataclass(hint):
        return _structure(hint)
    raise TypeError(f"no wire checker for {hint!r}")  # a schema mistake, found at import


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


_INT_MIN, _INT_MAX = -(2**63), 2**63


def _structure(cls: type) -> Check:
    """A checker for one dataclass, compiled to straight-line code (the receive loops' hot path).

    Each field: fetch, default when absent (or ``is required``), the common
    type tested inline; anything unusual goes to the generic checker of its
    annotation, which names the field and the reason.
    """
    hints = typing.get_type_hints(cls, vars(schema))
    namespace: dict[str, Any] = {"WireError": WireError, "_MISSING": _MISSING, "_join": _join, "cls": cls,
                                 "_MAX_TEXT": MAX_TEXT, "_INT_MIN": _INT_MIN, "_INT_MAX": _INT_MAX,
                                 "_isfinite": math.isfinite}
    lines = ["def check(value, path):",
             "    if type(value) is not dict:",
             "        raise WireError(path or 'body', 'must be a map', value)",
             "    get = value.get"]
    names = []
    for i, f in enumerate(dataclasses.fields(cls)):
        hint = hints[f.name]
        var = f"v{i}"
        names.append(var)
        namespace[f"check{i}"] = _checker(hint)
        lines.append(f"    {var} = get({f.name!r}, _MISSING)")
        lines.append(f"    if {var} is _MISSING:")
        if f.default is not _MISSING:
            namespace[f"default{i}"] = f.default
            lines.append(f"        {var} = default{i}")
        elif f.default_factory is not _MISSING:
            namespace[f"factory{i}"] = f.default_factory
            lines.append(f"        {var} = factory{i}()")
        else:
            lines.append(f"        raise WireError(_join(path, {f.name!r}), 'is required')")
        slow = f"{var} = check{i}({var}, _join(path, {f.name!r}))"
        if hint is str:
            lines.append(f"    elif type({var}) is not str or len({var}) > _MAX_TEXT:")
        elif hint is int:
            lines.append(f"    elif type({var}) is not int or not _INT_MIN <= {var} < _INT_MAX:")
        elif hint is bool:
            lines.append(f"    elif type({var}) is not bool:")
        elif hint is float:
            lines.append(f"    elif type({var}) is not float or not _isfinite({var}):")
        else:
            lines.append("    else:")
        lines.append(f"        {slow}")
    lines.append(f"    return cls({', '.join(names)})")
    exec("\n".join(lines), namespace)  # noqa: S102 (code built from our own dataclasses, at import)
    return namespace["check"]


_BODY_CHECKS: dict[str, Check] = {kind: _structure(cls) for kind, cls in KINDS.items()}


# --------------------------------------------------------------------------- encode / decode


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _plain(value: Any) -> Any:
    names = _FIELD_NAMES.get(type(value))
    if names is None and dataclasses.is_dataclass(value):
        names = _FIELD_NAMES[type(value)] = tuple(f.name for f in dataclasses.fields(value))
    if names is not None:
        out = {}
        for name in names:
            item = getattr(value, name)
            out[name] = item if type(item) in _SCALARS else _plain(item)
        return out
    if type(value) is tuple or type(value) is list:
        return [_plain(v) for v in value]
    return value


_SCALARS = frozenset({str, int, float, bool, type(None), dict})


def to_body(message: Message) -> dict[str, Any]:
    """The body map of a message (nested items as maps)."""
    return _plain(message)


def encode(message: Message, *, msg_id: int = 0, sent_at: float = 0.0) -> bytes:
    """Pack a message into a frame.

    Parameters
    ----------
    message : Message
        Any kind of ``schema.KINDS``.
    msg_id : int
        The sender's number for this frame (unique per sender incarnation).
    sent_at : float
        Unix time in seconds, taken by the caller (the codec reads no clock).
    """
    if message.kind not in KINDS:
        raise WireError("kind", "is not a message kind", message.kind)
    frame = {"v": WIRE_VERSION, "kind": message.kind, "msg_id": msg_id, "sent_at": sent_at, "body": _plain(message)}
    return msgpack.packb(frame, use_bin_type=True)


def decode_frame(data: bytes) -> Frame:
    """Unpack and validate a frame.

    Raises
    ------
    WireError
        Naming the field and the reason: not msgpack, a missing or ill-typed
        header or body field, an unknown kind, a version newer than ours.
        Nothing else escapes, whatever the bytes.
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise WireError("frame", "must be bytes", type(data).__name__)
    if len(data) > MAX_FRAME_BYTES:
        raise WireError("frame", f"is larger than {MAX_FRAME_BYTES} bytes", len(data))
    try:
        frame = msgpack.unpackb(data, raw=False, strict_map_key=True, use_list=True)
    except Exception as err:  # msgpack raises many kinds: all mean "not a frame"
        raise WireError("frame", f"is not msgpack ({type(err).__name__})") from None
    if type(frame) is not dict:
        raise WireError("frame", "must be a map", type(frame).__name__)
    try:
        v = frame["v"]
        kind = frame["kind"]
    except KeyError as err:
        raise WireError(str(err.args[0]), "is required") from None
    _integer(v, "v")
    _text(kind, "kind")
    check = _BODY_CHECKS.get(kind)
    if check is None:
        raise WireError("kind", "is not a known message kind", kind)
    msg_id = _integer(frame.get("msg_id", 0), "msg_id")
    sent_at = _number(frame.get("sent_at", 0.0), "sent_at")
    body = frame.get("body")
    if type(body) is not dict:
        raise WireError("body", "must be a map", body)
    try:
        message = check(upgrade_body(v, kind, body), "")
    except WireError:
        raise
    except Exception as err:  # a checker that met something unforeseen: still the sender's fault
        raise WireError("body", f"cannot be read ({type(err).__name__}: {err})") from None
    return Frame(v, kind, msg_id, sent_at, message)


def decode(data: bytes) -> Message:
    """The message of a frame (see ``decode_frame``)."""
    return decode_frame(data).message
