"""Small pieces the pipeline's commands share: logging, stop signals, opening the ledger.

Shell code (signals, files, the clock); the commands in ``factory.commands``
call these so that each stays a page long.
"""

from __future__ import annotations

import gc
import logging
import signal
import threading
from pathlib import Path

from factory.config import Config
from factory.ledger.shifts import shift_clock
from factory.ledger.store import Ledger

__all__ = ["DEFAULT_ENDPOINT", "DEFAULT_LEDGER", "setup_logging", "stop_on_signals", "open_ledger", "tune_gc"]

DEFAULT_ENDPOINT = "tcp://127.0.0.1:5555"
DEFAULT_LEDGER = Path("ledger.db")


def setup_logging(level: str = "INFO") -> None:
    logging.basicConfig(level=getattr(logging, level.upper(), logging.INFO),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def stop_on_signals() -> threading.Event:
    """An event set by SIGINT or SIGTERM: loops check it and stop cleanly."""
    stop = threading.Event()

    def handler(signum, frame):  # noqa: ARG001 (signal API)
        stop.set()

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)
    return stop


def open_ledger(path: Path, config: Config) -> Ledger:
    """The ledger at ``path`` with the line's shift clock."""
    return Ledger.open(path, shifts=shift_clock(config.line))


def tune_gc() -> None:
    """A long-lived loop allocates many small tuples: freeze the start-up heap and collect less often.

    With the default thresholds a full collection over the controller's queue
    (tens of thousands of entries) ran every few hundred jobs.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 50, 100)
