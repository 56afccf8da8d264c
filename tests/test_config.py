import copy
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from factory.config import SECTIONS, default_config_dir, load_config, parse_config, parse_section
from factory.errors import ConfigError


def shipped_sections() -> dict:
    base = default_config_dir()
    return {name: tomllib.loads((base / f"{name}.toml").read_text()) for name in SECTIONS}


def test_shipped_configuration_loads(config):
    assert set(config.documents) == {
        "passport", "hk_macau_permit", "taiwan_permit", "residence_permit", "hmt_residence_permit"
    }
    assert config.documents["passport"].pool == "booklet"
    assert config.documents["hk_macau_permit"].mrz_code == "CS"
    assert config.documents["taiwan_permit"].mrz_code == "CD"
    assert config.documents["passport"].time_limit_working_days["normal"] == 7
    assert config.documents["passport"].time_limit_working_days["urgent"] == 2
    assert config.documents["residence_permit"].time_limit_working_days["normal"] == 10
    assert config.documents["hmt_residence_permit"].time_limit_working_days["normal"] == 20
    assert config.service_classes["green"].wall_clock_hours == 24
    assert [c.name for c in sorted(config.service_classes.values(), key=lambda c: c.priority)] == [
        "green", "same_day", "urgent", "normal"
    ]
    assert config.line.shifts.peak_hours == 14.5
    assert {m.pool for m in config.line.machines} == {"booklet", "card"}
    assert max(p.volume_factor for p in config.seasons.peaks) == 3.0


def test_peak_lookup_wraps_and_prefers_the_biggest(config):
    import datetime as dt

    assert config.seasons.peak_on(dt.date(2026, 2, 17)).name == "spring_festival"
    assert config.seasons.peak_on(dt.date(2026, 3, 31)).name == "spring_festival"
    assert config.seasons.peak_on(dt.date(2026, 4, 1)) is None
    assert config.seasons.peak_on(dt.date(2026, 10, 1)).name == "national_day"


def test_every_problem_is_listed_with_key_and_reason():
    sections = shipped_sections()
    sections["line"]["machines"][2]["pool"] = "envelope"
    sections["line"]["machines"][3]["rated_per_hour"] = -5
    sections["line"]["shifts"]["start"] = "25:00"
    with pytest.raises(ConfigError) as caught:
        parse_config(sections)
    err = caught.value
    assert err.path == "line.toml"
    reasons = {e.field: e.reason for e in err.errors}
    assert reasons["machines[2].pool"] == "must be one of booklet, card"
    assert reasons["machines[3].rated_per_hour"].startswith("must be between")
    assert reasons["shifts.start"] == "must be a time HH:MM"
    assert "line.toml: machines[2].pool: must be one of booklet, card (got 'envelope')" in str(err)


def test_unknown_key_gets_a_did_you_mean_hint():
    with pytest.raises(ConfigError) as caught:
        parse_section("seasons", {"normal_daily_intake": 10, "peeks": []})
    (error,) = caught.value.errors
    assert error.field == "peeks"
    assert "did you mean 'peaks'" in error.reason


def test_cross_file_checks_name_the_file():
    sections = shipped_sections()
    sections["line"]["machines"] = [m for m in sections["line"]["machines"] if m["pool"] == "booklet"]
    with pytest.raises(ConfigError) as caught:
        parse_config(sections)
    assert caught.value.path == "documents.toml"
    assert "hk_macau_permit.pool" in caught.value.fields()


def test_peak_shift_longer_than_the_line_allows_is_refused():
    sections = shipped_sections()
    sections["seasons"]["peaks"][0]["shift_hours"] = 16
    with pytest.raises(ConfigError) as caught:
        parse_config(sections)
    assert caught.value.fields() == ["peaks[0].shift_hours"]


def test_calendar_override_dates_must_fall_in_their_year():
    with pytest.raises(ConfigError) as caught:
        parse_section("calendar", {"years": [{"year": 2027, "complete": True, "holidays": ["2028-01-01"]}]})
    assert caught.value.errors[0].field == "years[0].holidays"


def test_missing_file_and_bad_syntax_name_the_file(tmp_path):
    for name in SECTIONS:
        shutil.copy(default_config_dir() / f"{name}.toml", tmp_path)
    (tmp_path / "seasons.toml").unlink()
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path)
    assert caught.value.path.endswith("seasons.toml")
    shutil.copy(default_config_dir() / "seasons.toml", tmp_path)
    (tmp_path / "line.toml").write_text("timezone = \n")
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path)
    assert caught.value.path.endswith("line.toml")


def test_the_command_line_refuses_to_start_on_a_bad_file(tmp_path):
    for name in SECTIONS:
        shutil.copy(default_config_dir() / f"{name}.toml", tmp_path)
    text = (tmp_path / "documents.toml").read_text().replace('pool = "booklet"', 'pool = "bookelt"')
    (tmp_path / "documents.toml").write_text(text)
    result = subprocess.run(
        [sys.executable, "-m", "factory.cli", "sample", "--count", "1", "--out", str(tmp_path / "out"),
         "--config", str(tmp_path), "--no-images"],
        capture_output=True, text=True,
    )
    assert result.returncode == 2
    assert "documents.toml: passport.pool: must be one of booklet, card (got 'bookelt')" in result.stderr
    assert not (tmp_path / "out").exists()


def test_parse_config_does_not_modify_its_input():
    sections = shipped_sections()
    before = copy.deepcopy(sections)
    parse_config(sections)
    assert sections == before
