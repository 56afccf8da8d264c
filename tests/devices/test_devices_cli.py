"""``factory render``: a record file in, the clean page out; bad input named, nothing written."""

from __future__ import annotations

import json

import cv2
import pytest

from factory.cli import main
from factory.mrz import encode_record
from factory.qa.mrz_reader import build_mrz_templates, mrz_zones, read_mrz

from devices_helpers import bound_record, record_json, write_images


@pytest.mark.parametrize("doc_type", ["passport", "taiwan_permit", "hmt_residence_permit"])
def test_render_writes_the_clean_page_of_a_bound_record(config, kit, tmp_path, capsys, doc_type):
    images = write_images(tmp_path / "img")
    record = bound_record(config, 4, doc_type)
    data = record.to_json() | {"photo": str(images / "photo_0.png"), "signature": str(images / "signature_0.png")}
    (tmp_path / "record.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "out" / "page.png"
    assert main(["render", str(tmp_path / "record.json"), "--out", str(out)]) == 0
    page = cv2.imread(str(out), cv2.IMREAD_COLOR)
    layout = kit.layout(doc_type)
    assert page.shape == (*layout.shape, 3)
    assert record.document_number in capsys.readouterr().out
    if layout.mrz is not None:
        templates = build_mrz_templates(kit.glyphs_for(layout.mrz), layout.mrz)
        assert read_mrz(mrz_zones([page], layout), templates).texts == [encode_record(record)]


def test_an_unbound_record_is_bound_to_the_serial_given(tmp_path, kit):
    write_images(tmp_path)
    data = record_json(2, "hk_macau_permit") | {"photo": "photo_1.png", "signature": "signature_1.png"}
    path = tmp_path / "applications.jsonl"
    path.write_text(json.dumps(data, ensure_ascii=False) + "\n", encoding="utf-8")  # relative image paths
    out = tmp_path / "page.png"
    assert main(["render", str(path), "--out", str(out), "--serial", "C12345678", "--date-of-issue",
                 "2026-04-01"]) == 0
    page = cv2.imread(str(out), cv2.IMREAD_COLOR)
    layout = kit.layout("hk_macau_permit")
    templates = build_mrz_templates(kit.glyphs_for(layout.mrz), layout.mrz)
    (line,) = read_mrz(mrz_zones([page], layout), templates).texts[0]
    assert line.startswith("CSC12345678")


def test_a_bad_record_is_reported_field_by_field_and_nothing_is_written(tmp_path, capsys):
    data = record_json(3) | {"sex": "Q", "date_of_birth": "1990-02-30"}
    (tmp_path / "bad.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "page.png"
    assert main(["render", str(tmp_path / "bad.json"), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "sex: must be F, M or X" in err and "date_of_birth: not a date" in err
    assert not out.exists()


def test_an_unreadable_photo_is_named(tmp_path, capsys):
    data = record_json(5, image_dir=tmp_path / "nowhere")
    (tmp_path / "r.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    assert main(["render", str(tmp_path / "r.json"), "--out", str(tmp_path / "p.png")]) == 2
    assert "photo: cannot read a PNG image there" in capsys.readouterr().err
    (tmp_path / "two.jsonl").write_text('{"a": 1}\n{"b": 2}\n', encoding="utf-8")
    assert main(["render", str(tmp_path / "two.jsonl"), "--out", str(tmp_path / "p.png")]) == 2
    assert "record: must be one JSON object" in capsys.readouterr().err


def test_device_sim_settings_follow_the_configured_machine(config):
    from factory.cli import build_parser
    from factory.commands.device_sim import settings_from_args

    args = build_parser().parse_args(["device-sim", "--id", "C03", "--blanks", "C10000001+5", "--fault", "jam=0.1",
                                      "--defect", "smudge=0.2", "--auto-clear-s", "60"])
    settings = settings_from_args(args, config)
    assert settings.spec.pool == "card"  # C03 is a card machine rated 90 an hour: a 40 s cycle on average
    assert settings.spec.cycle_s == pytest.approx((36.0, 44.0))
    assert settings.initial_blanks == ("C10000001", "C10000002", "C10000003", "C10000004", "C10000005")
    assert settings.spec.faults.jam_rate == 0.1 and settings.spec.faults.auto_clear_s == 60
    assert dict(settings.spec.defect_rates) == {"smudge": 0.2}
    unknown = settings_from_args(build_parser().parse_args(["device-sim", "--id", "P01"]), config)
    assert (unknown.spec.pool, unknown.spec.cycle_s) == ("booklet", (45.0, 60.0))
