"""What a reviewer sees of one flagged document: expected and read-back MRZ, their differences, zones.

``mrz_diff`` and ``failing_zones`` are pure. ``MrzReadBack`` reads the printed
MRZ off a page image with the QA stage's template reader (``factory.qa``),
building the templates once per MRZ geometry.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from factory.config import Config
from factory.devices.layout import PageLayout, page_layout
from factory.errors import FactoryError
from factory.mrz import encode_record
from factory.records import bind_document, parse_application

__all__ = ["mrz_diff", "expected_mrz_lines", "zone_of_check", "failing_zones", "MrzReadBack"]

_ZONE_PREFIXES = (("mrz", "mrz"), ("signature", "signature"), ("photo", "photo"), ("portrait", "photo"),
                  ("face", "photo"), ("ghost", "ghost"))


def mrz_diff(read: Sequence[str], expected: Sequence[str]) -> list[list[dict[str, Any]]]:
    """Character by character: ``{"read", "expected", "differs"}`` per position of each line.

    Lines of different lengths are padded with empty strings (a missing
    character differs from any expected one).
    """
    out = []
    for k in range(max(len(read), len(expected))):
        got = read[k] if k < len(read) else ""
        want = expected[k] if k < len(expected) else ""
        line = []
        for i in range(max(len(got), len(want))):
            a = got[i] if i < len(got) else ""
            b = want[i] if i < len(want) else ""
            line.append({"read": a, "expected": b, "differs": a != b})
        out.append(line)
    return out


def expected_mrz_lines(record: Mapping[str, Any], blank_serial: str | None, issued_on: str | None,
                       config: Config) -> tuple[str, ...] | None:
    """The MRZ the record should print on ``blank_serial`` issued on ``issued_on`` (None when unknown)."""
    try:
        app = parse_application(dict(record), config)
        if blank_serial and not app.is_bound:
            issued = dt.date.fromisoformat(issued_on) if issued_on else None
            if issued is None:
                return None
            app = bind_document(app, blank_serial, issued, config)
        if not app.is_bound:
            return None
        return tuple(encode_record(app))
    except (FactoryError, ValueError):
        return None


def zone_of_check(check: Mapping[str, Any], layout: PageLayout | None) -> str | None:
    """The page zone a check points at: its own ``zone``, else one guessed from its name."""
    zone = check.get("zone")
    if isinstance(zone, str) and zone:
        return zone
    name = str(check.get("name", ""))
    for prefix, guess in _ZONE_PREFIXES:
        if name.startswith(prefix):
            return guess
    if layout is not None and layout.has_zone(name):
        return name
    return None


def failing_zones(checks: Sequence[Mapping[str, Any]], layout: PageLayout | None) -> list[dict[str, Any]]:
    """Boxes (page pixels) of the zones of the failed checks, one per zone, naming its checks."""
    if layout is None:
        return []
    boxes: dict[str, dict[str, Any]] = {}
    for check in checks:
        if check.get("ok", True):
            continue
        zone = zone_of_check(check, layout)
        if zone is None or not layout.has_zone(zone):
            continue
        box = layout.zone(zone).box
        entry = boxes.setdefault(zone, {"zone": zone, "x": box.x0, "y": box.y0, "w": box.width, "h": box.height,
                                        "checks": []})
        entry["checks"].append(str(check.get("name")))
    return list(boxes.values())


class MrzReadBack:
    """Reads the MRZ off printed pages with the QA stage's reader; templates built once per geometry."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self._layouts: dict[str, PageLayout] = {}
        self._templates: dict[tuple, Any] = {}
        self._lock = threading.Lock()

    def layout(self, doc_type: str) -> PageLayout | None:
        doc = self.config.documents.get(doc_type)
        if doc is None:
            return None
        with self._lock:
            if doc_type not in self._layouts:
                self._layouts[doc_type] = page_layout(doc)
            return self._layouts[doc_type]

    def read(self, page: np.ndarray, doc_type: str) -> tuple[str, ...] | None:
        """The MRZ lines read off ``page`` (``(h, w, 3) uint8`` BGR), or None without an MRZ."""
        try:
            from factory.devices.render import FontFiles, render_mrz_glyphs
            from factory.qa.mrz_reader import build_mrz_templates, mrz_zones, read_mrz
        except ImportError:  # the QA stage's reader is not installed: show the expected MRZ only
            return None

        layout = self.layout(doc_type)
        if layout is None or layout.mrz is None or page.shape[:2] != layout.shape:
            return None
        key = (layout.mrz.pitch_px, layout.mrz.cell_height_px, layout.mrz.line_count, layout.mrz.line_length)
        with self._lock:
            templates = self._templates.get(key)
            if templates is None:
                glyphs = render_mrz_glyphs(FontFiles().ocrb, layout.mrz)
                templates = self._templates[key] = build_mrz_templates(glyphs, layout.mrz)
        readout = read_mrz(mrz_zones([page], layout), templates)
        return tuple(readout.texts[0])
