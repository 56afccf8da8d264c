"""Fixtures shared by every test: the shipped configuration, loaded once."""

from __future__ import annotations

import pytest

from factory.config import Config, load_config


@pytest.fixture(scope="session")
def config() -> Config:
    return load_config()


@pytest.fixture()
def valid_record() -> dict:
    """A complete, valid application record (JSON form)."""
    return {
        "application_id": "A20260224-000001",
        "doc_type": "passport",
        "service_class": "normal",
        "accepted_at": "2026-02-24T09:15:00+08:00",
        "acceptance_point": "历下分局科院路派出所",
        "surname_cn": "吕",
        "given_name_cn": "晓明",
        "sex": "M",
        "date_of_birth": "1985-03-20",
        "place_of_birth": "山东",
        "nationality": "CHN",
        "photo": "/tmp/photos/A20260224-000001.png",
        "signature": "/tmp/signatures/A20260224-000001.png",
        "delivery": "pickup",
    }
