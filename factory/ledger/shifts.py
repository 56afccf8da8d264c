"""Which production shift a moment belongs to: the local date on which that shift began."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from factory.config import Line

__all__ = ["ShiftClock", "shift_clock"]


@dataclass(frozen=True, slots=True)
class ShiftClock:
    timezone: str
    start: dt.time
    """Local time the day's shift starts; moments before it belong to the previous day's shift."""

    def shift_of(self, at_s: float) -> str:
        """``YYYY-MM-DD`` of the shift running at Unix time ``at_s`` (seconds)."""
        local = dt.datetime.fromtimestamp(at_s, ZoneInfo(self.timezone))
        day = local.date()
        if local.time() < self.start:
            day -= dt.timedelta(days=1)
        return day.isoformat()


def shift_clock(line: Line) -> ShiftClock:
    """The shift clock of a configured line."""
    return ShiftClock(timezone=line.timezone, start=line.shifts.start)
