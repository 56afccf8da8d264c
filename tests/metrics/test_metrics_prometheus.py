"""Against the real thing: Debian's Prometheus scraping the real exporter, with the shipped configs.

A scripted line (``metrics_scripted_line.py``: the real snapshot builder,
collector, instruments and exporter, fed by a seeded queue and the real
planner) serves a controller, three printers and a QA worker on loopback.
Prometheus runs the shipped ``prometheus.yml`` (ports rewritten, 1 s
intervals) and the shipped rules (stalled-machine window shortened to 6 s).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from metrics_prom import (
    Prometheus,
    dashboard_queries,
    firing,
    shipped_target_ports,
    wait_for,
    write_test_configs,
    CONFIGS,
)

from factory.config import load_config
from factory.metrics import CONTROLLER_METRICS_PORT, QA_METRICS_PORT_BASE, printer_metrics_port

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SCRIPT = Path(__file__).with_name("metrics_scripted_line.py")


@pytest.fixture(scope="module")
def line_and_prometheus(tmp_path_factory):
    work = tmp_path_factory.mktemp("prometheus")
    control = work / "control"
    control.mkdir()
    errors = (work / "line.err").open("w")
    line = subprocess.Popen(
        [sys.executable, str(SCRIPT), "--control", str(control), "--seconds", "90"],
        stdout=subprocess.PIPE, stderr=errors, text=True,
    )
    prom = None
    try:
        ports = json.loads(line.stdout.readline() or "null")
        assert ports, (work / "line.err").read_text()
        line_config = load_config()
        port_map = {CONTROLLER_METRICS_PORT: ports["controller"], QA_METRICS_PORT_BASE: ports["qa"]}
        for machine, port in ports["printers"].items():
            port_map[printer_metrics_port(line_config.line, machine)] = port
        config = write_test_configs(work / "configs", port_map)
        prom = Prometheus(config, work / "tsdb")
        prom.wait_ready()
        yield prom, control, ports
    finally:
        if prom is not None:
            prom.stop()
        line.terminate()
        line.communicate(timeout=10)
        errors.close()


def test_every_process_is_up(line_and_prometheus):
    prom, _, ports = line_and_prometheus
    expected = 2 + len(ports["printers"])

    def all_up():
        targets = prom.targets()
        return len(targets) == expected and all(t["health"] == "up" for t in targets) and targets

    targets = wait_for(all_up, 20, "every target up")
    assert {t["labels"]["job"] for t in targets} == set(shipped_target_ports((CONFIGS / "prometheus.yml").read_text()))
    result = prom.query('up{job=~"factory-.*"}')["data"]["result"]
    assert len(result) == expected and all(r["value"][1] == "1" for r in result)


def test_every_dashboard_query_returns_data(line_and_prometheus):
    prom, _, _ = line_and_prometheus
    started = time.time()
    # The 5-minute rates need two samples of each counter; give the scrapes a few seconds.
    wait_for(lambda: prom.query("machine:factory_documents_printed_per_hour:rate5m")["data"]["result"], 20,
             "the recording rules to produce documents per hour")
    time.sleep(max(0.0, 4 - (time.time() - started)))
    end = time.time()
    queries = dashboard_queries()
    assert len(queries) >= 25
    empty = []
    for title, expr in queries:
        instant = prom.query(expr)
        assert instant["status"] == "success", (title, expr, instant)
        ranged = prom.query_range(expr, end - 20, end, 1)
        assert ranged["status"] == "success", (title, expr, ranged)
        if not instant["data"]["result"] or not ranged["data"]["result"]:
            empty.append((title, expr))
    assert not empty, f"panels without data: {empty}"


def test_every_rule_evaluates_without_error(line_and_prometheus):
    prom, _, _ = line_and_prometheus

    def evaluated():
        rules = prom.rules()
        return all(r.get("lastEvaluation", "").startswith("20") for r in rules) and rules

    rules = wait_for(evaluated, 15, "every rule evaluated")
    assert len(rules) == 16
    assert [(r["name"], r["lastError"]) for r in rules if r["health"] != "ok"] == []


def test_alerts_on_the_scripted_line(line_and_prometheus):
    """Green channel past 30 minutes fires at once; a day's blank cover under 1 is pending (for: 5m)."""
    prom, _, _ = line_and_prometheus
    green = wait_for(lambda: firing(prom, "FactoryGreenChannelWaiting"), 20, "the green-channel alert")
    assert {a["pool"] for a in green} <= {"booklet", "card"} and green
    low = wait_for(lambda: firing(prom, "FactoryBlankStockLow", "pending"), 20, "the blank-stock alert pending")
    assert [a["pool"] for a in low] == ["booklet"]


def test_stopping_one_printer_fires_the_stalled_machine_alert(line_and_prometheus):
    prom, control, _ = line_and_prometheus
    wait_for(lambda: prom.query("factory_machine_has_work")["data"]["result"], 20, "machines reporting work")
    time.sleep(8)  # longer than the shortened window: printing machines must not fire
    assert firing(prom, "FactoryMachineStalled") == []
    assert firing(prom, "FactoryMachineStalled", "pending") == []

    (control / "stop-B02").touch()
    stalled = wait_for(lambda: firing(prom, "FactoryMachineStalled"), 30, "FactoryMachineStalled for B02")
    assert [(a["machine"], a["pool"], a["severity"]) for a in stalled] == [("B02", "booklet", "page")]
