"""The reviewer's screen: flagged documents oldest deadline first; approve, or reject with a reason."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from fastapi import APIRouter, Body, Depends, Request
from fastapi.responses import Response

from factory.errors import InvalidField
from factory.ledger import Event
from factory.panel import ledger_views as views
from factory.panel.auth import User
from factory.panel.deps import api_user, check_csrf, context, page_user, render
from factory.panel.review import MrzReadBack, expected_mrz_lines, failing_zones, mrz_diff

router = APIRouter()

REJECT_ROUTES = ("reprint", "new_photo", "new_signature")
"""Where a rejected document goes: reprinted on a new blank, or back to its acceptance point."""
IMAGE_KINDS = ("page", "printed_photo", "enrolled_photo", "printed_signature", "captured_signature")


def _reader(request: Request) -> MrzReadBack:
    ctx = context(request)
    with ctx.cache_lock:
        reader = ctx.cache.get("mrz_readback")
        if reader is None:
            reader = ctx.cache["mrz_readback"] = MrzReadBack(ctx.config)
    return reader


def _page(path: str | None) -> np.ndarray | None:
    if not path or not Path(path).is_file():
        return None
    return cv2.imread(path, cv2.IMREAD_COLOR)


@router.get("/review")
def review_page(request: Request, user: User = Depends(page_user("review.decide"))):
    return render(request, "review.html", {"routes": REJECT_ROUTES}, screen="review")


@router.get("/api/review")
def review_list(request: Request, user: User = Depends(api_user("review.decide"))):
    ctx = context(request)
    with ctx.ledger_lock:
        items = views.review_queue(ctx.ledger)
    return {"items": items, "count": len(items)}


@router.get("/api/review/{application_id}")
def review_detail(request: Request, application_id: str, user: User = Depends(api_user("review.decide"))):
    ctx = context(request)
    with ctx.ledger_lock:
        item = views.review_item(ctx.ledger, application_id, ctx.config)
    reader = _reader(request)
    layout = reader.layout(item["doc_type"])
    expected = expected_mrz_lines(item["record"], item["blank_serial"], item["issued_on"], ctx.config)
    read = item["mrz_read"]  # what the QA worker read; read the page again only for verdicts without it
    page = _page(item["page"])
    if not read and page is not None and expected is not None:
        read = reader.read(page, item["doc_type"])
    record = item["record"]
    return {
        "application_id": application_id,
        "state": item["state"],
        "stage": item["stage"],
        "attempt": item["attempt"],
        "doc_type": item["doc_type"],
        "service_class": item["service_class"],
        "due_at": item["due_at"],
        "machine": item["machine"],
        "blank_serial": item["blank_serial"],
        "name_cn": f"{record.get('surname_cn', '')}{record.get('given_name_cn', '')}",
        "name_latin": f"{record.get('surname_latin', '')} {record.get('given_name_latin', '')}".strip(),
        "date_of_birth": record.get("date_of_birth"),
        "sex": record.get("sex"),
        "acceptance_point": record.get("acceptance_point"),
        "checks": item["checks"],
        "failing": [c for c in item["checks"] if not c.get("ok", True)],
        "reasons": item["reasons"],
        "page_size": list(layout.shape[::-1]) if layout else None,
        "has_page": page is not None,
        "zones": failing_zones(item["checks"], layout),
        "mrz": None if expected is None else {"expected": list(expected), "read": list(read) if read else None,
                                              "diff": mrz_diff(read or (), expected) if read else None},
    }


def _png(image: np.ndarray) -> Response:
    ok, data = cv2.imencode(".png", image, [cv2.IMWRITE_PNG_COMPRESSION, 1])
    if not ok:
        raise InvalidField("image", "cannot be encoded")
    return Response(data.tobytes(), media_type="image/png", headers={"Cache-Control": "no-store"})


@router.get("/api/review/{application_id}/image/{kind}")
def review_image(request: Request, application_id: str, kind: str, user: User = Depends(api_user("review.decide"))):
    if kind not in IMAGE_KINDS:
        raise InvalidField("kind", "must be one of " + ", ".join(IMAGE_KINDS), kind)
    ctx = context(request)
    with ctx.ledger_lock:
        item = views.review_item(ctx.ledger, application_id, ctx.config)
    if kind in ("enrolled_photo", "captured_signature"):
        path = item["record"].get("photo" if kind == "enrolled_photo" else "signature")
        image = _page(path)
    else:
        image = _page(item["page"])
        layout = _reader(request).layout(item["doc_type"])
        if image is not None and kind != "page":
            zone = "photo" if kind == "printed_photo" else "signature"
            if layout is None or not layout.has_zone(zone) or image.shape[:2] != layout.shape:
                image = None
            else:
                image = image[layout.zone(zone).box.slices]
    if image is None:
        return Response(status_code=404)
    return _png(image)


def _decide(request: Request, application_id: str, user: User, *, approve: bool, route: str, note: str) -> dict:
    ctx = context(request)
    now = ctx.clock()
    with ctx.ledger_lock:
        state = ctx.ledger.state_of(application_id)
        if state not in views.REVIEW_STATES:
            raise InvalidField("application_id", f"is {state}, not waiting for review", application_id)
        if state == "intake_flagged":
            # Held before printing (a look-alike signature): approved, it is queued; rejected, it goes back to
            # its acceptance point with the reason (there is nothing printed to reprint).
            reason = note.strip() if approve else (f"{route}: {note.strip()}" if note.strip() else route)
            change = ctx.ledger.review_intake(application_id, approve=approve, reviewer=user.name, reason=reason,
                                              now=now)
            return {"application_id": application_id, "state": change.to_state, "reviewer": user.name,
                    "at": dt.datetime.fromtimestamp(now, ctx.config.line.tz).isoformat(timespec="seconds"),
                    "events": [change.event]}
        with ctx.ledger.transaction():
            reason = note.strip() if approve else (f"{route}: {note.strip()}" if note.strip() else route)
            changes = ctx.ledger.review(application_id, approve=approve, reviewer=user.name, reason=reason, now=now)
            if not approve and route != "reprint":
                # Back to its acceptance point for a new photo or signature: it is not reprinted as it is.
                changes.append(ctx.ledger.apply(application_id, Event.RETURNED, station=f"reviewer:{user.name}",
                                                reason=route, now=now))
        final = ctx.ledger.state_of(application_id)
    return {"application_id": application_id, "state": final, "reviewer": user.name,
            "at": dt.datetime.fromtimestamp(now, ctx.config.line.tz).isoformat(timespec="seconds"),
            "events": [c.event for c in changes]}


@router.post("/api/review/{application_id}/approve", dependencies=[Depends(check_csrf)])
def approve(request: Request, application_id: str, body: dict[str, Any] | None = Body(None),
            user: User = Depends(api_user("review.decide"))):
    note = str((body or {}).get("note", ""))[:500]
    return _decide(request, application_id, user, approve=True, route="", note=note)


@router.post("/api/review/{application_id}/reject", dependencies=[Depends(check_csrf)])
def reject(request: Request, application_id: str, body: dict[str, Any] = Body(...),
           user: User = Depends(api_user("review.decide"))):
    route = str(body.get("route", ""))
    if route not in REJECT_ROUTES:
        raise InvalidField("route", "must be one of " + ", ".join(REJECT_ROUTES), route)
    return _decide(request, application_id, user, approve=False, route=route, note=str(body.get("note", ""))[:500])
