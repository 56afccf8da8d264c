"""``create_app``: the control panel as a FastAPI application (FastAPI's "Bigger Applications" layout).

One router per screen in ``routes/``, Jinja2 templates in ``templates/``,
plain CSS and JavaScript in ``static/`` (no CDN, no build step). The app
holds no global state: everything it needs is passed to ``create_app`` and
kept in ``app.state.panel``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from factory.config import Config
from factory.errors import FactoryError, InvalidField, InvalidRecord
from factory.ledger import Ledger
from factory.panel.deps import BadCsrf, Forbidden, LoginRequired, PanelContext, render
from factory.panel.line import LineControl
from factory.panel.routes import auth, green, line, plan, queue, review, settings, stock
from factory.panel.users_store import UserStore
from factory.scheduler import WorkingCalendar, build_calendar

__all__ = ["create_app"]

_CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")


def create_app(
    config: Config,
    ledger: Ledger,
    line_control: LineControl,
    *,
    users: UserStore | None = None,
    clock: Callable[[], float] = time.time,
    media_dir: str | Path | None = None,
    ledger_lock: threading.RLock | None = None,
    calendar: WorkingCalendar | None = None,
    cookie_secure: bool = False,
) -> FastAPI:
    """The control panel.

    Parameters
    ----------
    config : Config
        The line's configuration (machines, documents, service classes).
    ledger : Ledger
        A ledger connection for the panel's reads and the reviewers' decisions.
        Give the panel its own connection (``Ledger.open(path)``), or share
        ``ledger_lock`` with whoever else uses this one.
    line_control : LineControl
        The running line (``factory.panel.line``).
    users : UserStore, optional
        Who may log in; by default the panel tables in the ledger's file.
    clock : callable
        Unix seconds now (tests pass a fixed or shifted clock).
    media_dir : path, optional
        Where uploaded green-channel photos and signatures are kept
        (default: ``<ledger file>.media/``).
    ledger_lock : RLock, optional
        Serialises the panel's use of ``ledger`` (request handlers run on a thread pool).
    calendar : WorkingCalendar, optional
        Built from ``config.calendar`` when omitted.
    cookie_secure : bool
        Mark the session cookie Secure (when served behind HTTPS).
    """
    templates = Jinja2Templates(directory=str(resources.files("factory.panel") / "templates"))
    users = users or UserStore.open(ledger.path)
    media = Path(media_dir) if media_dir is not None else Path(f"{ledger.path}.media")
    ctx = PanelContext(
        config=config, ledger=ledger, line=line_control, users=users,
        calendar=calendar or build_calendar(config.calendar), clock=clock, templates=templates,
        media_dir=media, ledger_lock=ledger_lock or threading.RLock(), secret=users.session_secret(),
        cookie_secure=cookie_secure,
    )
    app = FastAPI(title="factory control panel", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.panel = ctx
    app.mount("/static", StaticFiles(directory=str(resources.files("factory.panel") / "static")), name="static")
    for module in (auth, line, queue, plan, green, stock, review, settings):
        app.include_router(module.router)

    @app.middleware("http")
    async def security_headers(request: Request, call_next):
        response: Response = await call_next(request)
        response.headers.setdefault("Content-Security-Policy", _CSP)
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if not request.url.path.startswith("/static/"):
            # Personal data: never kept by the browser's or a proxy's cache.
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired):
        return RedirectResponse(f"/login?next={quote(exc.next_path, safe='')}", status_code=303)

    @app.exception_handler(Forbidden)
    async def forbidden(request: Request, exc: Forbidden):
        if exc.user is None:
            return JSONResponse({"errors": [{"field": "session", "reason": "log in first"}]}, status_code=401)
        if exc.page:
            from factory.panel.auth import PERMISSIONS

            return render(request, "forbidden.html", {"roles": sorted(PERMISSIONS[exc.permission])}, status_code=403)
        return JSONResponse({"errors": [{"field": "role", "reason": f"{exc.user.role} may not {exc.permission}"}]},
                            status_code=403)

    @app.exception_handler(BadCsrf)
    async def bad_csrf(request: Request, exc: BadCsrf):
        return JSONResponse({"errors": [{"field": "csrf_token", "reason": "missing or wrong; reload the page"}]},
                            status_code=403)

    @app.exception_handler(InvalidRecord)
    async def invalid_record(request: Request, exc: InvalidRecord):
        return JSONResponse({"errors": exc.as_list()}, status_code=422)

    @app.exception_handler(InvalidField)
    async def invalid_field(request: Request, exc: InvalidField):
        return JSONResponse({"errors": [exc.as_dict()]}, status_code=422)

    @app.exception_handler(FactoryError)
    async def factory_error(request: Request, exc: FactoryError):
        return JSONResponse({"errors": [{"field": "", "reason": str(exc)}]}, status_code=409)

    @app.exception_handler(RequestValidationError)
    async def request_invalid(request: Request, exc: RequestValidationError):
        errors = [{"field": ".".join(str(p) for p in e.get("loc", ())[1:]) or "request", "reason": e.get("msg", "")}
                  for e in exc.errors()]
        return JSONResponse({"errors": errors}, status_code=422)

    return app
