import datetime as dt
from collections import Counter

import numpy as np

from factory.qa.faces import FaceDetector
from factory.records import parse_application
from factory.samples import SignatureWriter, generate_applications
from factory.samples.generate import draw_images
from factory.samples.tables import LOOKALIKES

DAY = dt.date(2026, 2, 24)


def test_same_seed_same_applications_and_different_seed_differs(config):
    first = generate_applications(200, 5, config, day=DAY)
    again = generate_applications(200, 5, config, day=DAY)
    other = generate_applications(200, 6, config, day=DAY)
    assert [s.record for s in first] == [s.record for s in again]
    assert [s.record for s in first] != [s.record for s in other]


def test_records_are_valid_and_the_mix_is_realistic(config):
    samples = generate_applications(4000, 12, config, day=DAY)
    apps = [parse_application(s.record, config) for s in samples]
    docs = Counter(a.doc_type for a in apps)
    assert 0.50 < docs["passport"] / len(apps) < 0.60
    assert 0.29 < docs["hk_macau_permit"] / len(apps) < 0.37
    assert 0.07 < docs["taiwan_permit"] / len(apps) < 0.12
    assert docs["residence_permit"] and docs["hmt_residence_permit"]
    classes = Counter(a.service_class for a in apps)
    assert classes["normal"] / len(apps) > 0.9
    assert 0.02 < classes["urgent"] / len(apps) < 0.08
    assert classes["same_day"] and classes["green"]
    ages = np.array([a.age_at_acceptance for a in apps])
    assert ages.min() <= 2 and ages.max() >= 85
    assert len({a.acceptance_point for a in apps}) >= 16
    assert all(8 <= a.accepted_at.hour < 18 for a in apps)
    assert all(a.accepted_at.date() == DAY for a in apps)
    assert len({a.application_id for a in apps}) == len(apps)
    assert any(a.surname_cn == "吕" and a.surname_latin == "LYU" for a in apps)
    assert any("晓" in a.given_name_cn for a in apps)
    assert any(a.free_mail for a in apps)


def test_signature_mistakes_are_look_alikes_recorded_in_truth(config):
    samples = generate_applications(3000, 3, config, day=DAY, signature_error_rate=0.5)
    wrong = [s for s in samples if s.truth]
    assert wrong, "some applicants with a mistakable character sign its look-alike"
    for s in wrong:
        name = s.record["surname_cn"] + s.record["given_name_cn"]
        assert LOOKALIKES[s.truth["expected"]] == s.truth["written"]
        assert s.signed_as[s.truth["position"]] == s.truth["written"]
        assert name[s.truth["position"]] == s.truth["expected"]
    assert all(s.signed_as == s.record["surname_cn"] + s.record["given_name_cn"] for s in samples if not s.truth)
    none = generate_applications(300, 3, config, day=DAY, signature_error_rate=0.0)
    assert not any(s.truth for s in none)


def test_images_come_from_the_applicants_own_seed(config):
    samples = generate_applications(3, 9, config, day=DAY)
    writer, detector = SignatureWriter(), FaceDetector()
    photo_a, signature_a = draw_images(samples[1], writer, detector)
    photo_b, signature_b = draw_images(samples[1], writer, detector)
    photo_c, _ = draw_images(samples[2], writer, detector)
    assert np.array_equal(photo_a, photo_b) and np.array_equal(signature_a, signature_b)
    assert not np.array_equal(photo_a, photo_c)
    assert photo_a.shape == (567, 390, 3) and signature_a.shape == (160, 480)
