"""Real processes on loopback for the pipeline tests: controller, simulated devices, workers, QA workers.

``Line`` starts each part as ``python -m factory.cli ...`` in its own process
group (so a test can kill -9 exactly that process), waits for it to be ready,
and kills whatever is left at the end of the test. Ports are picked by the OS
(``tcp://127.0.0.1:*``; devices use port 0) and read back from the processes.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from factory.ledger import Ledger, audit_ledger
from factory.samples import generate_applications

_DEVICE_READY = re.compile(r"listening on (tcp://127\.0\.0\.1:\d+)")
_PREFIXES = {"booklet": ("E",), "card": ("C", "L", "R", "H")}


def wait_until(predicate, timeout_s: float, *, what: str, every_s: float = 0.1):
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s:g} s waiting for {what}")
        time.sleep(every_s)


class Line:
    """The processes of one test's production line."""

    def __init__(self, root: Path, *, env: dict[str, str] | None = None) -> None:
        self.root = root
        self.env = dict(env or {})  # added to every process's environment (e.g. libfaketime's: a fixed day)
        self.keys = root / "keys"
        self.ledger_path = root / "ledger.db"
        self.endpoint_file = root / "controller.endpoint"
        self.endpoint = ""
        self.procs: dict[str, subprocess.Popen] = {}
        self.devices: dict[str, str] = {}
        self.logs = root / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self._log_handles = []
        self._blank_base = {"E": 10_000_001, "C": 20_000_001, "L": 30_000_001, "R": 40_000_001, "H": 50_000_001}

    # ------------------------------------------------------------------ processes

    def _spawn(self, name: str, args: list[str]) -> subprocess.Popen:
        handle = open(self.logs / f"{name}.log", "ab")
        self._log_handles.append(handle)
        env = dict(os.environ, PYTHONUNBUFFERED="1", **self.env)
        proc = subprocess.Popen([sys.executable, "-m", "factory.cli", *args], stdout=handle, stderr=subprocess.STDOUT,
                                cwd=self.root, env=env, start_new_session=True)
        self.procs[name] = proc
        return proc

    def keys_for(self, *names: str) -> None:
        subprocess.run([sys.executable, "-m", "factory.cli", "keys", "--dir", str(self.keys), *names],
                       check=True, capture_output=True)

    def start_controller(self, *extra: str, wait: bool = True) -> subprocess.Popen:
        if self.endpoint_file.exists():
            self.endpoint_file.unlink()
        bind = self.endpoint or "tcp://127.0.0.1:*"  # a restart binds the same port again
        proc = self._spawn("controller", ["serve", "--ledger", str(self.ledger_path), "--keys", str(self.keys),
                                          "--bind", bind, "--endpoint-file", str(self.endpoint_file),
                                          "--metrics-port", "-1", *extra])
        if wait:
            wait_until(lambda: self.endpoint_file.exists() or proc.poll() is not None, 60, what="the controller")
            assert proc.poll() is None, self.log("controller")
            self.endpoint = self.endpoint_file.read_text().strip()
        return proc

    def start_device(self, machine: str, pool: str, *, blanks: int = 400, speed: float = 1000,
                     extra: tuple[str, ...] = (), port: int = 0, wait: bool = True) -> str:
        """Start the simulated printer; returns its endpoint (with ``wait=False``: "", see ``wait_device``)."""
        args = ["device-sim", "--id", machine, "--pool", pool, "--state-dir", str(self.root / "devices"),
                "--speed", str(speed), "--queue", "2", "--port", str(port)]
        log = self.logs / f"device-{machine}.log"
        if log.exists():
            log.rename(log.with_suffix(f".{time.monotonic_ns()}.log"))  # a restart: read only the new log
        if blanks:
            for prefix in _PREFIXES[pool]:
                first = self._blank_base[prefix]
                self._blank_base[prefix] += blanks
                args += ["--blanks", f"{prefix}{first:08d}+{blanks}"]
        self._spawn(f"device-{machine}", [*args, *extra])
        return self.wait_device(machine) if wait else ""

    def wait_device(self, machine: str) -> str:
        """Wait until the device started by ``start_device`` listens; returns its endpoint."""
        proc = self.procs[f"device-{machine}"]
        found = wait_until(lambda: _DEVICE_READY.search(self.log(f"device-{machine}")) or proc.poll() is not None,
                           60, what=f"device {machine}")
        assert proc.poll() is None, self.log(f"device-{machine}")
        self.devices[machine] = found.group(1)
        return self.devices[machine]

    def start_worker(self, machine: str, *extra: str) -> subprocess.Popen:
        return self._spawn(f"worker-{machine}", ["worker", "--machine", machine, "--device", self.devices[machine],
                                                  "--connect", self.endpoint, "--keys", str(self.keys),
                                                  "--metrics-port", "-1", *extra])

    def start_qa(self, name: str = "qa1", *extra: str) -> subprocess.Popen:
        return self._spawn(f"qa-{name}", ["qa-worker", "--name", name, "--connect", self.endpoint,
                                           "--keys", str(self.keys), "--check", "record", "--metrics-port", "-1",
                                           *extra])

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        proc = self.procs[name]
        if proc.poll() is None:
            os.kill(proc.pid, sig)
            if sig in (signal.SIGKILL, signal.SIGTERM):
                proc.wait(timeout=30)

    def stop_all(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                try:
                    os.kill(proc.pid, signal.SIGCONT)
                    os.kill(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        for proc in self.procs.values():
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                pass
        for handle in self._log_handles:
            handle.close()

    def log(self, name: str) -> str:
        path = self.logs / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    # ------------------------------------------------------------------ data

    def write_applications(self, count: int, seed: int, *, images: bool = False) -> Path:
        """``count`` applications as a .jsonl file; with ``images``, their portraits and signatures are
        written too (QA workers checking printed pages compare them with the page)."""
        from factory.commands.sample import write_images
        from factory.config import load_config

        config = load_config()
        samples = generate_applications(count, seed, config, day=dt.date(2026, 2, 24), image_dir=str(self.root))
        if images:
            write_images(samples, workers=os.cpu_count() or 1)
        path = self.root / f"applications-{seed}.jsonl"
        with open(path, "w", encoding="utf-8") as out:
            for sample in samples:
                out.write(json.dumps(sample.record, ensure_ascii=False) + "\n")
        return path

    def intake(self, path: Path, *, through_controller: bool = True) -> subprocess.CompletedProcess:
        args = [sys.executable, "-m", "factory.cli", "intake", str(path)]
        if through_controller:
            args += ["--connect", self.endpoint, "--keys", str(self.keys)]
        else:
            args += ["--ledger", str(self.ledger_path)]
        return subprocess.run(args, capture_output=True, text=True, timeout=120)

    def counts(self) -> dict[str, int]:
        with Ledger.open(self.ledger_path) as ledger:
            return ledger.counts()

    def audit(self):
        with Ledger.open(self.ledger_path) as ledger:
            return audit_ledger(ledger)

    def query(self, sql: str, params=()):
        with Ledger.open(self.ledger_path) as ledger:
            return ledger.query(sql, params)

    def wait_for(self, done, timeout_s: float, what: str):
        def check():
            counts = self.counts()
            return counts if done(counts) else None
        try:
            return wait_until(check, timeout_s, what=what, every_s=0.3)
        except AssertionError as err:
            raise AssertionError(f"{err}; ledger {self.counts()}\n{self.tail()}") from None

    def tail(self, lines: int = 15) -> str:
        out = []
        for name in self.procs:
            text = self.log(name).splitlines()[-lines:]
            out.append(f"--- {name} (exit {self.procs[name].poll()})\n" + "\n".join(text))
        return "\n".join(out)


def device_prints(line: Line, machine: str) -> list[tuple[str, str]]:
    """(application_id, blank_serial) of every document the device itself says it printed (its job log on disk)."""
    import sqlite3

    path = line.root / "devices" / f"{machine}.sqlite"
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return db.execute("SELECT application_id, blank_serial FROM jobs WHERE state = 'executed'").fetchall()
    finally:
        db.close()


def assert_printed_once(line: Line, machines) -> None:
    """Every application the ledger holds a document for was printed exactly once by the devices, on that blank."""
    from collections import Counter

    printed = [p for m in machines for p in device_prints(line, m)]
    per_app = Counter(app for app, _ in printed)
    twice = {app: n for app, n in per_app.items() if n > 1}
    assert not twice, f"printed more than once by the devices: {twice}"
    issued = dict(line.query("SELECT application_id, blank_serial FROM blanks WHERE state = 'issued'"))
    assert {app: serial for app, serial in printed} == issued
