"""Adapters that count what a process already does, without changing how it does it.

- ``ObservedDriver`` wraps a printer driver (``factory.devices.driver.PrinterDriver``):
  every call goes through unchanged; the device events the worker reads are
  counted into ``PrinterInstruments`` (printed with its cycle, spoiled with its
  reason).
- ``observed_qa_check`` wraps a QA worker's check function: the verdicts go
  through unchanged and are counted into ``QaInstruments``.

Counting never breaks the process: a value the instruments refuse is logged
and skipped. Duck-typed: imports nothing from ``factory.devices`` or
``factory.pipeline``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from typing import Any

from factory.errors import InvalidField
from factory.metrics.exporter import SPOIL_REASONS, PrinterInstruments, QaInstruments

__all__ = ["spoil_reason", "ObservedDriver", "observed_qa_check"]

log = logging.getLogger("factory.metrics.observe")

_STARTS_KEPT = 1000


def spoil_reason(device_reason: str) -> str:
    """The spoil reason of a device's failure: ``jam`` stays, anything else is a ``device_fault``."""
    reason = (device_reason or "").strip().lower()
    return reason if reason in SPOIL_REASONS else "device_fault"


class ObservedDriver:
    """A printer driver whose device events are also counted (see the module docstring).

    Parameters
    ----------
    driver : PrinterDriver
        The real driver; every attribute and method is its own.
    instruments : PrinterInstruments
    """

    def __init__(self, driver: Any, instruments: PrinterInstruments) -> None:
        self._driver = driver
        self._instruments = instruments
        self._doc_type: dict[tuple[str, int], str] = {}
        self._started_at: dict[tuple[str, int], float] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._driver, name)

    def submit(self, job: Any) -> Any:
        key = (job.job_id, job.attempt)
        try:
            record = job.record if isinstance(job.record, dict) else json.loads(job.record)
            self._doc_type[key] = str(record.get("doc_type", ""))
        except (TypeError, ValueError, AttributeError):
            pass
        self._trim()
        return self._driver.submit(job)

    def events(self, *args: Any, **kwargs: Any) -> Any:
        events = self._driver.events(*args, **kwargs)
        for event in events:
            try:
                self._count(event)
            except InvalidField as err:
                log.warning("metrics: device event not counted: %s", err)
        return events

    def _count(self, event: Any) -> None:
        key = (event.job_id, event.attempt)
        if event.kind == "started":
            self._started_at[key] = float(event.at)
            return
        if event.kind not in ("executed", "failed"):
            return
        started = self._started_at.pop(key, None)
        doc_type = self._doc_type.pop(key, "")
        cycle_s = float(event.at) - started if started is not None and event.at >= started else None
        if event.kind == "executed":
            # A job submitted before this worker started has no known document type: the
            # controller's ledger still counts it, this process's counter does not.
            if doc_type:
                self._instruments.record_printed(doc_type, cycle_s)
        elif getattr(event, "spoiled", False):
            self._instruments.record_spoiled(spoil_reason(event.reason), cycle_s)

    def _trim(self) -> None:
        # Jobs the device never reports on (refused, lost) must not grow the maps forever.
        for table in (self._doc_type, self._started_at):
            while len(table) > _STARTS_KEPT:
                table.pop(next(iter(table)))


def observed_qa_check(check: Callable[[Sequence[Any]], list[Any]], instruments: QaInstruments
                      ) -> Callable[[Sequence[Any]], list[Any]]:
    """``check`` with every verdict (``QaVerdict``: ``.check_map()`` and ``.passed``) counted."""

    def counted(items: Sequence[Any]) -> list[Any]:
        verdicts = check(items)
        for verdict in verdicts:
            try:
                instruments.record_verdict(verdict.check_map(), flagged=not verdict.passed)
            except InvalidField as err:
                log.warning("metrics: QA verdict not counted: %s", err)
        return verdicts

    return counted
