"""End to end in a real browser: Playwright driving Debian's chromium against `procsim dashboard` and `procsim game`.

Skipped where chromium or Playwright is missing, unless PROCSIM_REQUIRE_BROWSER=1 (CI),
then it fails. Every wait is on the page's state, never a fixed sleep. Set
PROCSIM_SCREENSHOTS=docs/img to refresh the screenshots in the docs.
"""

from __future__ import annotations

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


def shoot(page, name: str) -> None:
    folder = os.environ.get("PROCSIM_SCREENSHOTS")
    if folder:
        page.screenshot(path=str(ROOT / folder / name), full_page=True)


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
    speed.press("End")  # as fast as the page allows
    expect(page.get_by_text("Speed: 30 periods/s")).to_be_visible()
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


@pytest.fixture(scope="module")
def game(tmp_path_factory):
    """`procsim game` with 2 tables of 3 rounds and no timer; yields its address, code, key and export folder."""
    folder = tmp_path_factory.mktemp("game")
    log_path = folder / "game.log"
    args = ["game", "--rounds", "3", "--timer", "0", "--out", str(folder / "exports")]
    with procsim_server(args, log_path) as url:
        text = log_path.read_text()
        code = re.search(r"session code ([A-Z0-9]+)", text).group(1)
        key = re.search(r"facilitator#key=(\S+)", text).group(1)
        yield {"url": url, "code": code, "key": key, "exports": folder / "exports"}


@contextmanager
def person(browser, url: str, phone: bool = False):
    """One person's device: its own browser context; fails on any failed or outside request."""
    size = {"width": 390, "height": 844} if phone else {"width": 1280, "height": 900}
    context = browser.new_context(viewport=size, accept_downloads=True)
    page = context.new_page()
    failures: list[str] = []
    page.on("requestfailed", lambda r: failures.append(f"{r.url}: {r.failure}"))
    page.on("request", lambda r: None if r.url.startswith((url, "data:", "blob:")) else failures.append(r.url))
    page.on("pageerror", lambda e: failures.append(f"script error: {e}"))
    responses: list = []
    page.on("response", lambda r: responses.append(r) if "/api/" in r.url else None)
    page.responses = responses
    yield page
    context.close()
    assert not failures, "\n".join(failures)


def join(page, url: str, code: str, table: int, role: str, team: str) -> None:
    from playwright.sync_api import expect

    page.goto(f"{url}?code={code}")  # the QR code's address
    page.get_by_role("button", name="Continue").click()
    page.locator(f"input[name=table][value='{table}']").check()
    page.locator(f"input[name=role][value='{role}']").check()
    page.get_by_label("Team name").fill(team)
    page.get_by_role("button", name="Join the game").click()
    expect(page.locator("#who")).to_contain_text(team)


def open_console(page, game) -> None:
    from playwright.sync_api import expect

    page.goto(f"{game['url']}facilitator#key={game['key']}")
    expect(page.locator("#code")).to_have_text(game["code"])
    assert "key=" not in page.url  # the key leaves the address bar


def seen_by(page) -> str:
    """Everything the page holds: its text and every API answer it received."""
    return page.content() + "".join(r.text() for r in page.responses if r.ok)


# table 1 and table 2, per round: (demand %, answer label, points %); None: the supplier misses the round
ROUNDS = [
    [(13.5, "Grant a discount", 3.0), (8.5, "Hold the price and explain its value", None)],
    [(16.5, "Add service instead of a discount", 2.0), (9.5, "Grant a discount", 1.0)],
    [(19.5, "Hold the price and explain its value", None), (11.5, None, None)],
]
ANSWER = {
    "Grant a discount": "discount",
    "Add service instead of a discount": "value_trade",
    "Hold the price and explain its value": "hold",
}


def test_a_room_plays_a_full_game_on_five_devices(browser, game):
    """A facilitator and two tables of two teams, each on its own device, play 3 rounds to the debrief."""
    from playwright.sync_api import expect

    from tests.test_game import reference

    url = game["url"]
    with (
        person(browser, url) as facilitator,
        person(browser, url, phone=True) as buyer1,
        person(browser, url) as seller1,
        person(browser, url, phone=True) as buyer2,
        person(browser, url) as seller2,
    ):
        open_console(facilitator, game)
        expect(facilitator.locator("#qr svg")).to_be_visible()
        expect(facilitator.locator("#join-url")).to_have_text(f"{url}?code={game['code']}")
        join(buyer1, url, game["code"], 1, "procurement", "Buyers North")
        join(seller1, url, game["code"], 1, "supplier", "Sellers North")
        join(buyer2, url, game["code"], 2, "procurement", "Buyers South")
        join(seller2, url, game["code"], 2, "supplier", "Sellers South")
        expect(facilitator.locator("#tables-table")).to_contain_text("Sellers South")
        expect(buyer1.locator("#status")).to_contain_text("Waiting for the facilitator")
        shoot(facilitator, "game-lobby.png")
        facilitator.get_by_role("button", name="Start the game").click()
        tables = [(buyer1, seller1), (buyer2, seller2)]
        for number, moves in enumerate(ROUNDS, 1):
            for (buyer, seller), (demand, answer, points) in zip(tables, moves, strict=True):
                expect(seller.locator("#move-done")).to_contain_text("Waiting for procurement's demand")
                # the supplier has not been sent procurement's demand before procurement submits it
                assert f"{demand}%" not in seen_by(seller) and f"{demand / 100:.3f}" not in seen_by(seller)
                buyer.get_by_label("Total discount we demand").fill(str(demand))
                buyer.get_by_role("button", name="Submit our demand").click()
                expect(buyer.locator("#move-done")).to_contain_text(f"Your demand is in: {demand}% in total")
                expect(seller.locator("#demand-seen")).to_contain_text(f"Procurement demands {demand}% in total")
                if number == 1 and buyer is buyer1:
                    expect(facilitator.locator("tr[data-table='1']")).to_contain_text("✓ in")
                    shoot(seller, "game-supplier.png")
                if answer is None:
                    continue  # this supplier misses the round: the facilitator ends it
                seller.get_by_label(answer).check()
                if points is not None:
                    seller.get_by_label("Points we concede").fill(str(points))
                seller.get_by_role("button", name="Submit our answer").click()
            if number == 3:
                expect(facilitator.locator("#state")).to_contain_text("round 3 of 3")
                facilitator.get_by_role("button", name="End this round now").click()
            if number < 3:
                expect(buyer1.locator("#who")).to_contain_text(f"round {number + 1} of 3")
                if number == 1:
                    expect(buyer1.locator("#history tbody tr")).to_have_count(1)
                    shoot(buyer1, "game-procurement.png")
                    shoot(facilitator, "game-console.png")
        expect(facilitator.locator("#state")).to_contain_text("All rounds played")
        for page in (buyer1, seller1, buyer2, seller2):
            expect(page.locator("#status")).to_contain_text("Waiting for the facilitator to reveal the debrief")
        # each side saw only its own figures during the game; nobody saw the balanced policy
        assert "Capabilit" not in buyer1.locator("body").inner_text()
        assert "margin" not in buyer1.locator("#figures").inner_text()
        assert "perceive" not in seller1.locator("body").inner_text()
        assert all("alanced" not in seen_by(p) for p in (buyer1, seller1, buyer2, seller2, facilitator))

        facilitator.get_by_role("button", name="Reveal the debrief").click()
        debrief = facilitator.locator("#debrief")
        expect(debrief.locator(".legend-entry")).to_have_text(["Table 1", "Table 2", "Balanced policy"])
        expect(debrief.locator("svg[data-chart^='debrief-']")).to_have_count(8)
        ranking = debrief.locator("table.ranking tbody tr")
        expect(ranking).to_have_count(3)
        expect(ranking.nth(2)).to_contain_text("Balanced policy")
        expect(debrief.locator(".question")).to_contain_text("When did the supplier start cutting")
        facilitator.get_by_role("button", name="Next question").click()
        expect(debrief.locator(".question")).to_contain_text("Who paid for the discounts")
        for page in (buyer1, seller2):
            expect(page.locator("#debrief .question")).to_contain_text("Who paid for the discounts")
            expect(page.locator("#debrief table.ranking")).to_contain_text("Table 2")
        expect(buyer1.locator("#own-rounds")).to_contain_text("Capability after")
        shoot(facilitator, "game-debrief.png")

        facilitator.get_by_role("button", name="Export the session (PNG, CSV, HTML)").click()
        expect(facilitator.locator("#export-folder")).to_contain_text("Written to")
        folder = Path(facilitator.locator("#export-folder").inner_text().removeprefix("Written to "))
        assert folder.parent.parent == game["exports"]
        assert len(list(folder.glob("chart-*.png"))) == 8
        with facilitator.expect_download() as info:
            facilitator.get_by_role("button", name="Download rounds.csv").click()
        downloaded = tmp_download(info)
        assert downloaded == (folder / "rounds.csv").read_bytes()
        with buyer2.expect_download() as info:
            buyer2.get_by_role("button", name="Download the debrief (HTML)").click()
        assert tmp_download(info) == (folder / "debrief.html").read_bytes()

    # the exported rounds are the moves the teams made, settled by ProcurementModel itself
    import pandas as pd

    rounds = pd.read_csv(folder / "rounds.csv")
    for t in (1, 2):
        log = rounds[rounds["table"] == t]
        moves = []
        for number, row in enumerate(log.itertuples()):
            demand, answer, points = ROUNDS[number][t - 1]
            if answer is None:  # missed: the last answer repeats
                answer_code, points_share = moves[-1][1], moves[-1][2]
                assert row.answer_repeated
            else:
                answer_code = ANSWER[answer]
                points_share = 0.0 if points is None else points / 100
            moves.append((demand / 100, answer_code, points_share))
            assert row.demand == pytest.approx(demand / 100) and row.answer == answer_code
            assert row.points == pytest.approx(points_share)
        ts = reference(moves)
        assert log["joint_value"].sum() == pytest.approx(ts["joint_value"].sum(), rel=1e-5)
        assert log["supplier_profit"].sum() == pytest.approx(ts["supplier_profit"].sum(), rel=1e-5)


def tmp_download(info) -> bytes:
    path = Path(info.value.path())
    return path.read_bytes()


def test_a_wrong_session_code_is_refused(browser, game):
    from playwright.sync_api import expect

    with person(browser, game["url"], phone=True) as page:
        page.goto(game["url"])
        page.get_by_label("Session code").fill("ZZZZZZ")
        page.get_by_role("button", name="Continue").click()
        expect(page.get_by_role("alert")).to_contain_text("no game has this code")
        expect(page.locator("#join-seat")).to_be_hidden()
        page.goto(f"{game['url']}facilitator#key=not-the-key")
        expect(page.get_by_role("alert")).to_contain_text("wrong facilitator key")
        expect(page.locator("#console")).to_be_hidden()


def test_team_and_table_names_are_shown_as_text_never_run(browser, game):
    """Markup in a table name or a team name shows as the text typed, on every page, and never runs."""
    from playwright.sync_api import expect

    table_name, team = "<script>__y=1</script>", "<img src=x onerror=__x=1>"
    url = game["url"]
    with person(browser, url) as facilitator, person(browser, url) as player:
        open_console(facilitator, game)
        facilitator.get_by_label("Rounds (contract years)").fill("1")
        facilitator.get_by_label("Tables", exact=True).fill("1")
        facilitator.get_by_label("Table names").fill(table_name)
        facilitator.get_by_role("button", name="New session with a new code").click()
        expect(facilitator.locator("#code")).not_to_have_text(game["code"])
        code = facilitator.locator("#code").inner_text()
        player.goto(f"{url}?code={code}")
        player.get_by_role("button", name="Continue").click()
        expect(player.locator("#tables")).to_contain_text(table_name)
        join(player, url, code, 1, "procurement", team)
        expect(facilitator.locator("#tables-table")).to_contain_text(team)
        facilitator.get_by_role("button", name="Start the game").click()
        facilitator.get_by_role("button", name="End this round now").click()
        facilitator.get_by_role("button", name="Reveal the debrief").click()
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
