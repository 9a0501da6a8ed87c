"""The what-if studio in a real browser: Playwright driving Debian's chromium against `procsim studio`.

An analyst's session at 1366x768 and at 1920x1080 (one browser context each): a bad
upload is explained in the page, a real upload is read, two questions are answered and
compared side by side, a bad field is marked, and the workbook downloads. Skipped where
chromium or Playwright is missing, unless PROCSIM_REQUIRE_BROWSER=1 (CI).
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

import openpyxl
import pytest

from .servers import procsim_server
from .test_browser import browser  # noqa: F401 - the chromium fixture (one launch, the same flags)

pytestmark = [pytest.mark.slow, pytest.mark.browser]
ODD = '<img src=x onerror="window.__xss=1"> Ltd'
ACCOUNTS = (
    "name,segment,annual_revenue,current_discount,months_to_renewal,peers\n"
    "ACME Industries,customers,12.5M,4%,2,Globex; Initech\n"
    "Globex,customers,8000000,2%,5,ACME Industries\n"
    "Initech,customers,5000000,0%,9,ACME Industries\n"
    '"' + ODD.replace('"', '""') + '",customers,3000000,3%,0,Globex\n'
)


@pytest.fixture(scope="module")
def studio(tmp_path_factory):
    with procsim_server(["studio"], tmp_path_factory.mktemp("studio") / "studio.log") as url:
        yield url


@contextmanager
def session(chromium, url: str, width: int, height: int):
    """A browser context of its own; fails on a failed request, a request elsewhere, or an unexpected error status."""
    context = chromium.new_context(viewport={"width": width, "height": height}, accept_downloads=True)
    page = context.new_page()
    failures: list[str] = []
    page.on("requestfailed", lambda r: failures.append(f"{r.url}: {r.failure}"))
    page.on(
        "response",
        lambda r: (
            failures.append(f"{r.url}: HTTP {r.status}")
            if r.status >= 500 or (r.status >= 400 and "/api/" not in r.url)
            else None
        ),
    )
    page.on("request", lambda r: None if r.url.startswith((url, "data:", "blob:")) else failures.append(r.url))
    page.on("dialog", lambda d: failures.append(f"dialog: {d.message}"))
    page.goto(url)
    yield page
    assert page.evaluate("() => window.__xss === undefined"), "a name from the upload ran as script"
    context.close()
    assert not failures, "requests failed or left the server:\n" + "\n".join(failures)


def _ask(page, expect) -> str:
    page.get_by_role("button", name="Answer").click()
    expect(page.get_by_role("button", name="Answer")).to_be_enabled(timeout=60_000)
    return page.locator("#answer").inner_text()


@pytest.mark.parametrize(("width", "height"), [(1366, 768), (1920, 1080)])
def test_an_analyst_uploads_asks_twice_compares_and_downloads(browser, studio, tmp_path, width, height):  # noqa: F811
    from playwright.sync_api import expect

    bad = tmp_path / "crm export.csv"
    bad.write_text(ACCOUNTS.replace("4%,2", "140%,2"), encoding="utf-8")
    good = tmp_path / "accounts.csv"
    good.write_text(ACCOUNTS, encoding="utf-8")
    with session(browser, studio, width, height) as page:
        expect(page.get_by_label("Your gross margin (%) at list price")).to_have_value("45")
        page.set_input_files("#file", str(bad))  # a bad cell: the file, row and column are named in the page
        expect(page.locator("#message")).to_contain_text("crm export.csv")
        expect(page.locator("#message")).to_contain_text("row 2")
        expect(page.locator("#file")).to_have_class("invalid")
        page.set_input_files("#file", str(good))
        expect(page.locator("#upload-status")).to_have_text("4 accounts from accounts.csv")
        page.get_by_label("Horizon (years)").fill("3")
        page.get_by_label("Seeds").fill("4")
        page.select_option("#to", "ACME Industries")
        page.get_by_label("Discount level (%)").fill("7")
        first = _ask(page, expect)
        assert first.startswith("Granting ACME Industries 7% (now 4%)"), first
        expect(page.locator("#answer")).to_be_in_viewport()
        expect(page.locator("table.lines tr[data-key='granted']")).to_contain_text("ACME Industries (granted)")
        expect(page.locator("#charts img[data-chart='cost']")).to_be_visible()
        assert page.locator("#charts img[data-chart='cost']").evaluate("img => img.naturalWidth") > 600
        expect(page.locator("table.accounts")).to_contain_text(ODD)  # the upload's names, as text
        with page.expect_download() as download:
            page.get_by_role("link", name="report.xlsx").click()
        path = tmp_path / f"report-{width}.xlsx"
        download.value.save_as(path)
        cells = {
            r[0].value: r[1].value for r in openpyxl.load_workbook(path)["Summary"].iter_rows(max_col=2) if r[0].value
        }
        assert cells["Answer"] + "." == first

        page.get_by_label("What a step on today's discount costs").check()  # the second question
        page.select_option("#to", "Globex")
        page.get_by_label("Step on today's discount (percentage points)").fill("2")
        page.get_by_label("Your negotiation strategy the first supplier only").select_option("hold")
        second = _ask(page, expect)
        assert second.startswith("Granting Globex +2 pp (2% to 4%)"), second
        table = page.locator("#comparison")
        expect(table.locator("th")).to_have_count(3)  # the row names and both answers, side by side
        expect(table.locator("tr[data-key='total'] td")).to_have_count(3)
        expect(table).to_contain_text("your strategy=hold")

        page.get_by_label("Your gross margin (%) at list price").fill("lots")  # a bad field: marked, explained
        page.get_by_role("button", name="Answer").click()
        expect(page.locator("#message")).to_contain_text("expected a number")
        expect(page.get_by_label("Your gross margin (%) at list price")).to_have_class("invalid")
        assert page.evaluate(
            "() => document.documentElement.scrollWidth <= window.innerWidth + 1"
        )  # no sideways scroll
        shot = os.environ.get("PROCSIM_SCREENSHOTS")
        if shot:
            page.screenshot(path=str(Path(__file__).resolve().parent.parent / shot / f"studio_{width}.png"))
