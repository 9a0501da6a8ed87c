"""The analysis page a researcher reads: one plain tipping sentence, names and units, a page that fits.

A small sweep with a tipping search is run and analysed once; the page is then read as
text and opened in Debian's chromium at 1,400 px (skipped where chromium or Playwright
is missing, unless PROCSIM_REQUIRE_BROWSER=1, then it fails).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
from pathlib import Path

import pytest
import yaml

from sim.cli import main
from sim.experiments.labels import describe

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SENTENCE = re.compile(
    r"^(Above|Below) a \d+(\.\d)?% savings target \(95% CI \d+(\.\d)?-\d+(\.\d)?%\) more than half the runs "
    r"spiral or collapse in the long run, at margin defense 0\.5\.$"
)


@pytest.fixture(scope="module")
def analysed(tmp_path_factory) -> Path:
    """A 2 x 2 sweep over a small market with a tipping search in the long run, analysed."""
    folder = tmp_path_factory.mktemp("analysis")
    sweep = {
        "base": "procurement_squeeze",
        "set": {"customers.count": 40, "periods": 12, "suppliers.count": 2, "outlook_periods": 40},
        "design": {
            "grid": {"customers.procurement.savings_target": [0.0, 0.3], "suppliers.margin_defense": [0.0, 1.0]}
        },
        "replicates": 2,
        "seed": 5,
        "analysis": {
            "phase": {"x": "customers.procurement.savings_target", "y": "suppliers.margin_defense"},
            "tipping": {
                "parameter": "customers.procurement.savings_target",
                "low": 0.0,
                "high": 0.3,
                "replicates": 4,
                "tolerance": 0.04,
            },
        },
    }
    path = folder / "small.yaml"
    path.write_text(yaml.safe_dump(sweep, sort_keys=False))
    out = folder / "out"
    assert main(["sweep", str(path), "--out", str(out), "--workers", "1", "--quiet"]) == 0
    assert main(["analyze", str(out), "--workers", "1", "--quiet"]) == 0
    return out


def test_tipping_point_in_one_plain_sentence_with_units(analysed):
    summary = json.loads((analysed / "analysis" / "analysis.json").read_text())
    assert summary["regime"] == "outlook"
    assert SENTENCE.match(summary["tipping_sentence"]), summary["tipping_sentence"]
    page = (analysed / "analysis.html").read_text()
    assert summary["tipping_sentence"] in page
    assert "in the long run" in page and "drifting" in page  # the regime is stated, every outcome class shown
    assert "savings target" in page and "margin defense" in page
    assert "tips the outcome at" not in page and "0.04883" not in page  # no raw decimals for a percentage


def test_analysis_folder_has_the_users_usual_permissions(analysed):
    mask = os.umask(0)
    os.umask(mask)
    folder = analysed / "analysis"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o777 & ~mask
    for path in folder.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~mask, path


@pytest.mark.parametrize(
    ("path", "unit", "value", "shown"),
    [
        ("customers.procurement.savings_target", "percent", 0.04883, "4.9%"),
        ("suppliers.margin_defense", "number", 0.5, "0.5"),
        ("customers.annual_revenue", "money", 2_500_000, "EUR 2.5M"),
        ("customers.count", "whole", 300, "300"),
        ("suppliers.strategy", "text", "concede", "concede"),
        ("customers.groups.big.engagement", "number", 0.45, "0.45"),
    ],
)
def test_parameters_are_named_and_formatted_from_the_schema(path, unit, value, shown):
    parameter = describe(path)
    assert parameter.unit == unit and parameter.format(value) == shown


@pytest.mark.slow
@pytest.mark.browser
def test_the_page_fits_1400_px_and_states_the_tipping_point(analysed):
    if not Path(CHROMIUM).exists() or _no_playwright():
        if os.environ.get("PROCSIM_REQUIRE_BROWSER") == "1":
            pytest.fail(
                "browser tests are required here (PROCSIM_REQUIRE_BROWSER=1) but chromium or playwright is missing"
            )
        pytest.skip("Debian's chromium or playwright is missing")
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
            page.goto((analysed / "analysis.html").as_uri())
            sentence = page.locator("#tipping-sentence")
            expect(sentence).to_be_visible()
            assert SENTENCE.match(sentence.inner_text().strip())
            expect(page.locator("#regime")).to_contain_text("in the long run")
            # two seeds a cell: the checks say so above the answer, with what to do
            expect(page.locator("#warnings")).to_contain_text("fewer than 5 runs")
            expect(page.locator("#warnings")).to_contain_text("raise replicates")
            width = page.evaluate("() => document.documentElement.scrollWidth")
            assert width <= page.evaluate("() => window.innerWidth"), width  # no sideways scrolling of the page
            for table in page.locator("table").all():  # every table fits, or scrolls inside its own box
                box = table.evaluate("t => t.closest('.wide') ? t.closest('.wide').getBoundingClientRect().right : 0")
                assert 0 < box <= 1400
            expect(page.locator("details summary").first).to_contain_text("share")
            assert page.locator("img[alt^='phase diagram']").first.evaluate("img => img.naturalWidth") >= 1000
        finally:
            browser.close()


def _no_playwright() -> bool:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return True
    return False
