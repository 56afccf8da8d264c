"""The panel's public names, its layering, and the ``factory users`` command."""

from __future__ import annotations

import subprocess
import sys

import factory.panel
from factory.cli import main
from factory.panel import LedgerLine, LineControl


def test_public_names_and_docstring():
    assert sorted(factory.panel.__all__) == sorted(set(factory.panel.__all__))
    for name in factory.panel.__all__:
        assert hasattr(factory.panel, name), name
    assert "import" in factory.panel.__doc__ and "LineControl" in factory.panel.__doc__


def test_ledger_line_is_a_line_control(world):
    assert isinstance(LedgerLine(world.config, world.ledger, clock=world.clock), LineControl)


def test_the_panel_never_imports_zmq():
    probe = "import sys, factory.panel; print('zmq' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.strip() == "False"


def test_users_command_adds_lists_and_refuses_bad_input(tmp_path, monkeypatch, capsys):
    ledger = str(tmp_path / "ledger.sqlite")
    monkeypatch.setenv("FACTORY_PANEL_PASSWORD", "a long enough one")
    assert main(["users", "--ledger", ledger, "add", "li.na", "--role", "supervisor"]) == 0
    assert main(["users", "--ledger", ledger, "add", "li.na", "--role", "reviewer"]) == 2
    assert "name: is already a user" in capsys.readouterr().err
    monkeypatch.setenv("FACTORY_PANEL_PASSWORD", "short")
    assert main(["users", "--ledger", ledger, "add", "bo", "--role", "operator"]) == 2
    assert "password: must be at least 8 characters" in capsys.readouterr().err
    assert main(["users", "--ledger", ledger, "role", "li.na", "reviewer"]) == 0
    assert main(["users", "--ledger", ledger, "list"]) == 0
    out = capsys.readouterr().out
    assert "li.na" in out and "reviewer" in out
