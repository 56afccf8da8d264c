"""``factory worker --machine P01 --device tcp://127.0.0.1:PORT``: the printer worker of one machine.

Connects to the controller (DEALER, CURVE) and drives the machine's device
(``factory device-sim`` or a real driver speaking the same protocol). It can
be killed at any moment: on restart it reconciles every job the ledger says
the machine holds from the device's job log, and nothing is printed twice.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from factory.config import load_config
from factory.devices.client import SimulatorClient
from factory.errors import FactoryError
from factory.metrics.process import add_metrics_port, printer_metrics
from factory.pipeline.keys import load_client_keys
from factory.pipeline.instant import InstantDevice
from factory.pipeline.link import Link
from factory.pipeline.shell import DEFAULT_ENDPOINT, setup_logging, stop_on_signals
from factory.pipeline.worker import PrinterWorker

__all__ = ["register", "run"]

log = logging.getLogger("factory.commands.worker")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "worker",
        help="run the printer worker of one machine (controller <-> device)",
        description="Grant the controller credit for the device's free slots, print the jobs it offers, report "
        "what the device does, and reconcile from the device's job log after any restart.",
    )
    parser.add_argument("--machine", required=True, help="machine id, as in configs/line.toml (= CURVE key name)")
    parser.add_argument("--device", required=True,
                        help="the device's endpoint, e.g. tcp://127.0.0.1:5601; or instant[:QUEUE] for the simulator's "
                        "machine core in this process with no print time (benchmarks, demos)")
    parser.add_argument("--connect", default=DEFAULT_ENDPOINT, help=f"controller endpoint (default {DEFAULT_ENDPOINT})")
    parser.add_argument("--keys", type=Path, default=None, help="CURVE key directory (factory keys)")
    parser.add_argument("--insecure", action="store_true", help="no CURVE (the controller must run --insecure)")
    parser.add_argument("--config", type=Path, default=None, help="configuration directory (default: configs/)")
    parser.add_argument("--heartbeat", type=float, default=1.0, help="heartbeat interval, seconds")
    parser.add_argument("--device-timeout", type=float, default=60.0,
                        help="seconds the device may stay unreachable before its jobs go to an operator")
    parser.add_argument("--log-level", default="INFO")
    add_metrics_port(parser, "9410 + the machine's index in configs/line.toml")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    setup_logging(args.log_level)
    if args.keys is None and not args.insecure:
        raise FactoryError("worker: give --keys DIR (make them with `factory keys`) or --insecure")
    config = load_config(args.config)
    machine = next((m for m in config.line.machines if m.id == args.machine), None)
    if machine is None:
        raise FactoryError(f"worker: machine {args.machine!r} is not in configs/line.toml")
    keys = load_client_keys(args.keys, args.machine) if args.keys is not None else None
    if args.device.startswith("instant"):
        queue = int(args.device.partition(":")[2] or 2)
        driver = InstantDevice(args.machine, machine.pool, config, queue_limit=queue)
    else:
        # Short device timeouts: a silent device must not stop the heartbeats to the controller.
        driver = SimulatorClient(args.device, timeout_s=0.5, retries=2)
    status = driver.status()
    if status.pool != machine.pool:
        raise FactoryError(f"worker: device at {args.device} prints {status.pool} blanks, but {args.machine} is a "
                           f"{machine.pool} machine in configs/line.toml")
    link = Link(args.connect, role="printer", station=args.machine, slots=status.queue_limit, keys=keys,
                heartbeat_s=args.heartbeat)
    metrics = printer_metrics(config, args.machine, port=args.metrics_port)
    worker = PrinterWorker(link, driver if metrics is None else metrics.wrap(driver),
                           device_timeout_s=args.device_timeout)
    stop = stop_on_signals()
    try:
        worker.run(stop.is_set)
    finally:
        if metrics is not None:
            metrics.close()
        link.terminate()
        driver.close()
        log.info("worker %s stopped: %s", args.machine, dict(worker.stats))
    return 0
