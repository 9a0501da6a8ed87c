"""End to end in a real browser: Playwright driving Debian's chromium against `procsim dashboard` and `procsim game`.

Skipped where chromium or Playwright is missing, unless PROCSIM_REQUIRE_BROWSER=1 (CI),
then it fails. Every wait is on the page's state, never a fixed sleep. Set
PROCSIM_SCREENSHOTS=docs/img to refresh the screenshots in the docs.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from .servers import procsim_server

pytestmark = [pytest.mark.slow, pytest.mark.browser]
ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _unavailable(reason: str):
    if os.environ.get("PROCSIM_REQUIRE_BROWSER") == "1":
        pytest.fail(f"browser tests are required here (PROCSIM_REQUIRE_BROWSER=1) but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`procsim dashboard` on a free port, until the module's tests are done (its output in a log file)."""
    with procsim_server(["dashboard"], tmp_path_factory.mktemp("server") / "dashboard.log") as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        _unavailable("Debian's chromium is not installed (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright is not installed")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield browser
        browser.close()


@contextmanager
def session(browser, url: str, width: int = 1500, height: int = 1000):
    """A fresh browser context (a new session) on the dashboard; fails on any failed or outside request."""
    context = browser.new_context(viewport={"width": width, "height": height}, accept_downloads=True)
    page = context.new_page()
    failures: list[str] = []
    page.on("requestfailed", lambda r: failures.append(f"{r.url}: {r.failure}"))
    page.on("response", lambda r: failures.append(f"{r.url}: HTTP {r.status}") if r.status >= 400 else None)
    page.on("request", lambda r: None if r.url.startswith((url, "data:", "blob:")) else failures.append(r.url))
    page.goto(url)
    page.get_by_role("button", name="Setup (apply levers)").wait_for(timeout=60_000)
    yield page
    context.close()
    assert not failures, "requests failed or left the server (the page must need nothing else):\n" + "\n".join(failures)


@pytest.fixture
def page(browser, server):
    """One browser session on the dashboard."""
    with session(browser, server) as page:
        yield page


def status(page) -> str:
    return page.locator(".status-line").first.inner_text()


def shoot(page, name: str, full_page: bool = True, top: bool = False) -> None:
    folder = os.environ.get("PROCSIM_SCREENSHOTS")
    if folder:
        if top:
            page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(ROOT / folder / name), full_page=full_page)


def test_slider_setup_and_step_change_the_charts(page):
    from playwright.sync_api import expect

    expect(page.locator(".status-line").first).to_contain_text("not started")
    chart = page.locator('svg[data-chart="discount"]')
    expect(chart).to_have_attribute("data-points", "0")
    slider = page.locator(".v-input", has_text="Savings target").locator("[role=slider]").first
    slider.focus()
    slider.press("Home")
    expect(page.get_by_text("Savings target: 0% (changed: press Setup)")).to_be_visible()
    page.get_by_role("button", name="Setup (apply levers)").click()
    expect(page.get_by_text("Savings target: 0%", exact=True)).to_be_visible()
    page.get_by_role("button", name="Step").click()
    expect(chart).to_have_attribute("data-points", "1")
    page.get_by_role("button", name="Run 10 periods").click()
    expect(chart).to_have_attribute("data-points", "11")
    expect(page.locator(".status-line").first).to_contain_text("period 11")


def test_play_runs_the_demo_with_every_chart_updating(page):
    from playwright.sync_api import expect

    speed = page.locator(".v-input", has_text="Speed").locator("[role=slider]").first
    speed.focus()
    speed.press("End")  # the fastest setting
    expect(page.get_by_text("Speed: 60 periods/s")).to_be_visible()
    start = time.perf_counter()
    page.get_by_role("button", name="Play").click()
    expect(page.get_by_text("period 40 of 40")).to_be_visible(timeout=60_000)
    elapsed = time.perf_counter() - start
    for name in ("discount", "capabilities", "margin", "cash", "value", "balance"):
        expect(page.locator(f'svg[data-chart="{name}"]')).to_have_attribute("data-points", "40")
    expect(page.locator(".play-rate")).to_contain_text("periods/s")
    served = float(re.search(r"at ([\d.]+) periods/s", page.locator(".play-rate").inner_text()).group(1))
    print(
        f"\n40 periods played in the browser in {elapsed:.2f} s ({40 / elapsed:.1f} periods/s as seen by the "
        f"browser; {served:.1f} periods/s stepped by the server)"
    )
    assert status(page).split(" · ")[0] in ("Death spiral", "Collapse", "Cutting investment")
    shoot(page, "dashboard.png")


def test_pause_stops_between_periods_and_step_goes_on(page):
    from playwright.sync_api import expect

    counter = page.locator(".period-counter")
    page.get_by_role("button", name="Play").click()
    page.wait_for_function("document.querySelector('svg[data-chart=\"discount\"]').dataset.points >= 3")
    page.get_by_role("button", name="Pause").click()
    expect(page.locator(".play-rate")).to_contain_text("periods/s")  # the play loop has stopped
    expect(page.get_by_role("button", name="Play")).to_be_enabled()
    paused = int(counter.inner_text().split()[1])
    assert 3 <= paused < 40
    page.get_by_role("button", name="Step").click()
    expect(counter).to_have_text(f"period {paused + 1} of 40")


def test_two_sessions_step_their_own_models(page, browser, server):
    from playwright.sync_api import expect

    with session(browser, server) as other:
        page.get_by_role("button", name="Run 10 periods").click()
        expect(page.locator(".period-counter")).to_have_text("period 10 of 40")
        expect(other.locator(".period-counter")).to_have_text("period 0 of 40")
        other.get_by_role("button", name="Step").click()
        expect(other.locator(".period-counter")).to_have_text("period 1 of 40")
        expect(page.locator(".period-counter")).to_have_text("period 10 of 40")


def test_side_by_side_concede_and_hold(page):
    from playwright.sync_api import expect

    page.locator(".v-input", has_text="Side by side").locator(".v-input--selection-controls__ripple").click()
    expect(page.locator(".v-select", has_text="Second strategy")).not_to_have_class(re.compile("v-input--is-disabled"))
    page.get_by_role("button", name="Setup (apply levers)").click()
    expect(page.locator(".status-line")).to_have_count(2)
    page.get_by_label("Periods to run").fill("40")
    page.get_by_role("button", name="Run 40 periods").click()
    expect(page.get_by_text("period 40 of 40")).to_be_visible()
    expect(page.locator(".status-line").nth(1)).to_contain_text("Hold the price")
    shoot(page, "side_by_side.png")


def inside(page, locator) -> bool:
    """Whether the element is wholly inside the viewport (its bounding box, at scroll 0)."""
    box = locator.bounding_box()
    view = page.viewport_size
    return (
        box is not None
        and box["x"] >= 0
        and box["y"] >= 0
        and box["x"] + box["width"] <= view["width"] + 0.5
        and box["y"] + box["height"] <= view["height"] + 0.5
    )


@pytest.mark.parametrize(("width", "height"), [(1024, 768), (1920, 1080)])
def test_the_dashboard_fits_a_projector(browser, server, width, height):
    """Every chart, the controls and Setup are in view at once, and nothing covers a chart."""
    with session(browser, server, width, height) as page:
        charts = page.locator("svg[data-chart]")
        assert charts.count() == 6
        targets = [charts.nth(i) for i in range(6)] + [
            page.get_by_role("button", name="Setup (apply levers)"),
            page.get_by_role("button", name="Reset (back to period 0)"),
            page.get_by_role("button", name="Play"),
            page.locator(".period-counter"),
        ]
        for target in targets:
            assert inside(page, target), target
        # chart text readable on a projector: 14 px or more at 1024x768 (labels, titles, legends)
        sizes = label_sizes(page, "svg[data-chart]") + page.evaluate(
            """() => [...document.querySelectorAll('.chart-title, .chart-legend .legend-entry')]
                .map(e => parseFloat(getComputedStyle(e).fontSize))"""
        )
        assert len(sizes) > 6 * 6 and min(sizes) >= 14, min(sizes)
        for i in range(6):  # the topmost element at each chart's centre is the chart (no banner over it)
            box = charts.nth(i).bounding_box()
            covered = page.evaluate(
                "([x, y]) => !document.elementFromPoint(x, y).closest('svg[data-chart]')",
                [box["x"] + box["width"] / 2, box["y"] + box["height"] / 2],
            )
            assert not covered, f"chart {i} is covered"
        assert page.get_by_text("runs on Solara").count() == 0
        if width == 1024:
            shoot(page, "dashboard-1024.png")


def test_input_errors_are_messages_reset_follows_the_last_period_and_exports_download(page, tmp_path):
    from playwright.sync_api import expect

    page.get_by_role("textbox", name="Seed").fill("minus one")
    page.get_by_role("button", name="Setup (apply levers)").click()
    expect(page.locator(".input-error")).to_contain_text("The seed must be a whole number")
    page.get_by_role("textbox", name="Seed").fill("42")
    page.get_by_role("button", name="Setup (apply levers)").click()
    expect(page.locator(".input-error")).to_have_count(0)
    page.get_by_label("Periods to run").fill("40")
    page.get_by_role("button", name="Run 40 periods").click()
    expect(page.locator(".period-counter")).to_have_text("period 40 of 40")
    expect(page.get_by_role("button", name="Step")).to_be_disabled()
    files = {}
    for label, suffix in (("Export charts (PNG)", ".png"), ("Export series (CSV)", ".csv")):
        with page.expect_download() as info:
            page.get_by_text(label).click()
        path = tmp_path / info.value.suggested_filename
        info.value.save_as(path)
        assert path.suffix == suffix
        files[suffix] = path
    assert files[".png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    lines = files[".csv"].read_text().splitlines()
    assert lines[0].startswith("strategy,period,year,discount_mean") and len(lines) == 41
    page.get_by_role("button", name="Reset (back to period 0)").click()
    expect(page.locator(".period-counter")).to_have_text("period 0 of 40")
    expect(page.get_by_role("button", name="Step")).to_be_enabled()


# ---------------------------------------------------------------------------- the room game

PHONE, PROJECTOR, LARGE = (390, 844), (1024, 768), (1920, 1080)


@contextmanager
def person(browser, url: str, size: tuple[int, int] = (1280, 900)):
    """One person's device: its own browser context; fails on a script error or a request that leaves the server.

    A request that fails while the server restarts is expected, so failed requests are
    recorded (``page.failed``) and checked by the test that wants none.
    """
    context = browser.new_context(viewport={"width": size[0], "height": size[1]}, accept_downloads=True)
    page = context.new_page()
    failures: list[str] = []
    page.failed = []
    page.on("requestfailed", lambda r: page.failed.append(f"{r.url}: {r.failure}"))
    page.on("request", lambda r: None if r.url.startswith((url, "data:", "blob:")) else failures.append(r.url))
    page.on("pageerror", lambda e: failures.append(f"script error: {e}"))
    responses: list = []
    page.on("response", lambda r: responses.append(r) if "/api/" in r.url else None)
    page.responses = responses
    yield page
    context.close()
    assert not failures, "\n".join(failures)


@pytest.fixture(scope="module")
def game(tmp_path_factory):
    """`procsim game` with 3 tables of 3 rounds and a 10-minute timer, saving its rooms; its address, key, folders."""
    from .servers import ServerProcess

    folder = tmp_path_factory.mktemp("game")
    args = ["game", "--rounds", "3", "--tables", "3", "--timer", "600", "--out", str(folder / "exports")]
    server = ServerProcess([*args, "--data", str(folder / "data")], folder / "game.log")
    url = server.start()
    text = (folder / "game.log").read_text()
    yield {
        "url": url,
        "server": server,
        "code": re.search(r"session code ([A-Z0-9]+)", text).group(1),
        "key": re.search(r"facilitator#key=(\S+)", text).group(1),
        "exports": folder / "exports",
        "data": folder / "data",
        "log": folder / "game.log",
    }
    server.stop()


def open_console(page, game) -> None:
    from playwright.sync_api import expect

    page.goto(f"{game['url']}facilitator#key={game['key']}")
    expect(page.locator("#code")).to_have_text(re.compile("[A-Z0-9]{6}"))
    expect(page.locator("#rounds")).not_to_have_value("")  # the console has its room's settings
    assert "key=" not in page.url  # the key leaves the address bar


def seat_links(facilitator) -> dict[tuple[int, str], str]:
    """Every seat's own join link, as the console's seat cards show them (what a QR code carries)."""
    from playwright.sync_api import expect

    facilitator.locator("#seat-links summary").click()
    cards = facilitator.locator(".seat-card")
    expect(cards.first).to_be_visible()
    links = {}
    for i in range(cards.count()):
        card = cards.nth(i)
        table, role = int(card.get_attribute("data-table")), card.get_attribute("data-role")
        links[(table, role)] = card.locator(".url").inner_text()
    facilitator.locator("#seat-links summary").click()
    return links


def sit(page, link: str, team: str) -> None:
    """Open a seat's link (as a scanned QR code) and join it under ``team``."""
    from playwright.sync_api import expect

    page.goto(link)
    expect(page.locator("#join-link")).to_be_visible()
    page.locator("#link-team").fill(team)
    page.get_by_role("button", name="Join the game").click()
    expect(page.locator("#who")).to_contain_text(team)
    assert "seat=" not in page.url  # the seat's secret leaves the address bar


def confirm(facilitator, button: str) -> None:
    """Press a console button that asks first, then Yes."""
    from playwright.sync_api import expect

    facilitator.get_by_role("button", name=button).click()
    expect(facilitator.locator("#confirm")).to_be_visible()
    facilitator.locator("#confirm-yes").click()
    expect(facilitator.locator("#confirm")).to_be_hidden()


def seen_by(page) -> str:
    """Everything the page holds: its text and every API answer it received."""
    texts = []
    for r in page.responses:
        try:
            texts.append(r.text() if r.ok else "")
        except Exception:  # noqa: BLE001 - a response lost while the server restarted
            texts.append("")
    return page.content() + "".join(texts)


def no_sideways_scroll(page) -> None:
    """Nothing on the page is wider than the screen: the document scrolls only down, and no element or text
    reaches past its right edge (so nothing is cut off either)."""
    wide = page.evaluate(
        """() => {
            const doc = document.documentElement, width = doc.clientWidth;
            const out = doc.scrollWidth > width ? [`document ${doc.scrollWidth} > ${width}`] : [];
            for (const e of document.querySelectorAll('body *')) {
                const box = e.getBoundingClientRect();
                if (box.width && box.right > width + 0.5) out.push(`${e.tagName}#${e.id} right ${box.right}`);
            }
            const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
            while (walker.nextNode()) {
                const range = document.createRange();
                range.selectNodeContents(walker.currentNode);
                const box = range.getBoundingClientRect();
                if (box.width && box.right > width + 0.5) out.push(`text ${walker.currentNode.textContent.slice(0, 30)}`);
            }
            return out.slice(0, 10);
        }"""
    )
    assert not wide, wide


def label_sizes(page, selector: str) -> list[float]:
    """The rendered size (px) of every text label in the charts matched by ``selector``."""
    return page.evaluate(
        """(sel) => [...document.querySelectorAll(sel + ' text')].filter(t => t.getBoundingClientRect().width)
            .map(t => parseFloat(getComputedStyle(t).fontSize) * t.ownerSVGElement.getScreenCTM().a)""",
        selector,
    )


# table 1, 2 and 3, per round: (demand %, answer label, points %); None: that team misses the round
ROUNDS = [
    [(7.0, "Grant a discount", 7.0), (8.5, "Hold the price and explain its value", None), (6.0, "Add service instead of a discount", 3.0)],
    [(12.0, "Grant a discount", 5.0), (9.5, "Grant a discount", 1.0), (None, None, None)],
    [(15.5, "Hold the price and explain its value", None), (11.5, None, None), (9.0, "Grant a discount", 2.5)],
]  # fmt: skip
ANSWER = {
    "Grant a discount": "discount",
    "Add service instead of a discount": "value_trade",
    "Hold the price and explain its value": "hold",
}


def move(buyer, seller, demand, answer, points) -> None:
    """One table's moves in the open round, typed as people type them."""
    from playwright.sync_api import expect

    if demand is not None:
        buyer.get_by_label("Total discount we demand").fill(f"{demand:g}")
        buyer.get_by_role("button", name="Submit our demand").click()
        expect(buyer.locator("#move-done")).to_contain_text(f"Your demand is in: {demand:.1f}% in total")
        expect(seller.locator("#demand-seen")).to_contain_text(f"Procurement demands {demand:.1f}% in total")
    if answer is None:
        return
    seller.get_by_label(answer).check()
    if points is not None:
        seller.get_by_label("Points we concede").fill(f"{points:g}")
    seller.get_by_role("button", name="Submit our answer").click()
    answered(seller)


def answered(seller) -> None:
    """The supplier's answer was accepted (its table then plays at once, so the form goes away without an error)."""
    from playwright.sync_api import expect

    expect(seller.locator("#answer-form")).to_be_hidden()
    expect(seller.get_by_role("alert")).to_be_hidden()


def test_a_room_plays_a_full_game_on_seven_devices_through_a_server_restart(browser, game, tmp_path):
    """A facilitator and three tables of two teams (six phones and laptops) play a practice round and three
    rounds; the server is stopped with SIGTERM in the middle of round 2 and started again on the same data
    folder; every device goes on where it was, and the exported rounds are every move the teams made."""
    from playwright.sync_api import expect

    from tests.test_game import reference

    url = game["url"]
    plan = [list(moves) for moves in ROUNDS]
    plan[1][2] = (8.0, "Grant a discount", 1.5)  # table 3's round 2, played after the restart
    sizes = [PHONE, (1280, 900), PHONE, PROJECTOR, PHONE, (1280, 900)]
    with contextlib.ExitStack() as stack:
        facilitator = stack.enter_context(person(browser, url, LARGE))
        devices = [stack.enter_context(person(browser, url, size)) for size in sizes]
        tables = [(devices[0], devices[1]), (devices[2], devices[3]), (devices[4], devices[5])]
        open_console(facilitator, game)
        expect(facilitator.locator("#qr svg")).to_be_visible()
        expect(facilitator.locator("#join-url")).to_have_text(f"{url}?code={game['code']}")
        links = seat_links(facilitator)
        assert len(links) == 6 and all(f"?code={game['code']}&seat=" in link for link in links.values())
        for t, (buyer, seller) in enumerate(tables, 1):
            sit(buyer, links[(t, "procurement")], f"Buyers {t}")
            sit(seller, links[(t, "supplier")], f"Sellers {t}")
        expect(facilitator.locator("#tables-table")).to_contain_text("Sellers 3 (1 device)")
        # the one-screen briefing, before round 1
        expect(devices[0].locator("#briefing-box")).to_contain_text("You are the buyer's procurement team")
        expect(devices[1].locator("#briefing-box")).to_contain_text("You are the supplier's team")
        assert devices[0].locator("#briefing-box").bounding_box()["height"] < PHONE[1]
        shoot(devices[0], "game-briefing.png", full_page=False, top=True)
        # someone with the room code only cannot take a seat: it waits, and the facilitator refuses it
        with person(browser, url, PHONE) as stranger:
            stranger.goto(url)
            stranger.get_by_label("Session code").fill(game["code"])
            stranger.get_by_role("button", name="Continue").click()
            stranger.locator("input[name=table][value='1']").check()
            stranger.locator("input[name=role][value='supplier']").check()
            stranger.get_by_role("button", name="Ask to join").click()
            expect(stranger.locator("#waiting")).to_contain_text("The facilitator approves it")
            expect(facilitator.locator("#waiting-box")).to_contain_text("joins team Sellers 1")
            facilitator.get_by_role("button", name="Refuse").click()
            expect(stranger.get_by_role("alert")).to_contain_text("did not approve this device")
            expect(stranger.locator("#game")).to_be_hidden()
        shoot(facilitator, "game-lobby.png", full_page=False, top=True)

        # a practice round that does not count
        facilitator.get_by_role("button", name="Practice round (does not count)").click()
        expect(devices[0].locator("#move-title")).to_have_text("Practice round (it does not count)")
        move(devices[0], devices[1], 20.0, "Grant a discount", 10.0)
        confirm(facilitator, "End this round now")
        expect(facilitator.locator("#state")).to_have_text("Lobby: teams are joining")
        expect(devices[0].locator("#practice-result")).to_contain_text("Your practice round")
        facilitator.get_by_role("button", name="Start the game").click()

        for number, moves in enumerate(plan, 1):
            expect(devices[0].locator("#who")).to_contain_text(f"round {number} of 3")
            if number == 1:  # the projector during a round: a big countdown, tables in, the round's story
                facilitator.get_by_role("button", name="Room screen (hide figures)").click()
                expect(facilitator.locator("#countdown")).to_have_text(re.compile(r"^(10:00|9:\d\d)$"))
                size = facilitator.locator("#countdown").evaluate("e => parseFloat(getComputedStyle(e).fontSize)")
                assert size >= 64
                expect(facilitator.locator("#tables-in")).to_have_text("0 of 3 tables in · 3 waiting")
                expect(facilitator.locator("#story")).to_contain_text("Round 1 of 3")
                expect(facilitator.locator("#tables-box")).to_be_hidden()
            for t, ((buyer, seller), (demand, answer, points)) in enumerate(zip(tables, moves, strict=True)):
                if number == 2 and t == 2:
                    continue  # table 3 has not moved when the server stops
                if demand is not None and answer is not None:
                    # the supplier has not been sent procurement's demand before procurement submits it
                    assert f"{demand}%" not in seller.locator("body").inner_text()
                if number == 2 and t == 0:  # 4.999999999999999% left to concede: typed and accepted as 5
                    buyer.get_by_label("Total discount we demand").fill("12")
                    buyer.get_by_role("button", name="Submit our demand").click()
                    expect(seller.locator("#points-label")).to_be_attached()
                    expect(seller.locator("#demand-seen")).to_contain_text("up to 5.0% more")
                    shoot(seller, "game-supplier.png", full_page=False, top=True)
                    assert seller.locator("#points").get_attribute("max") == "5"
                    seller.get_by_label("Grant a discount").check()
                    seller.get_by_label("Points we concede").fill("5")
                    assert seller.locator("#points").evaluate("e => e.checkValidity()")
                    seller.get_by_role("button", name="Submit our answer").click()
                    answered(seller)
                    expect(seller.locator("#history")).to_contain_text("Grant a discount")
                    continue
                move(buyer, seller, demand, answer, points)
            if number == 1:
                expect(facilitator.locator("#tables-in")).to_have_text("0 of 3 tables in · 3 waiting")
                expect(facilitator.locator("#story")).to_contain_text("Round 2 of 3")
                shoot(facilitator, "game-projector.png", full_page=False, top=True)
                facilitator.get_by_role("button", name="Console (show figures)").click()
                shoot(facilitator, "game-console.png", full_page=False, top=True)
                shoot(devices[2], "game-procurement.png", full_page=False, top=True)
            if number == 2:
                # the server stops in the middle of round 2 (SIGTERM) and starts again on its data folder
                expect(facilitator.locator("tr[data-table='2']")).to_contain_text("✓ in")
                assert game["server"].stop() == 143
                assert "every room is saved" in game["log"].read_text()
                game["server"].start()
                expect(devices[4].locator("#status")).to_contain_text("Round 2: your move", timeout=20_000)
                expect(devices[1].locator("#status")).to_contain_text("your table has played", timeout=20_000)
                expect(facilitator.locator("#state")).to_contain_text("round 2 of 3", timeout=20_000)
                for page in (*devices, facilitator):  # "cannot reach the game server" goes once it is back
                    expect(page.locator("#message")).to_be_hidden(timeout=20_000)
                move(devices[4], devices[5], *plan[1][2])
            if number == 3:
                expect(facilitator.locator("#state")).to_contain_text("round 3 of 3")
                confirm(facilitator, "End this round now")
        expect(facilitator.locator("#state")).to_contain_text("All rounds played")
        for page in devices:
            expect(page.locator("#status")).to_contain_text("Waiting for the facilitator to reveal the debrief")
        # each side saw only its own figures during the game; nobody saw the balanced policy
        assert "Capabilit" not in devices[0].locator("body").inner_text()
        assert "margin" not in devices[0].locator("#figures").inner_text()
        assert "perceive" not in devices[1].locator("body").inner_text()
        assert all("alanced" not in seen_by(p) for p in [*devices, facilitator])

        confirm(facilitator, "Reveal the debrief")
        debrief = facilitator.locator("#debrief")
        expect(debrief.locator(".legend-entry")).to_have_text(["Table 1", "Table 2", "Table 3", "Balanced policy"])
        expect(debrief.locator("svg[data-chart^='debrief-']")).to_have_count(8)
        expect(facilitator.locator("#undo")).to_have_text("Undo: Reveal the debrief")
        ranking = debrief.locator("table.ranking tbody tr")
        expect(ranking).to_have_count(4)
        expect(ranking.nth(3)).to_contain_text("Balanced policy")
        expect(debrief.locator(".question")).to_contain_text("When did the supplier start cutting")
        facilitator.get_by_role("button", name="Next question").click()
        expect(debrief.locator(".question")).to_contain_text("Who paid for the discounts")
        for page in (devices[0], devices[3]):  # phones and laptops follow the facilitator to the question
            expect(page.locator("#debrief .question")).to_contain_text("Who paid for the discounts")
            expect(page.locator("#debrief-question")).to_be_in_viewport()
            expect(page.locator("#debrief table.ranking")).to_contain_text("Table 2")
        expect(devices[0].locator("#own-rounds")).to_contain_text("Capability after")

        # the debrief fits where people look: no sideways scrolling, readable labels, one chart per row on phones
        for page, size, name in (
            (devices[0], PHONE, "390"),
            (facilitator, PROJECTOR, "1024"),
            (facilitator, LARGE, "1920"),
        ):
            page.set_viewport_size({"width": size[0], "height": size[1]})
            expect(page.locator("#debrief table.ranking")).to_be_visible()
            no_sideways_scroll(page)
            sizes = label_sizes(page, "#debrief svg[data-chart]")
            assert sizes and min(sizes) >= 12, (name, min(sizes))
            page.screenshot(path=str(tmp_path / f"debrief-{name}.png"), full_page=True)
        shoot(devices[0], "game-debrief-phone.png", full_page=False)
        shoot(facilitator, "game-debrief.png", full_page=False)
        columns = devices[0].evaluate(
            "() => new Set([...document.querySelectorAll('#debrief svg[data-chart]')].map(s => Math.round(s.getBoundingClientRect().left))).size"
        )
        assert columns == 1  # one chart per row on a phone

        facilitator.get_by_role("button", name="Export the session (PNG, CSV, HTML)").click()
        expect(facilitator.locator("#export-folder")).to_contain_text("Written to")
        folder = Path(facilitator.locator("#export-folder").inner_text().removeprefix("Written to "))
        assert folder.parent.parent == game["exports"]
        assert len(list(folder.glob("chart-*.png"))) == 8
        with facilitator.expect_download() as info:
            facilitator.get_by_role("button", name="Download rounds.csv").click()
        assert Path(info.value.path()).read_bytes() == (folder / "rounds.csv").read_bytes()
        with devices[2].expect_download() as info:
            devices[2].get_by_role("button", name="Download the debrief (HTML)").click()
        assert Path(info.value.path()).read_bytes() == (folder / "debrief.html").read_bytes()

    # every move the teams made is in the export, settled by ProcurementModel itself
    import pandas as pd

    rounds = pd.read_csv(folder / "rounds.csv")
    plan[1][0] = (12.0, "Grant a discount", None)  # conceded exactly the 4.999999999999999% left
    for t in (1, 2, 3):
        log = rounds[rounds["table"] == t]
        assert len(log) == 3
        moves = []
        for number, row in enumerate(log.itertuples()):
            demand, answer, points = plan[number][t - 1]
            if demand is None:
                demand = moves[-1][0] * 100
                assert row.demand_repeated
            if answer is None:  # missed: the last answer repeats
                answer_code, points_share = moves[-1][1], moves[-1][2]
                assert row.answer_repeated
            else:
                answer_code = ANSWER[answer]
                points_share = row.points if points is None and answer_code != "hold" else (points or 0.0) / 100
            moves.append((demand / 100, answer_code, points_share))
            assert row.demand == pytest.approx(demand / 100) and row.answer == answer_code
            assert row.points == pytest.approx(points_share)
        ts = reference(moves)
        assert log["joint_value"].sum() == pytest.approx(ts["joint_value"].sum(), rel=1e-6)
        assert log["supplier_profit"].sum() == pytest.approx(ts["supplier_profit"].sum(), rel=1e-6)
    assert rounds.loc[rounds["table"] == 1, "points"].iloc[1] == pytest.approx(0.05, abs=1e-12)


def test_a_wrong_session_code_is_refused(browser, game):
    from playwright.sync_api import expect

    with person(browser, game["url"], PHONE) as page:
        page.goto(game["url"])
        page.get_by_label("Session code").fill("ZZZZZZ")
        page.get_by_role("button", name="Continue").click()
        expect(page.get_by_role("alert")).to_contain_text("no game has this code")
        expect(page.locator("#join-seat")).to_be_hidden()
        page.goto(f"{game['url']}facilitator#key=not-the-key")
        expect(page.get_by_role("alert")).to_contain_text("wrong facilitator key")
        expect(page.locator("#console")).to_be_hidden()


def test_team_and_table_names_are_shown_as_text_never_run(browser, game):
    """Markup in a table name or a team name shows as the text typed, on every page, and never runs; the new
    room opens beside the running one (after a confirmation) and can be undone."""
    from playwright.sync_api import expect

    table_name, team = "<script>__y=1</script>", "<img src=x onerror=__x=1>"
    url = game["url"]
    with person(browser, url) as facilitator, person(browser, url) as player:
        open_console(facilitator, game)
        before = facilitator.locator("#code").inner_text()
        facilitator.get_by_label("Rounds (contract years)").fill("1")
        facilitator.get_by_label("Tables", exact=True).fill("1")
        facilitator.get_by_label("Table names").fill(table_name)
        facilitator.get_by_role("button", name="New session with a new code").click()
        expect(facilitator.locator("#confirm")).to_contain_text(f"Room {before} ")
        facilitator.locator("#confirm-yes").click()
        expect(facilitator.locator("#code")).not_to_have_text(before)
        expect(facilitator.locator("#undo")).to_have_text("Undo: New session")
        expect(facilitator.locator("#rooms")).to_contain_text(before)  # the earlier room is still there
        link = seat_links(facilitator)[(1, "procurement")]
        code = facilitator.locator("#code").inner_text()
        player.goto(f"{url}?code={code}")
        expect(player.locator("#tables")).to_contain_text(table_name)
        sit(player, link, team)
        expect(facilitator.locator("#tables-table")).to_contain_text(team)
        facilitator.locator("#bot-seat").select_option(label=f"{table_name}, supplier")
        facilitator.locator("#bot-name").select_option(value="hold")
        facilitator.get_by_role("button", name="Seat the bot").click()
        expect(facilitator.locator("#tables-table")).to_contain_text("Bot (hold) (bot)")
        facilitator.get_by_role("button", name="Start the game").click()
        confirm(facilitator, "End this round now")
        confirm(facilitator, "Reveal the debrief")
        expect(facilitator.locator("#debrief .legend-entry").first).to_have_text(table_name)
        expect(player.locator("#debrief table.ranking")).to_contain_text(team)
        for page in (facilitator, player):
            assert page.evaluate("() => typeof window.__x === 'undefined' && typeof window.__y === 'undefined'")
            assert page.locator("img[src='x']").count() == 0
            assert page.locator("body script:not([src])").count() == 0


def test_a_whatif_report_shows_the_answer_and_the_account_table(browser, tmp_path):
    """The report a strategy team opens: the answer first, then the accounts, the granted one on top."""
    from playwright.sync_api import expect

    from sim.cli import main
    from sim.inputs.accounts import template_csv
    from sim.inputs.loading import load_scenario

    accounts = tmp_path / "accounts.csv"
    accounts.write_text(template_csv(load_scenario("baseline")), encoding="utf-8")
    out = tmp_path / "whatif"
    args = ["whatif", "baseline", "--accounts", str(accounts), "--grant", "ACME Industries=8%@0", "--out", str(out)]
    assert main([*args, "--periods", "12", "--base-set", "customers.count=30", "--replicates", "2", "--quiet"]) == 0
    answer = __import__("json").loads((out / "summary.json").read_text())["answer"]["text"]
    context = browser.new_context(viewport={"width": 1300, "height": 900})
    page = context.new_page()
    page.goto((out / "report.html").as_uri())
    expect(page.locator("#answer")).to_have_text(answer + ".")
    expect(page.locator("#answer")).to_be_in_viewport()  # the answer comes first
    rows = page.locator("table.accounts tr")
    expect(rows.nth(2)).to_contain_text("ACME Industries (granted)")
    expect(page.locator("table.accounts tr.total")).to_contain_text("market total")
    assert rows.count() == 2 + 5 + 1 + 1  # two header rows, five accounts, the rest of the market, the total
    assert page.locator("img[alt^='overview']").evaluate("img => img.naturalWidth") > 1000
    shoot(page, "whatif_report.png")
    context.close()
