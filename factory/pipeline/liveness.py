"""Heartbeats and reconnection, as pure bookkeeping over ``now`` (Paranoid Pirate, zguide ch. 4).

A peer is alive while it was heard from within ``interval_s * liveness``
seconds (1 s and 3 by default: dead after three missed heartbeats). Any
message counts as a heartbeat. A station that lost its controller reconnects
after a back-off that doubles from 1 s to 32 s and resets once it is welcomed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TypeVar

__all__ = [
    "HEARTBEAT_S",
    "LIVENESS",
    "BACKOFF_INITIAL_S",
    "BACKOFF_MAX_S",
    "Pulse",
    "heard",
    "is_alive",
    "dead_peers",
    "heartbeat_due",
    "Backoff",
    "next_backoff",
    "reset_backoff",
]

HEARTBEAT_S = 1.0
LIVENESS = 3
BACKOFF_INITIAL_S = 1.0
BACKOFF_MAX_S = 32.0

K = TypeVar("K")


@dataclass(frozen=True, slots=True)
class Pulse:
    """What we know of a peer's heartbeat."""

    last_heard: float
    """Unix seconds of the last message from it."""
    interval_s: float = HEARTBEAT_S
    liveness: int = LIVENESS

    @property
    def deadline(self) -> float:
        """When it is taken for dead if nothing more is heard."""
        return self.last_heard + self.interval_s * self.liveness


def heard(pulse: Pulse, now: float) -> Pulse:
    """The pulse after hearing from the peer at ``now``."""
    return replace(pulse, last_heard=max(pulse.last_heard, now))


def is_alive(pulse: Pulse, now: float) -> bool:
    return now <= pulse.deadline


def dead_peers(pulses: Mapping[K, Pulse], now: float) -> list[K]:
    """Keys of the peers that missed ``liveness`` heartbeats by ``now``."""
    return [key for key, pulse in pulses.items() if now > pulse.deadline]


def heartbeat_due(last_sent: float, now: float, interval_s: float = HEARTBEAT_S) -> bool:
    """True when it is time to send the next heartbeat."""
    return now - last_sent >= interval_s


@dataclass(frozen=True, slots=True)
class Backoff:
    """Reconnection delay: ``delay_s`` now, doubling up to ``maximum_s`` after each failure."""

    delay_s: float = BACKOFF_INITIAL_S
    initial_s: float = BACKOFF_INITIAL_S
    maximum_s: float = BACKOFF_MAX_S


def next_backoff(backoff: Backoff) -> Backoff:
    """The back-off after one more failed attempt (1, 2, 4, ... 32, 32 s)."""
    return replace(backoff, delay_s=min(backoff.delay_s * 2, backoff.maximum_s))


def reset_backoff(backoff: Backoff) -> Backoff:
    return replace(backoff, delay_s=backoff.initial_s)
