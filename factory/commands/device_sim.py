"""``factory device-sim --id P01 --port N``: run a simulated personalization machine.

The machine listens on 127.0.0.1 (protocol in ``docs/devices.md``) until
SIGTERM or Ctrl-C, keeps its job log under ``--state-dir``, and, with
``--capture-dir``, writes every printed page there as ``<blank_serial>.png``
with ``ground_truth.jsonl`` (the defects injected; for evaluation only).
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from factory.config import load_config
from factory.devices.machine import FaultModel, MachineSpec
from factory.devices.defects import DEFECT_KINDS
from factory.devices.simulator import Simulator, SimulatorSettings, serial_range
from factory.errors import InvalidField

__all__ = ["register"]

_FAULT_KEYS = {"jam": "jam_rate", "laser_ribbon": "laser_ribbon_rate", "cover_open": "cover_open_rate",
               "offline": "offline_rate"}


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "device-sim",
        help="run a simulated printer on loopback (faults, blank stock, print defects)",
        description="Run one simulated passport/card personalization machine as a network device on "
        "127.0.0.1. Workers drive it with factory.devices.client.SimulatorClient.",
    )
    parser.add_argument("--id", required=True, help="device id, e.g. P01 or B03")
    parser.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (default: any free port)")
    parser.add_argument("--pool", choices=("booklet", "card"), default=None,
                        help="blank pool (default: the machine's pool in configs/line.toml, else booklet)")
    parser.add_argument("--config", type=Path, default=None, help="configuration directory (default configs/)")
    parser.add_argument("--state-dir", type=Path, default=Path("var/devices"),
                        help="where the device keeps its job log (default var/devices)")
    parser.add_argument("--capture-dir", type=Path, default=None,
                        help="write each printed page and ground_truth.jsonl here (default: no pages)")
    parser.add_argument("--assets", type=Path, default=Path("."),
                        help="directory relative photo/signature paths are read from (default: .)")
    parser.add_argument("--cycle", type=_range, default=None, metavar="LOW:HIGH",
                        help="print cycle in device seconds per document (default: 0.9-1.1 times the "
                        "nameplate cycle of the machine in configs/line.toml, else 45:60)")
    parser.add_argument("--speed", type=float, default=1.0,
                        help="device seconds per real second: 1000 runs a 45-60 s cycle in 45-60 ms")
    parser.add_argument("--queue", type=int, default=2, help="jobs the device accepts ahead (default 2)")
    parser.add_argument("--seed", type=int, default=0, help="random seed of faults and defects")
    parser.add_argument("--blanks", action="append", default=[], metavar="SERIAL+COUNT",
                        help="load COUNT blanks from SERIAL at start, e.g. E10000001+500 (repeatable)")
    parser.add_argument("--fault", action="append", default=[], metavar="KIND=RATE",
                        help="per-document fault rate: jam, laser_ribbon, cover_open, offline (repeatable)")
    parser.add_argument("--offline-s", type=_range, default=(60.0, 300.0), metavar="LOW:HIGH",
                        help="how long an offline spell lasts, device seconds (default 60:300)")
    parser.add_argument("--auto-clear-s", type=float, default=None,
                        help="faults clear by themselves after this many device seconds (default: never)")
    parser.add_argument("--defect", action="append", default=[], metavar="KIND=RATE",
                        help="per-document print defect rate: " + ", ".join(DEFECT_KINDS) + " (repeatable)")
    parser.set_defaults(run=run)


def _range(text: str) -> tuple[float, float]:
    try:
        low, _, high = text.partition(":")
        values = (float(low), float(high or low))
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be LOW:HIGH in seconds, e.g. 45:60, not {text!r}") from None
    return values


def _rates(items: list[str], known: dict[str, str] | tuple[str, ...], what: str) -> dict[str, float]:
    rates: dict[str, float] = {}
    for item in items:
        kind, sep, value = item.partition("=")
        if not sep or kind not in known:
            raise InvalidField(what, "must be KIND=RATE with KIND one of " + ", ".join(known), item)
        try:
            rates[kind] = float(value)
        except ValueError:
            raise InvalidField(what, "rate must be a number between 0 and 1", item) from None
    return rates


def settings_from_args(args: argparse.Namespace, config) -> SimulatorSettings:
    machine = next((m for m in config.line.machines if m.id == args.id), None)
    pool = args.pool or (machine.pool if machine else "booklet")
    faults = _rates(args.fault, _FAULT_KEYS, "--fault")
    blanks: list[str] = []
    for item in args.blanks:
        first, sep, count = item.partition("+")
        if not sep or not count.isdigit():
            raise InvalidField("--blanks", "must be SERIAL+COUNT, e.g. E10000001+500", item)
        blanks.extend(serial_range(first, int(count)))
    cycle = args.cycle
    if cycle is None:
        # A configured machine keeps its nameplate rate on average.
        cycle = (45.0, 60.0) if machine is None else (0.9 * 3600 / machine.rated_per_hour,
                                                       1.1 * 3600 / machine.rated_per_hour)
    spec = MachineSpec(
        device_id=args.id,
        pool=pool,
        cycle_s=cycle,
        queue_limit=args.queue,
        faults=FaultModel(**{_FAULT_KEYS[k]: v for k, v in faults.items()}, offline_s=args.offline_s,
                          auto_clear_s=args.auto_clear_s),
        defect_rates=_rates(args.defect, DEFECT_KINDS, "--defect"),
    )
    return SimulatorSettings(
        spec=spec, state_dir=args.state_dir, port=args.port, capture_dir=args.capture_dir,
        assets_dir=args.assets, speed=args.speed, seed=args.seed, initial_blanks=tuple(blanks),
    )


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    config = load_config(args.config)
    simulator = Simulator(settings_from_args(args, config), config)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())

    def ready(endpoint: str) -> None:
        status = simulator.machine.status(simulator.now())
        print(f"device {args.id} ({status.pool}) listening on {endpoint}; "
              f"{status.blanks_left} blanks; state {status.state}", flush=True)

    simulator.serve(stop, ready)
    print(f"device {args.id} stopped", file=sys.stderr, flush=True)
    return 0
