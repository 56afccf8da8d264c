"""Start the line's processes, each in its own process group, and stop them all."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO

__all__ = ["ProcessGroup", "wait_until", "SINGLE_THREADED"]

SINGLE_THREADED = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
                   "OPENCV_FOR_THREADS_NUM": "1"}
"""Every part is its own process, and there are more processes than cores: a
numerical library's own thread pool in each would only fight over them (QA
measured twice the CPU time per page with OpenBLAS threads; OpenCV's pool
added ~15 % to the intake and printed-page checks on a 2-core machine)."""


def wait_until(predicate: Callable[[], object], timeout_s: float, *, what: str, every_s: float = 0.1) -> object:
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout_s:g} s waiting for {what}")
        time.sleep(every_s)


class ProcessGroup:
    """The processes of one run; their output goes to ``logs/<name>.log``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.logs = root / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.procs: dict[str, subprocess.Popen] = {}
        self._handles: list[IO[bytes]] = []

    def spawn(self, name: str, argv: Sequence[str], *, env: dict[str, str] | None = None) -> subprocess.Popen:
        handle = open(self.logs / f"{name}.log", "ab")
        self._handles.append(handle)
        proc = subprocess.Popen(
            list(argv), stdout=handle, stderr=subprocess.STDOUT, cwd=self.root,
            env={**os.environ, **SINGLE_THREADED, "PYTHONUNBUFFERED": "1", **(env or {})}, start_new_session=True,
        )
        self.procs[name] = proc
        return proc

    def factory(self, name: str, *args: str) -> subprocess.Popen:
        """Start ``factory ARGS`` with this interpreter."""
        return self.spawn(name, [sys.executable, "-m", "factory.cli", *args])

    def log(self, name: str) -> str:
        path = self.logs / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def wait_for_log(self, name: str, pattern: str, timeout_s: float = 60) -> re.Match:
        regex = re.compile(pattern)
        proc = self.procs[name]
        found = wait_until(lambda: regex.search(self.log(name)) or proc.poll() is not None, timeout_s,
                           what=f"{name} to start")
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited with {proc.returncode}:\n{self.tail(name)}")
        return found  # type: ignore[return-value]

    def dead(self) -> list[str]:
        return [name for name, proc in self.procs.items() if proc.poll() is not None]

    def tail(self, name: str, lines: int = 20) -> str:
        return "\n".join(self.log(name).splitlines()[-lines:])

    def stop(self, name: str, *, timeout_s: float = 10) -> None:
        proc = self.procs.get(name)
        if proc is None or proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=timeout_s)
        except ProcessLookupError:
            pass

    def stop_all(self) -> None:
        for name in reversed(list(self.procs)):
            self.stop(name)
        for handle in self._handles:
            handle.close()
        self._handles.clear()
