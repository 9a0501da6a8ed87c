"""User text never runs as script: payloads in every string field of a scenario and a sweep, checked in chromium.

Reports are meant to be shared, and a workshop dashboard shows scenarios other people
wrote. Every string a scenario or sweep file can hold (names, descriptions, currency,
group names, what-if names, the base scenario's file name) carries a script payload
(tests/xss.py), and the what-if report gets account names with payloads too; the pages are
opened in Debian's chromium and must show the payloads as text without running any. The
game has its own test (it is rewritten separately).
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml

from sim.cli import main

from .servers import procsim_server
from .test_browser import browser  # noqa: F401 - the chromium fixture
from .xss import assert_no_payload_ran, payload, watching

pytestmark = [pytest.mark.slow, pytest.mark.browser]
ROOT = Path(__file__).resolve().parent.parent


def scenario_document(tag: str) -> dict:
    """A small collapsing market (so there are events) with a payload in every string field."""
    return {
        "extends": "supplier_exit_redesign",
        "name": payload(f"{tag}-name", 0),
        "description": payload(f"{tag}-description", 1),
        "currency": payload(f"{tag}-currency", 2),
        "periods": 24,
        "suppliers": {
            "groups": [
                {"name": payload(f"{tag}-supplier-group", 0), "count": 1, "strategy": "concede",
                 "concession_rate": 0.8, "cash_months": 2, "cash_reserve_months": 1},
                {"name": payload(f"{tag}-second-group", 3), "count": 2, "strategy": "hold"},
            ]
        },
        "customers": {"groups": [{"name": payload(f"{tag}-customer-group", 2), "count": 40}]},
    }  # fmt: skip


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("xss")
    for tag in ("a", "b"):
        (folder / f"xss_{tag}.yaml").write_text(yaml.safe_dump(scenario_document(tag)), encoding="utf-8")
    return folder


def open_clean(chromium, path: Path, visible: list[str]) -> None:
    """Open a local HTML file in a fresh context and check that no payload ran."""
    context = chromium.new_context()
    page = context.new_page()
    with watching(page) as seen:
        page.goto(path.as_uri())
        page.wait_for_load_state("load")
        assert_no_payload_ran(page, seen, visible)
        csp = page.evaluate("document.querySelector('meta[http-equiv=\"Content-Security-Policy\"]')?.content")
        assert csp and "default-src 'none'" in csp and "script-src" not in csp
    context.close()


def test_run_reports_show_payloads_as_text(browser, folder, tmp_path):  # noqa: F811
    single, replicates = tmp_path / "results" / "single", tmp_path / "results" / "replicates"
    assert main(["run", str(folder / "xss_a.yaml"), "--out", str(single), "--quiet"]) == 0
    assert main(["run", str(folder / "xss_a.yaml"), "--replicates", "2", "--out", str(replicates), "--quiet"]) == 0
    fields = [payload("a-name", 0), payload("a-description", 1), payload("a-currency", 2)]
    open_clean(browser, single / "report.html", [*fields, payload("a-supplier-group", 0)])  # the events name it
    open_clean(browser, replicates / "report.html", fields)
    open_clean(browser, tmp_path / "results" / "index.html", [payload("a-name", 0)])  # the list of runs


def test_comparison_report_shows_payloads_as_text(browser, folder, tmp_path):  # noqa: F811
    out = tmp_path / "compare"
    assert main(["compare", str(folder / "xss_a.yaml"), str(folder / "xss_b.yaml"), "--out", str(out), "--quiet"]) == 0
    names = [payload("a-name", 0), payload("b-name", 0), payload("a-description", 1), payload("b-description", 1)]
    open_clean(browser, out / "report.html", [*names, payload("a-currency", 2)])


def test_analysis_page_shows_payloads_as_text(browser, folder, tmp_path):  # noqa: F811
    base_name = payload("base-file", 0).replace("/", "")  # a file name cannot hold '/'
    (folder / f"{base_name}.yaml").write_text(yaml.safe_dump(scenario_document("base")), encoding="utf-8")
    sweep = {
        "name": "xss_sweep",
        "description": payload("sweep-description", 1),
        "base": f"{base_name}.yaml",
        "set": {"customers.count": 20, "periods": 12},
        "design": {
            "scenarios": [
                {"name": payload("whatif-one", 0), "set": {"suppliers.strategy": "hold"}},
                {"name": payload("whatif-two", 3), "set": {"suppliers.strategy": "concede"}},
            ],
            "grid": {"suppliers.margin_defense": [0.0, 1.0]},
        },
        "replicates": 2,
        "outputs": {"series": "final"},
    }
    path = folder / "xss_sweep.yaml"
    path.write_text(yaml.safe_dump(sweep), encoding="utf-8")
    out = tmp_path / "sweep"
    assert main(["sweep", str(path), "--out", str(out), "--workers", "1", "--quiet"]) == 0
    assert main(["analyze", str(out), "--no-tipping"]) == 0
    open_clean(
        browser,
        out / "analysis.html",
        [payload("sweep-description", 1), payload("whatif-one", 0), payload("whatif-two", 3), f"{base_name}.yaml"],
    )


def test_whatif_report_shows_payloads_as_text(browser, folder, tmp_path):  # noqa: F811
    import csv
    import io

    from sim.inputs.accounts import template_csv
    from sim.inputs.loading import load_scenario

    rows = list(csv.reader(io.StringIO(template_csv(load_scenario(str(folder / "xss_a.yaml"))))))
    names = {"Globex": payload("account", 0), "Umbrella": payload("peer-account", 1)}
    for row in rows:  # names and peers carry payloads; the segment is the payload group name already
        row[0] = names.get(row[0], row[0])
        row[5] = "; ".join(names.get(p.strip(), p.strip()) for p in row[5].split(";") if p.strip())
    accounts = tmp_path / "accounts.csv"
    with accounts.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    out = tmp_path / "whatif"
    args = ["whatif", str(folder / "xss_a.yaml"), "--accounts", str(accounts), "--grant", "ACME Industries=8%@0"]
    assert main([*args, "--periods", "12", "--replicates", "2", "--out", str(out), "--quiet"]) == 0
    open_clean(
        browser,
        out / "report.html",
        [payload("account", 0), payload("peer-account", 1), payload("a-customer-group", 2), payload("a-name", 0)],
    )


@contextmanager
def dashboard(folder: Path, scenario: str, log_path: Path):
    """`procsim dashboard SCENARIO` on a free local port, finding scenarios in ``folder`` (PROCSIM_SCENARIOS)."""
    with procsim_server(["dashboard", scenario], log_path, env={"PROCSIM_SCENARIOS": str(folder)}) as url:
        yield url


def test_dashboard_shows_payloads_as_text(browser, folder, tmp_path):  # noqa: F811
    from playwright.sync_api import expect

    with dashboard(folder, "xss_a", tmp_path / "dashboard.log") as url:
        context = browser.new_context(viewport={"width": 1500, "height": 1000})
        page = context.new_page()
        with watching(page) as seen:
            page.goto(url)
            page.get_by_role("button", name="Setup (apply levers)").wait_for(timeout=60_000)
            page.get_by_role("button", name="Run 10 periods").click()
            expect(page.locator(".period-counter")).to_have_text("period 10 of 24")
            page.locator(".v-input", has_text="Side by side").locator(".v-input--selection-controls__ripple").click()
            page.get_by_role("button", name="Setup (apply levers)").click()
            expect(page.locator(".status-line")).to_have_count(2)
            page.get_by_role("button", name="Run 10 periods").click()
            expect(page.locator(".period-counter")).to_have_text("period 10 of 24")
            # the currency is in the big numbers and in every money chart's title
            assert_no_payload_ran(page, seen, [payload("a-currency", 2)])
            page.locator(".v-select", has_text="Scenario").first.click()  # names found in PROCSIM_SCENARIOS
            expect(page.locator(".v-list-item", has_text="xss_b")).to_be_visible()
            assert_no_payload_ran(page, seen)
        context.close()
