"""The real thing: Debian's Prometheus scraping a running line of factory processes.

A controller (``factory serve``), two simulated printers (``factory device-sim``)
with their workers (``factory worker``, one booklet, one card) and a QA worker
(``factory qa-worker``) run on loopback, each serving its own ``/metrics`` on a
free port. Prometheus runs the shipped ``prometheus.yml`` (those ports, 1 s
intervals) and the shipped rules (stalled-machine window 6 s).
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

import pytest
from metrics_prom import Prometheus, dashboard_queries, firing, free_port, wait_for, write_test_configs

from factory.config import load_config
from factory.metrics import CONTROLLER_METRICS_PORT, printer_metrics_port, qa_metrics_port
from factory.samples import generate_applications

pytestmark = [pytest.mark.integration, pytest.mark.slow]

MACHINES = {"B01": ("booklet", ("E",)), "C01": ("card", ("C", "L", "R", "H"))}
APPLICATIONS = 400
SPEED = "40"  # device seconds per real second: a 45-60 s cycle takes 1.1-1.5 s


class RunningLine:
    """The processes, each in its own session so that exactly one can be stopped."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.logs = root / "logs"
        self.logs.mkdir(parents=True)
        self.procs: dict[str, subprocess.Popen] = {}
        self.ports: dict[str, int] = {}
        self._handles = []

    def spawn(self, name: str, *args: str) -> subprocess.Popen:
        handle = open(self.logs / f"{name}.log", "ab")
        self._handles.append(handle)
        proc = subprocess.Popen([sys.executable, "-m", "factory.cli", *args], stdout=handle,
                                stderr=subprocess.STDOUT, cwd=self.root, start_new_session=True,
                                env=dict(os.environ, PYTHONUNBUFFERED="1"))
        self.procs[name] = proc
        return proc

    def log(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text(errors="replace")

    def wait_log(self, name: str, text: str, timeout_s: float = 60) -> str:
        def seen():
            assert self.procs[name].poll() is None, self.log(name)
            return text in self.log(name) and self.log(name)
        return wait_for(seen, timeout_s, f"{name} to log {text!r}", every_s=0.2)

    def tail(self) -> str:
        return "\n".join(f"--- {n} (exit {p.poll()})\n" + "\n".join(self.log(n).splitlines()[-12:])
                         for n, p in self.procs.items())

    def stop_all(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                try:
                    os.kill(proc.pid, signal.SIGCONT)
                    os.kill(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        for proc in self.procs.values():
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=20)
        for handle in self._handles:
            handle.close()


def start_line(root: Path) -> RunningLine:
    config = load_config()
    line = RunningLine(root)
    samples = generate_applications(APPLICATIONS, 5, config, day=dt.date(2026, 2, 24), image_dir=str(root))
    applications = root / "applications.jsonl"
    applications.write_text("".join(json.dumps(s.record, ensure_ascii=False) + "\n" for s in samples))
    ledger = root / "ledger.db"
    intake = subprocess.run([sys.executable, "-m", "factory.cli", "intake", str(applications), "--ledger", str(ledger)],
                            capture_output=True, text=True, timeout=120, cwd=root)
    assert intake.returncode == 0, intake.stdout + intake.stderr

    endpoint_file = root / "controller.endpoint"
    line.ports["controller"] = free_port()
    line.spawn("controller", "serve", "--ledger", str(ledger), "--insecure", "--bind", "tcp://127.0.0.1:*",
               "--endpoint-file", str(endpoint_file), "--metrics-port", str(line.ports["controller"]),
               "--metrics-every", "1")
    wait_for(lambda: endpoint_file.exists() or line.procs["controller"].poll() is not None, 60, "the controller")
    assert line.procs["controller"].poll() is None, line.log("controller")
    endpoint = endpoint_file.read_text().strip()

    serial = {"E": 10_000_001, "C": 20_000_001, "L": 30_000_001, "R": 40_000_001, "H": 50_000_001}
    for machine, (pool, prefixes) in MACHINES.items():
        blanks = [arg for prefix in prefixes for arg in ("--blanks", f"{prefix}{serial[prefix]:08d}+500")]
        line.spawn(f"device-{machine}", "device-sim", "--id", machine, "--pool", pool, "--state-dir",
                   str(root / "devices"), "--speed", SPEED, "--queue", "2", *blanks)
        text = line.wait_log(f"device-{machine}", "listening on tcp://127.0.0.1:")
        device = re.search(r"listening on (tcp://127\.0\.0\.1:\d+)", text).group(1)
        line.ports[machine] = free_port()
        line.spawn(f"worker-{machine}", "worker", "--machine", machine, "--device", device, "--connect", endpoint,
                   "--insecure", "--metrics-port", str(line.ports[machine]))
    line.ports["qa1"] = free_port()
    line.spawn("qa-qa1", "qa-worker", "--name", "qa1", "--connect", endpoint, "--insecure", "--check", "record",
               "--metrics-port", str(line.ports["qa1"]))
    return line


@pytest.fixture(scope="module")
def running(tmp_path_factory):
    root = tmp_path_factory.mktemp("real_line")
    line = start_line(root)
    prom = None
    try:
        config = load_config()
        port_map = {CONTROLLER_METRICS_PORT: line.ports["controller"], qa_metrics_port(0): line.ports["qa1"]}
        for machine in MACHINES:
            port_map[printer_metrics_port(config.line, machine)] = line.ports[machine]
        prom = Prometheus(write_test_configs(root / "prometheus", port_map), root / "tsdb")
        prom.wait_ready()
        yield line, prom
    finally:
        if prom is not None:
            prom.stop()
        line.stop_all()


def test_every_process_of_the_line_is_up(running):
    line, prom = running

    def all_up():
        targets = prom.targets()
        return len(targets) == 4 and all(t["health"] == "up" for t in targets) and targets

    try:
        targets = wait_for(all_up, 30, "controller, two printer workers and the QA worker up")
    except AssertionError as err:
        seen = [(t["scrapeUrl"], t["health"], t["lastError"]) for t in prom.targets()]
        raise AssertionError(f"{err}\n{seen}\n{line.tail()}") from None
    assert sorted(t["labels"]["job"] for t in targets) == [
        "factory-controller", "factory-printer", "factory-printer", "factory-qa"]


def test_every_dashboard_query_returns_data_from_the_line(running):
    line, prom = running

    def printing_and_checking():
        printed = prom.query("sum by (machine) (factory_documents_printed_total)")["data"]["result"]
        checked = prom.query("sum(factory_qa_documents_total)")["data"]["result"]
        return (len(printed) == 2 and all(float(r["value"][1]) > 0 for r in printed)
                and checked and float(checked[0]["value"][1]) > 0)

    try:
        wait_for(printing_and_checking, 45, "both machines printing and QA checking")
    except AssertionError as err:
        raise AssertionError(f"{err}\n{line.tail()}") from None
    time.sleep(3)  # rates and recording rules need a few samples of the moving counters
    end = time.time()
    empty = []
    for title, expr in dashboard_queries():
        instant = prom.query(expr)
        ranged = prom.query_range(expr, end - 15, end, 1)
        assert instant["status"] == ranged["status"] == "success", (title, expr)
        if not instant["data"]["result"] or not ranged["data"]["result"]:
            empty.append((title, expr))
    assert not empty, f"panels without data: {empty}\n{line.tail()}"
    assert [r["name"] for r in prom.rules() if r["health"] == "err"] == []


def test_stopping_one_printers_output_fires_the_stalled_machine_alert(running):
    line, prom = running
    wait_for(lambda: len(prom.query("factory_machine_has_work == 1")["data"]["result"]) >= 2, 30,
             "both machines with work")
    assert firing(prom, "FactoryMachineStalled") == []

    os.kill(line.procs["device-B01"].pid, signal.SIGSTOP)  # the device hangs: nothing comes out of B01
    try:
        stalled = wait_for(lambda: firing(prom, "FactoryMachineStalled"), 40, "FactoryMachineStalled for B01")
    except AssertionError as err:
        raise AssertionError(f"{err}\n{line.tail()}") from None
    finally:
        os.kill(line.procs["device-B01"].pid, signal.SIGCONT)
    assert [(a["machine"], a["pool"]) for a in stalled] == [("B01", "booklet")]
    # The card machine kept printing throughout.
    assert not any(a["machine"] == "C01" for a in firing(prom, "FactoryMachineStalled"))
