"""Before printing: is an application fit to print? (No blank is spent on one that is not.)

``check_intake(records, photos, signatures, kit)`` runs the portrait checks
(``factory.qa.photo``) and the signature-against-name checks
(``factory.qa.signature``) over a batch and returns one ``BatchVerdict``
(``INTAKE_CHECKS``). A flagged application goes back to its acceptance point
with the reasons (``return_form``), not to a printer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from factory.errors import InvalidField
from factory.qa.faces import FaceDetector
from factory.qa.photo import PORTRAIT_LIMITS, check_portraits
from factory.qa.signature import SignatureKit, build_signature_kit, check_signature_name
from factory.qa.verdicts import BatchVerdict

__all__ = ["INTAKE_CHECKS", "REVIEW_CHECKS", "IntakeKit", "build_intake_kit", "check_intake", "intake_outcome",
           "return_form"]

INTAKE_CHECKS: tuple[str, ...] = (
    "photo_face_count",
    *PORTRAIT_LIMITS,
    "signature_present",
    "signature_lookalike",
    "signature_name",
)

REVIEW_CHECKS = frozenset({"signature_lookalike", "signature_name"})
"""Failures a reviewer decides on when ``signature_lookalike`` is among them: the signature matches a
look-alike of a character better than the character (the applicant who signed 哓 for 晓, or one whose hand
makes 晓 look like it), and such a signature also scores low on ``signature_name``. Any other failure
sends the application back to its acceptance point."""


def intake_outcome(failed: Sequence[str]) -> str:
    """``passed``, ``review`` or ``return``, from the names of the failed checks.

    ``review`` when ``signature_lookalike`` failed and nothing outside ``REVIEW_CHECKS`` did.
    """
    names = set(failed)
    if not names:
        return "passed"
    return "review" if "signature_lookalike" in names and names <= REVIEW_CHECKS else "return"


@dataclass(frozen=True, slots=True)
class IntakeKit:
    """The face detector and the signature kit; build once per process with ``build_intake_kit``."""

    detector: FaceDetector
    signatures: SignatureKit


def build_intake_kit() -> IntakeKit:
    """Load the face cascade, the brush font and the look-alike table."""
    return IntakeKit(detector=FaceDetector(), signatures=build_signature_kit())


def check_intake(
    records: Sequence,
    photos: Sequence[np.ndarray | None],
    signatures: Sequence[np.ndarray | None],
    kit: IntakeKit,
) -> BatchVerdict:
    """Check a batch of applications before printing.

    Parameters
    ----------
    records : sequence of Application
        The applications (``surname_cn`` and ``given_name_cn`` are read).
    photos : sequence of np.ndarray or None
        Enrolled portraits, ``(h, w, 3) uint8`` BGR; None for one that could not be read.
    signatures : sequence of np.ndarray or None
        Captured signatures, ``(h, w) uint8`` grey, dark ink on white.
    kit : IntakeKit
        From ``build_intake_kit``.

    Returns
    -------
    BatchVerdict
        The ``INTAKE_CHECKS`` of the ``n`` applications.
    """
    n = len(records)
    for name, values in (("photos", photos), ("signatures", signatures)):
        if len(values) != n:
            raise InvalidField(name, f"must have one entry per record ({n})", len(values))
    checks = check_portraits(photos, kit.detector)
    checks.extend(check_signature_name(signatures, [r.surname_cn + r.given_name_cn for r in records],
                                       kit.signatures))
    return BatchVerdict(checks=tuple(checks), n=n)


def return_form(verdict: BatchVerdict, i: int, record) -> dict[str, Any]:
    """The JSON of application ``i``: the verdict, and where a flagged one goes back to, with the reasons."""
    out = verdict.for_document(i)
    out["outcome"] = intake_outcome(verdict.failed(i))
    if out["verdict"] == "flag":
        out["return_to"] = record.acceptance_point
        out["reasons"] = [c["detail"] for c in out["checks"] if not c["ok"]]
    return out
