"""``factory render RECORD.json --out PAGE.png``: the clean data page a printer would print.

The shell around ``factory.devices.render``: it reads the record, its photo
and signature files and the fonts, binds the record to a blank serial when it
is not bound yet (``--serial``, ``--date-of-issue``), and writes the page.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
from pathlib import Path
from typing import Any

import cv2

from factory.config import load_config
from factory.devices.render import build_render_kit, render_page
from factory.errors import InvalidField
from factory.mrz import encode_record
from factory.pngio import write_png
from factory.records import bind_document, parse_application

__all__ = ["register"]


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "render",
        help="render the clean data page of an application record (PNG)",
        description="Render what a personalization machine prints for a record: the TD3 data page of a "
        "passport or the TD1 card of a permit, at 300 dpi, with photo, ghost image, names in Chinese and "
        "pinyin, the other fields, the signature and the MRZ in OCR-B.",
    )
    parser.add_argument("record", type=Path, help="application record (JSON object, or JSON lines holding one)")
    parser.add_argument("--out", type=Path, required=True, help="PNG file to write")
    parser.add_argument("--serial", default=None,
                        help="blank serial to bind an unbound record to (default: the prefix then 00000001)")
    parser.add_argument("--date-of-issue", type=_iso_date, default=None,
                        help="date of issue for an unbound record, YYYY-MM-DD (default: the acceptance day)")
    parser.add_argument("--config", type=Path, default=None, help="configuration directory (default configs/)")
    parser.add_argument("--dpi", type=int, default=300, help="print resolution (default 300)")
    parser.set_defaults(run=run)


def _iso_date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date YYYY-MM-DD: {text!r}") from None


def _read_record(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise InvalidField("record", f"cannot be read: {err.strerror}", str(path)) from None
    except UnicodeDecodeError:
        raise InvalidField("record", "is not UTF-8 text", str(path)) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        lines = [line for line in text.splitlines() if line.strip()]
        if len(lines) != 1:
            raise InvalidField("record", "must be one JSON object (a JSON-lines file must hold one record)",
                               str(path)) from None
        try:
            data = json.loads(lines[0])
        except json.JSONDecodeError as err:
            raise InvalidField("record", f"is not JSON: {err.msg} at line 1 column {err.colno}", str(path)) from None
    if not isinstance(data, dict):
        raise InvalidField("record", "must be a JSON object", type(data).__name__)
    return data


def _image(text: str, record_dir: Path, field: str, flags: int):
    path = Path(text)
    candidates = [path] if path.is_absolute() else [path, record_dir / path]
    for candidate in candidates:
        image = cv2.imread(str(candidate), flags)
        if image is not None:
            return image
    raise InvalidField(field, "cannot read a PNG image there", text)


def run(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    record = parse_application(_read_record(args.record), config, where=str(args.record))
    if not record.is_bound:
        doc = config.documents[record.doc_type]
        serial = args.serial or f"{doc.serial_prefix}00000001"
        issue = args.date_of_issue or record.accepted_at.date()
        record = bind_document(record, serial, issue, config)
    photo = _image(record.photo, args.record.parent, "photo", cv2.IMREAD_COLOR)
    signature = _image(record.signature, args.record.parent, "signature", cv2.IMREAD_GRAYSCALE)
    kit = build_render_kit({record.doc_type: config.documents[record.doc_type]}, dpi=args.dpi)
    page = render_page(record, photo, signature, kit, mrz_lines=encode_record(record))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_png(args.out, page)
    layout = kit.layout(record.doc_type)
    print(f"{args.out}: {layout.name} {page.shape[1]}x{page.shape[0]} px at {args.dpi} dpi, "
          f"document {record.document_number}")
    return 0
