"""Each screen's JSON and actions through the app (TestClient), over a real ledger world."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

import pytest

from factory.panel.i18n import STRINGS, pick_language, translator
from factory.panel.review import mrz_diff
from panel_world import csrf_of


@pytest.fixture()
def olga(client_for):
    return client_for("olga")


@pytest.fixture()
def sam(client_for):
    return client_for("sam")


def post(client, path, **kwargs):
    return client.post(path, headers={"X-CSRF-Token": csrf_of(client)}, **kwargs)


def test_line_lists_every_machine_with_its_state(olga, world):
    data = olga.get("/api/line").json()
    assert [m["id"] for m in data["machines"]] == [m.id for m in world.config.line.machines]
    b01 = data["machines"][0]
    assert b01["state"] == "idle" and b01["rated_per_hour"] == 60 and b01["documents_per_hour"] >= 1
    assert data["summary"]["awaiting_review"] == len(world.flagged)


def test_drain_finishes_the_job_then_pauses_and_every_step_is_logged(olga, world):
    machine = "B07"
    app_id = next(i for i in world.ids if world.ledger.state_of(i) == "queued" and world.ledger.application(i)["pool"] == "booklet")
    world.ledger.lease(app_id, machine, lease_s=60, station="controller", now=world.clock())
    assert post(olga, f"/api/machines/{machine}/drain").json()["state"] == "draining"
    assert olga.get("/api/line").json()["machines"][6]["current_job"] == app_id
    world.ledger.apply(app_id, "not_accepted", station="controller", now=world.clock())  # the job leaves the machine
    assert olga.get("/api/line").json()["machines"][6]["state"] == "paused"
    assert post(olga, f"/api/machines/{machine}/resume").json()["state"] == "idle"
    logged = [(e["station"], e["event"]) for e in world.ledger.events(kind="station") if e["machine"] == machine]
    assert logged == [("panel:olga", "machine_draining"), ("panel:olga", "machine_resumed")]


def test_unknown_machine_or_action_names_the_field(olga):
    assert post(olga, "/api/machines/X99/pause").json() == {"errors": [{"field": "machine", "reason": "is not a machine of the line"}]}
    assert post(olga, "/api/machines/B01/explode").json()["errors"][0]["field"] == "action"


def test_queue_backlog_counts_every_unprinted_application(olga, world):
    data = olga.get("/api/queue").json()
    backlog = data["backlog"]
    assert backlog["classes"] == ["green", "same_day", "urgent", "normal"]
    assert backlog["bins"][0] == "overdue" and len(backlog["bins"]) == 13
    unprinted = sum(world.ledger.counts().get(s, 0) for s in ("accepted", "queued", "spoiled", "leased", "printing",
                                                                "needs_reconcile"))
    assert backlog["total"] == unprinted == sum(sum(map(sum, p["grid"])) for p in backlog["pools"].values())
    assert set(data["next_up"]) == {"booklet", "card"}


def test_plan_changes_with_peak_shifts(olga):
    normal = olga.get("/api/plan?peak=0").json()
    peak = olga.get("/api/plan?peak=1").json()
    assert normal["shifts"] == "normal" and peak["shifts"] == "peak"
    # 2026-03-03 is in the Spring Festival peak: 14.5-hour shifts instead of 8.
    assert normal["pools"]["booklet"]["capacity"][0] == 14 * 60 * 8
    assert peak["pools"]["booklet"]["capacity"][0] == 14 * 60 * 14.5
    assert normal["dates"][0] == "2026-03-03"
    assert olga.get("/api/plan").json()["line_peak_shifts"] is False


def _green_form(world, **overrides):
    fields = {"doc_type": "passport", "surname_cn": "林", "given_name_cn": "未来", "sex": "F",
              "date_of_birth": "1990-05-04", "place_of_birth": "山东", "acceptance_point": "济南市出入境接待大厅",
              "delivery": "pickup", "emergency": "exam abroad"}
    fields.update(overrides)
    photo = Path(world.records[world.flagged[0]]["photo"]).read_bytes()
    signature = Path(world.records[world.flagged[0]]["signature"]).read_bytes()
    return fields, {"photo": ("p.png", photo, "image/png"), "signature": ("s.png", signature, "image/png")}


def test_green_channel_reports_every_bad_field_and_stores_nothing(sam, world):
    before = world.ledger.counts()
    fields, files = _green_form(world, date_of_birth="1990-13-01", surname_cn="Lin", application_id="G-bad-1")
    files["signature"] = ("s.png", b"not a png", "image/png")
    response = post(sam, "/api/green", data=fields, files=files)
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} == {"date_of_birth", "surname_cn", "signature"}
    assert world.ledger.counts() == before
    assert not (world.root / "media" / "green" / "G-bad-1").exists()


def test_green_channel_admits_and_places_first(sam, world):
    fields, files = _green_form(world, application_id="G-unit-1")
    placed = post(sam, "/api/green", data=fields, files=files).json()
    assert placed["application_id"] == "G-unit-1" and placed["queue_position"] == 0
    assert placed["machine"].startswith("B") and placed["newly_late"] == []
    row = world.ledger.application("G-unit-1")
    assert row["state"] == "queued" and row["priority"] == 0
    assert (world.root / "media" / "green" / "G-unit-1" / "photo.png").is_file()
    reason = [e for e in world.ledger.events(kind="station") if e["event"] == "green_channel_reason"][-1]
    assert reason["station"] == "panel:sam" and reason["reason"] == "exam abroad"
    assert sam.get("/api/queue").json()["next_up"]["booklet"][0]["application_id"] == "G-unit-1"
    again = post(sam, "/api/green", data=fields, files=_green_form(world)[1])
    assert again.status_code == 422 and again.json()["errors"][0]["field"] == "application_id"


def test_review_detail_marks_the_misprinted_mrz_character(sam, world):
    items = sam.get("/api/review").json()["items"]
    assert [i["application_id"] for i in items] == sorted(
        world.flagged, key=lambda i: (world.ledger.application(i)["due_at"], world.ledger.application(i)["accepted_s"]))
    detail = sam.get(f"/api/review/{world.flagged[0]}").json()
    assert detail["failing"][0]["name"] == "mrz_readback"
    assert detail["zones"][0]["zone"] == "mrz" and detail["page_size"] == [1476, 1039]
    differing = [c for line in detail["mrz"]["diff"] for c in line if c["differs"]]
    assert len(differing) == 1 and differing[0]["expected"] != differing[0]["read"]
    for kind in ("page", "printed_photo", "enrolled_photo", "printed_signature", "captured_signature"):
        image = sam.get(f"/api/review/{world.flagged[0]}/image/{kind}")
        assert image.status_code == 200 and image.content.startswith(b"\x89PNG"), kind
    assert sam.get(f"/api/review/{world.flagged[0]}/image/secrets").status_code == 422


def test_reject_for_a_new_photo_returns_it_to_the_acceptance_point(sam, world):
    app_id = world.flagged[2]
    response = post(sam, f"/api/review/{app_id}/reject", json={"route": "new_photo", "note": "ears covered"})
    assert response.json()["state"] == "returned_to_acceptance"
    events = [(e["event"], e["station"]) for e in world.ledger.events(app_id)][-3:]
    assert events == [("rejected", "reviewer:sam"), ("requeued", "controller"), ("returned", "reviewer:sam")]
    assert world.ledger.query("SELECT reason FROM reviews WHERE application_id = ?", (app_id,)) == [("new_photo: ears covered",)]
    again = post(sam, f"/api/review/{app_id}/approve", json={})
    assert again.status_code == 422 and "not waiting for review" in again.json()["errors"][0]["reason"]
    assert post(sam, f"/api/review/{world.flagged[1]}/reject", json={"route": "shred"}).json()["errors"][0]["field"] == "route"


def test_stock_spoilage_and_the_filtered_handover_log(sam, world):
    stock = sam.get("/api/stock").json()
    booklet = next(s for s in stock["stock"] if s["pool"] == "booklet")
    assert booklet["in_store"] == 5000 and booklet["needed_per_day"] == 14 * 60 * 8
    assert booklet["days_of_cover"] == round(5000 / (14 * 60 * 8), 1)
    assert stock["spoilage"]["issued"]["booklet"] >= len(world.passed)
    log = sam.get("/api/handover", params={"station": "qa:Q1"}).json()["events"]
    assert log and {e["station"] for e in log} == {"qa:Q1"}
    assert all(e["event"] in ("qa_passed", "qa_flagged") for e in log)
    panel = sam.get("/api/handover", params={"station": "panel:"}).json()["events"]
    assert {e["station"][:6] for e in panel} == {"panel:"}


def test_supervisor_switches_peak_shifts_and_adds_a_user(sam, line, users, world):
    assert post(sam, "/api/settings/shifts", json={"peak": True}).json() == {"peak_shifts": True}
    assert sam.get("/api/plan").json()["shifts"] == "peak"
    assert post(sam, "/api/settings/shifts", json={"peak": "yes"}).json()["errors"][0]["field"] == "peak"
    assert post(sam, "/api/settings/shifts", json={"peak": False}).json() == {"peak_shifts": False}
    assert post(sam, "/api/settings/users", json={"name": "wang.fang", "role": "reviewer", "password": "1234"}).json()[
        "errors"][0]["field"] == "password"
    assert post(sam, "/api/settings/users", json={"name": "wang.fang", "role": "reviewer",
                                                  "password": "a long enough one"}).json()["role"] == "reviewer"
    assert users.get("wang.fang").role == "reviewer"
    shifts = [e["reason"] for e in world.ledger.events(kind="station") if e["event"] == "peak_shifts"]
    assert shifts[-2:] == ["on", "off"]


def test_language_switch_and_every_string_in_both_languages(client_for):
    client = client_for("olga")
    client.get("/lang/en?next=/line")
    assert ">Line<" in client.get("/line").text
    client.get("/lang/zh?next=/line")
    assert ">生产线<" in client.get("/line").text
    assert all(zh and en for zh, en in STRINGS.values())
    assert pick_language(None, "en-GB,en;q=0.9") == "en" and pick_language(None, "fr") == "zh"
    assert translator("en")("line.confirm_pause", id="B01").startswith("Pause B01")
    used = set()
    for folder in ("templates", "static"):
        for path in (resources.files("factory.panel") / folder).iterdir():
            used |= set(re.findall(r"""\b[tT]\(\s*["']([a-z_]+\.[a-z_.]+)["']""", path.read_text(encoding="utf-8")))
    missing = {key for key in used if key not in STRINGS and not key.endswith(".")}
    assert not missing


def test_mrz_diff_marks_only_differing_positions():
    diff = mrz_diff(("AB<C",), ("AB<D", "XY"))
    assert [c["differs"] for c in diff[0]] == [False, False, False, True]
    assert all(c["differs"] and c["read"] == "" for c in diff[1])


def test_security_headers_on_every_page(olga):
    response = olga.get("/line")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["x-frame-options"] == "DENY" and response.headers["cache-control"] == "no-store"
    cookie = olga.cookies.get("factory_session")
    assert cookie and "." in cookie


def test_device_reports_show_faults_blanks_and_offline_machines(world):
    from factory.panel import LedgerLine

    reports = {"B01": {"state": "Busy", "blanks_left": 312}, "B02": {"state": "Fault", "fault": "jam", "blanks_left": 40},
               "B03": {"state": "Pausing", "blanks_left": 7}}
    line = LedgerLine(world.config, world.ledger, clock=world.clock, device_reports=lambda: reports)
    machines = {m.id: m for m in line.machines()}
    assert machines["B01"].blanks_left == 312
    assert (machines["B02"].state, machines["B02"].fault) == ("fault", "jam")
    assert machines["B03"].state == "draining"
    assert machines["B04"].state == "offline"  # no worker reports for it
    assert next(s for s in line.stock() if s.pool == "booklet").in_machines == 312 + 40 + 7
    assert line.plan(False)["pools"]["booklet"]["machines_up"] == 2  # B01 and the draining B03; the rest are down
