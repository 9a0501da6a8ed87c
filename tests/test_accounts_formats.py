"""Account files as people have them (issues 19 and 20): local numbers, every problem at once, hostile files.

A CRM export or a colleague's workbook arrives with European numbers, a customer number
as a name, a chart or a hidden sheet in front, an unclosed quote, a lying size; each is
read where it is unambiguous and refused with its row and column where it is not, all
problems of the file in one message. Segments of one's own become customer groups, and
contracts of any length are honoured by the engine.
"""

from __future__ import annotations

import io
import re
import tracemalloc
import unicodedata
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
import yaml

from sim.cli import main
from sim.engine.accounts import account_indices, effective_periods
from sim.errors import InputError
from sim.inputs import tables
from sim.inputs.accounts import read_accounts
from sim.inputs.loading import load_scenario
from sim.inputs.values import decimal_text
from sim.runs.runner import simulate

HEADER = "name;segment;annual_revenue;current_discount;months_to_renewal"
COLUMNS = ["name", "segment", "annual_revenue", "current_discount", "months_to_renewal"]


def _csv(tmp_path: Path, rows: list[str], header: str = HEADER, name: str = "accounts.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def _error(path: Path, *args: str) -> str:
    with pytest.raises(InputError) as info:
        load_scenario("baseline", {"accounts_file": str(path)}, *args)
    return str(info.value)


# --------------------------------------------------------------------------- pasted European numbers

# (what was pasted into the cell, the column, what it means)
PASTED = [
    ("1.250.000", "annual_revenue", 1_250_000),
    ("12.500.000", "annual_revenue", 12_500_000),
    ("2.500,75", "annual_revenue", 2500.75),
    ("1 250 000", "annual_revenue", 1_250_000),
    ("1\u202f250\u202f000", "annual_revenue", 1_250_000),  # narrow no-break spaces, as French Excel writes
    ("1'250'000", "annual_revenue", 1_250_000),  # Swiss
    ("€ 1.250.000", "annual_revenue", 1_250_000),
    ("1.250.000 €", "annual_revenue", 1_250_000),
    ("12,5 Mio", "annual_revenue", 12_500_000),
    ("12,5M", "annual_revenue", 12_500_000),
    ("800k", "annual_revenue", 800_000),
    ("1,250,000.50", "annual_revenue", 1_250_000.5),
    ("12,5%", "current_discount", 0.125),
    ("4,5 %", "current_discount", 0.045),
    ("0,04", "current_discount", 0.04),
    ("4%", "current_discount", 0.04),
    ("4,5", "months_to_renewal", 4.5),
]


@pytest.mark.parametrize(("pasted", "column", "meant"), PASTED)
def test_a_corpus_of_pasted_european_numbers_is_read_as_meant(tmp_path, pasted, column, meant):
    cells = {"name": "ACME", "segment": "customers", "annual_revenue": "1000000", "current_discount": "0",
             "months_to_renewal": "0"} | {column: pasted}  # fmt: skip
    (account,) = read_accounts(_csv(tmp_path, [";".join(cells[c] for c in COLUMNS)]))
    assert getattr(account, column) == pytest.approx(meant)


@pytest.mark.parametrize(
    ("pasted", "words"),
    [
        ("2,500", "'2,500' is ambiguous: 2500 (',' separating thousands) or 2.5 (decimal comma); write 2500 or 2.5"),
        ("1.250", "'1.250' is ambiguous: 1250 ('.' separating thousands) or 1.25 (decimal point)"),
        ("1.2.3", "not in groups of three"),
        ("12,50,000", "not in groups of three"),
        ("1.250,000.5", "must separate groups of three digits"),
    ],
)
def test_an_ambiguous_or_malformed_number_is_refused_saying_how_to_write_it(tmp_path, pasted, words):
    path = _csv(tmp_path, [f"ACME;customers;{pasted};0;0"])
    assert words in _error(path)
    assert "row 2, column C (annual_revenue)" in _error(path)


def test_numbers_read_the_same_whatever_the_separators():
    for a, b in (("1.250.000", "1,250,000"), ("2.500,75", "2,500.75"), ("12,5", "12.5"), ("1 250 000", "1250000")):
        assert decimal_text(a) == decimal_text(b)


# --------------------------------------------------------------------------- every problem at once


def test_every_bad_cell_of_the_file_is_reported_at_once(tmp_path, capsys):
    path = _csv(
        tmp_path,
        [
            "ACME;customers;2,500;4%;3",  # ambiguous revenue
            "Bee;customers;lots;150%;x",  # three bad cells
            "Cee;customers;1M;abc;70",  # a bad discount, and 70 months without contract_months
            "Dee;customers;1M;1%;0",  # fine
        ],
    )
    assert main(["accounts", "check", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"procsim: error: {path}: 6 problems: ")
    for where in (
        "row 2, column C (annual_revenue): '2,500' is ambiguous",
        "row 3, column C (annual_revenue): expected an amount such as 12500000, 12.500.000, 12.5M or 800k, got 'lots'",
        "row 3, column D (current_discount): must be between 0 and 0.9, got 1.5",
        "row 3, column E (months_to_renewal): expected a number of months such as 6, got 'x'",
        "row 4, column D (current_discount): expected a percentage such as 4%, 4,5% or 0.04, got 'abc'",
        "row 4, column months_to_renewal: must be at most 60 months, got 70",
    ):
        assert where in err, where
    assert err.index("row 2,") < err.index("row 3,") < err.index("row 4,")  # in the order a person fixes them


def test_a_long_list_of_problems_is_short_and_says_how_many_more(tmp_path):
    path = _csv(tmp_path, [f"A{i};customers;lots;0;0" for i in range(40)])
    message = _error(path)
    assert message.count("expected an amount") == 12 and "40 problems" in message and "and 28 more" in message


def test_a_file_and_a_scenario_list_are_checked_together(tmp_path):
    path = _csv(tmp_path, ["ACME;customers;1M;0;0"])
    scenario = tmp_path / "ours.yaml"
    scenario.write_text(
        yaml.safe_dump(
            {
                "extends": "baseline",
                "accounts_file": "accounts.csv",
                "accounts": [{"name": "Bee", "segment": "customers", "annual_revenue": "lots"}],
            }
        )
    )
    with pytest.raises(InputError) as info:
        load_scenario(scenario)
    assert "accounts[0].annual_revenue" in str(info.value)
    path.write_text(HEADER + "\nACME;customers;1M;0;0;\nACME;customers;oops;0;0\n")
    message = _error(path)
    assert "row 3, column C (annual_revenue)" in message


# --------------------------------------------------------------------------- names


def test_a_numeric_name_is_text_in_csv_and_xlsx_alike(tmp_path):
    csv_path = _csv(tmp_path, ["12345;customers;1M;0;0"], header=HEADER)
    book = openpyxl.Workbook()
    book.active.append(COLUMNS)
    book.active.append([12345, "customers", 1e6, 0, 0])
    book.active.append([12346.0, "customers", 1e6, 0, 0])  # Excel keeps every number as a float
    book.save(tmp_path / "accounts.xlsx")
    assert [a.name for a in read_accounts(csv_path)] == ["12345"]
    assert [a.name for a in read_accounts(tmp_path / "accounts.xlsx")] == ["12345", "12346"]


def test_names_are_normalised_so_the_same_name_typed_two_ways_is_one(tmp_path):
    composed, decomposed = unicodedata.normalize("NFC", "Müller AG"), unicodedata.normalize("NFD", "Müller AG")
    assert composed != decomposed
    path = _csv(tmp_path, [f"{composed};customers;1M;0;0", f"{decomposed};customers;2M;0;0"])
    assert "row 3, column name: account 'Müller AG' is named twice (also row 2)" in _error(path)
    path = _csv(tmp_path, [f"{decomposed};customers;1M;0;0"])
    assert read_accounts(path)[0].name == composed


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("\u202eACME", "U+202E (right-to-left override) at character 1"),
        ("AC\u200bME", "U+200B (zero width space) at character 3"),
        ("ACME\u2066", "U+2066 (left-to-right isolate) at character 5"),
        ("AC\x7fME", "control characters"),
    ],
)
def test_invisible_or_bidi_characters_in_a_name_are_refused_with_row_and_column(tmp_path, name, words):
    message = _error(_csv(tmp_path, ["Fine;customers;1M;0;0", f"{name};customers;1M;0;0"]))
    assert "row 3, column A (name)" in message and words in message


def test_a_cell_over_the_size_limit_is_refused(tmp_path):
    path = _csv(tmp_path, [f"ACME;customers;1M;0;0;{'x' * (tables.MAX_FIELD + 1)}"], header=HEADER + ";peers")
    assert f"row 2, column F: a cell of {tables.MAX_FIELD + 1:,} characters; at most {tables.MAX_FIELD:,}" in _error(
        path
    )


def test_an_unclosed_quote_is_reported_with_its_line(tmp_path):
    path = _csv(tmp_path, ["ACME;customers;1M;0;0", 'Bee;"customers;1M;0;0', "Cee;customers;1M;0;0"])
    assert 'line 3: cannot read the CSV: a quote (") opened on line 3 is never closed' in _error(path)


# --------------------------------------------------------------------------- workbooks


def _workbook(tmp_path: Path, name: str = "accounts.xlsx") -> tuple[openpyxl.Workbook, Path]:
    book = openpyxl.Workbook()
    book.remove(book.active)
    return book, tmp_path / name


def _sheet(book: openpyxl.Workbook, title: str, first: str, state: str = "visible") -> None:
    sheet = book.create_sheet(title)
    sheet.append(COLUMNS)
    sheet.append([first, "customers", 1e6, 0.01, 0])
    sheet.sheet_state = state


def test_chart_and_hidden_sheets_are_skipped_and_sheet_names_one(tmp_path):
    from openpyxl.chart import BarChart, Reference

    book, path = _workbook(tmp_path)
    _sheet(book, "very hidden", "Secret", "veryHidden")
    _sheet(book, "hidden", "Hidden", "hidden")
    _sheet(book, "data", "Visible")
    _sheet(book, "other", "Other")
    chart = book.create_chartsheet("chart", 0)  # the first sheet is a chart
    bars = BarChart()
    bars.add_data(Reference(book["data"], min_col=3, min_row=1, max_row=2))
    chart.add_chart(bars)
    book.active = 3  # 'data'
    book.save(path)
    assert [a.name for a in read_accounts(path)] == ["Visible"]
    assert [a.name for a in read_accounts(path, sheet="other")] == ["Other"]
    assert [a.name for a in read_accounts(path, sheet="hidden")] == ["Hidden"]  # named: read even if hidden
    with pytest.raises(InputError, match="is a chart, not a table"):
        read_accounts(path, sheet="chart")
    with pytest.raises(InputError, match="no worksheet named 'nope'; the workbook has: very hidden, hidden, data"):
        read_accounts(path, sheet="nope")


def test_sheet_on_the_command_line(tmp_path, capsys):
    book, path = _workbook(tmp_path)
    _sheet(book, "data", "Visible")
    _sheet(book, "other", "Other")
    book.save(path)
    assert main(["accounts", "check", str(path), "--sheet", "other"]) == 0
    assert "1 accounts" in capsys.readouterr().out
    assert main(["validate", "baseline", "--sheet", "other"]) == 2
    assert "--sheet: names a worksheet of the --accounts file; give --accounts too" in capsys.readouterr().err
    out = tmp_path / "run"
    assert main(["run", "baseline", "--accounts", str(path), "--sheet", "other", "--out", str(out),
                 "--set", "customers.count=10", "--periods", "4", "--quiet"]) == 0  # fmt: skip
    assert [a["name"] for a in yaml.safe_load((out / "scenario.yaml").read_text())["accounts"]] == ["Other"]
    out = tmp_path / "whatif"
    assert main(["whatif", "baseline", "--accounts", str(path), "--sheet", "other", "--grant", "Other=5%@0",
                 "--out", str(out), "--replicates", "2", "--base-set", "customers.count=10", "--periods", "4",
                 "--quiet"]) == 0  # fmt: skip
    for side in ("scenario_base.yaml", "scenario.yaml"):  # both sides read the sheet named
        assert [a["name"] for a in yaml.safe_load((out / side).read_text())["accounts"]] == ["Other"]


def test_a_workbook_with_no_visible_worksheet_is_refused(tmp_path):
    book, path = _workbook(tmp_path)
    _sheet(book, "a", "A", "hidden")
    _sheet(book, "b", "B")
    book.save(path)  # (openpyxl keeps one sheet visible; another program need not)
    path.write_bytes(_rewrite(path, "xl/workbook.xml", lambda xml: xml.replace('"visible"', '"veryHidden"')))
    with pytest.raises(InputError, match="the workbook has no visible worksheet; name one with --sheet"):
        read_accounts(path)
    assert [a.name for a in read_accounts(path, sheet="b")] == ["B"]


def _rewrite(path: Path, member: str, change) -> bytes:
    """The workbook's bytes with one member's XML changed (what another program might have written)."""
    out = io.BytesIO()
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info)
            target.writestr(info, change(data.decode()).encode() if info.filename == member else data)
    return out.getvalue()


def test_a_lying_dimension_is_ignored_and_reading_stays_small(tmp_path):
    """A small workbook claiming XFD2000 (16,384 columns) took 812 MB on main; it is read as what it holds."""
    book, path = _workbook(tmp_path)
    sheet = book.create_sheet("accounts")
    sheet.append(COLUMNS)
    for i in range(600):
        sheet.append([f"A{i}", "customers", 1e6, 0.01, 0])
    book.save(path)
    path.write_bytes(
        _rewrite(
            path,
            "xl/worksheets/sheet1.xml",
            lambda xml: re.sub(r'<dimension ref="[^"]*"', '<dimension ref="A1:XFD2000"', xml),
        )
    )
    assert path.stat().st_size < 60_000
    tracemalloc.start()
    try:
        accounts = read_accounts(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(accounts) == 600 and peak < 50e6


def test_a_value_beyond_the_column_limit_stops_the_reading_and_says_so(tmp_path):
    book, path = _workbook(tmp_path)
    sheet = book.create_sheet("accounts")
    sheet.append(COLUMNS)
    sheet.append(["ACME", "customers", 1e6, 0.01, 0])
    sheet.cell(row=3, column=16384, value="far right")
    book.save(path)
    with pytest.raises(InputError) as info:
        read_accounts(path)
    assert info.value.field == "row 3" and "a value in column XFD; a list has at most 50 columns" in str(info.value)


def test_no_row_is_dropped_without_a_word(tmp_path, monkeypatch):
    book, path = _workbook(tmp_path)
    sheet = book.create_sheet("accounts")
    sheet.append(COLUMNS)
    sheet.append(["ACME", "customers", 1e6, 0.01, 0])
    for column, value in enumerate(["Far", "customers", 2e6, 0.0, 0], start=1):
        sheet.cell(row=1_000_000, column=column, value=value)
    book.save(path)
    assert [a.name for a in read_accounts(path)] == ["ACME", "Far"]  # an account on row 1,000,000 is read
    monkeypatch.setattr(tables, "MAX_ROWS", 1)
    with pytest.raises(InputError, match=r"more than 1 rows below the header \(reading stopped at row 1,000,000\)"):
        read_accounts(path)
    csv_path = _csv(tmp_path, ["A;customers;1M;0;0", "B;customers;1M;0;0"])
    with pytest.raises(InputError, match=r"reading stopped at row 3"):
        read_accounts(csv_path)


# --------------------------------------------------------------------------- segments and contracts


def test_a_segment_of_ones_own_is_made_from_the_scenarios_customer_group(tmp_path, capsys):
    path = _csv(tmp_path, ["ACME;Automotive;5M;4%;3", "Bee;Automotive;2M;0;0", "Cee;customers;1M;0;0"])
    base = load_scenario("baseline")
    scenario = load_scenario("baseline", {"accounts_file": str(path)})
    groups = {g.name: g for g in scenario.customers}
    assert list(groups) == ["customers", "Automotive"]
    assert groups["Automotive"].count == 2 and groups["customers"].count == base.customers[0].count - 2
    template = base.customers[0].model_dump(exclude={"name", "count"})
    assert groups["Automotive"].model_dump(exclude={"name", "count"}) == template
    run = simulate(load_scenario("baseline", {"accounts_file": str(path), "periods": 4}), 1)
    i = account_indices(scenario)["ACME"]
    assert run.model.cp.group_names[run.model.cp.group[i]] == "Automotive"
    assert main(["accounts", "check", str(path)]) == 0
    out = capsys.readouterr().out
    assert "new segment(s) Automotive: made from the scenario's customer group 'customers'" in out


def test_with_several_customer_groups_an_unknown_segment_says_how_to_define_it(tmp_path):
    with pytest.raises(InputError) as info:
        load_scenario("parity_contagion", {"accounts_file": str(_csv(tmp_path, ["ACME;Automotive;5M;4%;3"]))})
    assert "row 2, column segment: unknown segment 'Automotive'" in str(info.value)
    assert "key_account, others (a new one goes under customers.groups in a scenario file)" in str(info.value)


def test_months_to_renewal_up_to_60_and_contract_months_a_multiple_of_the_markets(tmp_path):
    header = HEADER + ";contract_months"
    ok = _csv(tmp_path, ["A;customers;1M;0;60;", "B;customers;1M;0;30;36", "C;customers;1M;0;0;24"], header)
    assert [a.contract_months for a in load_scenario("baseline", {"accounts_file": str(ok)}).accounts] == [
        None,
        36,
        24,
    ]
    bad = _csv(tmp_path, ["A;customers;1M;0;61;", "B;customers;1M;0;30;18", "C;customers;1M;0;30;24"], header)
    message = _error(bad)
    assert "row 2, column months_to_renewal: must be at most 60 months, got 61" in message
    assert "row 3, column contract_months: must be a whole number of the market's 12-month contracts" in message
    assert "row 4, column months_to_renewal: must be below the contract length of 24 months" in message


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_engine_honours_contracts_of_any_length(seed):
    accounts = [
        {"name": "Two years", "segment": "customers", "annual_revenue": 5e6, "contract_months": 24},
        {"name": "Yearly", "segment": "customers", "annual_revenue": 5e6},
        {"name": "Late", "segment": "customers", "annual_revenue": 5e6, "months_to_renewal": 30},
    ]
    scenario = load_scenario("procurement_squeeze", {"customers.count": 40, "periods": 24, "accounts": accounts})
    index = account_indices(scenario)
    run = simulate(scenario, seed, track_demand=True)
    discounts = np.array(run.totals.discounts)  # row t: after period t

    def renewed(name: str) -> set[int]:
        return set((np.flatnonzero(np.abs(np.diff(discounts[:, index[name]])) > 1e-12) + 1).tolist())

    assert renewed("Two years") <= {8, 16} and renewed("Two years")  # every 8 quarters, from period 0
    assert renewed("Yearly") - {4, 8, 12, 16, 20} == set() and renewed("Yearly") - {8, 16}  # every 4 quarters
    assert renewed("Late") <= {10, 14, 18, 22} and 10 in renewed("Late")  # first at month 30, then yearly
    rows = np.array([index["Two years"], index["Yearly"], index["Late"]])
    assert effective_periods(run.model, rows, 2).tolist() == [9, 5, 11]  # a grant prices after the next renewal due


# --------------------------------------------------------------------------- text bound for spreadsheets


def test_a_group_name_from_a_scenario_reaches_accounts_csv_neutralised(tmp_path):
    formula = '=HYPERLINK("http://example.com","x")'
    scenario = tmp_path / "ours.yaml"
    scenario.write_text(
        yaml.safe_dump(
            {
                "extends": "baseline",
                "customers": {"count": 5, "groups": [{"name": "customers"}, {"name": formula}]},
                "accounts": [{"name": "ACME", "segment": "customers", "annual_revenue": "1M"}],
            }
        )
    )
    out = tmp_path / "wi"
    assert main(["whatif", str(scenario), "--grant", "ACME=5%@0", "--replicates", "2", "--periods", "4",
                 "--out", str(out), "--quiet"]) == 0  # fmt: skip
    text = (out / "accounts.csv").read_text()
    assert "'=HYPERLINK" in text and ",=HYPERLINK" not in text and not text.startswith("=")
    table = pd.read_csv(out / "accounts.csv")
    assert not any(str(v).startswith(("=", "+", "@")) for v in table.astype(str).to_numpy().ravel())


def test_a_currency_with_a_quote_writes_a_valid_number_format(tmp_path):
    scenario = tmp_path / "ours.yaml"
    scenario.write_text(yaml.safe_dump({"extends": "baseline", "currency": 'EU"R;\\'}))
    out = tmp_path / "run"
    assert (
        main(["run", str(scenario), "--out", str(out), "--set", "customers.count=10", "--periods", "4", "--quiet"]) == 0
    )
    book = openpyxl.load_workbook(out / "report.xlsx")
    formats = {c.number_format for ws in book.worksheets for row in ws.iter_rows() for c in row}
    money = [f for f in formats if "EU" in f]
    assert money
    for fmt in money:
        # outside quoted text, a double quote appears only escaped (\"): every section parses
        outside = re.sub(r'"[^"]*"', "", fmt)
        assert '"' not in outside.replace('\\"', ""), fmt
        assert outside.count(";") == 1, fmt  # two sections (positive; negative): the ';' in the currency is text
