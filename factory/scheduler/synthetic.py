"""Seeded synthetic queues for benchmarks, property tests and peak rehearsals.

Pure: the random generator is passed in, nothing is read or written.
``synthetic_queue`` gives the compact array form directly (a million rows in
milliseconds); ``peak_application_rows`` gives JSON-ready application records
accepted over the working days before ``today`` (e.g. the backlog on the first
day after the Spring Festival), for ``factory plan``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np

from factory.config import POOLS, Config
from factory.scheduler.calendar import WorkingCalendar, next_working_day_index, working_day_at
from factory.scheduler.queue import QueueArrays, queue_arrays

__all__ = ["CLASS_SHARES", "DOCUMENT_SHARES", "synthetic_queue", "peak_application_rows"]

CLASS_SHARES = {"green": 0.005, "same_day": 0.02, "urgent": 0.075, "normal": 0.90}
"""Share of applications per service class (assumed; the seeds give ~2,000 green a year of ~4 M)."""
DOCUMENT_SHARES = {
    "passport": 0.55,
    "hk_macau_permit": 0.33,
    "taiwan_permit": 0.08,
    "residence_permit": 0.03,
    "hmt_residence_permit": 0.01,
}
"""Share per document type (assumed, after the research notes' 55/35/10 peak backlog)."""

_SURNAMES = (("王", "WANG"), ("李", "LI"), ("张", "ZHANG"), ("刘", "LIU"), ("陈", "CHEN"), ("杨", "YANG"), ("黄", "HUANG"), ("赵", "ZHAO"))
_GIVEN = (("晓明", "XIAOMING"), ("丽", "LI"), ("伟", "WEI"), ("芳", "FANG"), ("静", "JING"), ("强", "QIANG"), ("磊", "LEI"), ("婷", "TING"))
_PLACES = ("广东", "浙江", "四川", "江苏", "山东", "河南")


def synthetic_queue(
    rng: np.random.Generator,
    n: int,
    *,
    days: int,
    pool_shares: Sequence[float] = (0.55, 0.45),
    class_shares: Sequence[float] = (0.005, 0.02, 0.075, 0.90),
    overdue_share: float = 0.0,
) -> QueueArrays:
    """A random queue in array form: deadlines over ``days`` plan days.

    Parameters
    ----------
    rng : numpy.random.Generator
    n : int
        Rows.
    days : int
        Deadlines fall on days ``0 .. days - 1`` (green and same day on day 0,
        urgent on 0-1), plus ``overdue_share`` on day -1.
    pool_shares, class_shares : sequences of float
        Shares per pool (``POOLS`` order) and per class rank.
    """
    pool = rng.choice(len(pool_shares), size=n, p=np.asarray(pool_shares) / np.sum(pool_shares))
    priority = rng.choice(len(class_shares), size=n, p=np.asarray(class_shares) / np.sum(class_shares))
    deadline = rng.integers(0, days, size=n)
    deadline = np.where(priority <= 1, 0, deadline)
    deadline = np.where(priority == 2, np.minimum(deadline, 1), deadline)
    if overdue_share > 0:
        deadline = np.where(rng.random(n) < overdue_share, -1, deadline)
    accepted = 1_767_225_600 + rng.integers(0, 7 * 86_400, size=n)  # a week from 2026-01-01 UTC
    return queue_arrays(deadline, priority, pool, accepted, np.minimum(deadline, 0) - 5, pools=POOLS)


def peak_application_rows(
    rng: np.random.Generator,
    config: Config,
    cal: WorkingCalendar,
    *,
    today: dt.date,
    count: int,
    backlog_days: int = 3,
    mail_share: float = 0.2,
) -> list[dict[str, str]]:
    """``count`` application records accepted over the ``backlog_days`` working days before ``today``.

    Normal applications spread evenly over those days (08:30-17:30 local, so
    some after the cut-off); urgent, same-day and green ones were taken this
    morning (08:00-09:00, before the plan is made) and are picked up at the
    centre. Records are valid
    for ``parse_application``; ids are ``P0000001``...

    Raises
    ------
    CalendarNotCovered
        When the days before ``today`` are not covered.
    """
    tz = config.line.tz
    first_today = int(next_working_day_index(cal, np.array([today.toordinal()]))[0])
    recent = working_day_at(cal, np.arange(first_today - backlog_days, first_today))
    days = [dt.date.fromordinal(int(o)) for o in recent]
    doc_names = [d for d in DOCUMENT_SHARES if d in config.documents]
    doc_p = np.array([DOCUMENT_SHARES[d] for d in doc_names])
    doc_pick = rng.choice(len(doc_names), size=count, p=doc_p / doc_p.sum())
    class_names = list(CLASS_SHARES)
    class_p = np.array([CLASS_SHARES[c] for c in class_names])
    class_pick = rng.choice(len(class_names), size=count, p=class_p / class_p.sum())
    day_pick = rng.integers(0, len(days), size=count)
    minute = rng.integers(8 * 60 + 30, 17 * 60 + 30, size=count)
    second = rng.integers(0, 60, size=count)
    mail = rng.random(count) < mail_share
    surname = rng.integers(0, len(_SURNAMES), size=count)
    given = rng.integers(0, len(_GIVEN), size=count)
    born = rng.integers(dt.date(1950, 1, 1).toordinal(), dt.date(2015, 1, 1).toordinal(), size=count)
    rows = []
    for i in range(count):
        doc = config.documents[doc_names[doc_pick[i]]]
        service = class_names[class_pick[i]]
        if service not in doc.service_classes:
            service = "normal"
        express = service != "normal"
        if express:  # taken this morning, before the plan is made
            at = dt.time(8, int(minute[i]) % 60, int(second[i]))
            accepted = dt.datetime.combine(today, at, tzinfo=tz)
        else:
            at = dt.time(int(minute[i]) // 60, int(minute[i]) % 60, int(second[i]))
            accepted = dt.datetime.combine(days[day_pick[i]], at, tzinfo=tz)
        row = {
            "application_id": f"P{i + 1:07d}",
            "doc_type": doc.name,
            "service_class": service,
            "accepted_at": accepted.isoformat(),
            "acceptance_point": f"AP{int(rng.integers(1, 40)):03d}",
            "surname_cn": _SURNAMES[surname[i]][0],
            "given_name_cn": _GIVEN[given[i]][0],
            "surname_latin": _SURNAMES[surname[i]][1],
            "given_name_latin": _GIVEN[given[i]][1],
            "sex": "FM"[i % 2],
            "date_of_birth": dt.date.fromordinal(int(born[i])).isoformat(),
            "place_of_birth": _PLACES[i % len(_PLACES)],
            "photo": f"photos/P{i + 1:07d}.png",
            "signature": f"signatures/P{i + 1:07d}.png",
            "delivery": "mail" if mail[i] and not express else "pickup",
        }
        if row["delivery"] == "mail":
            row["mail_address"] = "广东省广州市天河区体育西路1号"
        rows.append(row)
    return rows
