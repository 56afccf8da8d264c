import subprocess
import sys

import pytest

from factory.cli import build_parser, main


def test_every_command_is_discovered():
    commands = build_parser()._subparsers._group_actions[0].choices
    assert {"sample", "demo"} <= set(commands)


def test_unknown_command_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as caught:
        main(["no-such-command"])
    assert caught.value.code == 2


@pytest.mark.integration
def test_demo_generates_a_day_and_prints_a_summary(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "factory.cli", "demo", "--count", "40", "--out", str(tmp_path / "demo")],
        capture_output=True, text=True, check=True,
    )
    assert "40 applications" in result.stdout
    assert "peak: spring_festival" in result.stdout
    assert "booklet line: 14 machines" in result.stdout
    assert len(list((tmp_path / "demo" / "photos").iterdir())) == 40
