"""Fixtures of the devices tests: one render kit per session (immutable, ~0.3 s to build)."""

from __future__ import annotations

import pytest

from factory.config import Config
from factory.devices.render import RenderKit, build_render_kit


@pytest.fixture(scope="session")
def kit(config: Config) -> RenderKit:
    return build_render_kit(config.documents)
