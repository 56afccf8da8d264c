"""Browser tests: Debian's chromium, headless, driven by Playwright against a running ``factory serve``.

The line is the real thing on 127.0.0.1, started as ``tests/pipeline``'s
``Line`` starts it: ``factory keys``, the controller ``factory serve`` with its
control panel on a free ``--panel-port``, and for seven machines a simulated
printer (``factory device-sim``) with its printer worker (``factory worker``),
each process in its own session and killed at the end. The ledger file is
prepared beforehand by ``panel_world.build_world`` (sample applications, a
peak-season backlog, printed documents of which QA flagged three, the panel's
users); the machines without a printer show as offline. The browser logs in
through the form like a person.

Every process runs on the world's fixed morning (Tuesday 3 March 2026, 10:00 in
Shanghai, a Spring Festival peak day) through libfaketime, and the browser's
clock is set to it too, so the plan and the deadlines do not depend on the day
the tests run. The booklet printers take 30 minutes a document: each holds the
three jobs it took at start for the whole run, so the booklet queue the tests
look at holds still; the card printers run at their rated speed.

Screenshots of the line, plan and review pages at 1920x1080 and at a laptop's
1366x768 are taken on every run; they replace ``docs/screenshots/`` only when
``FACTORY_SCREENSHOTS`` names that directory (``make screenshots``), so a test
run leaves the work tree as it found it.
"""

from __future__ import annotations

import datetime as dt
import glob
import os
import sys
import tempfile
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from factory.devices.client import SimulatorClient
from factory.ledger import Ledger
from factory.panel import UserStore
from panel_world import PASSWORD, USERS, build_world

sys.path[:0] = [str(Path(__file__).parents[1] / d) for d in ("pipeline", "metrics")]  # their real-process helpers
from metrics_prom import free_port  # noqa: E402
from pipeline_line import Line, wait_until  # noqa: E402

pytestmark = pytest.mark.integration

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
FAKETIME = next(iter(glob.glob("/usr/lib/*/faketime/libfaketimeMT.so.1")), "")
SCREENSHOTS = Path(os.environ.get("FACTORY_SCREENSHOTS") or Path(tempfile.gettempdir()) / "factory-screenshots")
SCREENS = {"wide": {"width": 1920, "height": 1080}, "laptop": {"width": 1366, "height": 768}}

PRINTERS = {"B01": "booklet", "B02": "booklet", "B03": "booklet", "B04": "booklet", "B05": "booklet",
            "C01": "card", "C02": "card"}
"""The machines with a simulated printer and a worker; the operator pauses B05."""
BOOKLET_CYCLE = ("--cycle", "1800:1800")
"""Device seconds a booklet takes: none finishes while the tests run (see the module docstring)."""
QUEUE_LIMIT = 2
"""Jobs a device takes ahead of the one it prints (``Line.start_device`` starts it with ``--queue 2``)."""
MAINTENANCE = ("B09", "B10", "B11", "B12", "B13", "B14", "C07", "C08")

if not Path(CHROMIUM).exists():  # pragma: no cover - make test installs chromium
    pytest.skip("Debian's chromium is not installed (make test installs it)", allow_module_level=True)
if not FAKETIME:  # pragma: no cover - make test installs faketime
    pytest.skip("Debian's libfaketime is not installed (make test installs it)", allow_module_level=True)


@pytest.fixture(scope="module")
def world(config, tmp_path_factory):
    """A Spring Festival morning: 16,000 applications from last week still waiting, and six booklet and
    two card machines paused for maintenance, so the plan needs overtime. Built before the line starts;
    the line then reads everything from the ledger file."""
    w = build_world(config, tmp_path_factory.mktemp("browser"), backlog=16_000, backlog_day=dt.date(2026, 2, 25))
    for machine in MAINTENANCE:
        w.ledger.record_station_event("panel:sam", "machine_paused", now=w.clock(), machine=machine)
    with UserStore.open(w.ledger.path) as users:
        for name, role in USERS.items():
            users.add(name, role, PASSWORD, by="test")
    w.ledger.close()
    return w


def _held(line: Line) -> dict[str, tuple[int, int]]:
    """Machine -> (jobs it holds, of which printing), from the ledger."""
    rows = line.query("SELECT machine, COUNT(*), SUM(state = 'printing') FROM applications"
                      " WHERE state IN ('leased', 'printing') GROUP BY machine")
    return {machine: (held, printing) for machine, held, printing in rows}


@pytest.fixture(scope="module")
def real_line(world):
    """``factory serve`` with its panel and the printers of ``PRINTERS``, on the world's morning."""
    env = {"LD_PRELOAD": FAKETIME, "FAKETIME": f"{world.clock.offset:+.3f}", "FAKETIME_DONT_FAKE_MONOTONIC": "1"}
    line = Line(world.root / "line", env=env)
    line.ledger_path = world.ledger.path
    line.panel = f"http://127.0.0.1:{free_port()}"
    try:
        line.keys_for(*PRINTERS)
        for machine, pool in PRINTERS.items():  # all at once: each takes a few seconds to start
            line.start_device(machine, pool, speed=1, extra=BOOKLET_CYCLE if pool == "booklet" else (), wait=False)
        line.start_controller("--panel-port", line.panel.rsplit(":", 1)[1], "--no-dispatch")
        for machine in PRINTERS:
            line.wait_device(machine)
            line.start_worker(machine)

        def settled():
            held = _held(line)
            return all(held.get(m, (0, 0))[1] >= 1 for m in PRINTERS) and all(
                held.get(m, (0, 0))[0] == QUEUE_LIMIT + 1 for m, pool in PRINTERS.items() if pool == "booklet")

        def panel_up():
            with urllib.request.urlopen(f"{line.panel}/login", timeout=5) as answer:
                return answer.status == 200

        try:
            wait_until(settled, 90, what="every printer printing, each booklet printer holding all it takes")
            wait_until(panel_up, 30, what="the control panel")
        except AssertionError as err:
            raise AssertionError(f"{err}; {_held(line)}\n{line.tail()}") from None
        yield line
    finally:
        line.stop_all()


@pytest.fixture(scope="module")
def reader(world, real_line):
    """The test's own ledger connection (the line's processes have theirs)."""
    ledger = Ledger.open(world.ledger.path)
    yield ledger
    ledger.close()


@pytest.fixture(scope="module")
def server(real_line):
    return real_line.panel


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture()
def open_as(browser, server, world):
    contexts = []
    script_errors: list[str] = []

    def make(name: str, *, screen: str = "wide", lang: str = "en") -> Page:
        context = browser.new_context(viewport=SCREENS[screen], base_url=server, locale="en-GB" if lang == "en" else "zh-CN",
                                      timezone_id=world.config.line.tz.key)
        context.clock.set_fixed_time(world.clock())  # the page's clock shows the line's morning
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


def test_operator_pauses_and_resumes_a_machine(open_as, reader, real_line):
    page = open_as("olga")
    # The screenshots first, while the line runs steadily: after a pause and resume, the device's reports
    # take a heartbeat or two to catch up (a resumed machine may show Draining for a second).
    for screen in SCREENS:
        page.set_viewport_size(SCREENS[screen])
        page.goto("/line")
        expect(page.locator("#m-C08")).to_be_visible()
        for machine in PRINTERS:  # every printer's report has reached the page
            expect(page.locator(f"#m-{machine} .nums b").nth(1)).not_to_have_text("–")
        shoot(page, f"line-{screen}")
    page.set_viewport_size(SCREENS["wide"])
    page.goto("/line")
    card = page.locator("#m-B05")
    held = sorted(j.application_id for j in reader.in_flight("B05"))
    with SimulatorClient(real_line.devices["B05"]) as device:
        printing = device.status()
        assert printing.state == "Busy", printing
        # What the device itself says: busy, on the job it prints, with the blanks left in its magazine.
        expect(card).to_have_attribute("data-state", "busy")
        expect(card.locator(".job")).to_have_text(f"▶ {printing.printing.split('/')[0]}")
        expect(card.locator(".nums b").nth(1)).to_have_text(f"{printing.blanks_left:,}")
        card.locator(".act-pause").click()
        expect(card).to_have_attribute("data-state", "paused")
        expect(card.locator(".by")).to_contain_text("olga")
        # The controller reads the pause from the ledger and tells B05's worker, which pauses the device:
        # it finishes the booklet under way (Pausing), then holds (Paused), and takes no more jobs.
        wait_until(lambda: device.status().state in ("Pausing", "Paused"), 15, what="B05's device to pause")
        card.locator(".act-resume").click()
        expect(card).to_have_attribute("data-state", "busy")
        wait_until(lambda: device.status().state == "Busy", 15, what="B05's device to resume")
        expect(card).to_have_attribute("data-state", "busy")  # and its reports say so again
        assert device.status().printing == printing.printing
    events = [(e["station"], e["event"]) for e in reader.events(kind="station") if e["machine"] == "B05"]
    assert events[-2:] == [("panel:olga", "machine_paused"), ("panel:olga", "machine_resumed")]
    assert sorted(j.application_id for j in reader.in_flight("B05")) == held  # nothing lost, nothing more taken


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
    # Every booklet printer is busy: it goes to the one expected to free first (within one rated cycle,
    # the same for all of them: the first, B01).
    expect(page.locator("#green-machine")).to_have_text("B01")
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
        # Eight-hour shifts with nine booklet machines down (six paused, three without a printer):
        # overtime bars appear where deadlines need them.
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
