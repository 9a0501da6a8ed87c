"""procsim whatif: one reconciled answer in money and years, the same in the terminal, report.html, report.xlsx and JSON.

No model figure is asserted here (the model changes); what is checked are relations: the
parts add up to the total, a step equals the level it implies, the four outputs print the
same amounts, a curve's point is the what-if of its level, per year x years is the total.
"""

from __future__ import annotations

import contextlib
import html
import io
import json
import re

import numpy as np
import openpyxl
import pandas as pd
import pytest

from sim.cli import main

SMALL = ["--periods", "12", "--base-set", "customers.count=30", "--replicates", "3"]
ODD = "<script>alert(1)</script> & Sons"
AMOUNT = re.compile(r"([+-]?)EUR (\d[\d,]*(?:\.\d)?)([kMBT]?)")
SCALE = {"": 1.0, "k": 1e3, "M": 1e6, "B": 1e9, "T": 1e12}


def amount(text: str) -> tuple[float, float]:
    """A printed amount (``-EUR 1.5M``) as a number and the half-unit it was rounded to."""
    match = AMOUNT.search(text)
    assert match, text
    sign, digits, unit = match.groups()
    value = float(digits.replace(",", "")) * SCALE[unit]
    step = SCALE[unit] * (0.1 if unit else 1.0)
    return (-value if sign == "-" else value), step / 2


def run(args: list[str]) -> tuple[int, str]:
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        code = main(args)
    return code, buffer.getvalue()


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
    code, terminal = run(
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
    return out, terminal


def _summary(out):
    return json.loads((out / "summary.json").read_text())


def test_the_answer_comes_first_in_money_and_years(whatif_run):
    out, terminal = whatif_run
    summary = _summary(out)
    answer = summary["answer"]
    assert terminal.splitlines()[0] == answer["text"] + "."
    money = r"EUR [\d.]+[kM]?"
    assert re.match(
        rf"Granting ACME Industries 8% \(now 4%\) (costs you|earns you) {money}( more)? profit over 3 years "
        rf"\(80% range [^)]+\), {money} a year, {money} now \(NPV at 8% a year\); "
        r"ACME Industries stays with you in \d of 3 runs \(\d without the change\); "
        rf"\d+ of its \d+ peers demand parity within [\d.]+ years?; ACME Industries' value (rises|falls) {money}, "
        r"mostly through [a-z ]+; "
        r"capability index [+-][\d.]+$",
        answer["text"],
    ), answer["text"]
    p = answer["profit_change"]
    assert p["p10"] <= p["mean"] <= p["p90"]
    assert answer["horizon_years"] == 3 and answer["target"] == "ACME Industries"
    assert answer["grants"] == [{"to": "ACME Industries", "level": 0.08, "current": 0.04, "step": None}]
    assert summary["label"] == "grant-ACME-Industries-8pct" and summary["changes"] == [
        "grant ACME Industries 8% from period 0"
    ]
    assert summary["description"].startswith("What-if on baseline")  # never the base's "settles into an equilibrium"


def test_the_parts_add_up_to_what_it_costs_you_run_by_run():
    """Granted account + parity + lost or won + the rest = your profit difference, in every seed."""
    from sim.inputs.grants import parse_question
    from sim.inputs.loading import load_scenario
    from sim.whatif.answer import ask
    from sim.whatif.questions import plan
    from sim.whatif.reconcile import granted_rows, run_parts

    base = load_scenario("baseline", {"periods": 16, "customers.count": 40})
    result = ask(base, base, plan(base, [parse_question("customers=6%")]), replicates=4)
    rows = granted_rows(result.variant, result.variant.interventions)
    for b, w in zip(result.runs["base"], result.runs["whatif"], strict=True):
        parts = run_parts(b, w, rows)
        assert sum(parts.parts.values()) == pytest.approx(parts.total, rel=1e-12, abs=1e-3)
        assert parts.total == pytest.approx(w.totals.supplier_profit[0] - b.totals.supplier_profit[0], rel=1e-12)
        # each customer's profit to you adds up to your profit (your costs are shared by volume)
        assert w.totals.yours.sum() == pytest.approx(w.totals.supplier_profit[0], rel=1e-9)
    answer = result.answer
    assert sum(p["mean"] for p in answer["parts"]) == pytest.approx(
        answer["profit_change"]["mean"], rel=1e-12, abs=1e-3
    )
    y = answer
    assert y["per_year"]["mean"] * y["horizon_years"] == pytest.approx(y["profit_change"]["mean"], rel=1e-12, abs=1e-3)
    assert sum(r["mean"] for r in y["years"]) == pytest.approx(y["profit_change"]["mean"], rel=1e-12, abs=1e-3)
    assert y["cumulative"][-1]["mean"] == pytest.approx(y["profit_change"]["mean"], rel=1e-12, abs=1e-3)


def test_terminal_html_xlsx_and_json_print_the_same_figures(whatif_run):
    """Every figure under the answer: the same words and, parsed back, the same amount in all four outputs."""
    out, terminal = whatif_run
    summary = _summary(out)
    lines = summary["answer"]["lines"]
    page = (out / "report.html").read_text()
    assert html.escape(summary["answer"]["text"]) in page
    book = openpyxl.load_workbook(out / "report.xlsx")
    cells = {r[0].value: r[1].value for r in book["Summary"].iter_rows(min_col=1, max_col=2) if r[0].value}
    answer_sheet = {r[0]: r[1:] for r in list(book["Answer"].values)[1:]}
    html_rows = dict(re.findall(r"<tr class='[^']*' data-key='([a-z_]+)'><td>(.*?)</tr>", page))
    printed = {line.strip().split("  ")[0]: line for line in terminal.splitlines() if "EUR" in line}
    assert len(lines) >= 8
    for line in lines:
        assert cells["Answer"] == summary["answer"]["text"]
        assert cells[line["label"]] == pytest.approx(line["mean"], rel=1e-14, abs=1e-9)  # xlsx: the value itself
        assert answer_sheet[line["label"]][0] == pytest.approx(line["mean"], rel=1e-14, abs=1e-9)
        assert answer_sheet[line["label"]][1] == pytest.approx(line["p10"], rel=1e-14, abs=1e-9)
        terminal_line = printed[line["label"]]  # the terminal: the same label, the amount within its rounding
        value, tolerance = amount(terminal_line.split(line["label"])[1])
        assert value == pytest.approx(line["mean"], abs=tolerance * 1.001), (line, terminal_line)
        row = html_rows[line["key"]]
        assert html.escape(line["label"]) in row
        value, tolerance = amount(re.findall(r"<td class='num'>(.*?)</td>", row)[0])
        assert value == pytest.approx(line["mean"], abs=tolerance * 1.001), (line, row)
    key = pd.DataFrame(book["Key figures"].values).iloc[1:].set_index(0)
    for metric, values in summary["metrics"].items():
        for column, side in ((2, "base"), (3, "whatif"), (4, "difference")):
            cell = key.loc[metric, column]
            expected = values[side]
            assert (cell is None and expected is None) or cell == pytest.approx(expected, rel=1e-14), (metric, side)


def test_the_account_table_adds_up_and_the_granted_row_is_the_granted_part(whatif_run):
    out, _ = whatif_run
    table = pd.read_csv(out / "accounts.csv")
    total = table[table["account"] == "market total"].iloc[0]
    rows = table[table["account"] != "market total"]
    for side in ("base", "whatif"):
        series = pd.read_csv(out / f"timeseries_{side}.csv")
        sums = series.groupby("seed")[["contribution", "customer_value", "supplier_value"]].sum().mean()
        for key in ("contribution", "customer_value", "supplier_value", "volume", "yours"):
            assert rows[f"{key}_{side}"].sum() == pytest.approx(total[f"{key}_{side}"], rel=1e-9), (key, side)
        for key in ("contribution", "customer_value", "supplier_value"):
            assert total[f"{key}_{side}"] == pytest.approx(sums[key], rel=1e-9), (key, side)
    assert rows["customers"].sum() == total["customers"] == 30
    named = rows[rows["named"]]
    assert named.iloc[0]["account"] == "ACME Industries" and named.iloc[0]["granted"]
    changes = named["yours_change"].abs().to_numpy()
    assert (changes[:-1] >= changes[1:]).all()  # sorted by impact
    answer = _summary(out)["answer"]
    granted = next(p for p in answer["parts"] if p["key"] == "granted")
    assert named.iloc[0]["yours_change"] == pytest.approx(granted["mean"], rel=1e-9)
    assert (rows["yours_change_p10"] <= rows["yours_change_p90"]).all()  # every row carries its range
    assert total["yours_change"] == pytest.approx(answer["profit_change"]["mean"], rel=1e-9, abs=1.0)


def test_account_names_are_escaped_and_every_chart_is_written(whatif_run):
    out, _ = whatif_run
    page = (out / "report.html").read_text()
    assert "<script>" not in page and html.escape(ODD) in page
    table = pd.read_csv(out / "accounts.csv")
    assert page.count("<tr class='reached'>") == int(table["highlight"].sum())
    book = openpyxl.load_workbook(out / "report.xlsx")
    assert ODD in [c.value for c in book["Accounts"]["A"]]  # text stays text in the workbook
    for name in ("overview", "cost", "parts", "followers", "discount_mean", "capability_index"):
        svg = (out / "plots" / f"{name}.svg").read_text()
        assert svg.startswith("<svg") and "<script" not in svg
    assert len(book["Summary"]._charts) == 1 and len(book["Parts"]._charts) == 1 and len(book["Years"]._charts) == 1


def test_same_seeds_same_bytes(whatif_run, accounts, tmp_path):
    out, _ = whatif_run
    again = tmp_path / "again"
    args = ["whatif", "baseline", "--accounts", str(accounts), "--grant", "ACME Industries=8%@0", "--out", str(again)]
    assert run([*args, *SMALL, "--quiet"])[0] == 0
    for name in ("summary.json", "accounts.csv", "report.xlsx", "report.html", "plots/cost.svg", "scenario.yaml"):
        assert (out / name).read_bytes() == (again / name).read_bytes(), name


def test_a_step_is_the_level_it_implies(accounts, tmp_path):
    """ACME is at 4% today: +2pp and 6% are the same question, answered with the same figures."""
    answers = {}
    for grant in ("ACME Industries=+2pp", "ACME Industries=6%"):
        out = tmp_path / grant.replace("%", "pct").replace("+", "plus")
        assert (
            run(["whatif", "baseline", "--accounts", str(accounts), "--grant", grant, "--out", str(out), *SMALL])[0]
            == 0
        )
        answers[grant] = _summary(out)["answer"]
    step, level = answers["ACME Industries=+2pp"], answers["ACME Industries=6%"]
    assert step["grants"][0]["level"] == pytest.approx(0.06) and step["grants"][0]["step"] == pytest.approx(0.02)
    assert step["profit_change"] == level["profit_change"] and step["parts"] == level["parts"]
    assert step["text"].startswith("Granting ACME Industries +2 pp (4% to 6%)")
    assert level["text"].startswith("Granting ACME Industries 6% (now 4%)")


def test_a_cost_curve_and_the_largest_grant_that_keeps_the_account(accounts, tmp_path):
    out = tmp_path / "curve"
    args = ["whatif", "baseline", "--accounts", str(accounts), "--grant", "ACME Industries=2..8%/3pp", "--find", "50%"]
    code, terminal = run([*args, "--out", str(out), *SMALL])
    assert code == 0
    summary = _summary(out)
    curve = summary["curve"]
    assert [round(x, 6) for x in curve["levels"]] == [0.02, 0.05, 0.08]
    assert curve["current"] == pytest.approx(0.04)
    kept = [p["kept_with_peers"] for p in curve["points"]]
    fits = [p["level"] for p in curve["points"] if p["kept_with_peers"] >= 0.5]
    if fits:
        assert curve["found"]["level"] == max(fits)  # the largest level that keeps them in half the runs
        assert summary["answer"]["grants"][-1]["level"] == pytest.approx(max(fits))  # the details are of that level
    else:
        assert curve["found"] is None and "no level keeps" in curve["text"]
    assert all(0 <= k <= 1 for k in kept)
    below = curve["points"][0]  # 2% is below ACME's 4%: the grant changes nothing
    assert below["profit_change"] == {"mean": 0.0, "p10": 0.0, "p90": 0.0, "runs": 3, "unchanged": 3}
    assert terminal.splitlines()[0] == curve["text"] + "."
    page = (out / "report.html").read_text()
    assert page.count("<table class='curve'>") == 1 and (out / "plots" / "curve.svg").is_file()
    book = openpyxl.load_workbook(out / "report.xlsx")
    sheet = pd.DataFrame(book["Cost curve"].values)
    assert list(sheet.iloc[1:, 1]) == pytest.approx([p["profit_change"]["mean"] for p in curve["points"]], rel=1e-14)
    # a point of the curve is the what-if of its level, on the same seeds
    single = tmp_path / "single"
    one = ["whatif", "baseline", "--accounts", str(accounts), "--grant", "ACME Industries=5%", "--out", str(single)]
    assert run([*one, *SMALL])[0] == 0
    assert _summary(single)["answer"]["profit_change"] == curve["points"][1]["profit_change"]


def test_the_rate_discounts_the_cost_and_zero_leaves_it_whole(accounts, tmp_path):
    out = tmp_path / "rate0"
    args = ["whatif", "baseline", "--accounts", str(accounts), "--grant", "Globex=7%", "--rate", "0%"]
    assert run([*args, "--out", str(out), *SMALL])[0] == 0
    answer = _summary(out)["answer"]
    assert answer["npv"]["mean"] == pytest.approx(answer["profit_change"]["mean"], rel=1e-12, abs=1e-6)
    assert "NPV at 0% a year" in answer["text"]
    out8 = tmp_path / "rate8"
    assert run([*args[:-2], "--rate", "8%", "--out", str(out8), *SMALL])[0] == 0
    eight = _summary(out8)["answer"]
    assert abs(eight["npv"]["mean"]) <= abs(answer["profit_change"]["mean"]) + 1e-6  # later money counts less


def test_which_peers_follow_and_when(whatif_run):
    answer = _summary(whatif_run[0])["answer"]
    timeline = [t["peers"] for t in answer["follow_by_year"]]
    assert timeline == sorted(timeline) and all(t <= answer["peers"] + 1e-9 for t in timeline)  # cumulative
    for follower in answer["named_followers"]:
        assert 0 <= follower["runs"] <= follower["of"] == 3
        assert (follower["median_years"] is None) == (follower["runs"] == 0)
    assert {f["account"] for f in answer["named_followers"]} <= {"Globex", "Initech", ODD, "Stark Components"}


def test_you_settings_change_the_first_supplier_only_and_the_words_say_whose(tmp_path):
    import yaml

    mine, every = tmp_path / "mine", tmp_path / "every"
    small = ["--periods", "8", "--base-set", "customers.count=30", "--replicates", "2", "--quiet"]
    assert run(["whatif", "baseline", "--set", "you.strategy=hold", "--out", str(mine), *small])[0] == 0
    assert run(["whatif", "baseline", "--set", "suppliers.strategy=hold", "--out", str(every), *small])[0] == 0
    groups = yaml.safe_load((mine / "scenario.yaml").read_text())["suppliers"]["groups"]
    assert [(g["name"], g["count"], g["strategy"]) for g in groups] == [("you", 1, "hold"), ("suppliers", 2, "concede")]
    base_groups = yaml.safe_load((mine / "scenario_base.yaml").read_text())["suppliers"]["groups"]
    assert [(g["name"], g["strategy"]) for g in base_groups] == [("you", "concede"), ("suppliers", "concede")]
    text = _summary(mine)["answer"]["text"]
    assert text.startswith("Setting your strategy to hold (you only; your 2 rivals keep theirs)"), text
    text = _summary(every)["answer"]["text"]
    assert text.startswith("Setting every supplier's strategy to hold (you and your 2 rivals)"), text
    groups = yaml.safe_load((every / "scenario.yaml").read_text())["suppliers"]["groups"]
    assert [(g["count"], g["strategy"]) for g in groups] == [(3, "hold")]


def test_splitting_you_from_your_group_changes_no_result():
    from sim.inputs.loading import load_scenario
    from sim.runs.runner import simulate
    from sim.whatif.you import with_you

    scenario = load_scenario("procurement_squeeze", {"periods": 16, "customers.count": 40})
    for seed in (1, 2, 3):
        a, b = (
            simulate(scenario, seed, record_agents_every=0),
            simulate(with_you(scenario, {}), seed, record_agents_every=0),
        )
        assert a.summary["metrics"] == b.summary["metrics"]
        assert np.array_equal(a.totals.supplier_profit, b.totals.supplier_profit)


def test_every_switch_of_a_named_account_carries_its_reason(tmp_path):
    """Walk-away and supplier exits are named as such; every move of a named account has a reason."""
    from sim.engine.recorder import MOVE_REASONS
    from sim.inputs.accounts import template_csv
    from sim.inputs.loading import load_scenario

    seen = set()
    for scenario, sets in (
        # a supplier that asks every account to pay for all of its upkeep from year 2: accounts it conceded
        # more to get notice, and some leave for a rival's price (walk-away)
        (
            "procurement_squeeze",
            [
                *("--base-set", "suppliers.walk_away_periods=1", "--base-set", "suppliers.firmness={0: 0, 8: 1}"),
                *(
                    "--base-set",
                    "customers.procurement.savings_target=25%",
                    "--base-set",
                    "customers.switching_cost=0.1",
                ),
            ],
        ),
        ("supplier_exit_redesign", []),
    ):
        path = tmp_path / f"{scenario}.csv"
        path.write_text(template_csv(load_scenario(scenario)), encoding="utf-8")
        out = tmp_path / scenario
        first = template_csv(load_scenario(scenario)).splitlines()[1].split(",")[0]
        args = ["whatif", scenario, "--accounts", str(path), "--grant", f"{first}=9%", "--replicates", "4"]
        assert run([*args, *sets, "--periods", "24", "--out", str(out), "--quiet"])[0] == 0
        table = pd.read_csv(out / "accounts.csv")
        for row in table.to_dict("records"):
            for side in ("base", "whatif"):
                status = row[f"status_{side}"]
                if row["switched_" + side] or row["left_" + side]:
                    assert any(reason in status for reason in MOVE_REASONS), status
                seen |= {reason for reason in MOVE_REASONS if reason in status}
    assert {"walk-away", "supplier exit"} <= seen, seen


def test_a_whatif_is_one_batch_of_ensembles_equal_to_single_runs():
    from sim.inputs.grants import parse_grant
    from sim.inputs.loading import load_scenario
    from sim.runs.runner import simulate
    from sim.whatif.running import run_sides

    base = load_scenario("baseline", {"periods": 12, "customers.count": 40})
    variant = load_scenario("baseline", {"periods": 12, "customers.count": 40}, [parse_grant("customers=5%")])
    runs = run_sides({"base": base, "whatif": variant}, [7, 8])
    for side, scenario in (("base", base), ("whatif", variant)):
        for seed, result in zip((7, 8), runs[side], strict=True):
            single = simulate(scenario, seed, record_agents_every=0, track_demand=True)
            assert json.dumps(result.summary, sort_keys=True) == json.dumps(single.summary, sort_keys=True)
            for name in ("supplier_profit", "yours", "contribution", "reasons", "discount", "supplier"):
                assert np.array_equal(getattr(result.totals, name), getattr(single.totals, name)), name
            assert all(np.array_equal(a, b) for a, b in zip(result.totals.demand, single.totals.demand, strict=True))


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--grant", "customers=+2pp"], "adds to an account's current discount"),
        (["--grant", "ACME Industries=0..10%", "--grant", "Globex=0..5%"], "one range per what-if"),
        (["--grant", "ACME Industries=6%", "--find", "90%"], "--find searches a range"),
        (["--grant", "ACME Industries=0..10%/0.1pp"], "at most 21 levels"),
        (["--grant", "ACME Industries=12"], "write 12% for 12 percent"),
        (["--grant", "Nobody=5%"], "no account or segment named 'Nobody'"),
        (["--set", "you.strategy=holdx"], "you.strategy: unknown supplier strategy"),
        (
            ["--grant", "Globex=5%", "--set", "periods_per_year=2", "--set", "market.contract_cycle=2"],
            "must cover the same horizon",
        ),
    ],
)
def test_bad_questions_get_one_clear_message_and_nothing_is_written(accounts, tmp_path, capsys, args, words):
    out = tmp_path / "bad"
    assert main(["whatif", "baseline", "--accounts", str(accounts), *args, "--out", str(out), *SMALL]) == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err and len(err.strip().splitlines()) <= 2, err
    assert not out.exists()


def test_a_bad_rate_or_share_is_a_usage_error(capsys):
    for option, value in (("--rate", "fast"), ("--rate", "150%"), ("--find", "0%")):
        with pytest.raises(SystemExit) as stop:
            main(["whatif", "baseline", "--grant", "customers=0..5%", option, value])
        assert stop.value.code == 2
        err = capsys.readouterr().err
        assert f"argument {option}" in err and "Traceback" not in err, err


def test_default_folder_carries_the_label_and_the_index_lists_it(accounts, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    args = ["whatif", "baseline", "--set", "segments.customers.procurement.savings_target=6%", *SMALL, "--quiet"]
    assert run(args)[0] == 0
    (folder,) = (tmp_path / "results" / "whatif" / "baseline").iterdir()
    assert folder.name.endswith("-savings_target-6pct")
    assert run(["run", "baseline", "--periods", "8", "--set", "customers.count=20", "--quiet"])[0] == 0
    index = (tmp_path / "results" / "index.html").read_text()
    assert "savings target to 6% in segment customers" in index and "what-if" in index
    assert "--base-set customers.count=30" in index  # both sides' changes are listed too
    assert f"whatif/baseline/{folder.name}/report.html" in index


def test_nothing_to_compare_is_an_input_error(capsys, tmp_path):
    assert main(["whatif", "baseline", "--out", str(tmp_path / "x")]) == 2
    assert "nothing to compare" in capsys.readouterr().err and not (tmp_path / "x").exists()


def test_years_option_sets_the_horizon(accounts, tmp_path):
    out = tmp_path / "y"
    assert run(["whatif", "baseline", "--years", "2", "--base-set", "customers.count=20", "--replicates", "2",
                "--grant", "customers=3%@0", "--out", str(out), "--quiet"])[0] == 0  # fmt: skip
    summary = _summary(out)
    assert summary["periods"] == 8 and "over 2 years" in summary["answer"]["text"]
    assert "of the segment's" in summary["answer"]["text"]
    assert main(["whatif", "baseline", "--years", "2", "--periods", "3", "--grant", "customers=3%"]) == 2


def test_the_granted_accounts_value_change_adds_up_from_its_channels_and_names_the_largest(tmp_path):
    """Model 3.0: the report says which channel dominates; the channels add up to the account's value change."""
    from sim.inputs.accounts import template_csv
    from sim.inputs.grants import parse_question
    from sim.inputs.loading import load_scenario
    from sim.whatif.answer import ask
    from sim.whatif.questions import plan
    from sim.whatif.reconcile import granted_rows, value_channels

    path = tmp_path / "accounts.csv"
    path.write_text(template_csv(load_scenario("baseline")), encoding="utf-8")
    base = load_scenario("baseline", {"periods": 20, "accounts_file": str(path)})
    result = ask(base, base, plan(base, [parse_question("ACME Industries=+5pp")]), replicates=4)
    answer = result.answer
    channels = answer["target_channels"]
    pairs = list(zip(result.runs["base"], result.runs["whatif"], strict=True))
    rows = granted_rows(result.variant, result.variant.interventions)
    assert sum(c["mean"] for c in channels) == pytest.approx(answer["target_value_change"]["mean"], rel=1e-9)
    assert channels == value_channels(pairs, rows)
    dominant = [c for c in channels if c["dominant"]]
    assert len(dominant) == 1 and abs(dominant[0]["mean"]) == max(abs(c["mean"]) for c in channels)
    assert f"mostly through {dominant[0]['label'].split(' (')[0]}" in answer["text"]


def test_a_change_only_some_runs_show_says_so_instead_of_a_range_that_misses_its_mean():
    from sim.whatif.reconcile import spread
    from sim.whatif.words import _line

    rare = _line("channel_transaction", "switching", spread([0.0] * 19 + [1_500_000.0]))
    assert rare.value_text("EUR") == "+EUR 75.0k"
    assert rare.range_text("EUR") == "no change in 19 of 20 runs"
    common = _line("total", "total", spread(np.linspace(-3e6, -2e6, 20)))
    assert common.range_text("EUR") == "-EUR 2.9M to -EUR 2.1M"
    nothing = _line("total", "total", spread([0.0] * 20))
    assert nothing.range_text("EUR") == "EUR 0 to EUR 0"


def test_a_what_if_without_a_grant_has_no_granted_account_and_no_parity_part(tmp_path):
    out = tmp_path / "hold"
    code, terminal = run(["whatif", "baseline", "--set", "suppliers.strategy=hold", "--out", str(out), *SMALL])
    assert code == 0 and "parity" not in terminal and "granted" not in terminal
    answer = _summary(out)["answer"]
    assert [p["key"] for p in answer["parts"]] == ["moved", "rest"]
    assert sum(p["mean"] for p in answer["parts"]) == pytest.approx(answer["profit_change"]["mean"])
