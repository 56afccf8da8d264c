"""The vectorized QA stage: checks before printing and after printing.

Owns: one module per family of checks (MRZ read-back, visual zone, photo,
signature, print quality) and the verdicts that combine them. Batches of
pages in, one verdict per check per document out.

- ``check_intake(records, photos, signatures, kit)``: before printing, the
  portrait's compliance and the signature against the name
  (``INTAKE_CHECKS``); ``build_intake_kit()`` once per process.
- ``check_printed(records, pages, photos, signatures, kit)``: after printing,
  every page against its record (``PRINTED_CHECKS``); ``build_qa_kit(render_kit,
  documents)`` once per process.
- Both return a ``BatchVerdict``: per check an ``(n,)`` ``ok`` and ``value``
  array, a threshold and a zone; ``.flagged`` and ``.for_document(i)``.

Pure: imports ``factory.errors``, ``factory.records``, ``factory.config``,
``factory.mrz``, ``factory.devices.layout``/``render``, numpy, OpenCV and
Pillow; reads only its own data files and fonts when a kit is built. No
sockets, no SQLite, no clock. The one exception, ``second_opinion``
(tesseract in a subprocess), is passed in by the shell and never runs on the
hot path.
"""

from factory.qa.faces import FaceDetector
from factory.qa.intake import (
    INTAKE_CHECKS,
    REVIEW_CHECKS,
    IntakeKit,
    build_intake_kit,
    check_intake,
    intake_outcome,
    return_form,
)
from factory.qa.lookalikes import LookalikeTable, load_lookalikes
from factory.qa.mrz_reader import MrzReadout, MrzTemplates, build_mrz_templates, mrz_zones, read_mrz
from factory.qa.printed import PRINTED_CHECKS, PrintedThresholds, QaKit, build_qa_kit, check_printed
from factory.qa.verdicts import BatchVerdict, Check, make_check, merge_verdicts

__all__ = [
    "BatchVerdict",
    "Check",
    "FaceDetector",
    "INTAKE_CHECKS",
    "REVIEW_CHECKS",
    "IntakeKit",
    "LookalikeTable",
    "MrzReadout",
    "MrzTemplates",
    "PRINTED_CHECKS",
    "PrintedThresholds",
    "QaKit",
    "build_intake_kit",
    "build_mrz_templates",
    "build_qa_kit",
    "check_intake",
    "check_printed",
    "intake_outcome",
    "load_lookalikes",
    "make_check",
    "merge_verdicts",
    "mrz_zones",
    "read_mrz",
    "return_form",
]
