import hashlib
import json
import subprocess
import sys

import cv2
import numpy as np
import pytest

from factory.qa.faces import FaceDetector
from factory.records import parse_application


@pytest.mark.slow
@pytest.mark.integration
def test_a_thousand_applications_with_one_face_each_and_distinct_photos(tmp_path, config):
    out = tmp_path / "s"
    result = subprocess.run(
        [sys.executable, "-m", "factory.cli", "sample", "--count", "1000", "--seed", "7", "--out", str(out)],
        capture_output=True, text=True, check=True,
    )
    assert "1000 applications" in result.stdout
    rows = [json.loads(line) for line in (out / "applications.jsonl").read_text().splitlines()]
    assert len(rows) == 1000
    apps = [parse_application(row, config, where=f"row {i}") for i, row in enumerate(rows, 1)]
    detector = FaceDetector()
    digests = set()
    for app in apps:
        photo = cv2.imread(app.photo)
        assert photo is not None and photo.shape[:2] == (567, 390)
        assert len(detector.detect(photo)) == 1, app.photo
        digests.add(hashlib.sha256(photo.tobytes()).hexdigest())
        signature = cv2.imread(app.signature, cv2.IMREAD_GRAYSCALE)
        assert signature is not None and (signature < 128).any()
    assert len(digests) == 1000


@pytest.mark.integration
def test_records_only_and_determinism(tmp_path):
    args = [sys.executable, "-m", "factory.cli", "sample", "--count", "50", "--seed", "4", "--no-images"]
    subprocess.run([*args, "--out", str(tmp_path / "a")], check=True, capture_output=True)
    subprocess.run([*args, "--out", str(tmp_path / "b")], check=True, capture_output=True)
    a = [json.loads(x) for x in (tmp_path / "a" / "applications.jsonl").read_text().splitlines()]
    b = [json.loads(x) for x in (tmp_path / "b" / "applications.jsonl").read_text().splitlines()]
    for row in a + b:  # the paths name each output directory; everything else must match
        row.pop("photo"), row.pop("signature")
    assert a == b and len(a) == 50
    assert not (tmp_path / "a" / "photos").exists()


@pytest.mark.integration
def test_images_are_the_same_for_the_same_seed_in_any_worker_count(tmp_path):
    base = [sys.executable, "-m", "factory.cli", "sample", "--count", "6", "--seed", "8"]
    subprocess.run([*base, "--out", str(tmp_path / "one"), "--workers", "1"], check=True, capture_output=True)
    subprocess.run([*base, "--out", str(tmp_path / "two"), "--workers", "2"], check=True, capture_output=True)
    for path in (tmp_path / "one" / "photos").iterdir():
        other = tmp_path / "two" / "photos" / path.name
        assert np.array_equal(cv2.imread(str(path)), cv2.imread(str(other)))
