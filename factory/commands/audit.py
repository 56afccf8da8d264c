"""``factory audit``: does the ledger add up? Blanks per machine and shift, one document per application.

Prints the blank tally per machine and shift (taken = good + spoiled +
returned + in flight), the open items (applications awaiting an operator's
reconciliation) and every violation naming its offender. Exit status 0 when
the ledger is clean, 1 on any violation.

``--resolve APP=printed|spoiled|not_printed`` records an operator's decision
on an application in ``needs_reconcile`` (after checking the machine's output
tray and reject bin), then audits.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from factory.config import load_config
from factory.errors import FactoryError, InvalidField
from factory.ledger.audit import audit_ledger
from factory.ledger.decide import Request
from factory.ledger.states import Event
from factory.pipeline.shell import DEFAULT_LEDGER, open_ledger

__all__ = ["register", "run"]

_RESOLUTIONS = {
    "printed": (Event.RECONCILED_PRINTED.value,),
    "spoiled": (Event.RECONCILED_SPOILED.value, Event.REQUEUED.value),
    "not_printed": (Event.RECONCILED_NOT_PRINTED.value,),
}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "audit",
        help="check the ledger: blanks taken = good + spoiled + returned per machine and shift; one document each",
        description="Audit the ledger and name every offender; exit status 1 on any violation.",
    )
    parser.add_argument("--ledger", type=Path, default=DEFAULT_LEDGER, help="ledger file (default: ledger.db)")
    parser.add_argument("--config", type=Path, default=None, help="configuration directory (default: configs/)")
    parser.add_argument("--resolve", action="append", default=[], metavar="APP=OUTCOME",
                        help="operator's decision for an application in needs_reconcile: printed, spoiled or "
                        "not_printed (repeatable)")
    parser.add_argument("--blank", action="append", default=[], metavar="APP=SERIAL",
                        help="the blank serial found for APP when it was not recorded (with --resolve)")
    parser.add_argument("--operator", default="operator", help="who decides (recorded in the event log)")
    parser.add_argument("--quiet", action="store_true", help="print only the violations and the verdict")
    parser.set_defaults(run=run)


def _pairs(values: list[str], option: str) -> dict[str, str]:
    out = {}
    for value in values:
        key, sep, item = value.partition("=")
        if not sep or not key or not item:
            raise InvalidField(option, "must be APP=VALUE", value)
        out[key] = item
    return out


def run(args: argparse.Namespace) -> int:
    if not args.ledger.exists():
        raise FactoryError(f"{args.ledger}: no such ledger")
    config = load_config(args.config)
    ledger = open_ledger(args.ledger, config)
    try:
        resolutions = _pairs(args.resolve, "--resolve")
        blanks = _pairs(args.blank, "--blank")
        if resolutions:
            requests = []
            for app_id, outcome in resolutions.items():
                if outcome not in _RESOLUTIONS:
                    raise InvalidField("--resolve", "outcome must be printed, spoiled or not_printed", outcome)
                requests.append(Request(app_id, _RESOLUTIONS[outcome], f"operator:{args.operator}",
                                        blank_serial=blanks.get(app_id), reason=f"operator: {outcome}"))
            results = ledger.apply_batch(requests, now=time.time())
            for request, result in zip(requests, results):
                if isinstance(result, Exception):
                    print(f"not resolved {request.application_id}: {result}", file=sys.stderr)
                else:
                    print(f"resolved {request.application_id}: {result[-1].to_state}")
        report = audit_ledger(ledger)
    finally:
        ledger.close()
    lines = report.lines()
    if args.quiet:
        lines = [line for line in lines if line.startswith(("VIOLATION", "audit:"))]
    for line in lines:
        print(line)
    return 0 if report.ok else 1
