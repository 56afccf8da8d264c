"""``factory intake FILE.jsonl``: validate application records and store them in the ledger.

Locally (``--ledger``, the default) or through the pipeline (``--connect``:
the controller validates and stores them the same way). Every row is checked
with ``parse_application`` and its deadline computed; an invalid row is
rejected with all its reasons and stores nothing, the valid rows are stored
(``accepted`` then ``queued``). Running the same file again stores nothing
new. Exit status 0 when every row was stored (or already was), 1 when some
row was rejected.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from factory.config import load_config
from factory.errors import FactoryError
from factory.ledger.intake import prepare_intake, read_jsonl
from factory.pipeline.intake_client import send_intake
from factory.pipeline.keys import load_client_keys
from factory.pipeline.shell import DEFAULT_LEDGER, open_ledger
from factory.scheduler import build_calendar

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "intake",
        help="validate application records (JSON lines) and store them in the ledger",
        description="Store the valid rows of FILE (one application record per line) in the ledger as queued "
        "applications; reject each invalid row with every reason. Locally with --ledger, or through the "
        "running controller with --connect.",
    )
    parser.add_argument("file", type=Path, help="JSON lines, one application record per line ('-': stdin)")
    parser.add_argument("--ledger", type=Path, default=DEFAULT_LEDGER, help="ledger file (default: ledger.db)")
    parser.add_argument("--connect", default=None, metavar="ENDPOINT",
                        help="send to the controller at ENDPOINT instead (e.g. tcp://127.0.0.1:5555)")
    parser.add_argument("--keys", type=Path, default=None, help="CURVE key directory (with --connect)")
    parser.add_argument("--name", default="intake", help="station name = key name (default: intake)")
    parser.add_argument("--config", type=Path, default=None, help="configuration directory (default: configs/)")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for the controller")
    parser.set_defaults(run=run)


def _read(path: Path) -> list:
    if str(path) == "-":
        return read_jsonl(sys.stdin)
    try:
        with open(path, encoding="utf-8") as handle:
            return read_jsonl(handle)
    except (OSError, UnicodeDecodeError) as err:
        raise FactoryError(f"{path}: cannot read ({err})") from None


def run(args: argparse.Namespace) -> int:
    rows = _read(args.file)
    if args.connect:
        return _through_pipeline(args, rows)
    config = load_config(args.config)
    admissions, rejections = prepare_intake(rows, config, build_calendar(config.calendar))
    ledger = open_ledger(args.ledger, config)
    try:
        result = ledger.add_applications(admissions, station="intake", now=time.time())
    finally:
        ledger.close()
    rejected = [*rejections, *result.rejected]
    for rejection in sorted(rejected, key=lambda r: _line_number(r.where)):
        print(f"rejected {rejection.error}", file=sys.stderr)
    print(f"intake {args.file}: {len(result.added)} stored, {len(result.already_present)} already in the ledger, "
          f"{len(rejected)} rejected")
    return 1 if rejected else 0


def _line_number(where: str) -> int:
    tail = where.rpartition(" ")[2]
    return int(tail) if tail.isdigit() else 0


def _through_pipeline(args: argparse.Namespace, rows: list) -> int:
    from factory.errors import InvalidField, InvalidRecord

    keys = load_client_keys(args.keys, args.name) if args.keys else None
    # What is not even a JSON object is rejected here: the wire carries records as maps.
    rows = [(where, value if isinstance(value, (dict, InvalidRecord)) else InvalidRecord(
        [InvalidField("record", "must be a JSON object", type(value).__name__)], where=where)) for where, value in rows]
    local = [(where, value) for where, value in rows if isinstance(value, InvalidRecord)]
    sendable = [(where, value) for where, value in rows if not isinstance(value, InvalidRecord)]
    replies = send_intake(args.connect, [value for _, value in sendable], station=args.name, keys=keys,
                          timeout_s=args.timeout)
    errors = [reply.error for reply in replies if reply.error]
    for error in errors:
        print(f"refused: {error}", file=sys.stderr)
    for _, invalid in local:
        print(f"rejected {invalid}", file=sys.stderr)
    rejected = len(local)
    for reply in replies:
        for item in reply.rejected:
            number = _line_number(item.get("where", ""))
            where = sendable[number - 1][0] if 0 < number <= len(sendable) else item.get("where", "")
            reasons = "; ".join(f"{e['field']}: {e['reason']}" for e in item.get("errors", []))
            print(f"rejected {where}: {reasons}", file=sys.stderr)
            rejected += 1
    added = sum(r.added for r in replies)
    present = sum(r.already_present for r in replies)
    print(f"intake {args.file} via {args.connect}: {added} stored, {present} already in the ledger, "
          f"{rejected} rejected")
    return 1 if rejected or errors else 0
