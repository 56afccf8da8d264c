"""Users, roles, password hashes, signed session cookies and CSRF tokens: pure, stdlib only.

- Passwords are stored as ``scrypt$n$r$p$salt$hash`` (``hashlib.scrypt``, a
  fresh 16-byte salt each, compared in constant time).
- A session is a cookie ``payload.signature``: the payload is base64 JSON
  ``{"u": user, "r": role, "t": issued_at_s, "c": csrf_token}``, the signature
  HMAC-SHA256 over it with the panel's secret. The cookie is HttpOnly and
  SameSite=Strict; the server re-reads the user on every request, so a removed
  user or a changed role takes effect at once.
- CSRF: every state-changing request carries the session's token (header
  ``X-CSRF-Token`` from the page's ``<meta name="csrf-token">``, or a form
  field ``csrf_token``); the log-in form, which has no session yet, uses a
  double-submit cookie.

What each role may do is ``PERMISSIONS``; only a supervisor changes shifts,
the line configuration or users.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from factory.errors import InvalidField

__all__ = [
    "ROLES",
    "PERMISSIONS",
    "SESSION_MAX_AGE_S",
    "Session",
    "User",
    "can",
    "check_role",
    "check_user_name",
    "check_password",
    "hash_password",
    "verify_password",
    "new_csrf_token",
    "sign_session",
    "read_session",
    "tokens_match",
]

ROLES = ("operator", "reviewer", "supervisor")

PERMISSIONS: Mapping[str, frozenset[str]] = MappingProxyType({
    "line.view": frozenset(ROLES),
    "line.control": frozenset({"operator", "supervisor"}),
    "queue.view": frozenset({"operator", "supervisor"}),
    "plan.view": frozenset({"operator", "supervisor"}),
    "green.submit": frozenset({"operator", "supervisor"}),
    "stock.view": frozenset({"operator", "supervisor"}),
    "review.decide": frozenset({"reviewer", "supervisor"}),
    "settings.change": frozenset({"supervisor"}),
})
"""Permission -> the roles that hold it."""

SESSION_MAX_AGE_S = 12 * 3600
"""A session lasts one long (peak) shift plus the hand-over."""

_SCRYPT_N, _SCRYPT_R, _SCRYPT_P, _SCRYPT_LEN = 2**14, 8, 1, 32  # ~0.1 s a hash on this machine
_NAME = re.compile(r"^[\w.-]{1,32}$")
MIN_PASSWORD_LENGTH = 8


@dataclass(frozen=True, slots=True)
class User:
    name: str
    role: str


@dataclass(frozen=True, slots=True)
class Session:
    user: str
    role: str
    issued_at_s: float
    csrf: str


def can(role: str, permission: str) -> bool:
    """Whether ``role`` holds ``permission`` (unknown permissions are held by nobody)."""
    return role in PERMISSIONS.get(permission, frozenset())


def check_role(role: str) -> str:
    if role not in ROLES:
        raise InvalidField("role", "must be one of " + ", ".join(ROLES), role)
    return role


def check_user_name(name: str) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise InvalidField("name", "must be 1-32 letters, digits, '.', '-' or '_'", name)
    return name


def check_password(password: str) -> str:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidField("password", f"must be at least {MIN_PASSWORD_LENGTH} characters")
    return password


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    """The stored form of ``password``: ``scrypt$n$r$p$salt$hash`` (base64url)."""
    salt = secrets.token_bytes(16) if salt is None else salt
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P,
                            dklen=_SCRYPT_LEN)
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches ``stored`` (constant-time compare; a malformed hash never matches)."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = _unb64(digest)
        actual = hashlib.scrypt(password.encode("utf-8"), salt=_unb64(salt), n=int(n), r=int(r), p=int(p),
                                dklen=len(expected))
    except (ValueError, binascii.Error):
        return False
    return hmac.compare_digest(actual, expected)


def new_csrf_token() -> str:
    return secrets.token_urlsafe(24)


def tokens_match(given: str | None, expected: str | None) -> bool:
    """Constant-time equality of two tokens; a missing one never matches."""
    if not given or not expected:
        return False
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def _signature(secret: bytes, payload: str) -> str:
    return _b64(hmac.new(secret, payload.encode("ascii"), hashlib.sha256).digest())


def sign_session(session: Session, secret: bytes) -> str:
    """The cookie value of ``session``."""
    body = json.dumps({"u": session.user, "r": session.role, "t": session.issued_at_s, "c": session.csrf},
                      ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    payload = _b64(body.encode("utf-8"))
    return f"{payload}.{_signature(secret, payload)}"


def read_session(cookie: str | None, secret: bytes, *, now_s: float,
                 max_age_s: float = SESSION_MAX_AGE_S) -> Session | None:
    """The session in ``cookie``, or None when absent, forged, malformed or expired."""
    if not cookie or cookie.count(".") != 1:
        return None
    payload, signature = cookie.split(".")
    try:
        if not hmac.compare_digest(signature.encode("ascii"), _signature(secret, payload).encode("ascii")):
            return None
        data = json.loads(_unb64(payload))
        session = Session(user=str(data["u"]), role=str(data["r"]), issued_at_s=float(data["t"]),
                          csrf=str(data["c"]))
    except (ValueError, KeyError, TypeError, UnicodeError, binascii.Error):
        return None
    if not 0 <= now_s - session.issued_at_s <= max_age_s:
        return None
    return session
