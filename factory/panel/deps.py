"""What every route needs: the panel's context, the logged-in user, permission and CSRF checks, rendering."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from factory.config import Config
from factory.ledger import Ledger
from factory.panel.auth import PERMISSIONS, Session, User, can, read_session, tokens_match
from factory.panel.i18n import pick_language, table, translator
from factory.panel.line import LineControl
from factory.panel.users_store import UserStore
from factory.scheduler import WorkingCalendar

__all__ = [
    "SESSION_COOKIE",
    "LANG_COOKIE",
    "NAV",
    "PanelContext",
    "LoginRequired",
    "Forbidden",
    "BadCsrf",
    "context",
    "session_user",
    "page_user",
    "api_user",
    "check_csrf",
    "render",
]

SESSION_COOKIE = "factory_session"
LOGIN_CSRF_COOKIE = "factory_login_csrf"
LANG_COOKIE = "lang"

NAV = (
    ("line", "/line", "line.view"),
    ("queue", "/queue", "queue.view"),
    ("plan", "/plan", "plan.view"),
    ("green", "/green", "green.submit"),
    ("stock", "/stock", "stock.view"),
    ("review", "/review", "review.decide"),
    ("settings", "/settings", "settings.change"),
)
"""(screen, path, permission) in menu order."""


@dataclass
class PanelContext:
    """Everything the routes share; built once by ``create_app``."""

    config: Config
    ledger: Ledger
    line: LineControl
    users: UserStore
    calendar: WorkingCalendar
    clock: Callable[[], float]
    templates: Jinja2Templates
    media_dir: Path
    ledger_lock: threading.RLock
    secret: bytes
    cookie_secure: bool = False
    cache: dict[str, Any] = field(default_factory=dict)
    cache_lock: threading.Lock = field(default_factory=threading.Lock)


class LoginRequired(Exception):
    """A page asked for by someone not logged in: redirect to the log-in page."""

    def __init__(self, next_path: str) -> None:
        self.next_path = next_path


class Forbidden(Exception):
    def __init__(self, permission: str, user: User | None, page: bool) -> None:
        self.permission, self.user, self.page = permission, user, page


class BadCsrf(Exception):
    pass


def context(request: Request) -> PanelContext:
    return request.app.state.panel


def _session(request: Request) -> Session | None:
    ctx = context(request)
    return read_session(request.cookies.get(SESSION_COOKIE), ctx.secret, now_s=ctx.clock())


def session_user(request: Request) -> tuple[User, Session] | None:
    """The logged-in user (re-read from the store: a disabled user or a new role counts at once)."""
    session = _session(request)
    if session is None:
        return None
    user = context(request).users.get(session.user)
    if user is None:
        return None
    return user, session


def _user(request: Request, permission: str, *, page: bool) -> User:
    found = session_user(request)
    if found is None:
        if page:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            raise LoginRequired(target)
        raise Forbidden(permission, None, page=False)
    user, session = found
    request.state.user = user
    request.state.session = session
    if not can(user.role, permission):
        raise Forbidden(permission, user, page=page)
    return user


def page_user(permission: str) -> Callable[[Request], User]:
    """Dependency for an HTML page: log-in redirect, or the forbidden page."""

    def dependency(request: Request) -> User:
        return _user(request, permission, page=True)

    return dependency


def api_user(permission: str) -> Callable[[Request], User]:
    """Dependency for a JSON endpoint: 401 without a session, 403 without the permission."""

    def dependency(request: Request) -> User:
        return _user(request, permission, page=False)

    return dependency


async def check_csrf(request: Request) -> None:
    """A state-changing request must carry the session's CSRF token (header or form field)."""
    session = _session(request)
    given = request.headers.get("x-csrf-token")
    if not given and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get("csrf_token")
        given = value if isinstance(value, str) else None
    if session is None or not tokens_match(given, session.csrf):
        raise BadCsrf()


def language(request: Request) -> str:
    return pick_language(request.cookies.get(LANG_COOKIE), request.headers.get("accept-language"))


def render(request: Request, template: str, values: dict[str, Any] | None = None, *, screen: str = "",
           status_code: int = 200) -> HTMLResponse:
    ctx = context(request)
    lang = language(request)
    user: User | None = getattr(request.state, "user", None)
    session: Session | None = getattr(request.state, "session", None)
    nav = [(name, path) for name, path, permission in NAV if user is not None and can(user.role, permission)]
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    data = {
        "t": translator(lang),
        "lang": lang,
        "strings": table(lang),
        "user": user,
        "csrf": session.csrf if session else "",
        "nav": nav,
        "screen": screen,
        "here": quote(here, safe=""),
        "can": (lambda permission: user is not None and can(user.role, permission)),
        "permissions": PERMISSIONS,
        **(values or {}),
    }
    return ctx.templates.TemplateResponse(request, template, data, status_code=status_code)


def error_json(status: int, errors: list[dict[str, str]]) -> JSONResponse:
    return JSONResponse({"errors": errors}, status_code=status)


def redirect(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)
