"""A seeded day of realistic applications: who applies, for what, when and where.

``generate_applications`` draws the records (cheap, pure); ``draw_images``
draws one applicant's photo and signature from that applicant's own seed, so
images can be made in any order or in parallel and still be the same for a
seed. Rare, realistic mistakes (a look-alike character signed for one of
the name's) are recorded in ``SampleApplication.truth``, which evaluation
tools read and the QA stage never does.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import numpy as np

from factory.config import Config
from factory.qa.faces import FaceDetector
from factory.samples import tables
from factory.samples.portraits import draw_portrait
from factory.samples.signatures import SignatureWriter

__all__ = [
    "DOC_TYPE_MIX",
    "SERVICE_CLASS_MIX",
    "SampleApplication",
    "generate_applications",
    "draw_images",
]

DOC_TYPE_MIX: dict[str, float] = {
    "passport": 0.55,
    "hk_macau_permit": 0.33,
    "taiwan_permit": 0.09,
    "residence_permit": 0.02,
    "hmt_residence_permit": 0.01,
}
"""Seeds/research: ~55 % passports, 35 % HK/Macau, 10 % Taiwan, plus residence permits."""

SERVICE_CLASS_MIX: dict[str, float] = {"normal": 0.945, "urgent": 0.045, "same_day": 0.0085, "green": 0.0015}
"""Mostly normal; a few percent urgent; green ~2,000 a year of ~4 M (0.05 %) plus emergencies at peak."""

# Age brackets (lowest, highest, weight): travellers are mostly of working age,
# children travel with families, and the 65+ get free mail.
_AGE_BRACKETS = ((0, 5, 4), (6, 15, 8), (16, 29, 25), (30, 49, 33), (50, 64, 20), (65, 90, 10))
_MAX_FACE_TRIES = 50


@dataclass(frozen=True, slots=True)
class SampleApplication:
    record: dict
    """The application record's JSON form (photo and signature paths included)."""
    image_seed: tuple[int, int]
    """Seed of this applicant's images: (generator seed, index)."""
    signed_as: str
    """What the applicant actually wrote as signature (the name, or a mistake)."""
    truth: dict = field(default_factory=dict)


def _weighted(rng: np.random.Generator, table: Sequence[tuple[str, float]]) -> str:
    names = [n for n, _ in table]
    weights = np.array([w for _, w in table], float)
    return names[int(rng.choice(len(names), p=weights / weights.sum()))]


def _given_name(rng: np.random.Generator, sex: str) -> str:
    pool = (tables.GIVEN_CHARS_F if sex == "F" else tables.GIVEN_CHARS_M) + tables.GIVEN_CHARS_ANY
    length = 1 if rng.random() < 0.25 else 2
    chars = rng.choice(len(pool), size=length, replace=False)
    return "".join(pool[i] for i in chars)


def _age(rng: np.random.Generator) -> int:
    weights = np.array([w for *_, w in _AGE_BRACKETS], float)
    low, high, _ = _AGE_BRACKETS[int(rng.choice(len(_AGE_BRACKETS), p=weights / weights.sum()))]
    return int(rng.integers(low, high + 1))


def _accepted_at(rng: np.random.Generator, day: dt.date, tz: ZoneInfo) -> dt.datetime:
    # Office hours 08:30-12:00 and 13:30-17:30, busier in the morning.
    if rng.random() < 0.55:
        minutes = rng.uniform(8.5 * 60, 12 * 60)
    else:
        minutes = rng.uniform(13.5 * 60, 17.5 * 60)
    start = dt.datetime.combine(day, dt.time(0, 0), tzinfo=tz)
    return start + dt.timedelta(minutes=float(minutes), seconds=int(rng.integers(0, 60)))


def generate_applications(
    count: int,
    seed: int,
    config: Config,
    *,
    day: dt.date,
    image_dir: str = "",
    signature_error_rate: float = 0.02,
    id_prefix: str = "A",
) -> list[SampleApplication]:
    """Draw ``count`` applications accepted on ``day``.

    Parameters
    ----------
    count : int
        Number of applications.
    seed : int
        The same seed gives the same applications (and images).
    config : Config
        Document types and service classes offered.
    day : date
        Acceptance day; times fall in office hours in the line's time zone.
    image_dir : str
        Directory the photo and signature paths point into (``photos/``,
        ``signatures/`` below it).
    signature_error_rate : float
        Share of the applicants whose name holds a character with a common
        look-alike (晓/哓, 未/末 ...) who sign the look-alike instead.

    Returns
    -------
    list[SampleApplication]
    """
    if count < 0:
        raise ValueError("count must not be negative")
    rng = np.random.default_rng(seed)
    tz = config.line.tz
    doc_types = [d for d in DOC_TYPE_MIX if d in config.documents]
    doc_weights = np.array([DOC_TYPE_MIX[d] for d in doc_types])
    doc_weights /= doc_weights.sum()
    base = image_dir.rstrip("/")
    samples = []
    for index in range(count):
        doc_type = doc_types[int(rng.choice(len(doc_types), p=doc_weights))]
        offered = [c for c in SERVICE_CLASS_MIX if c in config.documents[doc_type].service_classes]
        class_weights = np.array([SERVICE_CLASS_MIX[c] for c in offered])
        service_class = offered[int(rng.choice(len(offered), p=class_weights / class_weights.sum()))]
        sex = "F" if rng.random() < 0.5 else "M"
        surname = _weighted(rng, tables.SURNAMES)
        given = _given_name(rng, sex)
        age = _age(rng)
        born = day - dt.timedelta(days=int(age * 365.25 + rng.integers(0, 365)))
        accepted = _accepted_at(rng, day, tz)
        mail = rng.random() < (0.4 if age >= 65 else 0.15)
        application_id = f"{id_prefix}{day:%Y%m%d}-{index:06d}"
        record = {
            "application_id": application_id,
            "doc_type": doc_type,
            "service_class": service_class,
            "accepted_at": accepted.isoformat(),
            "acceptance_point": tables.ACCEPTANCE_POINTS[int(rng.integers(0, len(tables.ACCEPTANCE_POINTS)))],
            "surname_cn": surname,
            "given_name_cn": given,
            "sex": sex,
            "date_of_birth": born.isoformat(),
            "place_of_birth": _weighted(rng, tables.PLACES_OF_BIRTH),
            "nationality": "CHN",
            "photo": f"{base}/photos/{application_id}.png" if base else f"photos/{application_id}.png",
            "signature": f"{base}/signatures/{application_id}.png" if base else f"signatures/{application_id}.png",
            "delivery": "mail" if mail else "pickup",
        }
        if mail:
            city = tables.CITIES[int(rng.integers(0, len(tables.CITIES)))]
            street = tables.STREETS[int(rng.integers(0, len(tables.STREETS)))]
            record["mail_address"] = f"山东省{city}{street}{int(rng.integers(1, 999))}号"
        name = surname + given
        signed_as, truth = name, {}
        mistakable = [i for i, ch in enumerate(name) if ch in tables.LOOKALIKES]
        if mistakable and rng.random() < signature_error_rate:
            at = mistakable[int(rng.integers(0, len(mistakable)))]
            wrong = tables.LOOKALIKES[name[at]]
            signed_as = name[:at] + wrong + name[at + 1:]
            truth = {"defect": "signature_lookalike", "position": at, "expected": name[at], "written": wrong}
        samples.append(SampleApplication(record=record, image_seed=(seed, index), signed_as=signed_as, truth=truth))
    return samples


def draw_images(
    sample: SampleApplication, writer: SignatureWriter, detector: FaceDetector
) -> tuple[np.ndarray, np.ndarray]:
    """The applicant's portrait (BGR) and signature (grey), from the applicant's own seed.

    The portrait is redrawn (from the same seeded stream) until the detector
    finds exactly one face in it, so every generated photo passes that check.
    """
    rng = np.random.default_rng(sample.image_seed)
    for _ in range(_MAX_FACE_TRIES):
        photo = draw_portrait(rng)
        if len(detector.detect(photo)) == 1:
            break
    else:  # pragma: no cover - the drawing is built to be found; this guards a regression
        raise RuntimeError(f"no detectable portrait for {sample.record['application_id']}")
    return photo, writer.write(sample.signed_as, rng)
