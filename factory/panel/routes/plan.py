"""The plan screen: demand against capacity per working day and pool, with the overtime that meets every deadline."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from factory.panel.auth import User
from factory.panel.deps import api_user, context, page_user, render

router = APIRouter()


@router.get("/plan")
def plan_page(request: Request, user: User = Depends(page_user("plan.view"))):
    return render(request, "plan.html", {"line_peak": context(request).line.peak_shifts()}, screen="plan")


@router.get("/api/plan")
def plan_data(request: Request, peak: int | None = None, user: User = Depends(api_user("plan.view"))):
    """The plan with peak shifts (``peak=1``), normal shifts (``peak=0``) or as the line runs now."""
    ctx = context(request)
    running = ctx.line.peak_shifts()
    report = dict(ctx.line.plan(running if peak is None else bool(peak)))
    report["line_peak_shifts"] = running
    return report
