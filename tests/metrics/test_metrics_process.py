"""Each kind of process starts its metrics with one call; what the commands wire."""

from __future__ import annotations

import argparse
import datetime as dt
import urllib.request

import pytest

from factory.ledger import Ledger, prepare_intake, shift_clock
from factory.metrics.process import (
    add_metrics_port,
    controller_metrics,
    printer_metrics,
    qa_metrics,
    qa_worker_index,
)
from factory.samples import generate_applications
from factory.scheduler import build_calendar
from factory.wire.schema import QaCheckResult, QaVerdict

pytestmark = pytest.mark.integration

NOW = dt.datetime(2026, 2, 24, 18, 0, tzinfo=dt.timezone(dt.timedelta(hours=8))).timestamp()


def scrape(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.read().decode()


def test_metrics_port_option():
    parser = argparse.ArgumentParser()
    add_metrics_port(parser, "9400")
    assert parser.parse_args([]).metrics_port is None
    assert parser.parse_args(["--metrics-port", "-1"]).metrics_port == -1
    assert [qa_worker_index(n) for n in ("qa1", "qa2", "qa12", "review", "qa0")] == [0, 1, 11, 0, 0]


def test_off_is_none(config):
    assert controller_metrics(config, build_calendar(config.calendar), port=-1) is None
    assert printer_metrics(config, "B01", port=-1) is None
    assert qa_metrics("qa1", port=-1) is None


def test_controller_metrics_refresh_from_a_ledger(config, tmp_path):
    calendar = build_calendar(config.calendar)
    records = [s.record for s in generate_applications(10, 3, config, day=dt.date(2026, 2, 24), image_dir="/x")]
    metrics = controller_metrics(config, calendar, port=0, every_s=5.0, started_s=NOW)
    try:
        with Ledger.open(tmp_path / "ledger.db", shifts=shift_clock(config.line)) as ledger:
            admissions, _ = prepare_intake([(str(i), r) for i, r in enumerate(records)], config, calendar)
            ledger.add_applications(admissions, station="intake", now=NOW)
            stations = {"B01": {"role": "printer", "device_state": "Busy", "blanks_left": 50}}
            assert metrics.refresh(ledger, stations, now_s=NOW)
            assert not metrics.refresh(ledger, stations, now_s=NOW + 1)  # not yet: every 5 s
            assert metrics.refresh(ledger, stations, now_s=NOW + 5)
            text = scrape(metrics.server.url)
            assert 'factory_machine_state{machine="B01",pool="booklet",state="busy"} 1.0' in text
            assert 'factory_machine_state{machine="B02",pool="booklet",state="offline"} 1.0' in text
            assert "factory_green_channel_wait_seconds_bucket" in text
        # A closed ledger: logged, counted, the last snapshot stays.
        assert not metrics.refresh(ledger, stations, now_s=NOW + 10)
        assert metrics.failures == 1
        stamp = next(line for line in scrape(metrics.server.url).splitlines()
                     if line.startswith("factory_line_snapshot_timestamp_seconds "))
        assert float(stamp.split()[1]) == NOW + 5
    finally:
        metrics.close()


def test_printer_and_qa_metrics(config):
    printer = printer_metrics(config, "C03", port=0)
    qa = qa_metrics("qa2", port=0, checks=["record_valid"])
    try:
        printer.instruments.record_printed("taiwan_permit", 40.0)
        text = scrape(printer.server.url)
        assert 'factory_documents_printed_total{doc_type="taiwan_permit",machine="C03",pool="card"} 1.0' in text
        assert 'doc_type="passport"' not in text  # a card machine prints no passports
        failed = (QaCheckResult(name="record_valid", ok=False),)
        check = qa.wrap(lambda items: [QaVerdict(job_id="A", attempt=1, passed=False, checks=failed)])
        assert check(["item"])[0].job_id == "A"
        assert 'factory_qa_documents_total{verdict="flagged"} 1.0' in scrape(qa.server.url)
    finally:
        printer.close()
        qa.close()


def test_a_taken_port_leaves_the_process_running_without_metrics(config):
    first = qa_metrics("qa1", port=0)
    try:
        assert qa_metrics("qa1", port=first.server.port) is None
        assert printer_metrics(config, "B01", port=first.server.port) is None
    finally:
        first.close()
