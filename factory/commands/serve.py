"""``factory serve``: the controller. The ledger, the scheduler's queue and a ZeroMQ ROUTER for the stations.

Printer workers (``factory worker``), QA workers (``factory qa-worker``) and
intake clients (``factory intake --connect``) connect to it. It binds on
loopback by default and requires CURVE keys (``factory keys``) unless
``--insecure`` is given. SIGINT or SIGTERM stop it cleanly; kill -9 loses
nothing: every dispatch is committed to the ledger before it is sent.
"""

from __future__ import annotations

import argparse
import logging
import os
import threading
from pathlib import Path

from factory.config import load_config
from factory.errors import FactoryError
from factory.metrics.process import add_metrics_port, controller_metrics
from factory.pipeline.controller import Controller, ControllerSettings
from factory.pipeline.keys import load_server_keys
from factory.pipeline.shell import DEFAULT_ENDPOINT, DEFAULT_LEDGER, open_ledger, setup_logging, stop_on_signals, tune_gc
from factory.scheduler import build_calendar

__all__ = ["register", "run"]

log = logging.getLogger("factory.commands.serve")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="run the controller (ledger, scheduler, ZeroMQ ROUTER for workers)",
        description="Run the controller: dispatch queued applications to the printer workers against the "
        "credit they grant, hand printed documents to the QA workers, dispatch the passed ones, and keep "
        "every change in the ledger.",
    )
    parser.add_argument("--ledger", type=Path, default=DEFAULT_LEDGER, help="ledger file (default: ledger.db)")
    parser.add_argument("--bind", default=DEFAULT_ENDPOINT,
                        help=f"ROUTER endpoint (default {DEFAULT_ENDPOINT}; port * picks a free one)")
    parser.add_argument("--keys", type=Path, default=None, help="CURVE key directory (factory keys)")
    parser.add_argument("--insecure", action="store_true", help="no CURVE: plain TCP, any station admitted")
    parser.add_argument("--config", type=Path, default=None, help="configuration directory (default: configs/)")
    parser.add_argument("--endpoint-file", type=Path, default=None,
                        help="write the bound endpoint here once listening (for scripts and tests)")
    parser.add_argument("--heartbeat", type=float, default=1.0, help="heartbeat interval, seconds (default 1)")
    parser.add_argument("--liveness", type=int, default=3, help="missed heartbeats before a station is dead")
    parser.add_argument("--lease", type=float, default=60.0, help="lease written with each dispatch, seconds")
    parser.add_argument("--reconcile-grace", type=float, default=30.0,
                        help="seconds a dead worker's jobs wait for it to come back before needs_reconcile")
    parser.add_argument("--qa-batch", type=int, default=16, help="documents per QA batch")
    parser.add_argument("--no-dispatch", action="store_true", help="do not dispatch passed documents")
    parser.add_argument("--intake-qa", action="store_true",
                        help="check every application before printing on the QA workers (photo, signature): "
                             "failed ones go back to their acceptance point, look-alike signatures to a reviewer")
    parser.add_argument("--log-level", default="INFO")
    add_metrics_port(parser, "9400")
    parser.add_argument("--metrics-every", type=float, default=5.0,
                        help="seconds between rebuilds of the line snapshot behind /metrics (default 5)")
    parser.add_argument("--panel-port", type=int, default=8080,
                        help="serve the control panel on http://127.0.0.1:PORT (default 8080; -1: off)")
    parser.set_defaults(run=run)


class _PublishedReports:
    """The printers' latest reports, copied out of the controller's loop for the panel's threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._reports: dict[str, dict] = {}

    def publish(self, stations: dict[str, dict]) -> None:
        reports = {
            name: {"state": station.get("device_state") or "idle", "fault": "",
                   "blanks_left": station.get("blanks_left")}
            for name, station in stations.items() if station.get("role") == "printer"
        }
        with self._lock:
            self._reports = reports

    def __call__(self) -> dict[str, dict]:
        with self._lock:
            return dict(self._reports)


def _start_panel(args: argparse.Namespace, config, calendar, reports: _PublishedReports):
    """The control panel in a thread of this process, on its own ledger connection."""
    import uvicorn  # only the controller with a panel needs the web stack

    from factory.panel import LedgerLine, create_app

    panel_ledger = open_ledger(args.ledger, config)
    line = LedgerLine(config, panel_ledger, calendar=calendar, device_reports=reports)
    app = create_app(config, panel_ledger, line, ledger_lock=line.lock, calendar=calendar)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=args.panel_port, lifespan="off",
                                           ws="none", log_level="warning"))
    thread = threading.Thread(target=server.run, name="panel", daemon=True)
    thread.start()
    log.info("control panel on http://127.0.0.1:%d/", args.panel_port)
    return server, thread, panel_ledger


def run(args: argparse.Namespace) -> int:
    setup_logging(args.log_level)
    if args.keys is None and not args.insecure:
        raise FactoryError("serve: give --keys DIR (make them with `factory keys`) or --insecure")
    config = load_config(args.config)
    keys = load_server_keys(args.keys) if args.keys is not None else None
    calendar = build_calendar(config.calendar)
    settings = ControllerSettings(
        endpoint=args.bind, heartbeat_s=args.heartbeat, liveness=args.liveness, lease_s=args.lease,
        reconcile_grace_s=args.reconcile_grace, qa_batch_size=args.qa_batch, auto_dispatch=not args.no_dispatch,
        intake_qa=args.intake_qa,
    )
    ledger = open_ledger(args.ledger, config)
    controller = Controller(ledger, config, calendar, settings, keys=keys)
    stop = stop_on_signals()
    metrics = controller_metrics(config, calendar, port=args.metrics_port, every_s=args.metrics_every)
    reports = _PublishedReports()
    panel = _start_panel(args, config, calendar, reports) if args.panel_port >= 0 else None
    next_publish = 0.0

    def between_steps(now: float) -> None:
        nonlocal next_publish
        if metrics is not None and metrics.due(now):
            metrics.refresh(ledger, controller.status()["stations"], now_s=now)
        if panel is not None and now >= next_publish:
            reports.publish(controller.status()["stations"])
            next_publish = now + 1.0

    try:
        endpoint = controller.bind()
        if args.endpoint_file is not None:
            tmp = args.endpoint_file.with_suffix(".tmp")
            tmp.write_text(endpoint + "\n")
            os.replace(tmp, args.endpoint_file)
        tune_gc()
        controller.run(stop.is_set, between_steps)
    finally:
        if panel is not None:
            server, thread, panel_ledger = panel
            server.should_exit = True
            thread.join(timeout=10)
            panel_ledger.close()
        if metrics is not None:
            metrics.close()
        controller.close()
        ledger.close()
        log.info("controller stopped: %s", dict(controller.stats))
    return 0
