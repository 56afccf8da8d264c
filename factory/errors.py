"""The exceptions of factory, each carrying data rather than only a message.

::

    FactoryError
    ├── InvalidField(field, reason, value)        also a ValueError
    │   ├── MrzError                               a bad MRZ line, field or character
    │   └── WireError                              a frame that cannot be decoded
    ├── InvalidRecord(errors)                      every InvalidField of one record
    ├── ConfigError(path, errors)                  every InvalidField of one config file
    ├── CalendarNotCovered(year)                   no working-day data for a year: fail closed
    ├── LedgerError
    │   ├── IllegalTransition(job_id, state, event)
    │   └── StaleState(job_id, expected)
    └── DeviceError
        ├── DeviceOffline
        └── OutOfBlanks

Only the shell's loops catch broadly: they log, count, and answer with the
field and the reason.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

__all__ = [
    "FactoryError",
    "InvalidField",
    "MrzError",
    "WireError",
    "InvalidRecord",
    "ConfigError",
    "CalendarNotCovered",
    "LedgerError",
    "IllegalTransition",
    "StaleState",
    "DeviceError",
    "DeviceOffline",
    "OutOfBlanks",
]

_MISSING = object()


class FactoryError(Exception):
    """Base of every error factory raises on purpose."""


class InvalidField(FactoryError, ValueError):
    """One field is wrong: ``field`` names it (dotted path), ``reason`` says why."""

    def __init__(self, field: str, reason: str, value: Any = _MISSING) -> None:
        self.field = field
        self.reason = reason
        self.value = value
        super().__init__(str(self))

    def __str__(self) -> str:
        text = f"{self.field}: {self.reason}"
        if self.value is not _MISSING:
            shown = repr(self.value)
            if len(shown) > 80:
                shown = shown[:77] + "..."
            text += f" (got {shown})"
        return text

    def __reduce__(self):  # keep pickling (multiprocessing) working with our signature
        return (type(self), (self.field, self.reason, self.value))

    def as_dict(self) -> dict[str, str]:
        """The JSON form used by the CLI, the panel and the wire."""
        return {"field": self.field, "reason": self.reason}


class MrzError(InvalidField):
    """A machine-readable-zone field, line or character is wrong."""


class WireError(InvalidField):
    """A message frame could not be decoded or validated."""


class _GroupedErrors(FactoryError, ValueError):
    def __init__(self, errors: Iterable[InvalidField]) -> None:
        self.errors: tuple[InvalidField, ...] = tuple(errors)
        super().__init__(str(self))

    def fields(self) -> list[str]:
        return [e.field for e in self.errors]

    def as_list(self) -> list[dict[str, str]]:
        return [e.as_dict() for e in self.errors]


class InvalidRecord(_GroupedErrors):
    """A record has one or more invalid fields; all of them are listed."""

    def __init__(self, errors: Iterable[InvalidField], *, where: str = "") -> None:
        self.where = where
        super().__init__(errors)

    def __str__(self) -> str:
        head = f"{self.where}: " if self.where else ""
        return head + "; ".join(str(e) for e in self.errors)

    def __reduce__(self):
        return (_rebuild_invalid_record, (self.errors, self.where))


def _rebuild_invalid_record(errors: Sequence[InvalidField], where: str) -> InvalidRecord:
    return InvalidRecord(errors, where=where)


class ConfigError(_GroupedErrors):
    """A configuration file is invalid; ``path`` names it, ``errors`` every bad key."""

    def __init__(self, path: str, errors: Iterable[InvalidField]) -> None:
        self.path = str(path)
        super().__init__(errors)

    def __str__(self) -> str:
        return "\n".join(f"{self.path}: {e}" for e in self.errors)

    def __reduce__(self):
        return (ConfigError, (self.path, self.errors))


class CalendarNotCovered(FactoryError, LookupError):
    """No working-day data for ``year``: neither the library nor configs/ overrides cover it."""

    def __init__(self, year: int) -> None:
        self.year = year
        super().__init__(str(self))

    def __str__(self) -> str:
        return (
            f"calendar: no working-day data for year {self.year}; add the State Council "
            f"holiday notice for {self.year} to configs/calendar.toml and mark it complete"
        )

    def __reduce__(self):
        return (CalendarNotCovered, (self.year,))


class LedgerError(FactoryError):
    """The ledger refused a change."""


class IllegalTransition(LedgerError):
    def __init__(self, job_id: str, state: str, event: str) -> None:
        self.job_id, self.state, self.event = job_id, state, event
        super().__init__(f"{job_id}: event {event!r} is not allowed in state {state!r}")


class StaleState(LedgerError):
    def __init__(self, job_id: str, expected: str) -> None:
        self.job_id, self.expected = job_id, expected
        super().__init__(f"{job_id}: no longer in state {expected!r}")


class DeviceError(FactoryError):
    """A printer refused or failed a command."""


class DeviceOffline(DeviceError):
    pass


class OutOfBlanks(DeviceError):
    pass
