"""Log-in, log-out, the language switch and the front door."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse

from factory.panel.auth import Session, can, new_csrf_token, sign_session, tokens_match
from factory.panel.deps import (
    LANG_COOKIE,
    LOGIN_CSRF_COOKIE,
    NAV,
    SESSION_COOKIE,
    check_csrf,
    context,
    redirect,
    render,
    session_user,
)
from factory.panel.i18n import LANGUAGES
from factory.panel.auth import SESSION_MAX_AGE_S

router = APIRouter()


def _safe_next(target: str | None) -> str:
    """Only a path on this site (no scheme, no host, no '//'): an open redirect would phish."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


@router.get("/")
def front(request: Request):
    found = session_user(request)
    if found is None:
        return redirect("/login")
    user, _ = found
    for _, path, permission in NAV:
        if can(user.role, permission):
            return redirect(path)
    return redirect("/login")


@router.get("/login")
def login_page(request: Request, next: str = "/", failed: int = 0):
    token = new_csrf_token()
    response = render(request, "login.html", {"next": _safe_next(next), "failed": bool(failed), "login_csrf": token})
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", path="/login",
                        secure=context(request).cookie_secure)
    return response


@router.post("/login")
def login(request: Request, name: str = Form(""), password: str = Form(""), csrf_token: str = Form(""),
          next: str = Form("/")):
    ctx = context(request)
    target = _safe_next(next)
    if not tokens_match(csrf_token, request.cookies.get(LOGIN_CSRF_COOKIE)):
        return RedirectResponse(f"/login?failed=1", status_code=303)
    user = ctx.users.verify(name.strip(), password)
    if user is None:
        return RedirectResponse("/login?failed=1", status_code=303)
    now = ctx.clock()
    with ctx.ledger_lock:
        ctx.ledger.record_station_event(f"panel:{user.name}", "logged_in", now=now, reason=user.role)
    response = redirect(target if target != "/" else "/")
    response.set_cookie(SESSION_COOKIE, sign_session(Session(user.name, user.role, now, new_csrf_token()), ctx.secret),
                        httponly=True, samesite="strict", max_age=SESSION_MAX_AGE_S, secure=ctx.cookie_secure)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout", dependencies=[Depends(check_csrf)])
def logout(request: Request):
    ctx = context(request)
    found = session_user(request)
    if found is not None:
        with ctx.ledger_lock:
            ctx.ledger.record_station_event(f"panel:{found[0].name}", "logged_out", now=ctx.clock())
    response = redirect("/login")
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/lang/{code}")
def switch_language(code: str, next: str = "/"):
    response = redirect(_safe_next(next))
    if code in LANGUAGES:
        response.set_cookie(LANG_COOKIE, code, max_age=365 * 86400, samesite="lax")
    return response
