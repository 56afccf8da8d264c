"""A small real line for the panel's tests: a ledger with sample applications, some printed, some flagged.

Everything is real: the samples generator draws the applications, portraits
and signatures; the ledger stores them and every transition; the devices'
renderer prints data pages; the QA stage's MRZ reader reads them back. A
"print defect" changes one MRZ character of a few pages, so the read-back
differs from the record and QA flags them.
"""

from __future__ import annotations

import datetime as dt
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import cv2

with warnings.catch_warnings():
    # Starlette 1.x asks for httpx2 with its TestClient; the pinned test dependency is httpx 0.28,
    # which it still supports. Only this one import warning is silenced.
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient` is deprecated")
    from fastapi.testclient import TestClient

from factory.config import Config
from factory.devices.render import build_render_kit, render_page
from factory.ledger import Event, Ledger, prepare_intake, shift_clock
from factory.mrz import encode_record
from factory.panel.review import MrzReadBack
from factory.pngio import write_png
from factory.qa.faces import FaceDetector
from factory.records import bind_document, parse_application
from factory.samples import SignatureWriter, generate_applications
from factory.samples.generate import draw_images
from factory.scheduler import build_calendar

PASSWORD = "correct horse battery"
USERS = {"olga": "operator", "rui": "reviewer", "sam": "supervisor"}

START = dt.datetime(2026, 3, 3, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
"""Tuesday in the Spring Festival peak, ten o'clock: a working morning."""


class ShiftedClock:
    """Real time, moved to ``START``: the line runs in real time on a fixed day."""

    def __init__(self, start: dt.datetime = START) -> None:
        self.offset = start.timestamp() - time.time()

    def __call__(self) -> float:
        return time.time() + self.offset


_KITS: dict[int, object] = {}


def _kit(config: Config):
    """One render kit per configuration (loading the fonts takes about a second)."""
    if id(config) not in _KITS:
        _KITS[id(config)] = build_render_kit(config.documents)
    return _KITS[id(config)]


@dataclass
class World:
    config: Config
    ledger: Ledger
    root: Path
    clock: ShiftedClock
    ids: list[str] = field(default_factory=list)
    flagged: list[str] = field(default_factory=list)
    passed: list[str] = field(default_factory=list)
    records: dict[str, dict] = field(default_factory=dict)


def _serial(config: Config, doc_type: str, n: int) -> str:
    return f"{config.documents[doc_type].serial_prefix}{n:08d}"


def build_world(config: Config, root: Path, *, count: int = 40, printed: int = 4, flagged: int = 3,
                seed: int = 7, backlog: int = 0, backlog_day: dt.date | None = None, busy: tuple[str, ...] = ()) -> World:
    """A ledger at ``root/ledger.sqlite`` with ``count`` queued applications, of which the first
    ``printed + flagged`` passports are printed and QA'd (``flagged`` of them with an MRZ misprint).

    ``backlog`` more applications accepted on ``backlog_day`` (no images) make a peak's queue;
    each machine in ``busy`` holds one leased job."""
    clock = ShiftedClock()
    ledger = Ledger.open(root / "ledger.sqlite", shifts=shift_clock(config.line))
    world = World(config=config, ledger=ledger, root=root, clock=clock)
    day = (START - dt.timedelta(days=1)).date()
    samples = generate_applications(count, seed, config, day=day, image_dir=str(root))
    cal = build_calendar(config.calendar)
    admissions, rejections = prepare_intake([(f"line {i}", s.record) for i, s in enumerate(samples, 1)], config, cal)
    assert not rejections, [r.as_dict() for r in rejections]
    now = clock()
    if backlog:
        old = generate_applications(backlog, seed + 1, config, day=backlog_day, image_dir=str(root), id_prefix="P")
        # Last week's green-channel and same-day applications were produced at once
        # (the plan pins them first); what still waits is normal and urgent work.
        old = [s for s in old if s.record["service_class"] not in ("green", "same_day")]
        queued, refused = prepare_intake([(f"backlog {i}", s.record) for i, s in enumerate(old, 1)], config, cal)
        assert not refused
        ledger.add_applications(queued, station="intake", now=now - 86400)
    ledger.add_applications(admissions, station="intake", now=now - 3600)
    world.ids = [a.application.application_id for a in admissions]
    world.records = {s.record["application_id"]: s.record for s in samples}

    passports = [s for s in samples if s.record["doc_type"] == "passport"][: printed + flagged]
    writer, detector = SignatureWriter(), FaceDetector()
    kit = _kit(config)
    reader = MrzReadBack(config)
    for n, sample in enumerate(passports):
        record = sample.record
        app_id = record["application_id"]
        photo, signature = draw_images(sample, writer, detector)
        (root / "photos").mkdir(exist_ok=True)
        (root / "signatures").mkdir(exist_ok=True)
        write_png(Path(record["photo"]), photo)
        write_png(Path(record["signature"]), signature)
        machine = f"B{n % 3 + 1:02d}"
        serial = _serial(config, "passport", 1000 + n)
        at = now - 1800 + 60 * n
        ledger.lease(app_id, machine, lease_s=120, station="controller", now=at)
        ledger.apply(app_id, Event.PRINT_STARTED, blank_serial=serial, station=f"printer:{machine}", now=at + 1)
        bound = bind_document(parse_application(record, config), serial, dt.datetime.fromtimestamp(at, config.line.tz).date(), config)
        lines = list(encode_record(bound))
        defect = n >= printed
        if defect:
            # A print defect: one character of the second line comes out wrong.
            position = 2 + n
            wrong = "7" if lines[1][position] != "7" else "3"
            lines[1] = lines[1][:position] + wrong + lines[1][position + 1:]
        page = render_page(bound, photo, signature, kit, mrz_lines=lines)
        page_path = root / "pages" / f"{app_id}.png"
        page_path.parent.mkdir(exist_ok=True)
        cv2.imwrite(str(page_path), page)
        ledger.apply(app_id, Event.DEVICE_EXECUTED, blank_serial=serial, page=str(page_path),
                     station=f"printer:{machine}", now=at + 40)
        read = reader.read(page, "passport")
        expected = tuple(encode_record(bound))
        differs = sum(a != b for x, y in zip(read or (), expected) for a, b in zip(x, y)) if read else -1
        ok = differs == 0
        checks = {"mrz_readback": {"ok": ok, "zone": "mrz", "value": differs, "rule": "== 0",
                                   "detail": "" if ok else f"{differs} character(s) differ from the record"}}
        ledger.record_qa(app_id, 1, passed=ok, checks=checks, reasons=[] if ok else [checks["mrz_readback"]["detail"]],
                         station="qa:Q1", now=at + 60)
        (world.flagged if not ok else world.passed).append(app_id)
    pool_of = {m.id: m.pool for m in config.line.machines}
    waiting = admissions
    for machine in busy:
        job = next(a for a in waiting if a.pool == pool_of[machine] and ledger.state_of(a.application.application_id) == "queued")
        ledger.lease(job.application.application_id, machine, lease_s=600, station="controller", now=now)
    return world


def login(client, name: str, password: str = PASSWORD):
    """Log ``client`` (a TestClient) in through the log-in form; returns the form's response."""
    page = client.get("/login")
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    return client.post("/login", data={"name": name, "password": password, "csrf_token": token, "next": "/"},
                       follow_redirects=False)


def csrf_of(client, path: str = "/line") -> str:
    """The session's CSRF token, as a page carries it."""
    return client.get(path).text.split('name="csrf-token" content="')[1].split('"')[0]
