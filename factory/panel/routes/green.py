"""The green channel: enter an emergency application; see where and when it prints and who becomes late."""

from __future__ import annotations

import datetime as dt
import secrets
import shutil

import cv2
import numpy as np
from fastapi import APIRouter, Depends, Request
from starlette.datastructures import UploadFile

from factory.errors import InvalidField, InvalidRecord
from factory.panel.auth import User
from factory.panel.deps import api_user, check_csrf, context, page_user, render
from factory.records import DELIVERIES, SEXES, parse_application

router = APIRouter()

_TEXT_FIELDS = ("application_id", "doc_type", "acceptance_point", "surname_cn", "given_name_cn", "sex",
                "date_of_birth", "place_of_birth", "nationality", "delivery", "mail_address")
_MAX_IMAGE_BYTES = 5 * 1024 * 1024
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@router.get("/green")
def green_page(request: Request, user: User = Depends(page_user("green.submit"))):
    ctx = context(request)
    documents = [(name, doc.title_cn, doc.title_en) for name, doc in ctx.config.documents.items()
                 if "green" in doc.service_classes]
    return render(request, "green.html", {"documents": documents, "sexes": SEXES, "deliveries": DELIVERIES},
                  screen="green")


async def _image(form, name: str, problems: list[InvalidField]) -> bytes | None:
    upload = form.get(name)
    if not isinstance(upload, UploadFile) or not upload.filename:
        problems.append(InvalidField(name, "is required (a PNG file)"))
        return None
    data = await upload.read(_MAX_IMAGE_BYTES + 1)
    if len(data) > _MAX_IMAGE_BYTES:
        problems.append(InvalidField(name, "is larger than 5 MB"))
        return None
    if not data.startswith(_PNG_MAGIC) or cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED) is None:
        problems.append(InvalidField(name, "is not a readable PNG image", upload.filename))
        return None
    return data


@router.post("/api/green", dependencies=[Depends(check_csrf)])
async def submit_green(request: Request, user: User = Depends(api_user("green.submit"))):
    form = await request.form()
    try:
        return await _admit(request, form, user)
    finally:
        await form.close()  # the uploads' spooled temporary files


async def _admit(request: Request, form, user: User) -> dict:
    ctx = context(request)
    now = dt.datetime.fromtimestamp(ctx.clock(), ctx.config.line.tz)
    record: dict[str, str] = {}
    for name in _TEXT_FIELDS:
        value = form.get(name)
        if isinstance(value, str) and value.strip():
            record[name] = value.strip()
    record.setdefault("application_id", f"G{now:%Y%m%d%H%M%S}{secrets.randbelow(1000):03d}")
    record["service_class"] = "green"
    record["accepted_at"] = now.isoformat(timespec="seconds")
    folder = ctx.media_dir / "green" / record["application_id"]
    record["photo"] = str(folder / "photo.png")
    record["signature"] = str(folder / "signature.png")
    emergency = form.get("emergency")

    problems: list[InvalidField] = []
    images = {name: await _image(form, name, problems) for name in ("photo", "signature")}
    try:
        parse_application(record, ctx.config, where="green channel")
    except InvalidRecord as err:
        problems = list(err.errors) + problems
    if problems:
        raise InvalidRecord(problems, where="green channel")

    # Every field is valid: only now is anything written.
    folder.mkdir(parents=True, exist_ok=True)
    try:
        for name, data in images.items():
            (folder / f"{name}.png").write_bytes(data)
        placement = ctx.line.submit_green(record, user.name)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    if isinstance(emergency, str) and emergency.strip():
        with ctx.ledger_lock:
            ctx.ledger.record_station_event(f"panel:{user.name}", "green_channel_reason", now=ctx.clock(),
                                            reason=emergency.strip()[:200],
                                            detail={"application_id": placement.application_id})
    return placement.to_json()
