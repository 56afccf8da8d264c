"""The queue screen: backlog by working days to deadline and service class, the next jobs, the at-risk list."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from factory.panel import ledger_views as views
from factory.panel.auth import User
from factory.panel.deps import api_user, context, page_user, render
from factory.panel.planning import backlog_view, queue_of
from factory.panel.ledger_views import today_bounds

router = APIRouter()


@router.get("/queue")
def queue_page(request: Request, user: User = Depends(page_user("queue.view"))):
    return render(request, "queue.html", screen="queue")


@router.get("/api/queue")
def queue_data(request: Request, user: User = Depends(api_user("queue.view"))):
    ctx = context(request)
    today, _ = today_bounds(ctx.config, ctx.clock())
    with ctx.ledger_lock:
        rows = views.queue_rows(ctx.ledger, views.UNPRINTED_STATES)
    backlog = backlog_view(rows, queue_of(rows, ctx.calendar, today), ctx.config)
    plan = ctx.line.plan(ctx.line.peak_shifts())
    return {
        "today": today.isoformat(),
        "backlog": backlog,
        "at_risk": plan["at_risk"],
        "at_risk_count": plan["at_risk_count"],
        "late_count": plan["late_count"],
        "next_up": plan["next_up"],
        "shifts": plan["shifts"],
    }
