"""``factory mrz encode RECORD.json`` and ``factory mrz decode LINE [LINE ...] [--json]``.

The shell around :mod:`factory.mrz`: it reads the record file and today's
date (the pure core takes both as arguments) and prints.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

from factory.errors import InvalidField
from factory.mrz import decode, encode_record

__all__ = ["register"]


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "mrz",
        help="encode and decode ICAO 9303 machine-readable zones",
        description="Encode an application record's MRZ, or decode and validate MRZ lines.",
    )
    commands = parser.add_subparsers(dest="mrz_command", metavar="ACTION", required=True)

    enc = commands.add_parser("encode", help="print the MRZ lines of an application record (JSON file)")
    enc.add_argument("record", type=Path, help="application record in JSON, with document fields bound")
    enc.set_defaults(run=run_encode)

    dec = commands.add_parser("decode", help="decode and validate MRZ lines; exit 0 when valid, 1 when not")
    dec.add_argument("lines", nargs="+", metavar="LINE", help="MRZ lines, in order (quote them: < is special)")
    dec.add_argument("--json", action="store_true", help="print the result as JSON")
    dec.add_argument("--correct", action="store_true", help="repair OCR confusions and report each repair")
    dec.add_argument(
        "--reference-date",
        type=_iso_date,
        default=None,
        help="day two-digit years are resolved against (YYYY-MM-DD; default: today)",
    )
    dec.set_defaults(run=run_decode)


def _iso_date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date YYYY-MM-DD: {text!r}") from None


def run_encode(args: argparse.Namespace) -> int:
    path: Path = args.record
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise InvalidField("record", f"cannot be read: {err.strerror}", str(path)) from None
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise InvalidField("record", f"is not JSON: {err}", str(path)) from None
    if not isinstance(data, dict):
        raise InvalidField("record", "must be a JSON object", str(path))
    for line in encode_record(data):
        print(line)
    return 0


def run_decode(args: argparse.Namespace) -> int:
    reference = args.reference_date or dt.date.today()
    result = decode(args.lines, reference_date=reference, correct=args.correct)
    if args.json:
        json.dump(result.as_dict(), sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    else:
        _print_text(result)
    return 0 if result.valid else 1


def _print_text(result: Any) -> None:
    state = "valid" if result.valid else "INVALID"
    print(f"{result.format or '?'} {result.document_code or ''}: {state}")
    width = max((len(k) for k in result.fields), default=0)
    for key, value in result.fields.items():
        mark = "" if result.field_validity.get(key, True) else "  <- invalid"
        print(f"  {key:<{width}}  {'' if value is None else value}{mark}")
    for correction in result.corrections:
        print(
            f"  corrected line {correction.line} column {correction.column}: "
            f"{correction.original!r} -> {correction.corrected!r} ({correction.field}: {correction.reason})"
        )
    for error in result.errors:
        print(f"  error: {error}")
