"""Test helpers: Debian's Prometheus on a free loopback port, fed the shipped configs.

The shipped ``configs/prometheus.yml`` points at the default ports; a test
rewrites only what must differ (the ports it really got, a 1 s scrape and
evaluation interval) and keeps everything else: job names, rule files, rules.
The alert rules are copied with the stalled-machine windows shortened, as a
10-minute window cannot be waited for in a test (promtool tests the real
timing in ``configs/rules/tests/``).
"""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
CONFIGS = REPO / "configs"
DASHBOARD = CONFIGS / "grafana" / "factory-capacity.json"
PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"
PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"

STALL_WINDOW_S = 6
"""The stalled-machine window in the test copy of the rules (10 minutes in the shipped one)."""

STALL_SCALING = {"> 600)": f"> {STALL_WINDOW_S})", "[10m]": f"[{STALL_WINDOW_S}s]"}
"""Exact texts of the shipped stalled-machine rule and their test replacements."""

DASHBOARD_VARIABLES = {"$pool": ".*"}
"""Grafana variables and the value a test gives them (All)."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def shipped_target_ports(text: str) -> dict[str, list[int]]:
    """job name -> ports of its targets, in the order of the shipped config."""
    jobs: dict[str, list[int]] = {}
    job = None
    for line in text.splitlines():
        if m := re.match(r"\s*- job_name:\s*(\S+)", line):
            job = m.group(1)
            jobs[job] = []
        elif m := re.match(r"\s*- 127\.0\.0\.1:(\d+)\b", line):
            assert job is not None, line
            jobs[job].append(int(m.group(1)))
    return jobs


def config_for_test(shipped: str, port_map: Mapping[int, int], *, interval: str = "1s") -> str:
    """The shipped config with the intervals shortened and only the mapped targets, on their real ports."""
    out = []
    for line in shipped.splitlines():
        if m := re.match(r"(\s*- 127\.0\.0\.1:)(\d+)\b(.*)", line):
            port = int(m.group(2))
            if port not in port_map:
                continue
            line = f"{m.group(1)}{port_map[port]}{m.group(3)}"
        line = re.sub(r"^(\s*(scrape|evaluation)_interval:)\s*\S+", rf"\g<1> {interval}", line)
        out.append(line)
    return "\n".join(out) + "\n"


def scaled_alert_rules(text: str) -> str:
    """The shipped alert rules with the stalled-machine windows shortened (each text must occur once)."""
    for old, new in STALL_SCALING.items():
        assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in alerts.yml"
        text = text.replace(old, new)
    return text


def write_test_configs(directory: Path, port_map: Mapping[int, int]) -> Path:
    """Write prometheus.yml and rules/ for a test into ``directory``; returns the config path."""
    (directory / "rules").mkdir(parents=True, exist_ok=True)
    config = directory / "prometheus.yml"
    config.write_text(config_for_test((CONFIGS / "prometheus.yml").read_text(), port_map))
    for rules in sorted((CONFIGS / "rules").glob("*.yml")):
        text = rules.read_text()
        if rules.name == "alerts.yml":
            text = scaled_alert_rules(text)
        (directory / "rules" / rules.name).write_text(text)
    return config


def dashboard_queries(dashboard: Mapping[str, Any] | None = None) -> list[tuple[str, str]]:
    """(panel title, expr) of every query of every panel, variables substituted."""
    if dashboard is None:
        dashboard = json.loads(DASHBOARD.read_text())
    queries = []
    for panel in _panels(dashboard["panels"]):
        for target in panel.get("targets", []):
            expr = target["expr"]
            for name, value in DASHBOARD_VARIABLES.items():
                expr = expr.replace(name, value)
            queries.append((panel["title"], expr))
    return queries


def _panels(panels: list[dict]) -> list[dict]:
    out = []
    for panel in panels:
        out.append(panel)
        out.extend(_panels(panel.get("panels", [])))
    return out


class Prometheus:
    """A Prometheus process on 127.0.0.1 with a temporary TSDB; ``stop()`` ends it."""

    def __init__(self, config: Path, storage: Path, *, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = storage.with_suffix(".log")
        self._log = self.log.open("wb")
        self.process = subprocess.Popen(
            [
                PROMETHEUS,
                f"--config.file={config}",
                f"--storage.tsdb.path={storage}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--log.level=warn",
            ],
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self._log.close()

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]

    def get(self, path: str, **params: Any) -> dict[str, Any]:
        url = f"{self.url}{path}"
        if params:
            url += "?" + urllib.parse.urlencode(params)
        with urllib.request.urlopen(url, timeout=10) as response:
            return json.load(response)

    def wait_ready(self, timeout_s: float = 30.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"prometheus exited with {self.process.returncode}:\n{self.log_text()}")
            try:
                with urllib.request.urlopen(f"{self.url}/-/ready", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"prometheus not ready in {timeout_s} s:\n{self.log_text()}")

    def query(self, expr: str, at: float | None = None) -> dict[str, Any]:
        params: dict[str, Any] = {"query": expr}
        if at is not None:
            params["time"] = at
        return self.get("/api/v1/query", **params)

    def query_range(self, expr: str, start: float, end: float, step: float = 1.0) -> dict[str, Any]:
        return self.get("/api/v1/query_range", query=expr, start=start, end=end, step=step)

    def targets(self) -> list[dict[str, Any]]:
        return self.get("/api/v1/targets")["data"]["activeTargets"]

    def alerts(self) -> list[dict[str, Any]]:
        return self.get("/api/v1/alerts")["data"]["alerts"]

    def rules(self) -> list[dict[str, Any]]:
        return [rule for group in self.get("/api/v1/rules")["data"]["groups"] for rule in group["rules"]]


def wait_for(condition: Callable[[], Any], timeout_s: float, what: str, *, every_s: float = 0.5) -> Any:
    """Poll ``condition`` until it returns something true; fail naming ``what``."""
    deadline = time.monotonic() + timeout_s
    last = None
    while time.monotonic() < deadline:
        last = condition()
        if last:
            return last
        time.sleep(every_s)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what} (last: {last!r})")


def firing(prom: Prometheus, alertname: str, state: str = "firing") -> list[dict[str, str]]:
    """Label sets of the alerts named ``alertname`` in ``state``."""
    return [a["labels"] for a in prom.alerts() if a["labels"]["alertname"] == alertname and a["state"] == state]
