"""End to end in a real browser: Playwright driving Debian's chromium against `procsim dashboard`.

Skipped where chromium or Playwright is missing, unless PROCSIM_REQUIRE_BROWSER=1 (CI),
then it fails. Every wait is on the page's state, never a fixed sleep. Set
PROCSIM_SCREENSHOTS=docs/img to refresh the screenshots in the docs.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

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
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    log_path = tmp_path_factory.mktemp("server") / "dashboard.log"
    log = log_path.open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "sim", "dashboard", "--port", str(port)],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    break
        except OSError:
            pass
        assert proc.poll() is None, log_path.read_text()
        assert time.monotonic() < deadline, "the dashboard did not start"
        time.sleep(0.2)  # polling the server's readiness, not waiting on the page
    yield url
    proc.terminate()
    proc.wait(timeout=20)
    log.close()


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
def session(browser, url: str):
    """A fresh browser context (a new session) on the dashboard; fails on any failed request."""
    context = browser.new_context(viewport={"width": 1500, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    failures: list[str] = []
    page.on("requestfailed", lambda r: failures.append(f"{r.url}: {r.failure}"))
    page.on("response", lambda r: failures.append(f"{r.url}: HTTP {r.status}") if r.status >= 400 else None)
    page.goto(url)
    page.get_by_role("button", name="Setup (apply levers)").wait_for(timeout=60_000)
    yield page
    context.close()
    assert not failures, "requests failed (the page must need nothing from the internet):\n" + "\n".join(failures)


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
    page.get_by_role("button", name="Run 10").click()
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
        page.get_by_role("button", name="Run 10").click()
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
    page.get_by_label("N", exact=True).fill("40")
    page.get_by_role("button", name="Run 40").click()
    expect(page.get_by_text("period 40 of 40")).to_be_visible()
    expect(page.locator(".status-line").nth(1)).to_contain_text("hold")
    shoot(page, "side_by_side.png")


def test_a_full_game_reaches_the_debrief_and_exports(page, tmp_path):
    from playwright.sync_api import expect

    page.get_by_role("tab", name="Negotiation game").click()
    page.get_by_label("Rounds (contract cycles)").fill("3")
    page.get_by_role("button", name="Start new game").click()
    for n, answer in ((1, "discount"), (2, "value_trade"), (3, "hold")):
        expect(page.get_by_text(f"Round {n} of 3")).to_be_visible()
        page.get_by_role("button", name=answer).click()
        page.get_by_role("button", name="Play round").click()
    expect(page.get_by_text("Debrief", exact=True)).to_be_visible()
    expect(page.locator("table.round-log tbody tr")).to_have_count(3)
    files = {}
    for label, name in (("Export debrief (PNG)", "debrief.png"), ("Export round log (CSV)", "rounds.csv")):
        with page.expect_download() as info:
            page.get_by_text(label).click()
        path = tmp_path / info.value.suggested_filename
        info.value.save_as(path)
        files[name] = path
    assert files["debrief.png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    lines = files["rounds.csv"].read_text().splitlines()
    assert lines[0].startswith("round,first_period,demand,answer") and len(lines) == 4
    shoot(page, "debrief.png")


def test_a_whatif_report_shows_the_answer_and_the_account_table(browser, tmp_path):
    """The report a strategy team opens: the answer first, then the accounts, the granted one on top."""
    from playwright.sync_api import expect

    from sim.accounts import template_csv
    from sim.cli import main
    from sim.scenario import load_scenario

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
