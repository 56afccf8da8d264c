"""Test helpers for the devices tests: records, images, a simulator in a thread, a worker loop."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from factory.config import Config
from factory.devices.simulator import Simulator, SimulatorSettings
from factory.records import Application, bind_document, parse_application

SERIAL_PREFIX = {"passport": "E", "hk_macau_permit": "C", "taiwan_permit": "L", "residence_permit": "R",
                 "hmt_residence_permit": "H"}
_SURNAMES = ["王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "欧阳", "司马"]
_GIVEN = ["晓明", "未", "伟", "芳", "秀英", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "艳", "勇", "杰"]


def record_json(index: int, doc_type: str = "passport", *, image_dir: Path | None = None) -> dict[str, Any]:
    """A valid, unbound application record; varied names and birth dates, deterministic per index."""
    base = str(image_dir) if image_dir is not None else "/nonexistent"
    return {
        "application_id": f"T{index:06d}",
        "doc_type": doc_type,
        "service_class": "normal",
        "accepted_at": "2026-03-02T09:15:00+08:00",
        "acceptance_point": "历下分局",
        "surname_cn": _SURNAMES[index % len(_SURNAMES)],
        "given_name_cn": _GIVEN[(index * 7) % len(_GIVEN)],
        "sex": "MF"[index % 2],
        "date_of_birth": (dt.date(1950, 1, 1) + dt.timedelta(days=(index * 377) % 24000)).isoformat(),
        "place_of_birth": "山东",
        "photo": f"{base}/photo_{index % 4}.png",
        "signature": f"{base}/signature_{index % 4}.png",
        "delivery": "pickup",
    }


def bound_record(config: Config, index: int, doc_type: str = "passport") -> Application:
    app = parse_application(record_json(index, doc_type), config)
    serial = f"{SERIAL_PREFIX[doc_type]}{10_000_000 + index * 7919 % 89_999_999:08d}"
    return bind_document(app, serial, dt.date(2026, 3, 5), config)


def photo(seed: int) -> np.ndarray:
    """A portrait-like ``(567, 390, 3) uint8`` BGR image: a face ellipse on a light background."""
    rng = np.random.default_rng(seed)
    image = np.full((567, 390, 3), 215, np.uint8)
    image[:] = rng.integers(190, 235, 3)
    skin = tuple(int(v) for v in rng.integers(120, 200, 3))
    cv2.ellipse(image, (195, 250), (110, 145), 0, 0, 360, skin, -1)
    cv2.ellipse(image, (195, 150), (120, 80), 0, 180, 360, (30, 30, 40), -1)
    for x in (155, 235):
        cv2.circle(image, (x, 240), 12, (40, 30, 30), -1)
    cv2.line(image, (165, 340), (225, 340), (60, 60, 150), 6)
    return cv2.GaussianBlur(image, (0, 0), 1.5)


def signature(seed: int) -> np.ndarray:
    """A ``(160, 480) uint8`` grey signature: dark strokes on white."""
    rng = np.random.default_rng(seed)
    image = np.full((160, 480), 255, np.uint8)
    points = np.cumsum(rng.integers(-25, 26, (30, 2)), axis=0) + (60, 80)
    points[:, 0] = np.linspace(30, 440, 30)
    cv2.polylines(image, [points.astype(np.int32)], False, 20, 4, cv2.LINE_AA)
    return image


def write_images(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for i in range(4):
        cv2.imwrite(str(directory / f"photo_{i}.png"), photo(i))
        cv2.imwrite(str(directory / f"signature_{i}.png"), signature(i))
    return directory


@contextmanager
def running(settings: SimulatorSettings, config: Config, **kwargs: Any) -> Iterator[tuple[Simulator, str]]:
    """A simulator serving in a thread of this process on 127.0.0.1; stopped on exit."""
    simulator = Simulator(settings, config, **kwargs)
    stop, ready = threading.Event(), threading.Event()
    endpoints: list[str] = []
    thread = threading.Thread(target=simulator.serve, args=(stop, lambda e: (endpoints.append(e), ready.set())),
                              daemon=True)
    thread.start()
    assert ready.wait(10), "simulator did not start"
    try:
        yield simulator, endpoints[0]
    finally:
        stop.set()
        thread.join(10)
        assert not thread.is_alive(), "simulator did not stop"
