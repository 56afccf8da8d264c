"""The QA worker: takes printed documents in batches from the controller and returns one verdict each.

The check is a parameter, ``QaCheck = Callable[[Sequence[QaItem]], list[QaVerdict]]``:

- ``record_check(config)``: the checks that need no image, pure: the record
  as printed parses (document number of the right series, dates), the expiry
  is the issue date plus the validity for the applicant's age, and the MRZ
  encoded from the record decodes valid with the same fields;
- ``printed_check(config)``: the QA stage of ``factory.qa`` over the page
  images the printers wrote (the MRZ read back by template matching, the
  visual zone, photo, signature and print quality), when it is installed.

A batch whose check raises is answered with every document flagged and the
error as the reason (a reviewer looks at them); the worker never dies of a
batch. QA is idempotent: the controller may send a document twice (after a
timeout or a crash) and keeps the first verdict.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor
from collections.abc import Callable, Sequence

from factory.config import Config
from factory.errors import FactoryError, InvalidField, InvalidRecord
from factory.mrz import decode as decode_mrz
from factory.mrz import encode_record
from factory.pipeline.link import Link
from factory.records import compute_date_of_expiry, parse_application
from factory.wire import Credit, QaBatch, QaItem, QaVerdict, QaVerdicts, Welcome

__all__ = ["QaCheck", "record_check", "printed_check", "QaWorker"]

log = logging.getLogger("factory.pipeline.qa_worker")

QaCheck = Callable[[Sequence[QaItem]], list[QaVerdict]]

RECORD_CHECKS = ("record_valid", "document_bound", "document_validity", "mrz_roundtrip")


def _record_verdict(item: QaItem, config: Config) -> QaVerdict:
    checks = dict.fromkeys(RECORD_CHECKS, False)
    reasons: list[str] = []
    problem = item.record.get("_problem")
    record = {k: v for k, v in item.record.items() if not k.startswith("_")}
    try:
        app = parse_application(record, config, where=item.job_id)
        checks["record_valid"] = True
    except InvalidRecord as err:
        reasons.append(str(err))
        return QaVerdict(job_id=item.job_id, attempt=item.attempt, passed=False, checks=checks,
                         reasons=tuple(reasons))
    if problem:
        reasons.append(f"record as printed: {problem}")
    if app.document_number and app.document_number == item.blank_serial:
        checks["document_bound"] = True
    else:
        reasons.append(f"document_number {app.document_number!r} is not the blank {item.blank_serial!r}")
    if app.date_of_issue is not None and app.date_of_expiry == compute_date_of_expiry(
            config.documents[app.doc_type], app.date_of_issue, app.date_of_birth):
        checks["document_validity"] = True
    else:
        reasons.append(f"date_of_expiry {app.date_of_expiry} does not follow from the date of issue")
    try:
        lines = encode_record(app)
        if not lines:
            checks["mrz_roundtrip"] = True  # residence permits carry no MRZ
        else:
            result = decode_mrz(lines, reference_date=app.date_of_issue or dt.date.today())
            if result.valid and result.fields.get("document_number") == app.document_number:
                checks["mrz_roundtrip"] = True
            else:
                reasons.append("MRZ does not decode to the record: " + "; ".join(str(e) for e in result.errors))
    except (InvalidField, ValueError) as err:
        reasons.append(f"MRZ cannot be encoded: {err}")
    passed = all(checks.values()) and not problem
    return QaVerdict(job_id=item.job_id, attempt=item.attempt, passed=passed, checks=checks, reasons=tuple(reasons))


def record_check(config: Config) -> QaCheck:
    """The image-free checks of every item (pure)."""
    def check(items: Sequence[QaItem]) -> list[QaVerdict]:
        return [_record_verdict(item, config) for item in items]

    return check


def printed_check(config: Config) -> QaCheck:
    """``factory.qa``'s checks of printed pages, plus the record checks; builds its kits once.

    Raises
    ------
    FactoryError
        When the QA stage (``factory.qa.printed``) is not available.
    """
    try:
        import cv2
        import numpy as np

        from factory.devices.render import build_render_kit
        from factory.pngio import read_png
        from factory.qa.printed import build_qa_kit, check_printed
    except ImportError as err:
        raise FactoryError(f"qa-worker: the printed-page QA stage is not available ({err})") from None
    qa_kit = build_qa_kit(build_render_kit(config.documents), config.documents)
    records_only = record_check(config)

    def read(path: str, flags: int):
        # The captures are PNGs written by factory.pngio: read_png decodes them twice as fast
        # as cv2.imread, to the same pixels (anything else still goes to OpenCV).
        return read_png(path, grey=flags == cv2.IMREAD_GRAYSCALE) if path else None

    def check(items: Sequence[QaItem]) -> list[QaVerdict]:
        base = records_only(items)
        usable = [i for i, item in enumerate(items) if base[i].checks.get("record_valid") and item.page]
        verdicts = list(base)
        if not usable:
            return [_flag_missing(v) for v in verdicts]
        records = [parse_application({k: v for k, v in items[i].record.items() if not k.startswith("_")}, config)
                   for i in usable]
        pages = [read(items[i].page, cv2.IMREAD_COLOR) for i in usable]
        missing = {i for i, page in zip(usable, pages) if page is None}
        keep = [k for k, i in enumerate(usable) if i not in missing]
        if keep:
            batch = check_printed(
                [records[k] for k in keep], [pages[k] for k in keep],
                [read(records[k].photo, cv2.IMREAD_COLOR) for k in keep],
                [read(records[k].signature, cv2.IMREAD_GRAYSCALE) for k in keep],
                qa_kit,
            )
            flagged = np.asarray(batch.flagged)
            for position, k in enumerate(keep):
                i = usable[k]
                v = verdicts[i]
                checks = dict(v.checks)
                checks.update({c.name: bool(c.ok[position]) for c in batch.checks})
                reasons = list(v.reasons) + [c.details[position] for c in batch.checks if not c.ok[position]]
                verdicts[i] = QaVerdict(job_id=v.job_id, attempt=v.attempt,
                                        passed=v.passed and not bool(flagged[position]), checks=checks,
                                        reasons=tuple(reasons))
        for i, v in enumerate(verdicts):
            if i not in usable or i in missing:
                verdicts[i] = _flag_missing(v)
        return verdicts

    return check


def _flag_missing(verdict: QaVerdict) -> QaVerdict:
    checks = {**verdict.checks, "page_present": False}
    return QaVerdict(job_id=verdict.job_id, attempt=verdict.attempt, passed=False, checks=checks,
                     reasons=(*verdict.reasons, "no printed page image to check"))


class QaWorker:
    """The QA station's loop: credit for ``batches`` batches, a verdict per document, credit again.

    Checks run in a thread of their own (numpy and OpenCV release the GIL) so
    that the link keeps its heartbeats while a long batch is being checked.
    """

    def __init__(self, link: Link, check: QaCheck, *, batches: int = 1) -> None:
        self.link = link
        self.check = check
        self.batches = batches
        self.stats: Counter[str] = Counter()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="qa-check")
        self._running: list[tuple[QaBatch, Future]] = []

    def answer(self, batch: QaBatch) -> QaVerdicts:
        """The verdicts of one batch (never raises: a failed check flags every document)."""
        try:
            verdicts = self.check(batch.items)
            if len(verdicts) != len(batch.items):
                raise FactoryError(f"the check gave {len(verdicts)} verdicts for {len(batch.items)} documents")
        except Exception as err:  # a broken check must not stop the line: a reviewer sees these documents
            log.exception("qa %s: batch %s failed", self.link.station, batch.batch_id)
            self.stats["batches_failed"] += 1
            verdicts = [QaVerdict(job_id=i.job_id, attempt=i.attempt, passed=False, checks={"qa_ran": False},
                                  reasons=(f"QA could not check this batch: {err}",)) for i in batch.items]
        self.stats["documents"] += len(verdicts)
        self.stats["flagged"] += sum(not v.passed for v in verdicts)
        return QaVerdicts(batch_id=batch.batch_id, verdicts=tuple(verdicts))

    def run(self, should_stop: Callable[[], bool]) -> None:
        self.link.open()
        try:
            while not should_stop():
                self.step(0.05)
        finally:
            self._pool.shutdown(wait=False, cancel_futures=True)

    def step(self, timeout_s: float) -> None:
        self.link.tick()
        for message in self.link.receive(timeout_s):
            if isinstance(message, Welcome):
                # A new registration: the controller forgot our batches (it re-offers them) and our credit.
                self._running.clear()
                self.link.send(Credit(slots=self.batches))
            elif isinstance(message, QaBatch):
                self._running.append((message, self._pool.submit(self.answer, message)))
            else:
                self.stats[f"ignored:{message.kind}"] += 1
        still: list[tuple[QaBatch, Future]] = []
        for batch, future in self._running:
            if not future.done():
                still.append((batch, future))
                continue
            self.link.send(future.result())
            self.link.send(Credit(slots=1))
            self.stats["batches"] += 1
        self._running = still
