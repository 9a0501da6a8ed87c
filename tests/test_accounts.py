"""Your own accounts: the template round-trips, bad cells are named by row and column, grants work as a mechanism."""

from __future__ import annotations

import json

import numpy as np
import openpyxl
import pytest
import yaml

from sim.cli import main
from sim.engine.accounts import account_indices, effective_periods
from sim.errors import InputError
from sim.inputs.accounts import read_accounts, template_csv
from sim.inputs.grants import parse_grant, parse_question
from sim.inputs.loading import load_scenario
from sim.runs.runner import simulate

SMALL = {"customers.count": 30, "periods": 12}


@pytest.fixture
def template(tmp_path, capsys):
    """`procsim accounts template > accounts.csv`, as a user types it."""
    assert main(["accounts", "template"]) == 0
    path = tmp_path / "accounts.csv"
    path.write_text(capsys.readouterr().out, encoding="utf-8")
    return path


def _edit(path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_template_has_every_column_and_loads_as_is(template):
    header = template.read_text().splitlines()[0].split(",")
    assert header == [
        "name",
        "segment",
        "annual_revenue",
        "current_discount",
        "months_to_renewal",
        "peers",
        "contract_months",
    ]
    accounts = read_accounts(template)
    assert [a.name for a in accounts][:2] == ["ACME Industries", "Globex"]
    assert accounts[0].peers == ["Globex", "Initech"] and accounts[0].current_discount == pytest.approx(0.04)


def test_edited_template_runs_and_the_accounts_are_in_the_market(template, tmp_path, capsys):
    _edit(template, "ACME Industries,customers,12000000,4%,2", "ACME Industries,customers,20.5M,6%,7")
    out = tmp_path / "run"
    assert main(["run", "baseline", "--accounts", str(template), "--out", str(out), "--periods", "12",
                 "--set", "customers.count=30", "--quiet"]) == 0  # fmt: skip
    resolved = yaml.safe_load((out / "scenario.yaml").read_text())
    acme = resolved["accounts"][0]
    assert acme["annual_revenue"] == 20.5e6 and acme["current_discount"] == pytest.approx(0.06)
    assert acme["months_to_renewal"] == 7
    assert resolved["accounts_file"] is None  # the resolved scenario is self-contained
    # The written scenario runs again, to the same numbers.
    again = load_scenario(out / "scenario.yaml")
    assert [a.name for a in again.accounts] == [a["name"] for a in resolved["accounts"]]
    summary = json.loads((out / "summary.json").read_text())
    rerun = simulate(again, summary["seed"])
    assert rerun.summary["metrics"] == summary["metrics"]
    model = rerun.model
    i = account_indices(again)["ACME Industries"]
    assert model.state.base_demand[i] == pytest.approx(20.5e6 / 4)
    assert model.state.offset[i] == 2  # 7 months = third quarter
    assert model.state.supplier[i] == 0 or rerun.totals.switched[i]  # your customer unless it moved
    peers = set(model.network.peers[:, i]) - {model.n_customers}
    assert {account_indices(again)[n] for n in ("Globex", "Initech")} <= peers


def test_accounts_check_command(template, capsys):
    assert main(["accounts", "check", str(template)]) == 0
    assert "ok:" in capsys.readouterr().out


@pytest.mark.parametrize(
    "old, new, words",
    [
        ("4%,2", "120%,2", "row 2, column D (current_discount): must be between 0 and 0.9, got 1.2"),
        ("Globex,customers,8000000", "Globex,customers,lots", "row 3, column C (annual_revenue)"),
        ("Initech,customers,5000000,0%", "Initech,customers,5000000,0;5%", "row 4, column D (current_discount)"),
        (
            "Globex; Initech",
            "Globex; Initek",
            "row 2, column peers: no account named 'Initek' (did you mean 'Initech'?)",
        ),
        ("Umbrella,", "Globex,", "row 5, column name: account 'Globex' is named twice (also row 3)"),
        ("Umbrella,", "=HYPERLINK(1),", "row 5, column A (name): must not start with"),
        (
            "5,ACME Industries",
            "15,ACME Industries",
            "row 3, column months_to_renewal: must be below the contract length of 12 months (contract_months)",
        ),
        ("annual_revenue", "revenue", "row 1, column C: unknown column 'revenue'"),
        ("Umbrella,customers,3000000", "Umbrella,customers,", "row 5, column C (annual_revenue): this cell is empty"),
    ],
)
def test_a_bad_cell_exits_2_naming_the_file_row_and_column(template, tmp_path, capsys, old, new, words):
    _edit(template, old, new)
    out = tmp_path / "out"
    assert main(["run", "baseline", "--accounts", str(template), "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "accounts.csv" in err and words in err, err
    assert "Traceback" not in err and err.count("\n") == 1
    assert not out.exists()


def test_a_file_that_is_not_utf8_gets_a_clear_message(tmp_path, capsys):
    path = tmp_path / "accounts.csv"
    path.write_bytes(
        "name,segment,annual_revenue,current_discount,months_to_renewal\nMüller,customers,1,0,0\n".encode("latin-1")
    )
    assert main(["accounts", "check", str(path)]) == 2
    assert "not UTF-8 text (byte 0xfc on line 2)" in capsys.readouterr().err


def test_semicolon_csv_from_a_european_excel_is_read(tmp_path):
    path = tmp_path / "accounts.csv"
    path.write_text("Name;Segment;Annual revenue;Current discount;Months to renewal;Peers\nACME;customers;1.200.000;5%;3;\n"
                    .replace("1.200.000", "1200000"), encoding="utf-8-sig")  # fmt: skip
    (account,) = read_accounts(path)
    assert account.name == "ACME" and account.annual_revenue == 1.2e6 and account.current_discount == 0.05


def test_xlsx_accounts_read_values_and_refuse_unsaved_formulas(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["name", "segment", "annual_revenue", "current_discount", "months_to_renewal", "peers"])
    sheet.append(["ACME", "customers", 5_000_000, 0.04, 3, "Globex"])
    sheet.append(["Globex", "customers", 2_000_000, 0.0, 0, None])
    sheet["D2"].number_format = "0%"
    path = tmp_path / "accounts.xlsx"
    book.save(path)
    accounts = read_accounts(path)
    assert [(a.name, a.annual_revenue, a.current_discount) for a in accounts] == [
        ("ACME", 5e6, 0.04),
        ("Globex", 2e6, 0.0),
    ]
    sheet["C3"] = "=C2/2"  # written by a program: no cached value
    book.save(path)
    with pytest.raises(InputError) as info:
        read_accounts(path)
    assert info.value.field == "row 3, column C" and "formula without a saved value" in info.value.message


def test_a_huge_or_binary_or_missing_file_is_refused(tmp_path, monkeypatch):
    import sim.inputs.tables

    with pytest.raises(InputError, match="cannot read the accounts file"):
        read_accounts(tmp_path / "nothere.csv")
    (tmp_path / "folder.csv").mkdir()
    with pytest.raises(InputError, match="is not a file"):
        read_accounts(tmp_path / "folder.csv")
    (tmp_path / "notes.txt.pdf").write_text("x")
    with pytest.raises(InputError, match=r"must be \.csv or \.xlsx"):
        read_accounts(tmp_path / "notes.txt.pdf")
    (tmp_path / "broken.xlsx").write_text("not a zip")
    with pytest.raises(InputError, match=r"not a readable \.xlsx workbook"):
        read_accounts(tmp_path / "broken.xlsx")

    path = tmp_path / "accounts.csv"
    path.write_bytes(b"name,segment\x00\n")
    with pytest.raises(InputError, match="not a text file"):
        read_accounts(path)
    monkeypatch.setattr(sim.inputs.tables, "MAX_BYTES", 10)
    with pytest.raises(InputError, match="the limit is"):
        read_accounts(path)


def test_accounts_file_is_relative_to_the_scenario_file(template, tmp_path):
    folder = tmp_path / "team"
    folder.mkdir()
    template.rename(folder / "ours.csv")
    (folder / "ours.yaml").write_text("extends: baseline\naccounts_file: ours.csv\ncustomers: {count: 20}\n")
    scenario = load_scenario(folder / "ours.yaml")
    assert len(scenario.accounts) == 5 and scenario.accounts[0].origin.endswith("ours.csv: row 2")


def test_a_segment_gets_room_for_its_named_accounts():
    raw = {"accounts": [{"name": f"A{i}", "segment": "customers", "annual_revenue": 1e6} for i in range(8)]}
    scenario = load_scenario("baseline", {"customers.count": 5, "accounts": raw["accounts"]})
    assert scenario.customers[0].count == 8


# --------------------------------------------------------------------------- grants


def test_parse_grant():
    assert parse_grant("ACME=5%@0") == {"grant": "5%", "to": "ACME", "from_period": "0"}
    assert parse_grant(" Big Co = 8% @2y ")["from_period"] == "2y"
    with pytest.raises(InputError, match="expected NAME=LEVEL@PERIOD"):
        parse_grant("ACME 5%")
    # A name may hold '=' or '@': it runs to the last '=' (a level or a period never holds one).
    assert parse_grant("Sales=Partner GmbH=5%@1") == {"grant": "5%", "to": "Sales=Partner GmbH", "from_period": "1"}
    assert parse_question("a@b=c=+2pp").to == "a@b=c" and parse_question("a@b=c=+2pp").form == "step"


def test_an_account_whose_name_holds_an_equals_sign_can_be_granted(tmp_path):
    from sim.inputs.accounts import template_csv

    path = tmp_path / "accounts.csv"
    path.write_text(template_csv(load_scenario("baseline")).replace("ACME Industries", "ACME=Partner GmbH"))
    scenario = load_scenario("baseline", {**SMALL, "accounts_file": str(path)}, [parse_grant("ACME=Partner GmbH=9%@0")])
    assert scenario.interventions[0].to == "ACME=Partner GmbH" and "ACME=Partner GmbH" in account_indices(scenario)


def test_a_grant_takes_effect_after_the_accounts_next_renewal_and_spreads_by_parity(template):
    base = load_scenario("baseline", {**SMALL, "accounts_file": str(template)})
    grant = load_scenario("baseline", {**SMALL, "accounts_file": str(template)}, [parse_grant("Initech=9%@2")])
    assert grant.interventions[0].from_period == 2 and grant.interventions[0].grant == pytest.approx(0.09)
    i = account_indices(grant)["Initech"]  # 9 months to renewal: renews at the end of period 3
    a = simulate(base, 5, track_demand=True)
    b = simulate(grant, 5, track_demand=True)
    discount_a = np.array(a.totals.discounts)[:, i]  # row t: after period t
    discount_b = np.array(b.totals.discounts)[:, i]
    assert np.array_equal(discount_a[:4], discount_b[:4])  # nothing before its renewal
    assert discount_b[4] >= 0.09 - 1e-6 and discount_a[4] < 0.09  # priced from the next period on
    assert any("Initech" in e["event"] for e in b.summary["events"])
    # Peers that buy from you ask for more at their next renewals: parity, not an overwrite.
    peers = [p for p in set(b.model.network.peers[:, i]) - {b.model.n_customers} if b.model.state.supplier[p] == 0]
    demand_gap = np.array(b.totals.demand)[:, peers] - np.array(a.totals.demand)[:, peers]
    assert demand_gap.max() > 0.001


def test_a_grant_to_a_segment_and_bad_grants():
    scenario = load_scenario("parity_contagion", {"periods": 8}, [parse_grant("others=4%@1y")])
    assert scenario.interventions[0].from_period == 4
    run = simulate(scenario, 3)
    st = run.model.state
    rows = np.flatnonzero(run.model.cp.group == 1)
    due = rows[effective_periods(run.model, rows, 4) < 8]  # renewed from period 4 on, within the horizon
    assert 0 < due.size < rows.size
    assert (st.discount[due] >= 0.04 - 1e-9).all()
    assert (st.discount[np.setdiff1d(rows, due)] < 0.04).any()
    for text, words in (
        ("ACME=5%@0", "no account or segment named 'ACME'"),
        ("others=5%@99", "must be a period within the horizon (0 to 7), got 99"),
        ("others=150%@0", "must be between 0 and 0.9"),
    ):
        with pytest.raises(InputError) as info:
            load_scenario("parity_contagion", {"periods": 8}, [parse_grant(text)])
        assert words in str(info.value) and info.value.source == "--grant", str(info.value)


def test_segments_in_set_address_a_customer_group_by_name():
    scenario = load_scenario("parity_contagion", {"segments.others.procurement.savings_target": "6%"})
    assert scenario.customers[1].procurement.savings_target == pytest.approx(0.06)
    assert scenario.customers[0].procurement.savings_target == pytest.approx(0.25)
    single = load_scenario("baseline", {"segments.customers.count": 12})
    assert single.customers[0].count == 12
    with pytest.raises(InputError, match="no segment named 'automotiv'"):
        load_scenario("baseline", {"segments.automotiv.count": 3})


def test_yaml_accounts_and_interventions_name_the_item(tmp_path):
    path = tmp_path / "ours.yaml"
    path.write_text(
        "extends: baseline\naccounts:\n  - {name: ACME, segment: customers, annual_revenue: 1M}\n"
        "  - {name: Bee, segment: customers, annual_revenue: -3}\n"
    )
    with pytest.raises(InputError) as info:
        load_scenario(path)
    assert info.value.field == "accounts[1].annual_revenue"
    path.write_text("extends: baseline\ninterventions:\n  - {grant: 5%, to: customers, from_period: soon}\n")
    with pytest.raises(InputError) as info:
        load_scenario(path)
    assert info.value.field == "interventions[0].from_period" and "years such as 2y" in info.value.message


def test_template_follows_the_scenarios_segments(capsys):
    text = template_csv(load_scenario("parity_contagion"))
    segments = {line.split(",")[1] for line in text.splitlines()[1:]}
    assert segments == {"key_account", "others"}
