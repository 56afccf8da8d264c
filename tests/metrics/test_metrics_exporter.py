"""The /metrics endpoint on loopback, the live instruments and the default ports."""

from __future__ import annotations

import urllib.request

import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from factory.errors import InvalidField
from factory.metrics import (
    CONTROLLER_METRICS_PORT,
    GREEN_WAIT_BUCKETS_S,
    PRINT_CYCLE_BUCKETS_S,
    SPOIL_REASONS,
    ControllerInstruments,
    PrinterInstruments,
    QaInstruments,
    new_registry,
    printer_metrics_port,
    qa_metrics_port,
    serve_metrics,
)


@pytest.fixture()
def registry() -> CollectorRegistry:
    return CollectorRegistry()


def test_default_ports(config):
    assert CONTROLLER_METRICS_PORT == 9400
    ports = [printer_metrics_port(config.line, m.id) for m in config.line.machines]
    assert ports[0] == 9410 and ports == list(range(9410, 9410 + len(config.line.machines)))
    assert qa_metrics_port(0) == 9450 and qa_metrics_port(3) == 9453
    assert max(ports) < qa_metrics_port(0)
    with pytest.raises(InvalidField) as err:
        printer_metrics_port(config.line, "Z99")
    assert err.value.field == "machine"
    with pytest.raises(InvalidField):
        qa_metrics_port(-1)


def test_the_shipped_prometheus_config_scrapes_the_default_ports(config):
    from metrics_prom import CONFIGS, shipped_target_ports

    jobs = shipped_target_ports((CONFIGS / "prometheus.yml").read_text())
    assert jobs["factory-controller"] == [CONTROLLER_METRICS_PORT]
    assert jobs["factory-printer"] == [printer_metrics_port(config.line, m.id) for m in config.line.machines]
    assert jobs["factory-qa"] == [qa_metrics_port(0), qa_metrics_port(1)]


@pytest.mark.integration
def test_serves_metrics_on_loopback():
    registry = new_registry()
    printer = PrinterInstruments(registry, machine="C02", pool="card", doc_types=["hk_macau_permit"])
    printer.record_printed("hk_macau_permit", 28.5)
    server = serve_metrics(registry, 0)
    try:
        assert server.url.startswith("http://127.0.0.1:") and server.port > 0
        with urllib.request.urlopen(server.url, timeout=5) as response:
            text = response.read().decode()
    finally:
        server.close()
    families = {f.name: f for f in text_string_to_metric_families(text)}
    assert "process_start_time_seconds" in families
    printed = [s for s in families["factory_documents_printed"].samples if s.name.endswith("_total")]
    assert [(s.labels, s.value) for s in printed] == [
        ({"machine": "C02", "pool": "card", "doc_type": "hk_macau_permit"}, 1.0)
    ]


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.5", "example.org", ""])
def test_refuses_to_serve_beyond_loopback(registry, host):
    with pytest.raises(InvalidField) as err:
        serve_metrics(registry, 0, host=host)
    assert err.value.field == "metrics.host"


@pytest.mark.parametrize("port", [-1, 70000, "9400"])
def test_refuses_a_bad_port(registry, port):
    with pytest.raises(InvalidField) as err:
        serve_metrics(registry, port)
    assert err.value.field == "metrics.port"


def test_printer_instruments_start_at_zero_and_count(registry):
    printer = PrinterInstruments(registry, machine="B03", pool="booklet", doc_types=["passport"])
    labels = {"machine": "B03", "pool": "booklet"}
    assert registry.get_sample_value("factory_documents_printed_total", {**labels, "doc_type": "passport"}) == 0.0
    for reason in SPOIL_REASONS:
        assert registry.get_sample_value("factory_documents_spoiled_total", {**labels, "reason": reason}) == 0.0
    for cycle_s in (14.0, 31.0, 59.0, 119.0, 130.0):
        printer.record_printed("passport", cycle_s)
    printer.record_spoiled("jam", cycle_s=44.0)
    printer.record_spoiled("device_fault")
    assert registry.get_sample_value("factory_documents_printed_total", {**labels, "doc_type": "passport"}) == 5.0
    assert registry.get_sample_value("factory_documents_spoiled_total", {**labels, "reason": "jam"}) == 1.0
    assert registry.get_sample_value("factory_print_cycle_seconds_count", labels) == 6.0
    bucket = lambda le: registry.get_sample_value("factory_print_cycle_seconds_bucket", {**labels, "le": le})  # noqa: E731
    assert bucket("15.0") == 1.0 and bucket("35.0") == 2.0 and bucket("60.0") == 4.0 and bucket("120.0") == 5.0
    assert bucket("+Inf") == 6.0


def test_print_cycle_buckets_fit_15_to_120_second_cycles():
    assert PRINT_CYCLE_BUCKETS_S[0] == 15.0 and PRINT_CYCLE_BUCKETS_S[-1] == 120.0
    assert list(PRINT_CYCLE_BUCKETS_S) == sorted(set(PRINT_CYCLE_BUCKETS_S))
    assert sum(15 <= b <= 60 for b in PRINT_CYCLE_BUCKETS_S) >= 8  # fine where most cycles fall
    assert 1800.0 in GREEN_WAIT_BUCKETS_S and GREEN_WAIT_BUCKETS_S[-1] == 86400.0


def test_printer_instruments_refuse_unknown_labels_and_count_nothing(registry):
    printer = PrinterInstruments(registry, machine="B03", pool="booklet", doc_types=["passport"])
    with pytest.raises(InvalidField) as err:
        printer.record_printed("A20260224-000001", 30.0)
    assert err.value.field == "doc_type"
    with pytest.raises(InvalidField) as err:
        printer.record_spoiled("coffee")
    assert err.value.field == "reason"
    for bad in (float("nan"), -1.0, float("inf")):
        with pytest.raises(InvalidField) as err:
            printer.record_printed("passport", bad)
        assert err.value.field == "cycle_s"
    assert registry.get_sample_value("factory_documents_printed_total",
                                     {"machine": "B03", "pool": "booklet", "doc_type": "passport"}) == 0.0
    assert registry.get_sample_value("factory_print_cycle_seconds_count", {"machine": "B03", "pool": "booklet"}) == 0.0


def test_qa_instruments(registry):
    qa = QaInstruments(registry, checks=["mrz_readback", "photo_ears"])
    assert registry.get_sample_value("factory_qa_checks_total", {"check": "photo_ears", "result": "failed"}) == 0.0
    qa.record_verdict({"mrz_readback": True, "photo_ears": False})
    qa.record_verdict({"mrz_readback": True, "photo_ears": True})
    qa.record_verdict({"mrz_readback": True, "signature_match": True}, flagged=True)  # a check added later
    get = registry.get_sample_value
    assert get("factory_qa_checks_total", {"check": "mrz_readback", "result": "passed"}) == 3.0
    assert get("factory_qa_checks_total", {"check": "photo_ears", "result": "failed"}) == 1.0
    assert get("factory_qa_checks_total", {"check": "signature_match", "result": "passed"}) == 1.0
    assert get("factory_qa_checks_total", {"check": "signature_match", "result": "failed"}) == 0.0
    assert get("factory_qa_documents_total", {"verdict": "flagged"}) == 2.0
    assert get("factory_qa_documents_total", {"verdict": "passed"}) == 1.0
    with pytest.raises(InvalidField) as err:
        qa.record_verdict({"mrz_readback": True, "E12345678": False})
    assert err.value.field == "check"
    assert get("factory_qa_checks_total", {"check": "mrz_readback", "result": "passed"}) == 3.0  # nothing counted


def test_controller_instruments(registry):
    controller = ControllerInstruments(registry)
    controller.record_green_wait(250.0)
    controller.record_green_wait(2000.0)
    assert registry.get_sample_value("factory_green_channel_wait_seconds_bucket", {"le": "300.0"}) == 1.0
    assert registry.get_sample_value("factory_green_channel_wait_seconds_bucket", {"le": "1800.0"}) == 1.0
    assert registry.get_sample_value("factory_green_channel_wait_seconds_count") == 2.0
    controller.record_dropped_frame("bad_version")
    assert registry.get_sample_value("factory_frames_dropped_total", {"reason": "bad_version"}) == 1.0
    with pytest.raises(InvalidField):
        controller.record_dropped_frame("Bad Version!")
    with pytest.raises(InvalidField):
        controller.record_green_wait(-5.0)
