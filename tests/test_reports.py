"""Reports that hold up: changes listed in every header, matching descriptions, formatted figures, report.xlsx."""

from __future__ import annotations

import json
import re

import openpyxl
import pandas as pd
import pytest

from sim.cli import main
from sim.reports.pages import matching_description

RAW_FLOAT = re.compile(r"\d\.\d{5,}")  # 35.588235294117645, 0.8123456: never shown to people


def _visible(page: str) -> str:
    """The page's text without tags and embedded images."""
    return re.sub(r"<[^>]+>", " ", re.sub(r"data:image/png;base64,[^'\"]+", "", page))


def test_a_run_with_overrides_lists_them_and_drops_the_base_description(tmp_path, capsys):
    out = tmp_path / "run"
    args = ["run", "baseline", "--out", str(out), "--periods", "12", "--set", "customers.count=30"]
    assert main([*args, "--set", "suppliers.gross_margin=15%", "--quiet"]) == 0
    page = (out / "report.html").read_text()
    assert "--set suppliers.gross_margin=15%" in page and "--set customers.count=30" in page
    assert "settles into an equilibrium" not in page  # the base's description is not this run's
    assert "loses money before any discount" in page  # 15% gross margin cannot pay for the spend
    assert not RAW_FLOAT.search(_visible(page))
    summary = json.loads((out / "summary.json").read_text())
    assert summary["overrides"] == {"customers.count": 30, "suppliers.gross_margin": "15%", "periods": 12}


def test_description_only_above_a_verdict_it_matches():
    text = "Balanced exchange; the market settles into an equilibrium."
    assert matching_description(text, "equilibrium", False) == text
    assert matching_description(text, "spiral", False) == ""
    assert matching_description(text, "equilibrium", True) == ""
    assert matching_description("Conceding suppliers spiral down.", "spiral", False)


def test_run_workbook_holds_the_summary_figures_and_the_account_table_adds_up(tmp_path):
    out = tmp_path / "run"
    assert main(["run", "procurement_squeeze", "--out", str(out), "--periods", "12", "--set", "customers.count=30",
                 "--quiet"]) == 0  # fmt: skip
    summary = json.loads((out / "summary.json").read_text())
    book = openpyxl.load_workbook(out / "report.xlsx")
    cells = {r[0].value: r[1].value for r in book["Summary"].iter_rows(min_col=1, max_col=2) if r[0].value}
    from sim.reports.pages import KEY_METRICS

    for key, label, _ in KEY_METRICS:
        value = summary["metrics"][key]
        assert cells[label] == (pytest.approx(value, rel=1e-14) if value is not None else None), key
    assert cells["Outcome"] == summary["outcome"]
    fmt = {r[0].value: r[1].number_format for r in book["Summary"].iter_rows(min_col=1, max_col=2) if r[0].value}
    assert (
        fmt["Supplier profit (cash) over the horizon"].startswith('"EUR"')
        and fmt["Average discount at the end"] == "0.0%"
    )
    accounts = pd.DataFrame(book["Accounts"].values)
    accounts.columns = accounts.iloc[0]
    accounts = accounts.iloc[1:].set_index("Account")
    ts = pd.read_csv(out / "timeseries.csv")
    total = accounts.loc["market total"]
    for key, column in (
        ("Profit contribution", "contribution"),
        ("Value to the customer", "customer_value"),
        ("Value to the supplier", "supplier_value"),
    ):
        assert total[key] == pytest.approx(ts[column].sum(), rel=1e-9)
        assert accounts.drop(index="market total")[key].sum() == pytest.approx(total[key], rel=1e-9)
    yours = "Your profit from it (after its share of your costs)"
    assert total[yours] == pytest.approx(summary_profit_of_you(out), rel=1e-9)
    series = pd.DataFrame(book["Series"].values)
    assert (
        list(series.iloc[0, :3]) == ["Period", "Year (end of period)", "Average discount"] and series.iloc[4, 1] == 1.0
    )
    assert len(book["Series"]._charts) == 2


def summary_profit_of_you(out) -> float:
    book = openpyxl.load_workbook(out / "report.xlsx")
    cells = {r[0].value: r[1].value for r in book["Summary"].iter_rows(min_col=1, max_col=2) if r[0].value}
    return cells["Your company's profit (first supplier)"]


def test_every_label_in_a_workbook_is_for_people_and_small_shares_show(tmp_path):
    """No raw key (discount_max) as a label or header; a share under 1% keeps its digits; columns fit."""
    from sim.reports.labels import METRICS, SERIES

    out = tmp_path / "rep"
    assert main(["run", "baseline", "--replicates", "2", "--out", str(out), "--periods", "8",
                 "--set", "customers.count=20", "--quiet"]) == 0  # fmt: skip
    book = openpyxl.load_workbook(out / "report.xlsx")
    raw = set(METRICS) | set(SERIES)
    for ws in book.worksheets:
        headers = [c.value for c in ws[1]] if ws.title != "Summary" else []
        labels = [r[0].value for r in ws.iter_rows(min_col=1, max_col=1)] if ws.title == "Summary" else []
        assert not raw & set(headers) - {"period"}, (ws.title, raw & set(headers))
        assert not raw & set(labels), (ws.title, raw & set(labels))
        for row in ws.iter_rows(min_row=2):
            for cell in row:
                if isinstance(cell.value, float) and cell.number_format.endswith("%") and 0 < abs(cell.value) < 0.001:
                    assert cell.number_format == "0.000%", (ws.title, cell.coordinate, cell.number_format)
    key = book["Key figures"]
    assert [c.value for c in key[1]] == ["Key", "Figure", "Mean", "10th percentile", "90th percentile"]
    assert all(r[1].value != r[0].value for r in key.iter_rows(min_row=2))  # every metric has a label
    from sim.reports.workbook import number_format, shown_width

    for ws in book.worksheets[1:]:  # widths: at least what the widest cell shows
        for column in ws.iter_cols(min_row=2):
            letter = column[0].column_letter
            width = ws.column_dimensions[letter].width
            for cell in column:
                if isinstance(cell.value, int | float) and not isinstance(cell.value, bool):
                    kind = next(
                        (k for k in ("money", "pct", "int", "index") if number_format(k, "EUR") == cell.number_format),
                        "number",
                    )
                    assert shown_width(cell.value, kind, "EUR") <= width, (ws.title, cell.coordinate, width)


@pytest.mark.slow
def test_a_workbook_opens_in_libreoffice_without_hashes(tmp_path):
    """LibreOffice renders every sheet (report.xlsx -> PDF): no cell shows ### and the answer's labels are there."""
    import shutil
    import subprocess

    office, pdftotext = shutil.which("libreoffice") or shutil.which("soffice"), shutil.which("pdftotext")
    if not office or not pdftotext:
        pytest.skip("LibreOffice and pdftotext (poppler-utils) are needed to render the workbook")
    from sim.inputs.accounts import template_csv
    from sim.inputs.loading import load_scenario

    accounts = tmp_path / "accounts.csv"
    accounts.write_text(template_csv(load_scenario("baseline")), encoding="utf-8")
    out = tmp_path / "whatif"
    args = ["whatif", "baseline", "--accounts", str(accounts), "--grant", "ACME Industries=0..8%/4pp", "--find", "80%"]
    assert main([*args, "--periods", "12", "--base-set", "customers.count=30", "--replicates", "2", "--out", str(out),
                 "--quiet"]) == 0  # fmt: skip
    profile = tmp_path / "profile"
    subprocess.run(
        [office, f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path),
         str(out / "report.xlsx")],
        check=True, capture_output=True, timeout=240,
    )  # fmt: skip
    text = subprocess.run([pdftotext, "-layout", str(tmp_path / "report.pdf"), "-"], check=True, capture_output=True,
                          text=True).stdout  # fmt: skip
    assert "###" not in text
    for words in ("your profit, change over the horizon", "Share of runs it stays", "Your profit from it", "Key"):
        assert words in text, words


def test_replicate_report_and_terminal_format_every_figure(tmp_path, capsys):
    out = tmp_path / "rep"
    args = ["run", "parity_contagion", "--replicates", "4", "--out", str(out), "--periods", "16"]
    assert main([*args, "--set", "customers.groups.others.count=40"]) == 0
    terminal = capsys.readouterr().out
    assert "{" not in terminal and "of 4 runs" in terminal and "EUR" in terminal
    page = (out / "report.html").read_text()
    visible = _visible(page)
    assert not RAW_FLOAT.search(visible), RAW_FLOAT.search(visible)
    assert "What happened in a typical run" in page
    book = openpyxl.load_workbook(out / "report.xlsx")
    key = pd.DataFrame(book["Key figures"].values).iloc[1:].set_index(0)
    summary = json.loads((out / "summary.json").read_text())
    assert key.loc["capability_index_final", 2] == pytest.approx(summary["metrics"]["capability_index_final"]["mean"])


def test_compare_terminal_and_report_are_formatted_and_tell_the_story(tmp_path, capsys):
    out = tmp_path / "cmp"
    args = ["compare", "procurement_squeeze", "hold_the_line", "--out", str(out), "--periods", "12"]
    assert main([*args, "--set", "customers.count=30"]) == 0
    terminal = capsys.readouterr().out
    assert "EUR" in terminal and not re.search(r"\d,\d{3}\.\d{3}", terminal)
    page = (out / "report.html").read_text()
    assert "--set customers.count=30" in page and "What happened" in page
    assert not RAW_FLOAT.search(_visible(page))
    assert (out / "report.xlsx").is_file() and (out / "plots" / "overview.svg").is_file()


def test_index_escapes_what_users_wrote(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "odd.yaml"
    path.write_text("extends: baseline\nname: <b>odd</b>\ndescription: x\n")
    assert main(["run", str(path), "--periods", "4", "--set", "customers.count=10", "--quiet"]) == 0
    index = (tmp_path / "results" / "index.html").read_text()
    assert "<b>odd</b>" not in index and "&lt;b&gt;odd&lt;/b&gt;" in index


def test_a_single_run_with_a_grant_and_accounts(tmp_path, monkeypatch, capsys):
    from sim.inputs.accounts import template_csv
    from sim.inputs.loading import load_scenario

    monkeypatch.chdir(tmp_path)
    (tmp_path / "ours.csv").write_text(template_csv(load_scenario("baseline")), encoding="utf-8")
    args = ["run", "baseline", "--accounts", "ours.csv", "--grant", "Globex=6%@1y", "--periods", "12"]
    assert main([*args, "--set", "customers.count=30", "--quiet"]) == 0
    (folder,) = (tmp_path / "results" / "baseline").iterdir()
    assert folder.name.endswith("-seed42-grant-Globex-6pct_count-30_accounts-ours"), folder.name
    page = (folder / "report.html").read_text()
    assert "grant Globex 6% from period 4" in page and "--accounts ours.csv" in page
    assert "5 named account(s) of your company" in page
    resolved = (folder / "scenario.yaml").read_text()
    assert "interventions:\n- grant: 0.06\n  to: Globex\n  from_period: 4" in resolved
    summary = json.loads((folder / "summary.json").read_text())
    assert any("you granted Globex a 6.0% discount" in e["event"] for e in summary["events"])


def test_formula_like_text_stays_text_in_the_workbook(tmp_path):
    """An account called =HYPERLINK(...) is shown as typed, stored as text with Excel's quote prefix."""
    from sim.reports.workbook import Sheet, write_workbook

    path = tmp_path / "book.xlsx"
    frame = pd.DataFrame({"account": ['=HYPERLINK("http://x","y")', "+1", "ACME"], "volume": [1.0, -2.0, 3.0]})
    write_workbook(
        path, title="t", currency="EUR", summary_rows=[("Name", "@SUM(A1)", "text")], sheets=[Sheet("A", frame)]
    )
    book = openpyxl.load_workbook(path)
    cells = [book["A"].cell(i, 1) for i in (2, 3, 4)]
    assert [c.value for c in cells] == list(frame["account"]) and all(c.data_type == "s" for c in cells)
    assert [c.quotePrefix for c in cells] == [True, True, False]
    assert book["A"].cell(3, 2).value == -2.0  # numbers stay numbers
    assert book["Summary"]["B3"].value == "@SUM(A1)" and book["Summary"]["B3"].quotePrefix
