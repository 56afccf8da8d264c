"""The pure packages import no sockets, database or web framework (STYLE.md §1)."""

import subprocess
import sys

import pytest

PURE = ["factory.mrz", "factory.scheduler", "factory.qa", "factory.samples", "factory.records", "factory.config",
        "factory.wire"]
FORBIDDEN = ["zmq", "sqlite3", "fastapi", "uvicorn", "starlette"]

_PROBE = """
import importlib, pkgutil, sys
package = importlib.import_module({name!r})
if hasattr(package, "__path__"):
    for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        importlib.import_module(info.name)
print(",".join(m for m in {forbidden!r} if m in sys.modules))
"""


@pytest.mark.parametrize("name", PURE)
def test_pure_package_imports_no_io_frameworks(name):
    result = subprocess.run(
        [sys.executable, "-c", _PROBE.format(name=name, forbidden=FORBIDDEN)],
        capture_output=True, text=True, check=True,
    )
    assert result.stdout.strip() == "", f"{name} pulls in {result.stdout.strip()}"


@pytest.mark.parametrize("name", ["factory.mrz", "factory.scheduler", "factory.devices", "factory.qa", "factory.samples",
                                  "factory.ledger", "factory.wire", "factory.pipeline", "factory.panel",
                                  "factory.metrics", "factory.demo"])
def test_every_package_says_what_it_owns(name):
    import importlib

    package = importlib.import_module(name)
    assert package.__doc__ and "import" in package.__doc__.lower() and len(package.__doc__) > 120
