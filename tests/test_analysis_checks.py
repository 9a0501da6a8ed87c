"""Analysis that checks itself, robustness across uncertainties and time-series envelopes.

Claims: a degenerate metric (constant, a handful of values, or set by the seed alone) gets a
warning that says what to do, and a sound sweep gets none; Sobol indices outside [0, 1] or
with intervals wider than themselves get the sample size that would fix them; regret and
satisficing are what their definitions say, computed independently here; envelopes are the
percentiles of the runs' series; the terminal prints the page's own sentences and cells.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from sim.cli import main
from sim.experiments import checks
from sim.experiments.analysis import analyze
from sim.experiments.envelopes import envelopes
from sim.experiments.labels import describe
from sim.experiments.phase import phase_diagram
from sim.experiments.robustness import eta_squared, robustness
from sim.experiments.spec import RobustnessSpec, Threshold

TINY = {"customers.count": 40, "periods": 12, "suppliers.count": 2}


def sweep(folder: Path, name: str, **fields) -> Path:
    data = {"base": "procurement_squeeze", "set": dict(TINY), "replicates": 3, "seed": 5, "chunk_size": 3}
    data.update(fields)
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def run_and_analyze(path: Path, out: Path, capsys) -> tuple[dict, str, str]:
    assert main(["sweep", str(path), "--out", str(out), "--workers", "1", "--quiet"]) == 0
    capsys.readouterr()
    assert main(["analyze", str(out), "--workers", "1"]) == 0
    captured = capsys.readouterr()
    return json.loads((out / "analysis" / "analysis.json").read_text()), captured.out, captured.err


# ---------------------------------------------------------------- warnings on real sweeps


def test_a_degenerate_metric_gets_its_warning_and_a_sound_sweep_none(tmp_path, capsys):
    """Ranking a holding supplier's tiny market by suppliers that went under (never any) is warned about; the same
    sweep ranked by joint value, which varies with the savings target, is not."""
    design = {"grid": {"customers.procurement.savings_target": [0.0, 0.05, 0.1]}}
    common = {"design": design, "set": {**TINY, "suppliers.strategy": "hold"}}
    bad = sweep(tmp_path, "degenerate", **common, analysis={"rank_by": ["suppliers_exited"]})
    summary, _, err = run_and_analyze(bad, tmp_path / "bad", capsys)
    texts = [w["text"] for w in summary["warnings"]]
    assert any("suppliers that went under is 0 in every one of the 9 runs" in t for t in texts), texts
    assert "procsim: warning: suppliers that went under is 0 in every one" in err
    assert "widen the ranges" in err  # it says what to do
    page = (tmp_path / "bad" / "analysis.html").read_text()
    assert "id='warnings'" in page and "suppliers that went under is 0" in page
    good = sweep(tmp_path, "sound", **common, analysis={"rank_by": ["joint_value_total", "supplier_profit_total"]})
    summary, _, err = run_and_analyze(good, tmp_path / "good", capsys)
    assert summary["warnings"] == [] and "warning" not in err
    assert "id='warnings'" not in (tmp_path / "good" / "analysis.html").read_text()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_metric_set_by_the_seed_alone_is_found(seed):
    """Outside one band of x the metric is one value per seed (the parameters do nothing there): warned; the same
    runs with the metric depending on x everywhere: not."""
    rng = np.random.default_rng(seed)
    points, seeds = 200, 2
    x = rng.random(points)
    runs = pd.DataFrame(
        {
            "point": np.repeat(np.arange(points), seeds),
            "seed": np.tile([11, 22], points),
            "status": "ok",
            "x": np.repeat(x, seeds),
        }
    )
    per_seed = np.where(runs["seed"] == 11, 1.0, 2.0)
    runs["m"] = np.where(runs["x"].between(0.4, 0.5), runs["x"] * 10 + rng.random(len(runs)), per_seed)
    found = checks.metric_checks(runs, "m", {"x": describe("suppliers.margin_defense")}, "EUR")
    assert len(found) == 1 and "set by its seed alone" in found[0].text and "of margin defense" in found[0].text
    assert "bins" in found[0].text and "narrow the ranges" in found[0].advice
    runs["m"] = np.where(runs["x"].between(0.4, 0.5), runs["m"], 0.0)  # no seed matters either: the runs collapse
    (flat,) = checks.metric_checks(runs, "m", {"x": describe("suppliers.margin_defense")}, "EUR")
    assert "of margin defense, m is 0.000 in every run" in flat.text
    runs["m"] = runs["x"] * 3 + rng.random(len(runs))
    assert checks.metric_checks(runs, "m", {"x": describe("suppliers.margin_defense")}, "EUR") == []


def test_a_handful_of_values_and_mostly_one_value_are_warned_about():
    rng = np.random.default_rng(0)
    runs = pd.DataFrame({"point": np.arange(100), "seed": 1, "status": "ok", "x": rng.random(100)})
    runs["m"] = rng.integers(0, 3, 100).astype(float)
    (few,) = checks.metric_checks(runs, "m", {}, "EUR")
    assert "takes only 3 values over 100 runs" in few.text
    runs["m"] = np.where(np.arange(100) < 85, 0.0, rng.random(100))
    (mostly,) = checks.metric_checks(runs, "m", {}, "EUR")
    assert "85% of the runs" in mostly.text


def test_sobol_indices_outside_the_unit_interval_or_inside_their_noise_get_the_sample_size_that_fixes_them():
    table = pd.DataFrame(
        {
            "parameter": ["a", "b", "c"],
            "S1": [1.008, 0.03, 0.40],
            "S1_conf": [0.10, 0.10, 0.02],
            "ST": [0.9, 0.04, 0.42],
            "ST_conf": [0.05, 0.02, 0.02],
        }
    )
    names = {p: describe(p) for p in ("a", "b", "c")}
    outside, wide = checks.sobol_checks(table, "joint_value_total", names, 64, 4)
    assert "outside [0, 1]" in outside.text and "1.008" in outside.text
    # +-0.10 at N = 64 -> +-0.05 needs 4x the samples
    assert "256 base samples (samples: 256, 1,024 design points)" in outside.advice
    assert "wider than the index" in wide.text and "S1 of b 0.03 ± 0.10" in wide.text
    assert "256 base samples" in wide.advice  # to bring +-0.10 down to the 0.05 that matters
    sound = table.assign(S1=[0.5, 0.3, 0.1], S1_conf=0.02, ST=[0.6, 0.4, 0.2], ST_conf=0.02)
    assert checks.sobol_checks(sound, "joint_value_total", names, 64, 4) == []


def test_thin_phase_cells_and_a_boundary_at_the_edge_are_warned_about():
    rows = []
    for i, x in enumerate([0.0, 0.1, 0.2, 0.3]):
        for y in (0.0, 1.0):
            for r in range(2):
                tipped = x >= 0.3  # flips only between the two highest values of x
                rows.append(
                    {
                        "point": i,
                        "x": x,
                        "y": y,
                        "status": "ok",
                        "m": 1.0,
                        "replicate": r,
                        "outcome": "collapse" if tipped else "equilibrium",
                    }
                )
    diagram = phase_diagram(pd.DataFrame(rows), "x", "y", "m", "horizon")
    found = checks.phase_checks(diagram, describe("customers.procurement.savings_target"), describe("b"), False)
    texts = " | ".join(c.text + " / " + c.advice for c in found)
    assert "8 of 8 cells have fewer than 5 runs (as few as 2)" in texts and "raise replicates to 5" in texts
    assert "between the two highest values of savings target" in texts and "above 30%" in texts


def test_the_no_tipping_sentence_says_what_the_shares_are():
    from types import SimpleNamespace

    from sim.experiments.page import tipping_sentence
    from sim.experiments.tipping import TippingPoint

    frame = pd.DataFrame({"value": [0.0, 0.0, 0.2, 0.2], "tipped": [False, False, False, False]})
    tip = TippingPoint("customers.procurement.savings_target", False, (0.0, 0.2), None, None, frame)
    spec = SimpleNamespace(
        parameter="customers.procurement.savings_target", outcomes=["spiral", "collapse"], regime="outlook", set={}
    )
    sweep = SimpleNamespace(
        spec=SimpleNamespace(analysis=SimpleNamespace(tipping=spec)), parameters=[], base={"base": "x"}, source="s"
    )
    result = SimpleNamespace(tipping=tip, parameters={}, currency="EUR")
    text = tipping_sentence(result, sweep)
    assert text.startswith("No tipping point between a 0% savings target and a 20% savings target: none of the runs")
    assert "0% and 0%" not in text
    tip.evaluations = frame.assign(tipped=[False, True, True, True])
    assert "50% of the runs spiral or collapse in the long run at 0% and 100% at 20%" in tipping_sentence(result, sweep)


def test_box_bounds_and_axis_ticks_carry_the_precision_their_range_needs():
    assert describe("suppliers.margin_defense").precise(0.62537, 1.0) == "0.63"
    assert describe("customers.procurement.savings_target").precise(0.012537, 0.2) == "1.3%"
    assert describe("customers.procurement.savings_target").precise(0.0125, 0.02) == "1.25%"
    assert describe("customers.count").precise(312.4, 1000) == "312"


# ---------------------------------------------------------------- robustness


def test_regret_and_satisficing_follow_their_definitions():
    """Two lever settings x two markets, with known means: regret against the best in each market, satisficing."""
    rows = []
    values = {("a", 0.0): 10.0, ("b", 0.0): 7.0, ("a", 1.0): 1.0, ("b", 1.0): 5.0}
    for (lever, market), value in values.items():
        for r, noise in enumerate((-1.0, 1.0)):
            tipped = lever == "a" and market == 1.0
            rows.append(
                {
                    "point": 0,
                    "replicate": r,
                    "status": "ok",
                    "lever": lever,
                    "market": market,
                    "m": value + noise,
                    "outcome": "collapse" if tipped else "equilibrium",
                }
            )
    runs = pd.DataFrame(rows)
    spec = RobustnessSpec(metric="m", threshold=Threshold(metric="tipped_share", at_most=0.25), regime="horizon")
    names = {"lever": describe("suppliers.strategy"), "market": describe("customers.engagement")}
    found = robustness(runs, ["lever"], ["market"], spec, names)
    table = found.table.set_index("lever")
    assert table.loc["a", "max_regret"] == 4.0 and table.loc["a", "mean_regret"] == 2.0  # 0 and 5 - 1
    assert table.loc["b", "max_regret"] == 3.0 and table.loc["b", "mean_regret"] == 1.5  # 10 - 7 and 0
    assert table.loc["a", "satisficing"] == 0.5 and table.loc["b", "satisficing"] == 1.0
    assert list(found.table["setting"]) == ["supplier strategy b", "supplier strategy a"]  # minimax regret first
    minimise = robustness(runs, ["lever"], ["market"], spec.model_copy(update={"goal": "min"}), names)
    assert minimise.table.set_index("lever").loc["a", "max_regret"] == 3.0  # 10 - 7 in the first market
    assert 0 <= eta_squared(runs, "lever", "m") <= 1


def test_a_sweep_with_levers_and_uncertainties_gets_its_robustness_table_on_the_page_and_terminal(tmp_path, capsys):
    path = sweep(
        tmp_path,
        "levers",
        design={
            "grid": {
                "suppliers.strategy": ["hold", "concede"],
                "customers.procurement.savings_target": [0.02, 0.2],
            }
        },
        levers=["suppliers.strategy"],
        uncertainties=["customers.procurement.savings_target"],
        analysis={
            "robustness": {"metric": "supplier_profit_total", "threshold": {"metric": "tipped_share", "at_most": 0.5}}
        },
    )
    summary, out, _ = run_and_analyze(path, tmp_path / "out", capsys)
    runs = pd.read_parquet(tmp_path / "out" / "runs.parquet")
    means = runs.groupby(["strategy", "savings_target"])["supplier_profit_total"].mean().unstack()
    regret = means.max() - means  # computed here from runs.parquet, independently
    settings = {s["setting"]: s for s in summary["robustness"]["settings"]}
    for strategy in ("hold", "concede"):
        entry = settings[f"supplier strategy {strategy}"]
        assert entry["max_regret"] == pytest.approx(regret.loc[strategy].max())
        assert entry["mean_regret"] == pytest.approx(regret.loc[strategy].mean())
    page = (tmp_path / "out" / "analysis.html").read_text()
    assert "Robustness across the uncertainties" in page and "robustness: regret" in page
    table_lines = [line for line in out.splitlines() if re.match(r"\s+\d+\s+supplier strategy", line)]
    assert len(table_lines) == 2
    for line in table_lines:  # every cell the terminal prints is a cell of the page's table
        for cell in re.split(r"\s{2,}", line.strip()):
            assert f">{cell}</td>" in page, cell
    assert (tmp_path / "out" / "analysis" / "robustness.csv").is_file()
    assert (tmp_path / "out" / "analysis" / "feature_scores.csv").is_file()


# ---------------------------------------------------------------- envelopes


def test_envelopes_are_the_percentiles_of_the_runs_series(tmp_path, capsys):
    path = sweep(
        tmp_path,
        "series",
        design={"grid": {"customers.procurement.savings_target": [0.0, 0.2]}},
        outputs={"series": "every_k", "every": 3},
        analysis={"envelopes": {"series": ["capability_index", "discount_mean"], "by": "point"}},
    )
    run_and_analyze(path, tmp_path / "out", capsys)
    out = tmp_path / "out"
    series = pd.read_parquet(out / "series.parquet")
    bands = envelopes(out, ["capability_index"], by="point")
    row = bands[(bands["period"] == 6)].iloc[-1]
    values = series[(series["period"] == 6) & (series["point"] == 1)]["capability_index"]
    assert row["runs"] == len(values) == 3
    assert row["median"] == pytest.approx(np.quantile(values, 0.5))
    assert row["p10"] == pytest.approx(np.quantile(values, 0.1)) and row["p90"] == pytest.approx(
        np.quantile(values, 0.9)
    )
    assert row["years"] == pytest.approx(6 / 4)
    assert "savings target" in row["group"]
    by_outcome = envelopes(out, ["discount_mean"], by="outcome")
    assert set(by_outcome["group"]) <= {"collapse", "spiral", "equilibrium", "growth", "drifting"}
    by_value = envelopes(out, ["discount_mean"], by="customers.procurement.savings_target")
    assert sorted(set(by_value["group"])) == ["a 0% savings target", "a 20% savings target"]
    assert "Time series" in (out / "analysis.html").read_text()
    assert (out / "analysis" / "envelopes.png").is_file()


def test_a_sweep_without_series_over_time_says_why_it_has_no_envelopes(tmp_path):
    path = sweep(
        tmp_path, "final", design={"grid": {"suppliers.margin_defense": [0.0, 1.0]}}, outputs={"series": "final"}
    )
    assert main(["sweep", str(path), "--out", str(tmp_path / "out"), "--workers", "1", "--quiet"]) == 0
    result = analyze(tmp_path / "out", tipping=False)
    assert result.envelopes is None and "outputs.series" in result.notes["envelopes"]


@pytest.mark.slow
def test_the_bundled_robustness_sweep_ranks_its_lever_settings(tmp_path, capsys):
    """robust_supplier: every lever setting in every market, its regret and satisficing, on the page and in JSON."""
    out = tmp_path / "robust"
    assert main(["sweep", "robust_supplier", "--out", str(out), "--workers", "2", "--quiet"]) == 0
    capsys.readouterr()
    assert main(["analyze", str(out), "--workers", "2", "--quiet"]) == 0
    rob = json.loads((out / "analysis" / "analysis.json").read_text())["robustness"]
    assert len(rob["settings"]) == 8 and all(s["markets"] == 8 for s in rob["settings"])
    regrets = [s["max_regret"] for s in rob["settings"]]
    assert regrets == sorted(regrets) and min(regrets) >= 0
    assert all(0 <= s["satisficing"] <= 1 for s in rob["settings"])
    assert {s["kind"] for s in rob["feature_scores"]} == {"lever", "uncertainty"}
    assert "Robustness across the uncertainties" in (out / "analysis.html").read_text()


def test_the_terminal_names_values_in_their_units_and_prints_the_pages_sentence(tmp_path, capsys):
    path = sweep(
        tmp_path,
        "tip",
        design={"grid": {"customers.procurement.savings_target": [0.0, 0.3]}},
        analysis={
            "tipping": {
                "parameter": "customers.procurement.savings_target",
                "low": 0.0,
                "high": 0.3,
                "replicates": 2,
                "tolerance": 0.08,
            }
        },
    )
    summary, out, _ = run_and_analyze(path, tmp_path / "out", capsys)
    assert "tipping: a 0% savings target: " in out and "tipping: a 30% savings target: " in out
    assert "customers.procurement.savings_target =" not in out and "0.075" not in out
    assert summary["tipping_sentence"] in out.splitlines()


def test_what_ifs_that_set_levers_name_the_lever_settings(tmp_path):
    path = sweep(
        tmp_path,
        "whatifs",
        design={
            "scenarios": [
                {"name": "holder", "set": {"suppliers.strategy": "hold"}},
                {"name": "conceder", "set": {"suppliers.strategy": "concede", "suppliers.margin_defense": 0.5}},
            ],
            "grid": {"customers.procurement.savings_target": [0.02, 0.2]},
        },
        levers=["suppliers.strategy", "suppliers.margin_defense"],
        uncertainties=["customers.procurement.savings_target"],
        replicates=2,
    )
    assert main(["sweep", str(path), "--out", str(tmp_path / "out"), "--workers", "1", "--quiet"]) == 0
    found = analyze(tmp_path / "out", tipping=False).robustness
    assert sorted(found.table["setting"].str.split(",").str[0]) == ["conceder", "holder"]
    assert "margin defense (base)" in " ".join(found.table["setting"])  # the holder leaves it to the base
    assert "label" not in set(found.scores["parameter"]) and len(found.regret.columns) == 2
