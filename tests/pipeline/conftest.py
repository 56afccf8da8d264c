"""The ``line`` fixture: a fresh set of real processes per test, all killed at the end."""

from __future__ import annotations

import pytest

from pipeline_line import Line


@pytest.fixture()
def line(tmp_path):
    built = Line(tmp_path)
    try:
        yield built
    finally:
        built.stop_all()
