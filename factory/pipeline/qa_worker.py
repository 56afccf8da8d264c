"""The QA worker: takes printed documents in batches from the controller and returns one verdict each.

The check is a parameter, ``QaCheck = Callable[[Sequence[QaItem]], list[QaVerdict]]``:

- ``record_check(config)``: the checks that need no image, pure: the record
  as printed parses (document number of the right series, dates), the expiry
  is the issue date plus the validity for the applicant's age, and the MRZ
  encoded from the record decodes valid with the same fields;
- ``printed_check(config)``: the QA stage of ``factory.qa`` over the page
  images the printers wrote (the MRZ read back by template matching, the
  visual zone, photo, signature and print quality), when it is installed.

Every check travels as a ``QaCheckResult``: name, ok, the measured value,
and on failure the detail and the zone a reviewer is shown; the MRZ lines
read back ride along in ``QaVerdict.mrz_read``.

Before printing, ``intake_check(config)`` runs ``factory.qa.check_intake``
on the photo and signature of each application of an ``intake_batch`` and
answers an outcome per application (``factory.qa.intake_outcome``: passed,
review, return). Without the QA stage installed, every application is sent
to a reviewer, never passed unchecked.

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
from factory.wire import (
    Credit,
    IntakeBatch,
    IntakeItem,
    IntakeVerdict,
    IntakeVerdicts,
    QaBatch,
    QaCheckResult,
    QaItem,
    QaVerdict,
    QaVerdicts,
    Welcome,
)

__all__ = ["QaCheck", "IntakeCheck", "record_check", "printed_check", "intake_check", "QaWorker"]

log = logging.getLogger("factory.pipeline.qa_worker")

QaCheck = Callable[[Sequence[QaItem]], list[QaVerdict]]
IntakeCheck = Callable[[Sequence[IntakeItem]], list[IntakeVerdict]]

RECORD_CHECKS = ("record_valid", "document_bound", "document_validity", "mrz_roundtrip")


def _results(checks: dict[str, bool], details: dict[str, str] | None = None) -> tuple[QaCheckResult, ...]:
    details = details or {}
    return tuple(QaCheckResult(name=name, ok=ok, value=1.0 if ok else 0.0, detail="" if ok else details.get(name, ""),
                               zone="" if ok else _RECORD_ZONES.get(name, "page"))
                 for name, ok in checks.items())


_RECORD_ZONES = {"document_bound": "document_number", "document_validity": "date_of_expiry", "mrz_roundtrip": "mrz",
                 "record_valid": "page", "page_present": "page", "qa_ran": "page"}
"""The page zone a reviewer is shown when an image-free check fails."""


def _record_verdict(item: QaItem, config: Config) -> QaVerdict:
    checks = dict.fromkeys(RECORD_CHECKS, False)
    details: dict[str, str] = {}
    reasons: list[str] = []
    problem = item.record.get("_problem")
    record = {k: v for k, v in item.record.items() if not k.startswith("_")}
    try:
        app = parse_application(record, config, where=item.job_id)
        checks["record_valid"] = True
    except InvalidRecord as err:
        reasons.append(str(err))
        details["record_valid"] = str(err)
        return QaVerdict(job_id=item.job_id, attempt=item.attempt, passed=False, checks=_results(checks, details),
                         reasons=tuple(reasons))
    if problem:
        reasons.append(f"record as printed: {problem}")
    if app.document_number and app.document_number == item.blank_serial:
        checks["document_bound"] = True
    else:
        reasons.append(details.setdefault(
            "document_bound", f"document_number {app.document_number!r} is not the blank {item.blank_serial!r}"))
    if app.date_of_issue is not None and app.date_of_expiry == compute_date_of_expiry(
            config.documents[app.doc_type], app.date_of_issue, app.date_of_birth):
        checks["document_validity"] = True
    else:
        reasons.append(details.setdefault(
            "document_validity", f"date_of_expiry {app.date_of_expiry} does not follow from the date of issue"))
    try:
        lines = encode_record(app)
        if not lines:
            checks["mrz_roundtrip"] = True  # residence permits carry no MRZ
        else:
            result = decode_mrz(lines, reference_date=app.date_of_issue or dt.date.today())
            if result.valid and result.fields.get("document_number") == app.document_number:
                checks["mrz_roundtrip"] = True
            else:
                reasons.append(details.setdefault(
                    "mrz_roundtrip", "MRZ does not decode to the record: " + "; ".join(str(e) for e in result.errors)))
    except (InvalidField, ValueError) as err:
        reasons.append(details.setdefault("mrz_roundtrip", f"MRZ cannot be encoded: {err}"))
    passed = all(checks.values()) and not problem
    return QaVerdict(job_id=item.job_id, attempt=item.attempt, passed=passed, checks=_results(checks, details),
                     reasons=tuple(reasons))


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
        import numpy as np

        from factory.devices.render import build_render_kit
        from factory.qa.printed import build_qa_kit, check_printed
    except ImportError as err:
        raise FactoryError(f"qa-worker: the printed-page QA stage is not available ({err})") from None
    qa_kit = build_qa_kit(build_render_kit(config.documents), config.documents)
    records_only = record_check(config)

    def check(items: Sequence[QaItem]) -> list[QaVerdict]:
        base = records_only(items)
        usable = [i for i, item in enumerate(items) if base[i].check_map().get("record_valid") and item.page]
        verdicts = list(base)
        if not usable:
            return [_flag_missing(v) for v in verdicts]
        records = [parse_application({k: v for k, v in items[i].record.items() if not k.startswith("_")}, config)
                   for i in usable]
        pages = [_read_image(items[i].page) for i in usable]
        missing = {i for i, page in zip(usable, pages) if page is None}
        keep = [k for k, i in enumerate(usable) if i not in missing]
        if keep:
            batch = check_printed(
                [records[k] for k in keep], [pages[k] for k in keep],
                [_read_image(records[k].photo) for k in keep],
                [_read_image(records[k].signature, grey=True) for k in keep],
                qa_kit,
            )
            flagged = np.asarray(batch.flagged)
            for position, k in enumerate(keep):
                i = usable[k]
                v = verdicts[i]
                printed = _batch_results(batch, position)
                names = {c.name for c in printed}
                checks = (*(c for c in v.checks if c.name not in names), *printed)
                reasons = list(v.reasons) + [c.details[position] for c in batch.checks if not c.ok[position]]
                lines_read = batch.mrz_read[position] if batch.mrz_read is not None else ()
                verdicts[i] = QaVerdict(job_id=v.job_id, attempt=v.attempt,
                                        passed=v.passed and not bool(flagged[position]), checks=checks,
                                        reasons=tuple(reasons), mrz_read=tuple(lines_read))
        for i, v in enumerate(verdicts):
            if i not in usable or i in missing:
                verdicts[i] = _flag_missing(v)
        return verdicts

    return check


def _read_image(path: str | None, *, grey: bool = False):
    """An image the check needs, or None when there is no path or no readable file.

    Pages, portraits and signatures are PNGs written by factory.pngio: ``read_png`` decodes them about twice
    as fast as ``cv2.imread``, to the same pixels (anything else still goes to OpenCV).
    """
    from factory.pngio import read_png

    return read_png(path, grey=grey) if path else None


def _batch_results(batch, i: int) -> tuple[QaCheckResult, ...]:
    """Document ``i`` of a ``factory.qa`` ``BatchVerdict`` as check results (NaN: no value)."""
    out = []
    for entry in batch.for_document(i)["checks"]:
        value = entry["value"]
        out.append(QaCheckResult(name=entry["name"], ok=entry["ok"], value=None if value is None else float(value),
                                 detail=entry["detail"] or "", zone=entry["zone"] or ""))
    return tuple(out)


def _flag_missing(verdict: QaVerdict) -> QaVerdict:
    missing = "no printed page image to check"
    checks = (*verdict.checks, QaCheckResult(name="page_present", ok=False, value=0.0, detail=missing, zone="page"))
    return QaVerdict(job_id=verdict.job_id, attempt=verdict.attempt, passed=False, checks=checks,
                     reasons=(*verdict.reasons, missing))


def intake_check(config: Config) -> IntakeCheck:
    """``factory.qa``'s before-printing checks (portrait, signature against the name); builds the kit once.

    Without the QA stage (OpenCV, fonts) every application goes to a reviewer with that reason.
    """
    try:
        from factory.qa.intake import build_intake_kit, check_intake, intake_outcome
    except ImportError as err:
        reason = f"intake QA is not available on this station ({err})"
        log.warning("qa-worker: %s; intake batches go to a reviewer", reason)

        def unchecked(items: Sequence[IntakeItem]) -> list[IntakeVerdict]:
            result = (QaCheckResult(name="intake_ran", ok=False, detail=reason, zone="photo"),)
            return [IntakeVerdict(job_id=i.job_id, outcome="review", checks=result, reasons=(reason,)) for i in items]

        return unchecked
    kit = build_intake_kit()

    def check(items: Sequence[IntakeItem]) -> list[IntakeVerdict]:
        out: list[IntakeVerdict | None] = [None] * len(items)
        apps, keep = [], []
        for i, item in enumerate(items):
            try:
                apps.append(parse_application({k: v for k, v in item.record.items() if not k.startswith("_")},
                                              config, where=item.job_id))
                keep.append(i)
            except InvalidRecord as err:
                result = (QaCheckResult(name="record_valid", ok=False, detail=str(err), zone="page"),)
                out[i] = IntakeVerdict(job_id=item.job_id, outcome="return", checks=result, reasons=(str(err),))
        if keep:
            verdict = check_intake(apps, [_read_image(a.photo) for a in apps],
                                   [_read_image(a.signature, grey=True) for a in apps], kit)
            for position, i in enumerate(keep):
                failed = verdict.failed(position)
                results = _batch_results(verdict, position)
                out[i] = IntakeVerdict(job_id=items[i].job_id, outcome=intake_outcome(failed), checks=results,
                                       reasons=tuple(c.detail for c in results if not c.ok))
        return [v for v in out if v is not None]

    return check


class QaWorker:
    """The QA station's loop: credit for ``batches`` batches, a verdict per document, credit again.

    Checks run in a thread of their own (numpy and OpenCV release the GIL) so
    that the link keeps its heartbeats while a long batch is being checked.
    """

    def __init__(self, link: Link, check: QaCheck, *, batches: int = 1, intake: IntakeCheck | None = None) -> None:
        self.link = link
        self.check = check
        self.intake = intake
        self.batches = batches
        self.stats: Counter[str] = Counter()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="qa-check")
        self._running: list[tuple[QaBatch | IntakeBatch, Future]] = []

    def answer(self, batch: QaBatch) -> QaVerdicts:
        """The verdicts of one batch (never raises: a failed check flags every document)."""
        try:
            verdicts = self.check(batch.items)
            if len(verdicts) != len(batch.items):
                raise FactoryError(f"the check gave {len(verdicts)} verdicts for {len(batch.items)} documents")
        except Exception as err:  # a broken check must not stop the line: a reviewer sees these documents
            log.exception("qa %s: batch %s failed", self.link.station, batch.batch_id)
            self.stats["batches_failed"] += 1
            reason = f"QA could not check this batch: {err}"
            failed = (QaCheckResult(name="qa_ran", ok=False, detail=reason, zone="page"),)
            verdicts = [QaVerdict(job_id=i.job_id, attempt=i.attempt, passed=False, checks=failed,
                                  reasons=(reason,)) for i in batch.items]
        self.stats["documents"] += len(verdicts)
        self.stats["flagged"] += sum(not v.passed for v in verdicts)
        return QaVerdicts(batch_id=batch.batch_id, verdicts=tuple(verdicts))

    def answer_intake(self, batch: IntakeBatch) -> IntakeVerdicts:
        """The intake verdicts of one batch (never raises: a failed check sends every application to a reviewer)."""
        try:
            if self.intake is None:
                raise FactoryError("this QA station runs no intake checks")
            verdicts = self.intake(batch.items)
            if len(verdicts) != len(batch.items):
                raise FactoryError(f"the intake check gave {len(verdicts)} verdicts for {len(batch.items)} items")
        except Exception as err:  # a broken check must not stop the line, nor pass anything unchecked
            log.exception("qa %s: intake batch %s failed", self.link.station, batch.batch_id)
            self.stats["intake_batches_failed"] += 1
            reason = f"intake QA could not check this batch: {err}"
            failed = (QaCheckResult(name="intake_ran", ok=False, detail=reason, zone="photo"),)
            verdicts = [IntakeVerdict(job_id=i.job_id, outcome="review", checks=failed, reasons=(reason,))
                        for i in batch.items]
        self.stats["intake_documents"] += len(verdicts)
        for verdict in verdicts:
            self.stats[f"intake_{verdict.outcome}"] += 1
        return IntakeVerdicts(batch_id=batch.batch_id, verdicts=tuple(verdicts))

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
            elif isinstance(message, IntakeBatch):
                self._running.append((message, self._pool.submit(self.answer_intake, message)))
            else:
                self.stats[f"ignored:{message.kind}"] += 1
        still: list[tuple[QaBatch | IntakeBatch, Future]] = []
        for batch, future in self._running:
            if not future.done():
                still.append((batch, future))
                continue
            self.link.send(future.result())
            self.link.send(Credit(slots=1))
            self.stats["batches"] += 1
        self._running = still
