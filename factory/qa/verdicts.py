"""Verdicts: every check of a batch as arrays, and the JSON form of one document.

A check family returns one ``Check`` per named check: an ``(n,)`` bool ``ok``
array, an ``(n,)`` float ``value`` array (NaN where the check does not apply,
e.g. the MRZ of a residence permit), the threshold it was held to, the zone a
reviewer should look at, and per document a short detail string for the
failures. ``BatchVerdict`` gathers the checks of one batch: ``flagged`` says
which documents need a human, ``for_document(i)`` gives the JSON the CLI
prints and the ledger stores.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from factory.errors import InvalidField

__all__ = ["Check", "BatchVerdict", "make_check", "merge_verdicts"]


@dataclass(frozen=True, slots=True)
class Check:
    """One named check over a batch of ``n`` documents."""

    name: str
    ok: np.ndarray
    """``(n,) bool``: True where the document passes (or the check does not apply)."""
    value: np.ndarray
    """``(n,) float64``: the measured value; NaN where the check does not apply."""
    threshold: float
    """The limit ``value`` is held to (see ``rule``)."""
    rule: str
    """How ``value`` passes, e.g. ``">= 0.9"`` or ``"== 0"``: for people reading the JSON."""
    zone: str
    """The page zone (``factory.devices.layout``) or intake image a reviewer is shown on failure."""
    details: tuple[str, ...]
    """Per document: why it failed (empty where it passed)."""
    zones: tuple[str, ...] | None = None
    """Per document zone to show when it differs from ``zone`` (where a smudge was found)."""

    def zone_of(self, i: int) -> str:
        return self.zones[i] if self.zones is not None and self.zones[i] else self.zone

    def __len__(self) -> int:
        return len(self.ok)


def make_check(
    name: str,
    value: np.ndarray | Sequence[float],
    *,
    threshold: float,
    rule: str,
    zone: str,
    ok: np.ndarray | None = None,
    details: Sequence[str] | None = None,
    applies: np.ndarray | None = None,
    zones: Sequence[str] | None = None,
) -> Check:
    """Build a ``Check``; ``ok`` is derived from ``rule`` when not given.

    Parameters
    ----------
    value : array_like
        ``(n,)`` measured values.
    threshold : float
        The limit.
    rule : str
        ``">= t"``, ``"<= t"``, ``"> t"``, ``"< t"`` or ``"== t"`` (``t`` is
        ``threshold``; the text after the operator is for display only).
    applies : np.ndarray, optional
        ``(n,) bool``; documents where it is False pass with a NaN value.
    zones : sequence of str, optional
        Per document, the zone to show a reviewer ('' for ``zone``).
    """
    values = np.asarray(value, dtype=np.float64).copy()
    n = values.shape[0]
    if ok is None:
        op = rule.split()[0]
        with np.errstate(invalid="ignore"):
            if op == ">=":
                ok = values >= threshold
            elif op == "<=":
                ok = values <= threshold
            elif op == ">":
                ok = values > threshold
            elif op == "<":
                ok = values < threshold
            elif op == "==":
                ok = values == threshold
            else:
                raise InvalidField("rule", "must start with >=, <=, >, < or ==", rule)
    ok = np.asarray(ok, dtype=bool).copy()
    if applies is not None:
        applies = np.asarray(applies, dtype=bool)
        values[~applies] = np.nan
        ok[~applies] = True
    if details is None:
        texts = tuple("" if good else f"{name}: {_fmt(v)} (must be {rule})" for good, v in zip(ok, values))
    else:
        texts = tuple("" if good else (text or f"{name}: {_fmt(v)} (must be {rule})")
                      for good, v, text in zip(ok, values, details))
    if ok.shape != (n,) or len(texts) != n:
        raise InvalidField(name, "ok, value and details must have one entry per document", (ok.shape, n))
    if zones is not None and len(zones) != n:
        raise InvalidField(name, "zones must have one entry per document", len(zones))
    ok.setflags(write=False)
    values.setflags(write=False)
    return Check(name=name, ok=ok, value=values, threshold=float(threshold), rule=rule, zone=zone, details=texts,
                 zones=tuple(zones) if zones is not None else None)


def _fmt(value: float) -> str:
    if math.isnan(value):
        return "n/a"
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.4g}"


def _json_value(value: float) -> float | int | None:
    if math.isnan(value):
        return None
    if float(value).is_integer() and abs(value) < 2**53:
        return int(value)
    return round(float(value), 5)


@dataclass(frozen=True, slots=True)
class BatchVerdict:
    """The checks of one batch of ``n`` documents, in a fixed order."""

    checks: tuple[Check, ...]
    n: int
    mrz_read: tuple[tuple[str, ...], ...] | None = None
    """Per document, the MRZ lines read back off the page (``()`` where none was read); None: not read."""

    def __post_init__(self) -> None:
        for check in self.checks:
            if len(check) != self.n:
                raise InvalidField(check.name, f"has {len(check)} results for a batch of {self.n}")
        if self.mrz_read is not None and len(self.mrz_read) != self.n:
            raise InvalidField("mrz_read", f"has {len(self.mrz_read)} entries for a batch of {self.n}")

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.checks)

    @property
    def ok(self) -> np.ndarray:
        """``(checks, n) bool``."""
        if not self.checks:
            return np.ones((0, self.n), bool)
        return np.stack([c.ok for c in self.checks])

    @property
    def flagged(self) -> np.ndarray:
        """``(n,) bool``: documents with at least one failed check (they go to a reviewer)."""
        return ~self.ok.all(axis=0)

    def check(self, name: str) -> Check:
        for check in self.checks:
            if check.name == name:
                return check
        raise KeyError(name)

    def failed(self, i: int) -> list[str]:
        """Names of the checks document ``i`` failed."""
        return [c.name for c in self.checks if not c.ok[i]]

    def for_document(self, i: int) -> dict[str, Any]:
        """The JSON form of document ``i``: ``{"verdict": "pass" | "flag", "checks": [...]}``."""
        if not 0 <= i < self.n:
            raise IndexError(i)
        checks = []
        for c in self.checks:
            good = bool(c.ok[i])
            checks.append({
                "name": c.name,
                "ok": good,
                "value": _json_value(float(c.value[i])),
                "detail": "" if good else c.details[i],
                "threshold": _json_value(c.threshold),
                "rule": c.rule,
                "zone": None if good else c.zone_of(i),
            })
        flagged = any(not c["ok"] for c in checks)
        return {"verdict": "flag" if flagged else "pass", "checks": checks}


def merge_verdicts(parts: Iterable[tuple[np.ndarray, BatchVerdict]], n: int) -> BatchVerdict:
    """Put verdicts of sub-batches (``(indices, verdict)``) back into one batch of ``n``.

    Every part must hold the same checks in the same order (one per document type
    group is the use: each group is checked with its own layout).
    """
    parts = list(parts)
    if not parts:
        return BatchVerdict(checks=(), n=n)
    names = parts[0][1].names
    for _, verdict in parts:
        if verdict.names != names:
            raise InvalidField("verdicts", "parts hold different checks", verdict.names)
    merged = []
    for k, name in enumerate(names):
        ok = np.ones(n, bool)
        value = np.full(n, np.nan)
        details = [""] * n
        zones = [""] * n
        first = parts[0][1].checks[k]
        for indices, verdict in parts:
            check = verdict.checks[k]
            ok[indices] = check.ok
            value[indices] = check.value
            for j, i in enumerate(indices):
                details[i] = check.details[j]
                zones[i] = check.zone_of(j)
        merged.append(make_check(name, value, threshold=first.threshold, rule=first.rule, zone=first.zone,
                                 ok=ok, details=details, zones=zones))
    read: list[tuple[str, ...]] = [()] * n
    for indices, verdict in parts:
        if verdict.mrz_read is not None:
            for j, i in enumerate(indices):
                read[i] = verdict.mrz_read[j]
    has_read = any(verdict.mrz_read is not None for _, verdict in parts)
    return BatchVerdict(checks=tuple(merged), n=n, mrz_read=tuple(read) if has_read else None)
