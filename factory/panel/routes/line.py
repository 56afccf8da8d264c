"""The line screen: every machine's state, job, output against rating and blanks; pause, drain, resume."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, Request

from factory.errors import InvalidField
from factory.panel.auth import User
from factory.panel.deps import api_user, check_csrf, context, page_user, render

router = APIRouter()

_ACTIONS = ("pause", "drain", "resume")


@router.get("/line")
def line_page(request: Request, user: User = Depends(page_user("line.view"))):
    return render(request, "line.html", screen="line")


@router.get("/api/line")
def line_status(request: Request, user: User = Depends(api_user("line.view"))):
    ctx = context(request)
    machines = [m.to_json() for m in ctx.line.machines()]
    with ctx.ledger_lock:
        counts = ctx.ledger.counts()
    by_state: dict[str, int] = {}
    for m in machines:
        by_state[m["state"]] = by_state.get(m["state"], 0) + 1
    return {
        "now": dt.datetime.fromtimestamp(ctx.clock(), ctx.config.line.tz).isoformat(timespec="seconds"),
        "machines": machines,
        "summary": {
            "by_state": by_state,
            "documents_per_hour": round(sum(m["documents_per_hour"] for m in machines), 1),
            "rated_per_hour": round(sum(m["rated_per_hour"] for m in machines), 1),
            "waiting": sum(counts.get(s, 0) for s in ("accepted", "queued", "spoiled")),
            "in_flight": sum(counts.get(s, 0) for s in ("leased", "printing")),
            "awaiting_review": counts.get("qa_flagged", 0) + counts.get("intake_flagged", 0),
            "peak_shifts": ctx.line.peak_shifts(),
        },
    }


@router.post("/api/machines/{machine_id}/{action}", dependencies=[Depends(check_csrf)])
def machine_action(request: Request, machine_id: str, action: str,
                   user: User = Depends(api_user("line.control"))):
    if action not in _ACTIONS:
        raise InvalidField("action", "must be pause, drain or resume", action)
    ctx = context(request)
    status = getattr(ctx.line, action)(machine_id, user.name)
    return status.to_json()
