"""Credit-based flow (zguide ch. 7): a station grants credit for its free slots; jobs go out only against it.

Pure bookkeeping over plain mappings: ``grant`` and ``spend`` return new
mappings, ``plan_offers`` decides how many jobs of which pool go to which
station in one round. Nothing queues inside ZeroMQ: a job leaves the ledger's
queue only for a slot that a station said is free.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

__all__ = ["MAX_CREDIT", "grant", "spend", "plan_offers"]

MAX_CREDIT = 64
"""A station never holds more credit than this (a runaway grant cannot flood it)."""

K = TypeVar("K")


def grant(credits: Mapping[K, int], peer: K, slots: int, *, cap: int = MAX_CREDIT) -> dict[K, int]:
    """Credits after ``peer`` granted ``slots`` more (capped; negative grants are ignored)."""
    out = dict(credits)
    out[peer] = min(cap, out.get(peer, 0) + max(0, slots))
    return out


def spend(credits: Mapping[K, int], peer: K, n: int = 1) -> dict[K, int]:
    """Credits after ``n`` jobs were offered to ``peer`` (never below zero)."""
    out = dict(credits)
    out[peer] = max(0, out.get(peer, 0) - n)
    return out


def plan_offers(
    credits: Mapping[K, int], pool_of: Mapping[K, str], waiting: Mapping[str, int]
) -> list[tuple[K, str]]:
    """One round of offers: ``(peer, pool)`` pairs, in the order the jobs should be taken.

    Round-robin over the peers with credit, one slot each per turn, so that the
    head of each pool's queue (a green-channel job first) goes to the first free
    slot of a machine of that pool, and no machine is starved.

    Parameters
    ----------
    credits : peer -> free slots granted and not yet used
    pool_of : peer -> the pool its machine prints (booklet, card)
    waiting : pool -> jobs waiting in that pool's queue
    """
    left = {pool: n for pool, n in waiting.items() if n > 0}
    room = {peer: n for peer, n in credits.items() if n > 0 and pool_of.get(peer) in left}
    offers: list[tuple[K, str]] = []
    while room:
        for peer in list(room):
            pool = pool_of[peer]
            if left.get(pool, 0) <= 0:
                del room[peer]
                continue
            offers.append((peer, pool))
            left[pool] -= 1
            room[peer] -= 1
            if room[peer] == 0:
                del room[peer]
    return offers
