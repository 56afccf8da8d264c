"""``factory qa RECORD.json PAGE.png [--json]``: check one printed page against its record.

The shell around ``factory.qa.check_printed``: it reads the record (bound to
its blank: document number and dates), the page image, and the enrolled
photo and captured signature the record names, builds the kits once, and
prints the verdict. Uncertain MRZ characters that disagree with the record
get a second opinion from tesseract (off with ``--no-second-opinion``).

Exit status: 0 when the page passes, 1 when it is flagged for a reviewer,
2 when the input is unusable (the error names the field).
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from factory.config import Config, load_config
from factory.errors import InvalidField
from factory.records import Application, parse_application

__all__ = ["register", "run", "read_record", "read_image", "print_verdict"]


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "qa",
        help="check a printed page against its application record",
        description="Run the after-printing QA checks (MRZ read-back, visual zone, photo, signature, print "
        "quality) on one page. The record must be bound to its blank (document_number, date_of_issue, "
        "date_of_expiry); its photo and signature paths name the enrolled images. Exit 0: pass; 1: flag.",
    )
    parser.add_argument("record", type=Path, help="application record (JSON), bound to its blank")
    parser.add_argument("page", type=Path, help="the printed page (PNG)")
    parser.add_argument("--photo", type=Path, default=None, help="enrolled photo (default: the record's)")
    parser.add_argument("--signature", type=Path, default=None, help="captured signature (default: the record's)")
    parser.add_argument("--json", action="store_true", help="print the verdict as JSON")
    parser.add_argument("--no-second-opinion", action="store_true",
                        help="do not ask tesseract about uncertain MRZ characters")
    parser.add_argument("--config", type=Path, default=None, help="configuration directory (default configs/)")
    parser.set_defaults(run=run)


def read_record(path: Path, config: Config) -> Application:
    """Parse an application record file (every bad field is reported)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise InvalidField("record", f"cannot be read: {err.strerror}", str(path)) from None
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise InvalidField("record", f"is not JSON: {err}", str(path)) from None
    return parse_application(data, config, where=str(path))


def read_image(path: Path | str, field: str, *, grey: bool = False) -> np.ndarray:
    """Read a PNG (BGR, or grey with ``grey``); an unreadable file is an error naming ``field``."""
    image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE if grey else cv2.IMREAD_COLOR)
    if image is None:
        raise InvalidField(field, "cannot be read as an image", str(path))
    return image


def _json_safe(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def print_verdict(result: dict[str, Any], *, as_json: bool, title: str) -> None:
    """Print a ``for_document`` result as JSON or as an aligned table."""
    if as_json:
        print(json.dumps(result, ensure_ascii=False, indent=2, default=_json_safe))
        return
    print(f"{title}: {result['verdict'].upper()}")
    width = max(len(c["name"]) for c in result["checks"]) if result["checks"] else 10
    for check in result["checks"]:
        mark = "ok  " if check["ok"] else "FAIL"
        value = "-" if check["value"] is None else check["value"]
        line = f"  {mark} {check['name']:<{width}}  {value!s:>10}  ({check['rule']})"
        if not check["ok"]:
            line += f"  [{check['zone']}] {check['detail']}"
        print(line)
    for key in ("return_to", "reasons"):
        if key in result:
            print(f"  {key}: {result[key]}")


def run(args: argparse.Namespace) -> int:
    from factory.devices.render import build_render_kit
    from factory.qa.printed import build_qa_kit, check_printed
    from factory.qa.second_opinion import TesseractReader, tesseract_available

    config = load_config(args.config)
    record = read_record(args.record, config)
    if not record.is_bound:
        raise InvalidField("document_number", "the record is not bound to a blank (document number and dates)")
    page = read_image(args.page, "page")
    photo = read_image(args.photo or record.photo, "photo")
    signature = read_image(args.signature or record.signature, "signature", grey=True)
    kit = build_qa_kit(build_render_kit(config.documents), config.documents)
    second = None if args.no_second_opinion or not tesseract_available() else TesseractReader()
    verdict = check_printed([record], [page], [photo], [signature], kit, second_opinion=second)
    result = {"application_id": record.application_id, **verdict.for_document(0)}
    print_verdict(result, as_json=args.json, title=f"{record.application_id} {args.page}")
    return 1 if result["verdict"] == "flag" else 0
