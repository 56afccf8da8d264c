"""Helpers of the QA tests: generated applicants bound to blanks, pages printed the way the simulated
printer prints them (``factory.devices.defects``), pages with a field changed."""

from __future__ import annotations

import dataclasses
import datetime as dt
from types import MappingProxyType

import numpy as np

from factory.config import Config
from factory.devices.defects import Neighbour, print_page
from factory.devices.render import RenderKit, page_content, render_content
from factory.mrz import encode_record
from factory.qa.faces import FaceDetector
from factory.records import Application, bind_document, parse_application
from factory.samples import SignatureWriter, generate_applications
from factory.samples.generate import draw_images

DAY = dt.date(2026, 2, 24)
ISSUE = dt.date(2026, 3, 2)


@dataclasses.dataclass(frozen=True)
class Applicant:
    record: Application
    """Bound to its blank."""
    photo: np.ndarray
    signature: np.ndarray


def make_applicants(config: Config, count: int, seed: int, *, doc_types: tuple[str, ...] | None = None,
                    writer: SignatureWriter | None = None) -> list[Applicant]:
    """``count`` generated applicants (of ``doc_types`` when given), bound to blanks."""
    writer = writer or SignatureWriter()
    detector = FaceDetector()
    out = []
    pool = generate_applications(count * 400 if doc_types else count, seed, config, day=DAY,
                                 signature_error_rate=0.0)
    for index, sample in enumerate(pool):
        if doc_types and sample.record["doc_type"] not in doc_types:
            continue
        record = parse_application(sample.record, config)
        prefix = config.documents[record.doc_type].serial_prefix
        record = bind_document(record, f"{prefix}{(seed * 7919 + index * 104729) % 10**8:08d}", ISSUE, config)
        photo, signature = draw_images(sample, writer, detector)
        out.append(Applicant(record, photo, signature))
        if len(out) == count:
            break
    return out


def clean_page(applicant: Applicant, kit: RenderKit) -> np.ndarray:
    record = applicant.record
    return render_content(page_content(record, applicant.photo, applicant.signature, encode_record(record)), kit)


def defective_page(applicants: list[Applicant], i: int, kind: str, kit: RenderKit, seed: int = 0):
    """Page ``i`` printed with one defect of ``kind`` by the simulated printer's defect model."""
    a = applicants[i]
    rng = np.random.default_rng((seed, i))
    neighbours = [Neighbour(b.record.application_id, b.photo, b.signature) for j, b in enumerate(applicants)
                  if j != i and b.record.doc_type == a.record.doc_type][:3]
    content = page_content(a.record, a.photo, a.signature, encode_record(a.record))
    return print_page(content, [kind], kit, rng, neighbours=neighbours)


def page_with_texts(applicant: Applicant, kit: RenderKit, *, texts: dict | None = None,
                    mrz_lines: tuple[str, ...] | None = None, photo: np.ndarray | None = None) -> np.ndarray:
    """A page printed with some fields changed (what a misprint looks like)."""
    record = applicant.record
    content = page_content(record, applicant.photo if photo is None else photo, applicant.signature,
                           encode_record(record) if mrz_lines is None else mrz_lines)
    if texts:
        content = dataclasses.replace(content, texts=MappingProxyType({**content.texts, **texts}))
    return render_content(content, kit)
