"""Browser tests: Debian's chromium, headless, driven by Playwright against the panel served by uvicorn.

The server is the real thing on 127.0.0.1 (uvicorn in a thread, the app from
``create_app`` over a real ledger, the scheduler's plan and ``LedgerLine``);
the browser logs in through the form like a person. Screenshots of the line,
plan and review pages at 1920x1080 and at a laptop's 1366x768 are taken on
every run; they replace ``docs/screenshots/`` only when ``FACTORY_SCREENSHOTS``
names that directory (``make screenshots``), so a test run leaves the work
tree as it found it.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import tempfile
import threading
import time
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Page, expect, sync_playwright

from factory.ledger import Ledger
from panel_world import PASSWORD, build_world

pytestmark = pytest.mark.integration

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
SCREENSHOTS = Path(os.environ.get("FACTORY_SCREENSHOTS") or Path(tempfile.gettempdir()) / "factory-screenshots")
SCREENS = {"wide": {"width": 1920, "height": 1080}, "laptop": {"width": 1366, "height": 768}}

if not Path(CHROMIUM).exists():  # pragma: no cover - make test installs chromium
    pytest.skip("Debian's chromium is not installed (make test installs it)", allow_module_level=True)


@pytest.fixture(scope="module")
def world(config, tmp_path_factory):
    """A Spring Festival morning: 24,000 applications from last week still waiting, six machines busy,
    and six booklet and two card machines paused for maintenance, so the plan needs overtime."""
    w = build_world(config, tmp_path_factory.mktemp("browser"), backlog=24_000, backlog_day=dt.date(2026, 2, 25),
                    busy=("B01", "B02", "B03", "B04", "C01", "C02"))
    for machine in ("B09", "B10", "B11", "B12", "B13", "B14", "C07", "C08"):
        w.ledger.record_station_event("panel:sam", "machine_paused", now=w.clock(), machine=machine)
    yield w
    w.ledger.close()


@pytest.fixture(scope="module")
def reader(world):
    """The test's own ledger connection: the app's is used by the server's threads."""
    ledger = Ledger.open(world.ledger.path)
    yield ledger
    ledger.close()


@pytest.fixture(scope="module")
def server(app):
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off", ws="none")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture()
def open_as(browser, server):
    contexts = []
    script_errors: list[str] = []

    def make(name: str, *, screen: str = "wide", lang: str = "en") -> Page:
        context = browser.new_context(viewport=SCREENS[screen], base_url=server, locale="en-GB" if lang == "en" else "zh-CN")
        context.set_default_timeout(10_000)
        contexts.append(context)
        context.add_cookies([{"name": "lang", "value": lang, "url": server}])
        page = context.new_page()
        page.on("pageerror", lambda error: script_errors.append(str(error)))
        # Refusals the page shows on purpose (403, 422) also log "Failed to load resource": not script errors.
        page.on("console", lambda msg: script_errors.append(msg.text)
                if msg.type == "error" and not any(code in msg.text for code in ("403", "422")) else None)
        page.goto("/login")
        page.fill("#login-name", name)
        page.fill("#login-password", PASSWORD)
        page.click("#login-submit")
        page.wait_for_url(lambda url: "/login" not in url)
        return page

    yield make
    for context in contexts:
        context.close()
    assert not script_errors, script_errors


def shoot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def test_operator_pauses_and_resumes_a_machine(open_as, reader):
    page = open_as("olga")
    page.goto("/line")
    card = page.locator("#m-B05")
    expect(card).to_have_attribute("data-state", "idle")
    card.locator(".act-pause").click()
    expect(card).to_have_attribute("data-state", "paused")
    expect(card.locator(".by")).to_contain_text("olga")
    card.locator(".act-resume").click()
    expect(card).to_have_attribute("data-state", "idle")
    events = [(e["station"], e["event"]) for e in reader.events(kind="station") if e["machine"] == "B05"]
    assert events[-2:] == [("panel:olga", "machine_paused"), ("panel:olga", "machine_resumed")]
    for screen in SCREENS:
        page.set_viewport_size(SCREENS[screen])
        page.goto("/line")
        expect(page.locator("#m-C08")).to_be_visible()
        shoot(page, f"line-{screen}")


def test_supervisor_enters_a_green_channel_application_and_sees_it_first(open_as, world, reader):
    photo = world.records[world.flagged[0]]["photo"]
    signature = world.records[world.flagged[0]]["signature"]
    page = open_as("sam")
    page.goto("/green")
    page.select_option("#g-doc_type", "passport")
    page.fill("#g-application_id", "G20260303-0001")
    page.fill("#g-surname_cn", "林")
    page.fill("#g-given_name_cn", "未来")
    page.select_option("#g-sex", "F")
    page.fill("#g-date_of_birth", "1990-05-04")
    page.fill("#g-place_of_birth", "山东")
    page.fill("#g-acceptance_point", "济南市出入境接待大厅")
    page.fill("#g-emergency", "funeral abroad")
    page.click("#green-submit")  # without the photo and signature: refused, nothing stored
    expect(page.locator("#green-errors")).to_contain_text("photo")
    before = reader.counts()
    assert reader.counts() == before
    page.set_input_files("#g-photo", photo)
    page.set_input_files("#g-signature", signature)
    page.click("#green-submit")
    expect(page.locator("#green-result")).not_to_contain_text("photo")
    assert page.locator("#green-errors").count() == 0, page.locator("#green-errors").inner_text()
    expect(page.locator("#green-placed")).to_contain_text("G20260303-0001")
    expect(page.locator("#green-position")).to_have_attribute("data-position", "0")
    expect(page.locator("#green-machine")).to_have_text("B05")  # the first booklet machine free now
    # On an overloaded line one more job may push someone past a deadline: the page names who, or says nobody.
    expect(page.locator("#green-nobody-late, #green-late")).to_be_visible()
    shoot(page, "green-wide")
    assert reader.state_of("G20260303-0001") == "queued"
    received = reader.events("G20260303-0001")[0]
    assert received["station"] == "panel:sam"
    page.goto("/queue")
    expect(page.locator("#next-booklet li").first).to_contain_text("G20260303-0001")
    shoot(page, "queue-wide")


def test_plan_switches_between_normal_and_peak_shifts(open_as):
    page = open_as("olga")
    for screen in SCREENS:
        page.set_viewport_size(SCREENS[screen])
        page.goto("/plan")
        page.click("#plan-peak")
        expect(page.locator("#plan-charts")).to_have_attribute("data-shifts", "peak")
        expect(page.locator("#chart-booklet rect").first).to_be_visible()
        assert page.locator("#chart-booklet rect.ot").count() == 0  # 14.5-hour shifts carry the backlog
        if screen == "wide":
            shoot(page, "plan-peak-wide")
        page.click("#plan-normal")
        expect(page.locator("#plan-charts")).to_have_attribute("data-shifts", "normal")
        # Eight-hour shifts with six booklet machines paused: overtime bars appear where deadlines need them.
        expect(page.locator("#chart-booklet rect.ot").first).to_be_visible()
        assert page.locator("#plan-booklet .overtime-total").inner_text() != ""
        shoot(page, f"plan-{screen}")


def test_a_slow_answer_for_an_earlier_selection_never_replaces_the_item_clicked(open_as, world):
    """The page selects the oldest item on load; a reviewer who clicks another before that answer
    arrives must see (and approve) the one clicked, whatever order the answers come back in."""
    page = open_as("rui")
    held: list = []

    def hold_detail(route):
        held.append(route)  # answered only after the click's own answer has been shown

    page.route("**/api/review/*", lambda route: hold_detail(route) if not held and "/image/" not in route.request.url
               else route.continue_())
    page.goto("/review")
    expect(page.locator("#review-items li")).to_have_count(len(world.flagged))
    page.wait_for_function("() => document.querySelectorAll('#review-items li.sel').length === 1")
    assert len(held) == 1, "the page's own first selection was not held"
    auto = page.locator("#review-items li.sel").get_attribute("id").removeprefix("ri-")
    other = next(a for a in world.flagged if a != auto)
    page.locator(f"#ri-{other}").click()
    expect(page.locator("#r-title")).to_contain_text(other)
    held[0].continue_()
    page.wait_for_timeout(500)  # the held answer arrives now, late
    expect(page.locator("#r-title")).to_contain_text(other)
    expect(page.locator(f"#ri-{other}")).to_have_class("sel")


def test_reviewer_approves_one_and_rejects_another(open_as, world, reader):
    first, second = world.flagged[0], world.flagged[1]
    page = open_as("rui")
    page.goto("/review")
    expect(page.locator("#review-items li")).to_have_count(len(world.flagged))
    page.locator(f"#ri-{first}").click()
    expect(page.locator("#r-title")).to_contain_text(first)
    expect(page.locator("#r-mrz .d")).to_have_count(1)  # the misprinted character is marked
    expect(page.locator("#page-zones rect")).to_have_count(1)
    expect(page.locator("#img-printed_photo")).to_have_js_property("complete", True)
    for screen in SCREENS:
        page.set_viewport_size(SCREENS[screen])
        expect(page.locator("#img-page")).to_have_js_property("naturalWidth", 1476)  # the TD3 page at 300 dpi
        shoot(page, f"review-{screen}")
    page.keyboard.press("a")  # approve with the keyboard
    expect(page.locator("#toast")).to_contain_text(f"{first}: Approve → approved")
    expect(page.locator(f"#ri-{first}")).to_have_count(0)
    page.locator(f"#ri-{second}").click()
    expect(page.locator("#r-title")).to_contain_text(second)
    page.keyboard.press("r")
    page.locator("#reject-note").fill("MRZ misprint")
    page.locator("#reject-note").press("Escape")
    page.keyboard.press("r")
    page.keyboard.press("Escape")
    page.keyboard.press("r")
    page.locator("#route-reprint").check()
    page.locator("#reject-confirm").click()
    expect(page.locator("#toast")).to_contain_text(f"{second}: Reject → queued")
    expect(page.locator(f"#ri-{second}")).to_have_count(0)

    ledger = reader
    assert ledger.state_of(first) == "approved"
    assert ledger.state_of(second) == "queued"  # rejected, blank voided, back in the queue for a reprint
    reviews = ledger.query("SELECT application_id, reviewer, decision FROM reviews ORDER BY review_id")
    assert (first, "rui", "approved") in reviews and (second, "rui", "rejected") in reviews
    stations = {(e["subject"], e["event"]): e["station"] for e in ledger.events(kind="application")}
    assert stations[(first, "approved")] == "reviewer:rui"
    assert stations[(second, "rejected")] == "reviewer:rui"
    voided = ledger.query("SELECT state, reason FROM blanks WHERE application_id = ?", (second,))
    assert voided == [("voided", "qa_reject")]


def test_reviewer_cannot_open_the_supervisors_settings(open_as):
    page = open_as("rui", lang="zh")
    expect(page.locator("#nav-settings")).to_have_count(0)
    response = page.goto("/settings")
    assert response.status == 403
    expect(page.locator("#forbidden")).to_contain_text("值班主管")
    status = page.evaluate("fetch('/api/settings/shifts', {method: 'POST', headers: {'Content-Type': 'application/json',"
                           " 'X-CSRF-Token': document.querySelector('meta[name=csrf-token]').content},"
                           " body: JSON.stringify({peak: true})}).then(r => r.status)")
    assert status == 403
