"""Upgrading frames of older protocol versions to ours, one step at a time.

When ``WIRE_VERSION`` goes from n to n + 1, add ``upgrade_vn_vn1(kind, body)
-> body`` here and register it in ``UPGRADES`` under ``(n, n + 1)``; ``decode``
chains the steps from the frame's version to ours (jupyter_client's
``adapter.py`` keeps its adapters the same way). A frame newer than ours is
refused: we cannot know what its fields mean.

Version 2 re-meant ``QaVerdict.checks`` (a list of check results instead of a
map name -> passed): ``upgrade_v1_v2`` turns a v1 map into the list.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from factory.errors import WireError
from factory.wire.schema import WIRE_VERSION

__all__ = ["UPGRADES", "OLDEST_VERSION", "upgrade_body", "upgrade_v1_v2"]

Upgrade = Callable[[str, dict[str, Any]], dict[str, Any]]

def upgrade_v1_v2(kind: str, body: dict[str, Any]) -> dict[str, Any]:
    """v1 -> v2: a ``qa_verdicts`` body's ``checks`` maps (name -> passed) become lists of ``{name, ok}``.

    A v1 body that is malformed is passed on unchanged: the v2 checker then names the field.
    """
    if kind != "qa_verdicts" or type(body.get("verdicts")) is not list:
        return body
    verdicts = []
    for verdict in body["verdicts"]:
        if type(verdict) is dict and type(verdict.get("checks")) is dict:
            checks = [{"name": name, "ok": ok} for name, ok in verdict["checks"].items()]
            verdict = {**verdict, "checks": checks}
        verdicts.append(verdict)
    return {**body, "verdicts": verdicts}


UPGRADES: Mapping[tuple[int, int], Upgrade] = MappingProxyType({(1, 2): upgrade_v1_v2})
"""(from version, to version) -> upgrade of a body of a given kind."""

OLDEST_VERSION = 1
"""The oldest version we can still read."""


def upgrade_body(version: int, kind: str, body: dict[str, Any]) -> dict[str, Any]:
    """``body`` of a version-``version`` frame, upgraded to ``WIRE_VERSION``.

    Raises
    ------
    WireError
        ``v`` newer than ours, older than ``OLDEST_VERSION``, or a missing step.
    """
    if version > WIRE_VERSION:
        raise WireError("v", f"is newer than this program's protocol version {WIRE_VERSION}", version)
    if version < OLDEST_VERSION:
        raise WireError("v", f"is older than the oldest supported version {OLDEST_VERSION}", version)
    while version < WIRE_VERSION:
        step = UPGRADES.get((version, version + 1))
        if step is None:
            raise WireError("v", f"no upgrade from version {version} to {version + 1}", version)
        body = step(kind, body)
        version += 1
    return body
