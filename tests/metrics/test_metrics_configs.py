"""Monitoring as code: promtool checks and rule tests, the dashboard, and that every name is real."""

from __future__ import annotations

import json
import re
import subprocess

import pytest
from metrics_prom import CONFIGS, DASHBOARD, PROMTOOL, REPO, config_for_test, dashboard_queries, scaled_alert_rules
from prometheus_client import CollectorRegistry

from factory.metrics import (
    SNAPSHOT_METRICS,
    ControllerInstruments,
    LatestSnapshot,
    LineCollector,
    PrinterInstruments,
    QaInstruments,
)

RULE_FILES = sorted((CONFIGS / "rules").glob("*.yml"))
RULE_TESTS = sorted((CONFIGS / "rules" / "tests").glob("*.yml"))


def promtool(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([PROMTOOL, *args], capture_output=True, text=True, timeout=120, cwd=REPO)


def test_promtool_check_config():
    result = promtool("check", "config", str(CONFIGS / "prometheus.yml"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 rule files found" in result.stdout


def test_promtool_check_rules():
    result = promtool("check", "rules", *map(str, RULE_FILES))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
def test_promtool_test_rules():
    assert len(RULE_TESTS) >= 2
    result = promtool("test", "rules", *map(str, RULE_TESTS))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("SUCCESS") == len(RULE_TESTS)


def alert_names() -> list[str]:
    return re.findall(r"^\s*- alert: (\S+)", (CONFIGS / "rules" / "alerts.yml").read_text(), re.M)


def recorded_names() -> list[str]:
    return re.findall(r"^\s*- record: (\S+)", (CONFIGS / "rules" / "recording.yml").read_text(), re.M)


def test_every_alert_asked_for_exists_and_is_tested():
    alerts = alert_names()
    for name in ("FactoryMachineStalled", "FactoryApplicationsProjectedLate", "FactoryGreenChannelWaiting",
                 "FactoryBlankStockLow", "FactoryQaFlagRateHigh"):
        assert name in alerts
    tests = "".join(path.read_text() for path in RULE_TESTS)
    for name in alerts:
        assert re.search(rf"alertname: {name}\n\s+exp_alerts:\n\s+- exp_labels", tests), f"{name} never fires in a test"
        assert re.search(rf"alertname: {name}\n\s+exp_alerts: \[\]", tests), f"{name} is never shown quiet"
    for name in recorded_names():
        assert f"expr: {name}" in tests or f"({name}" in tests, f"recording rule {name} untested"
    assert "machine:factory_documents_printed_per_hour:rate5m" in recorded_names()
    assert "pool:factory_documents_printed_per_hour:rate5m" in recorded_names()


def produced_names() -> set[str]:
    registry = CollectorRegistry()
    registry.register(LineCollector(LatestSnapshot()))
    PrinterInstruments(registry, machine="B01", pool="booklet", doc_types=["passport"])
    QaInstruments(registry, checks=["mrz_readback"])
    ControllerInstruments(registry)
    names = set(SNAPSHOT_METRICS)
    for family in registry.collect():
        names |= {s.name for s in family.samples}
    names |= {"factory_print_cycle_seconds_bucket", "factory_green_channel_wait_seconds_bucket"}
    return names | set(recorded_names())


def metric_names_in(expr: str) -> set[str]:
    expr = re.sub(r'"[^"]*"', '""', expr)
    tokens = set(re.findall(r"[a-zA-Z_:][a-zA-Z0-9_:]*", expr))
    return {t for t in tokens if t.startswith("factory_") or ":" in t}


def test_every_name_the_rules_and_dashboard_use_is_exported_or_recorded():
    produced = produced_names()
    exprs = [expr for _, expr in dashboard_queries()]
    for path in RULE_FILES:
        text = path.read_text()
        exprs += re.findall(r"expr: \|\n((?:\s{10,}.*\n)+)", text) + re.findall(r"expr: (?!\|)(.+)", text)
    used = set().union(*(metric_names_in(e) for e in exprs))
    assert len(used) > 20
    assert used <= produced, used - produced


def test_dashboard_structure():
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["uid"] == "factory-capacity" and dashboard["title"]
    assert dashboard["__inputs"][0]["name"] == "DS_PROMETHEUS"
    panels = dashboard["panels"]
    ids = [p["id"] for p in panels]
    assert len(ids) == len(set(ids))
    for panel in panels:
        grid = panel["gridPos"]
        assert 0 <= grid["x"] and grid["x"] + grid["w"] <= 24 and grid["h"] > 0
        for target in panel.get("targets", []):
            assert target["datasource"]["uid"] == "${DS_PROMETHEUS}" and target["expr"].strip()
    titles = " | ".join(p["title"].lower() for p in panels)
    for subject in ("per machine, against rating", "machine states", "backlog by working days", "demand against capacity",
                    "projected late", "green channel", "spoilage", "blank cover", "qa flags by check", "overtime",
                    "reviewer queue", "slack"):
        assert subject in titles, subject
    variables = {v["name"] for v in dashboard["templating"]["list"]}
    for _, expr in dashboard_queries(dashboard):
        assert "$" not in expr, expr
    assert variables == {"pool"}


def test_every_dashboard_query_parses(tmp_path):
    # promtool has no expression check; a recording rule per query makes `check rules` parse each one.
    rules = ["groups:", "  - name: dashboard", "    rules:"]
    for i, (_, expr) in enumerate(dashboard_queries()):
        rules += [f"      - record: dashboard:query_{i}", f"        expr: {json.dumps(expr)}"]
    path = tmp_path / "dashboard.yml"
    path.write_text("\n".join(rules) + "\n")
    result = promtool("check", "rules", str(path))
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_test_copies_of_the_configs_change_only_ports_intervals_and_the_stall_window():
    shipped = (CONFIGS / "prometheus.yml").read_text()
    rewritten = config_for_test(shipped, {9400: 41000, 9411: 41001})
    assert "127.0.0.1:41000" in rewritten and "127.0.0.1:41001" in rewritten
    targets = [l for l in rewritten.splitlines() if "127.0.0.1:" in l and not l.lstrip().startswith("#")]
    assert len(targets) == 2 and "scrape_interval: 1s" in rewritten and "evaluation_interval: 1s" in rewritten
    kept = lambda text: [l for l in text.splitlines() if "127.0.0.1:" not in l and "_interval" not in l]  # noqa: E731
    assert kept(rewritten) == kept(shipped)
    alerts = (CONFIGS / "rules" / "alerts.yml").read_text()
    scaled = scaled_alert_rules(alerts)
    assert len(scaled.splitlines()) == len(alerts.splitlines())
    assert sum(a != b for a, b in zip(alerts.splitlines(), scaled.splitlines())) == 2


def test_docs_list_every_metric_alert_and_recording_rule():
    docs = (REPO / "docs" / "monitoring.md").read_text()
    for name in produced_names() - {n for n in produced_names() if n.endswith(("_bucket", "_count", "_sum", "_created"))}:
        base = name.removesuffix("_total")
        assert f"`{base}" in docs, name
    for name in alert_names():
        assert f"### {name}" in docs, name
    assert "9400" in docs and "9410" in docs and "9450" in docs
