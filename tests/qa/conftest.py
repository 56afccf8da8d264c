"""Fixtures of the QA tests: kits built once and a seeded batch of generated applicants (helpers in qa_helpers)."""

from __future__ import annotations

import pytest
from qa_helpers import Applicant, make_applicants

from factory.config import Config
from factory.devices.render import RenderKit, build_render_kit
from factory.qa.intake import IntakeKit, build_intake_kit
from factory.qa.printed import QaKit, build_qa_kit
from factory.samples import SignatureWriter


@pytest.fixture(scope="session")
def render_kit(config: Config) -> RenderKit:
    return build_render_kit(config.documents)


@pytest.fixture(scope="session")
def qa_kit(render_kit: RenderKit, config: Config) -> QaKit:
    return build_qa_kit(render_kit, config.documents)


@pytest.fixture(scope="session")
def intake_kit() -> IntakeKit:
    return build_intake_kit()


@pytest.fixture(scope="session")
def writer() -> SignatureWriter:
    return SignatureWriter()


@pytest.fixture(scope="session")
def applicants(config: Config, writer: SignatureWriter) -> list[Applicant]:
    """Twelve applicants: passports, both permits and a residence permit (no MRZ)."""
    mixed = make_applicants(config, 8, 5, writer=writer)
    extra = make_applicants(config, 1, 6, doc_types=("residence_permit",), writer=writer)
    extra += make_applicants(config, 1, 7, doc_types=("taiwan_permit",), writer=writer)
    extra += make_applicants(config, 2, 8, doc_types=("passport",), writer=writer)
    return mixed + extra
