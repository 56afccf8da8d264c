"""``factory qa-intake RECORD.json [--json]``: is an application fit to print?

The shell around ``factory.qa.check_intake``: it reads the record and the
enrolled photo and captured signature it names, and prints the verdict of
the before-printing checks (portrait compliance, signature against the name).
A flagged application goes back to its acceptance point (``return_to``) with
the reasons; no blank is spent on it.

Exit status: 0 when it passes, 1 when it is flagged, 2 for unusable input.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from factory.commands.qa import print_verdict, read_image, read_record
from factory.config import load_config

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "qa-intake",
        help="check an application before printing (photo compliance, signature against the name)",
        description="Run the before-printing QA checks on one application: the portrait (one face, eye and "
        "head geometry, exposure, dynamic range, illumination, background, sharpness, roll) and the "
        "signature against the name (look-alike characters such as 哓 for 晓). Exit 0: pass; 1: flag "
        "(the application goes back to its acceptance point).",
    )
    parser.add_argument("record", type=Path, help="application record (JSON)")
    parser.add_argument("--photo", type=Path, default=None, help="enrolled photo (default: the record's)")
    parser.add_argument("--signature", type=Path, default=None, help="captured signature (default: the record's)")
    parser.add_argument("--json", action="store_true", help="print the verdict as JSON")
    parser.add_argument("--config", type=Path, default=None, help="configuration directory (default configs/)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from factory.qa.intake import build_intake_kit, check_intake, return_form

    config = load_config(args.config)
    record = read_record(args.record, config)
    photo = read_image(args.photo or record.photo, "photo")
    signature = read_image(args.signature or record.signature, "signature", grey=True)
    verdict = check_intake([record], [photo], [signature], build_intake_kit())
    result = {"application_id": record.application_id, **return_form(verdict, 0, record)}
    print_verdict(result, as_json=args.json, title=f"{record.application_id} intake")
    return 1 if result["verdict"] == "flag" else 0
