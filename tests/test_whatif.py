"""procsim whatif: one answer in money and years, the same in the terminal, report.html and report.xlsx."""

from __future__ import annotations

import html
import json
import re

import openpyxl
import pandas as pd
import pytest

from sim.cli import main

SMALL = ["--periods", "12", "--base-set", "customers.count=30", "--replicates", "3"]
ODD = "<script>alert(1)</script> & Sons"


@pytest.fixture(scope="module")
def accounts(tmp_path_factory):
    from sim.inputs.accounts import template_csv
    from sim.inputs.loading import load_scenario

    path = tmp_path_factory.mktemp("accounts") / "accounts.csv"
    path.write_text(template_csv(load_scenario("baseline")).replace("Umbrella", ODD), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def whatif_run(tmp_path_factory, accounts):
    out = tmp_path_factory.mktemp("whatif") / "out"
    import contextlib
    import io

    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        code = main(
            [
                "whatif",
                "baseline",
                "--accounts",
                str(accounts),
                "--grant",
                "ACME Industries=8%@0",
                "--out",
                str(out),
                *SMALL,
            ]
        )
    assert code == 0
    return out, buffer.getvalue()


def test_the_answer_comes_first_in_money_and_years(whatif_run):
    out, terminal = whatif_run
    summary = json.loads((out / "summary.json").read_text())
    answer = summary["answer"]
    assert terminal.splitlines()[0] == answer["text"] + "."
    assert re.match(
        r"Granting ACME Industries 8% costs you EUR [\d.]+[kM] profit over 3 years \(80% range EUR [\d.]+[kM]-[\d.]+[kM]\); "
        r"\d+ of its \d+ peers demand parity within [\d.]+ years?; ACME Industries' value rises EUR [\d.]+[kM]; "
        r"capability index [+-][\d.]+$",
        answer["text"],
    ), answer["text"]
    assert answer["profit_change"]["p10"] <= answer["profit_change"]["mean"] <= answer["profit_change"]["p90"]
    assert answer["horizon_years"] == 3 and answer["target"] == "ACME Industries"
    assert summary["label"] == "grant-ACME-Industries-8pct" and summary["changes"] == [
        "grant ACME Industries 8% from period 0"
    ]
    assert summary["description"].startswith("What-if on baseline")  # never the base's "settles into an equilibrium"


def test_terminal_html_and_xlsx_show_the_same_answer_and_figures(whatif_run):
    out, terminal = whatif_run
    summary = json.loads((out / "summary.json").read_text())
    assert terminal.startswith(summary["answer"]["text"] + ".\n")
    page = (out / "report.html").read_text()
    assert html.escape(summary["answer"]["text"]) in page
    book = openpyxl.load_workbook(out / "report.xlsx")
    cells = {row[0].value: row[1].value for row in book["Summary"].iter_rows(min_col=1, max_col=2) if row[0].value}
    a = summary["answer"]
    assert cells["Answer"] == a["text"]

    def same(x):
        return pytest.approx(x, rel=1e-14, abs=1e-12)  # Excel keeps 15-16 significant digits

    assert cells["Your profit change (mean)"] == same(a["profit_change"]["mean"])
    assert cells["Your profit change (10th percentile)"] == same(a["profit_change"]["p10"])
    assert cells["Capability index change"] == same(a["capability_index_change"])
    assert cells["Peers demanding parity (mean)"] == same(a["peers_demanding_parity"])
    assert cells["ACME Industries: value change"] == same(a["target_value_change"])
    key = pd.DataFrame(book["Key figures"].values).iloc[1:].set_index(0)
    for metric, values in summary["metrics"].items():
        for column, side in ((2, "base"), (3, "whatif"), (4, "difference")):
            cell = key.loc[metric, column]
            assert (cell is None and values[side] is None) or cell == same(values[side]), (metric, side)
    assert book["Summary"]["B10"].number_format.startswith('"EUR"') or any(
        '"EUR"' in c.number_format for row in book["Summary"].iter_rows() for c in row
    )


def test_the_account_table_adds_up_to_the_market_totals(whatif_run):
    out, _ = whatif_run
    table = pd.read_csv(out / "accounts.csv")
    total = table[table["account"] == "market total"].iloc[0]
    rows = table[table["account"] != "market total"]
    for side in ("base", "whatif"):
        series = pd.read_csv(out / f"timeseries_{side}.csv")
        sums = series.groupby("seed")[["contribution", "customer_value", "supplier_value"]].sum().mean()
        for key in ("contribution", "customer_value", "supplier_value", "volume"):
            assert rows[f"{key}_{side}"].sum() == pytest.approx(total[f"{key}_{side}"], rel=1e-9), (key, side)
        for key in ("contribution", "customer_value", "supplier_value"):
            assert total[f"{key}_{side}"] == pytest.approx(sums[key], rel=1e-9), (key, side)
    assert rows["customers"].sum() == total["customers"] == 30
    # Sorted by impact: named accounts by the size of their contribution change, the granted one first.
    named = rows[rows["named"]]
    assert named.iloc[0]["account"] == "ACME Industries" and named.iloc[0]["granted"]
    changes = named["contribution_change"].abs().to_numpy()
    assert (changes[:-1] >= changes[1:]).all()


def test_account_names_are_escaped_and_the_parity_spread_highlighted(whatif_run):
    out, _ = whatif_run
    page = (out / "report.html").read_text()
    assert "<script>" not in page and html.escape(ODD) in page
    table = pd.read_csv(out / "accounts.csv")
    reached = table[table["highlight"]]
    assert page.count("<tr class='reached'>") == len(reached)
    book = openpyxl.load_workbook(out / "report.xlsx")
    names = [c.value for c in book["Accounts"]["A"]]
    assert ODD in names  # text stays text in the workbook
    for name in ("overview", "discount", "value"):
        assert (out / "plots" / f"{name}.png").is_file() and (out / "plots" / f"{name}.svg").is_file()


def test_same_seeds_same_bytes(whatif_run, accounts, tmp_path):
    out, _ = whatif_run
    again = tmp_path / "again"
    args = ["whatif", "baseline", "--accounts", str(accounts), "--grant", "ACME Industries=8%@0", "--out", str(again)]
    assert main([*args, *SMALL, "--quiet"]) == 0
    for name in ("summary.json", "accounts.csv", "report.xlsx", "report.html", "plots/discount.svg", "scenario.yaml"):
        assert (out / name).read_bytes() == (again / name).read_bytes(), name


def test_default_folder_carries_the_label_and_the_index_lists_it(accounts, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    args = ["whatif", "baseline", "--set", "segments.customers.procurement.savings_target=6%", *SMALL, "--quiet"]
    assert main(args) == 0
    (folder,) = (tmp_path / "results" / "whatif" / "baseline").iterdir()
    assert folder.name.endswith("-savings_target-6pct")
    assert main(["run", "baseline", "--periods", "8", "--set", "customers.count=20", "--quiet"]) == 0
    index = (tmp_path / "results" / "index.html").read_text()
    assert "savings_target to 6%" in index and "what-if" in index and index.count("<tr>") == 3
    assert f"whatif/baseline/{folder.name}/report.html" in index


def test_nothing_to_compare_is_an_input_error(capsys, tmp_path):
    assert main(["whatif", "baseline", "--out", str(tmp_path / "x")]) == 2
    assert "nothing to compare" in capsys.readouterr().err and not (tmp_path / "x").exists()


def test_years_option_sets_the_horizon(accounts, tmp_path, capsys):
    out = tmp_path / "y"
    assert main(["whatif", "baseline", "--years", "2", "--base-set", "customers.count=20", "--replicates", "2",
                 "--grant", "customers=3%@0", "--out", str(out), "--quiet"]) == 0  # fmt: skip
    summary = json.loads((out / "summary.json").read_text())
    assert summary["periods"] == 8 and "over 2 years" in summary["answer"]["text"]
    assert "of the segment's" in summary["answer"]["text"]
    assert main(["whatif", "baseline", "--years", "2", "--periods", "3", "--grant", "customers=3%"]) == 2
