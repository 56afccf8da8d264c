"""``factory qa-worker``: a QA station. Takes printed documents in batches, returns a verdict for each."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from factory.config import load_config
from factory.errors import FactoryError
from factory.metrics.process import add_metrics_port, qa_metrics
from factory.pipeline.keys import load_client_keys
from factory.pipeline.link import Link
from factory.pipeline.qa_worker import QaWorker, intake_check, printed_check, record_check
from factory.pipeline.shell import DEFAULT_ENDPOINT, setup_logging, stop_on_signals

__all__ = ["register", "run"]

log = logging.getLogger("factory.commands.qa_worker")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "qa-worker",
        help="run a QA station: check printed documents in batches",
        description="Connect to the controller, take batches of printed documents and return one verdict per "
        "document. --check printed runs the page checks of factory.qa on the images the printers wrote; "
        "--check record runs the image-free checks (record as printed, validity, MRZ round trip). Every QA "
        "station also takes intake batches (a controller run with --intake-qa): the before-printing checks of "
        "factory.qa on each application's photo and signature.",
    )
    parser.add_argument("--name", default="qa1", help="station name = CURVE key name (default qa1)")
    parser.add_argument("--connect", default=DEFAULT_ENDPOINT, help=f"controller endpoint (default {DEFAULT_ENDPOINT})")
    parser.add_argument("--keys", type=Path, default=None, help="CURVE key directory (factory keys)")
    parser.add_argument("--insecure", action="store_true", help="no CURVE (the controller must run --insecure)")
    parser.add_argument("--check", choices=("printed", "record"), default="printed",
                        help="which checks to run (default printed; falls back to record if unavailable)")
    parser.add_argument("--batches", type=int, default=1, help="batches held at once (credit granted)")
    parser.add_argument("--config", type=Path, default=None, help="configuration directory (default: configs/)")
    parser.add_argument("--heartbeat", type=float, default=1.0, help="heartbeat interval, seconds")
    parser.add_argument("--log-level", default="INFO")
    add_metrics_port(parser, "9450 + the number in --name minus 1")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    setup_logging(args.log_level)
    if args.keys is None and not args.insecure:
        raise FactoryError("qa-worker: give --keys DIR (make them with `factory keys`) or --insecure")
    config = load_config(args.config)
    keys = load_client_keys(args.keys, args.name) if args.keys is not None else None
    if args.check == "printed":
        try:
            check = printed_check(config)
        except FactoryError as err:
            log.warning("%s; running the record checks only", err)
            check = record_check(config)
    else:
        check = record_check(config)
    metrics = qa_metrics(args.name, port=args.metrics_port)
    if metrics is not None:
        check = metrics.wrap(check)
    link = Link(args.connect, role="qa", station=args.name, slots=args.batches, keys=keys,
                heartbeat_s=args.heartbeat)
    worker = QaWorker(link, check, batches=args.batches, intake=intake_check(config))
    stop = stop_on_signals()
    try:
        worker.run(stop.is_set)
    finally:
        if metrics is not None:
            metrics.close()
        link.terminate()
        log.info("qa-worker %s stopped: %s", args.name, dict(worker.stats))
    return 0
