"""Stock and audit: blank stock per pool with days of cover, spoilage by reason, the hand-over log."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, Request

from factory.panel import ledger_views as views
from factory.panel.auth import User
from factory.panel.deps import api_user, context, page_user, render

router = APIRouter()


@router.get("/stock")
def stock_page(request: Request, user: User = Depends(page_user("stock.view"))):
    ctx = context(request)
    with ctx.ledger_lock:
        stations = views.handover_stations(ctx.ledger)
    return render(request, "stock.html", {"stations": stations}, screen="stock")


@router.get("/api/stock")
def stock_data(request: Request, user: User = Depends(api_user("stock.view"))):
    ctx = context(request)
    _, shift_start_s = views.today_bounds(ctx.config, ctx.clock())
    with ctx.ledger_lock:
        spoiled = views.spoilage(ctx.ledger, ctx.config, since_s=shift_start_s)
    return {"stock": [s.to_json() for s in ctx.line.stock()], "spoilage": spoiled}


@router.get("/api/handover")
def handover_data(request: Request, station: str = "", event: str = "", subject: str = "",
                  before_id: int | None = None, limit: int = 200, user: User = Depends(api_user("stock.view"))):
    ctx = context(request)
    with ctx.ledger_lock:
        rows = views.handover(ctx.ledger, station=station, event=event, subject=subject, before_id=before_id,
                              limit=limit)
        stations = views.handover_stations(ctx.ledger)
    tz = ctx.config.line.tz
    for row in rows:
        row["at"] = dt.datetime.fromtimestamp(row["at"], tz).isoformat(timespec="seconds")
    return {"events": rows, "stations": stations}
