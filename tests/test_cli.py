import re
import sqlite3
import subprocess
import sys

import pytest

from factory.cli import build_parser, main


def test_every_command_is_discovered():
    commands = build_parser()._subparsers._group_actions[0].choices
    assert {"sample", "demo"} <= set(commands)


def test_a_named_command_imports_only_its_own_module():
    # A fresh interpreter: the line's processes pay for every import at start-up.
    probe = ("import sys; from factory.cli import build_parser; "
             "build_parser('worker').parse_args(['worker', '--machine', 'B01', '--device', 'tcp://127.0.0.1:1']); "
             "print(sorted(m for m in sys.modules if m.startswith('factory.commands.')))")
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "['factory.commands.worker']"


def test_a_command_registered_by_another_module_still_parses():
    # ``users`` is registered by factory/commands/panel.py: the full parser is built for it.
    choices = build_parser("users")._subparsers._group_actions[0].choices
    assert {"users", "sample", "demo"} <= set(choices)
    assert set(build_parser("device-sim")._subparsers._group_actions[0].choices) == {"device-sim"}


def test_unknown_command_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as caught:
        main(["no-such-command"])
    assert caught.value.code == 2


@pytest.mark.slow
@pytest.mark.integration
def test_demo_runs_the_whole_line_and_ends_with_a_clean_audit(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "factory.cli", "demo", "--count", "80", "--batch", "40", "--out",
         str(tmp_path / "demo"), "--no-prometheus", "--panel-port", "-1", "--speed", "2000", "--timeout", "240"],
        capture_output=True, text=True, timeout=400,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    out = result.stdout
    assert "8 printers (B01, B02, B03, B04, B05, C01, C02, C03), 2 QA workers" in out
    assert "applications 80:" in out
    assert "documents printed" in out and "clean pages flagged:" in out
    assert "deadlines met" in out and "overtime used:" in out
    assert out.rstrip().endswith("audit clean")
    assert (tmp_path / "demo" / "ledger.db").exists()
    # The last progress line counts the blanks voided so far, as the summary does.
    last_progress = [line for line in out.splitlines() if "| spoiled " in line][-1]
    spoiled_shown = int(re.search(r"\| spoiled ([\d,]+)", last_progress).group(1).replace(",", ""))
    voided = sqlite3.connect(tmp_path / "demo" / "ledger.db").execute(
        "SELECT COUNT(*) FROM blanks WHERE state = 'voided'").fetchone()[0]
    assert spoiled_shown == voided
