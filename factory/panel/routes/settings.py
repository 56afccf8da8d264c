"""The supervisor's settings: peak or normal shifts, the line's configuration, the panel's users."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Depends, Request

from factory.errors import InvalidField
from factory.panel.auth import ROLES, User
from factory.panel.deps import api_user, check_csrf, context, page_user, render

router = APIRouter()


@router.get("/settings")
def settings_page(request: Request, user: User = Depends(page_user("settings.change"))):
    ctx = context(request)
    return render(request, "settings.html", {
        "line": ctx.config.line, "seasons": ctx.config.seasons, "roles": ROLES, "users": ctx.users.users(),
        "peak": ctx.line.peak_shifts(),
    }, screen="settings")


@router.post("/api/settings/shifts", dependencies=[Depends(check_csrf)])
def set_shifts(request: Request, body: dict[str, Any] = Body(...), user: User = Depends(api_user("settings.change"))):
    peak = body.get("peak")
    if not isinstance(peak, bool):
        raise InvalidField("peak", "must be true or false", peak)
    context(request).line.set_peak_shifts(peak, user.name)
    return {"peak_shifts": context(request).line.peak_shifts()}


@router.post("/api/settings/users", dependencies=[Depends(check_csrf)])
def add_user(request: Request, body: dict[str, Any] = Body(...), user: User = Depends(api_user("settings.change"))):
    ctx = context(request)
    added = ctx.users.add(str(body.get("name", "")).strip(), str(body.get("role", "")), str(body.get("password", "")),
                          by=user.name, now=ctx.clock())
    with ctx.ledger_lock:
        ctx.ledger.record_station_event(f"panel:{user.name}", "user_added", now=ctx.clock(),
                                        reason=added.role, detail={"user": added.name})
    return {"name": added.name, "role": added.role}


@router.post("/api/settings/users/{name}", dependencies=[Depends(check_csrf)])
def change_user(request: Request, name: str, body: dict[str, Any] = Body(...),
                user: User = Depends(api_user("settings.change"))):
    ctx = context(request)
    changed = []
    if "role" in body:
        ctx.users.set_role(name, str(body["role"]))
        changed.append(f"role={body['role']}")
    if "disabled" in body:
        if name == user.name:
            raise InvalidField("disabled", "a supervisor cannot disable their own account", name)
        ctx.users.set_disabled(name, bool(body["disabled"]))
        changed.append(f"disabled={bool(body['disabled'])}")
    if "password" in body:
        ctx.users.set_password(name, str(body["password"]))
        changed.append("password")
    if not changed:
        raise InvalidField("body", "names nothing to change (role, disabled, password)")
    with ctx.ledger_lock:
        ctx.ledger.record_station_event(f"panel:{user.name}", "user_changed", now=ctx.clock(),
                                        reason=", ".join(changed), detail={"user": name})
    return {"name": name, "changed": changed}
