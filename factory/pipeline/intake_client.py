"""Intake through the pipeline: send application records to the controller and collect its answers."""

from __future__ import annotations

import secrets
import time
from collections.abc import Sequence
from typing import Any

import zmq

from factory.errors import FactoryError
from factory.pipeline.keys import ClientKeys
from factory.pipeline.link import Link
from factory.wire import IntakeReply, IntakeRequest, Welcome

__all__ = ["CHUNK", "send_intake"]

CHUNK = 500
"""Records per ``intake`` message."""


def send_intake(
    endpoint: str,
    records: Sequence[Any],
    *,
    station: str = "intake",
    keys: ClientKeys | None = None,
    timeout_s: float = 60.0,
    context: zmq.Context | None = None,
) -> list[IntakeReply]:
    """Send ``records`` in chunks; returns one reply per chunk, in order.

    Each chunk is validated and stored by the controller like ``factory intake``
    does locally: invalid rows are rejected with their reasons and store nothing.
    Rows are numbered across chunks (``record 1`` is the first record sent).

    Raises
    ------
    FactoryError
        When the controller does not answer within ``timeout_s``.
    """
    link = Link(endpoint, role="intake", station=station, keys=keys, context=context)
    chunks = [list(records[i:i + CHUNK]) for i in range(0, len(records), CHUNK)] or [[]]
    request_ids = [secrets.token_hex(6) for _ in chunks]
    replies: dict[str, IntakeReply] = {}
    deadline = time.monotonic() + timeout_s
    try:
        link.open()
        while not link.registered:
            if time.monotonic() > deadline:
                raise FactoryError(f"intake: no answer from the controller at {endpoint}")
            for message in link.receive(0.2):
                if isinstance(message, Welcome):
                    break
        for request_id, chunk in zip(request_ids, chunks):
            link.send(IntakeRequest(request_id=request_id, records=tuple(chunk)))
        while len(replies) < len(chunks):
            if time.monotonic() > deadline:
                raise FactoryError(f"intake: {len(chunks) - len(replies)} of {len(chunks)} requests unanswered "
                                   f"by {endpoint}")
            for message in link.receive(0.2):
                if isinstance(message, IntakeReply):
                    replies[message.request_id] = message
    finally:
        link.terminate()
    out = []
    offset = 0
    for request_id, chunk in zip(request_ids, chunks):
        reply = replies[request_id]
        # The controller numbers rows per request: renumber them across the whole send.
        rejected = tuple({**r, "where": _renumber(r.get("where", ""), offset)} for r in reply.rejected)
        out.append(IntakeReply(request_id=reply.request_id, added=reply.added,
                               already_present=reply.already_present, rejected=rejected, error=reply.error))
        offset += len(chunk)
    return out


def _renumber(where: str, offset: int) -> str:
    head, _, number = where.rpartition(" ")
    return f"{head} {int(number) + offset}" if number.isdigit() else where
