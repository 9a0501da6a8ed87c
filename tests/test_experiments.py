"""Sweeps: validation, deterministic chunked results, failures recorded, queries and analysis."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from sim.cli import main
from sim.experiments import load_sweep, make_executor, query, run_sweep, store
from sim.experiments.analysis import analyze
from sim.experiments.discovery import discover
from sim.experiments.runner import InlineExecutor
from sim.experiments.tipping import find_tipping, logistic_midpoint
from sim.experiments.worker import keep_series

TINY = {"customers.count": 40, "periods": 12, "suppliers.count": 2}


def write_sweep(folder: Path, name: str = "tiny", **fields) -> Path:
    """A sweep file over a tiny market (40 customers, 12 periods) for fast tests."""
    data = {
        "base": "procurement_squeeze",
        "set": dict(TINY),
        "design": {
            "grid": {"customers.procurement.savings_target": [0.0, 0.2], "suppliers.margin_defense": [0.0, 1.0]}
        },
        "replicates": 3,
        "seed": 5,
        "chunk_size": 2,
    }
    data.update(fields)
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sweep")
    out = folder / "out"
    assert main(["sweep", str(write_sweep(folder)), "--out", str(out), "--workers", "1", "--quiet"]) == 0
    return out


# ---------------------------------------------------------------- sweep files


def test_every_bundled_sweep_loads():
    from sim.experiments.spec import SWEEP_FOLDER

    names = sorted(p.stem for p in SWEEP_FOLDER.glob("*.yaml"))
    assert len(names) >= 5
    for name in names:
        sweep = load_sweep(name)
        assert sweep.total_runs == len(sweep.points) * sweep.spec.replicates > 0


def test_grid_ranges_scenarios_and_samples_expand(tmp_path):
    grid = load_sweep(
        write_sweep(
            tmp_path, design={"grid": {"customers.procurement.savings_target": {"from": 0.0, "to": 0.1, "steps": 3}}}
        )
    )
    assert [p.params["customers.procurement.savings_target"] for p in grid.points] == [0.0, 0.05, 0.1]
    whatif = load_sweep(
        write_sweep(
            tmp_path,
            design={
                "scenarios": [
                    {"name": "concede", "set": {"suppliers.strategy": "concede"}},
                    {"name": "hold", "set": {"suppliers.strategy": "hold"}},
                ],
                "grid": {"customers.procurement.savings_target": [0.05, 0.1]},
            },
        )
    )
    assert [(p.label, p.params["customers.procurement.savings_target"]) for p in whatif.points] == [
        ("concede", 0.05),
        ("concede", 0.1),
        ("hold", 0.05),
        ("hold", 0.1),
    ]
    bounds = {"customers.procurement.savings_target": [0.0, 0.2], "suppliers.margin_defense": [0.0, 1.0]}
    lhs = load_sweep(write_sweep(tmp_path, design={"lhs": {"bounds": bounds, "samples": 10}}))
    values = np.array([p.params["suppliers.margin_defense"] for p in lhs.points])
    assert len(values) == 10 and values.min() >= 0 and values.max() <= 1
    assert sorted(np.floor(values * 10).astype(int)) == list(range(10))  # one point per stratum
    sobol = load_sweep(write_sweep(tmp_path, design={"sobol": {"bounds": bounds, "samples": 8}}))
    assert len(sobol.points) == 8 * (2 + 2)  # Saltelli: N (D + 2)
    morris = load_sweep(write_sweep(tmp_path, design={"morris": {"bounds": bounds, "samples": 5}}))
    assert len(morris.points) == 5 * (2 + 1)


def test_a_design_point_is_the_scenario_a_user_gets_with_set(tmp_path):
    """A point's overrides act as `procsim run --set` would: a style fills the levers the base left blank."""
    from sim import load_scenario

    sweep = load_sweep(
        write_sweep(
            tmp_path,
            base="baseline",
            design={
                "grid": {
                    "customers.procurement.style": ["cost_down", "partnership"],
                    "suppliers.strategy": ["hold", "concede"],
                }
            },
        )
    )
    styles = set()
    for point in sweep.points:
        expected = load_scenario("baseline", {**TINY, **point.params})
        assert sweep.scenario(point).to_yaml_dict() == expected.to_yaml_dict()
        styles.add(sweep.scenario(point).customers[0].procurement.savings_target)
    assert len(styles) == 2  # the two styles bring different savings targets


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"desgin": {}}, "desgin", "unknown"),
        ({"design": {"grid": {"customers.procurement.savings_targt": [0.1]}}}, "design.", "savings_targt"),
        ({"design": {"grid": {"customers.procurement.savings_target": [0.1, 3.0]}}}, "design.", "3"),
        ({"design": {"grid": {"suppliers.strategy": ["concede", "bribe"]}}}, "design.", "bribe"),
        ({"design": {"grid": {"customers.procurement.savings_target": []}}}, "design", "at least one value"),
        ({"design": {"lhs": {"bounds": {"suppliers.margin_defense": [1.0, 0.0]}}}}, "design.lhs.bounds", "below"),
        ({"design": {"grid": {"periods": [4]}, "sobol": {"bounds": {"periods": [4, 8]}}}}, "design", "one sampled"),
        ({"base": "no_such_scenario"}, "base", "no_such_scenario"),
        ({"replicates": 0}, "replicates", "1"),
    ],
)
def test_bad_sweep_files_exit_2_naming_file_and_field(tmp_path, capsys, fields, field, words):
    path = write_sweep(tmp_path, "bad", **fields)
    out = tmp_path / "never"
    assert main(["sweep", str(path), "--out", str(out), "--workers", "1", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert str(path) in err and field in err and words in err, err
    assert not out.exists()


def test_malformed_yaml_and_missing_file_exit_2(tmp_path, capsys):
    path = tmp_path / "broken.yaml"
    path.write_text("base: baseline\ndesign: [unclosed\n")
    assert main(["sweep", str(path), "--workers", "1"]) == 2
    assert "broken.yaml" in capsys.readouterr().err
    assert main(["sweep", "no_such_sweep", "--workers", "1"]) == 2
    assert "no_such_sweep" in capsys.readouterr().err


# ---------------------------------------------------------------- running


def test_runs_table_has_one_row_per_run_with_parameters_and_metrics(tiny_run):
    runs = pd.read_parquet(tiny_run / "runs.parquet")
    assert len(runs) == 4 * 3
    assert {
        "key",
        "point",
        "replicate",
        "seed",
        "savings_target",
        "margin_defense",
        "status",
        "outcome",
        "capability_index_final",
        "joint_value_total",
    } <= set(runs.columns)
    assert runs["key"].is_unique and (runs["status"] == "ok").all()
    assert set(runs["outcome"]) <= {"collapse", "spiral", "equilibrium", "growth", "drifting"}
    assert set(runs["outlook"]) <= {"collapse", "spiral", "equilibrium", "growth", "drifting"}
    # the same seeds at every design point (common random numbers)
    assert runs.groupby("point")["seed"].apply(tuple).nunique() == 1
    manifest = json.loads((tiny_run / "sweep.json").read_text())
    assert manifest["total_runs"] == 12 and manifest["environment"]["packages"]["mesa"].startswith("3.5")
    summary = json.loads((tiny_run / "summary.json").read_text())
    assert summary["runs"] == 12 and summary["failed"] == 0 and sum(summary["outcomes"].values()) == 12


def test_series_keep_every_kth_period_and_the_last(tiny_run):
    series = pd.read_parquet(tiny_run / "series.parquet")
    assert sorted(series["period"].unique()) == [0, 4, 8, 11]
    assert len(series) == 12 * 4
    ts = pd.DataFrame({"period": range(10)})
    assert list(keep_series(ts, "final", 4)["period"]) == [9]
    assert keep_series(ts, "none", 4) is None
    assert len(keep_series(ts, "every", 4)) == 10


def test_process_pool_gives_the_same_bytes_as_one_process(tiny_run, tmp_path):
    sweep = load_sweep(Path(json.loads((tiny_run / "sweep.json").read_text())["source"]))
    with make_executor(workers=2) as (executor, slots):
        run_sweep(sweep, tmp_path / "pool", executor=executor, max_in_flight=2 * slots)
    for name in ("runs.parquet", "series.parquet"):
        assert (tmp_path / "pool" / name).read_bytes() == (tiny_run / name).read_bytes(), name


def test_a_failing_run_is_recorded_and_the_sweep_goes_on(tmp_path, monkeypatch, capsys):
    import sim.runs.runner

    real = sim.runs.runner.simulate
    sweep = load_sweep(write_sweep(tmp_path))
    bad_seed = sweep.seeds[1]

    real_ensemble = sim.runs.runner.run_ensemble

    def bad(scenario, seed):
        return seed == bad_seed and scenario.customers[0].procurement.savings_target == 0.2

    def flaky(scenario, seed, **kwargs):
        if bad(scenario, seed):
            raise FloatingPointError("negative stock")
        return real(scenario, seed, **kwargs)

    def flaky_ensemble(scenarios, seeds, **kwargs):  # a batch with the bad run fails as a whole
        if any(bad(sc, seed) for sc, seed in zip(scenarios, seeds, strict=True)):
            raise FloatingPointError("negative stock")
        return real_ensemble(scenarios, seeds, **kwargs)

    monkeypatch.setattr(sim.runs.runner, "simulate", flaky)
    monkeypatch.setattr(sim.runs.runner, "run_ensemble", flaky_ensemble)
    out = tmp_path / "out"
    code = main(["sweep", str(tmp_path / "tiny.yaml"), "--out", str(out), "--workers", "1", "--quiet"])
    captured = capsys.readouterr()
    assert code == 3
    assert "2 failed" in captured.out and "FloatingPointError: negative stock" in captured.err
    runs = pd.read_parquet(out / "runs.parquet")
    failed = runs[runs["status"] == "failed"]
    assert len(runs) == 12 and len(failed) == 2
    assert (failed["seed"] == bad_seed).all() and (failed["savings_target"] == 0.2).all()
    assert failed["error"].str.contains("negative stock").all() and failed["outcome"].isna().all()
    assert json.loads((out / "summary.json").read_text())["failed"] == 2


def test_failed_chunks_and_schedules_read_back_with_the_usual_types(tmp_path, monkeypatch):
    """Every run of one point fails (its chunk has no metric columns) and one parameter is a schedule at one
    point and a number at another: the compacted table still has one type per column, nulls where nothing is."""
    import sim.runs.runner

    real, real_ensemble = sim.runs.runner.simulate, sim.runs.runner.run_ensemble

    def doomed(scenario):
        return scenario.suppliers[0].margin_defense == 0.7

    def flaky(scenario, seed, **kwargs):
        if doomed(scenario):
            raise FloatingPointError("negative stock")
        return real(scenario, seed, **kwargs)

    def flaky_ensemble(scenarios, seeds, **kwargs):
        if any(doomed(s) for s in scenarios):
            raise FloatingPointError("negative stock")
        return real_ensemble(scenarios, seeds, **kwargs)

    monkeypatch.setattr(sim.runs.runner, "simulate", flaky)
    monkeypatch.setattr(sim.runs.runner, "run_ensemble", flaky_ensemble)
    design = {
        "scenarios": [
            {"name": "c", "set": {"suppliers.margin_defense": 0.7}},  # first chunk file: failed runs only
            {"name": "a", "set": {"customers.procurement.savings_target": {0: 0.0, 6: 0.1}}},
            {"name": "b", "set": {"customers.procurement.savings_target": 0.1}},
        ]
    }
    path = write_sweep(tmp_path, design=design, replicates=2, outputs={"series": "final"})
    out = tmp_path / "out"
    assert main(["sweep", str(path), "--out", str(out), "--workers", "1", "--quiet"]) == 3
    runs = store.read_runs(out)
    assert list(runs["label"]) == ["c", "c", "a", "a", "b", "b"]
    failed, ok = runs.iloc[:2], runs.iloc[2:]
    assert (failed["status"] == "failed").all() and failed["error"].str.contains("negative stock").all()
    assert failed["outcome"].isna().all() and failed["joint_value_total"].isna().all()
    assert (ok["status"] == "ok").all() and ok["error"].isna().all() and ok["joint_value_total"].notna().all()
    for column in ("point", "replicate", "seed"):
        assert runs[column].dtype == np.int64, column
    for column in ("joint_value_total", "switches_total", "outlook_period", "margin_defense"):
        assert runs[column].dtype == np.float64, column
    assert list(runs["margin_defense"].fillna(-1)) == [0.7, 0.7, -1, -1, -1, -1]
    assert runs["savings_target"].isna()[:2].all()
    assert json.loads(runs["savings_target"][2]) == {"0": 0.0, "6": 0.1}
    assert float(runs["savings_target"][4]) == 0.1
    # missing values are SQL nulls (not NaN), as before
    nulls = query(out, "SELECT count(*) AS n FROM runs WHERE joint_value_total IS NULL AND outcome IS NULL")
    assert int(nulls["n"][0]) == 2
    assert len(store.read_parquet(out / "series.parquet")) == 4


def test_existing_folder_needs_resume_and_resume_needs_the_same_sweep(tiny_run, tmp_path, capsys):
    path = Path(json.loads((tiny_run / "sweep.json").read_text())["source"])
    assert main(["sweep", str(path), "--out", str(tiny_run), "--workers", "1", "--quiet"]) == 2
    assert "--resume" in capsys.readouterr().err
    changed = write_sweep(tmp_path, replicates=4)
    assert main(["sweep", str(changed), "--out", str(tiny_run), "--workers", "1", "--resume", "--quiet"]) == 2
    assert "different sweep" in capsys.readouterr().err
    assert main(["sweep", str(path), "--out", str(tmp_path / "none"), "--workers", "1", "--resume"]) == 2


def test_resume_redoes_only_missing_chunks(tiny_run, tmp_path):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(tiny_run, copy)
    chunks = sorted((copy / "chunks").glob("runs-*.parquet"))
    removed = chunks[1::2]
    for path in removed:
        path.unlink()
    (copy / "chunks" / ".runs-000000-0000.parquet.x.tmp").write_bytes(b"half a file")
    (copy / "runs.parquet").unlink()
    sweep = load_sweep(Path(json.loads((copy / "sweep.json").read_text())["source"]))
    result = run_sweep(sweep, copy, executor=InlineExecutor(), resume=True)
    assert len(result.reports) == len(removed) and result.skipped_chunks == len(chunks) - len(removed)
    assert not list((copy / "chunks").glob(".*.tmp"))
    assert (copy / "runs.parquet").read_bytes() == (tiny_run / "runs.parquet").read_bytes()


# ---------------------------------------------------------------- reading results


def test_query_with_sql(tiny_run, capsys):
    frame = query(tiny_run, "SELECT savings_target, count(*) AS n FROM runs GROUP BY 1 ORDER BY 1")
    assert frame.to_dict(orient="list") == {"savings_target": [0.0, 0.2], "n": [6, 6]}
    assert main(["query", str(tiny_run), "SELECT count(*) AS n FROM series", "--csv"]) == 0
    assert capsys.readouterr().out == "n\n48\n"
    assert main(["query", str(tiny_run), "SELEKT nothing"]) == 2
    assert "SQL" in capsys.readouterr().err
    assert main(["query", str(tiny_run.parent), "SELECT 1"]) == 2


def test_analyze_writes_phase_diagram_ranking_and_page(tiny_run):
    result = analyze(tiny_run, tipping=False)
    html = result.html.read_text()
    assert "data:image/png;base64," in html and "Phase diagram" in html and "no analysis.tipping" in html
    table = result.phase.table
    assert len(table) == 4 and np.allclose(table.filter(like="share_").drop(columns="share_tipped").sum(axis=1), 1)
    assert result.ranking is not None and result.ranking["rank_joint_value_total"].min() == 1
    for name in ("phase.png", "phase.csv", "ranking.csv", "analysis.json"):
        assert (tiny_run / "analysis" / name).is_file(), name


def test_sobol_and_morris_indices_with_confidence_intervals(tmp_path):
    bounds = {"customers.procurement.savings_target": [0.0, 0.2], "suppliers.margin_defense": [0.0, 1.0]}
    for kind, samples, columns in (
        ("sobol", 8, {"S1", "S1_conf", "ST", "ST_conf"}),
        ("morris", 4, {"mu_star", "mu_star_conf", "sigma"}),
    ):
        path = write_sweep(
            tmp_path,
            kind,
            design={kind: {"bounds": bounds, "samples": samples}},
            replicates=1,
            chunk_size=1,
            outputs={"series": "none"},
            analysis={"sensitivity": ["capability_index_final"]},
        )
        out = tmp_path / f"{kind}-out"
        run_sweep(load_sweep(path), out, executor=InlineExecutor())
        result = analyze(out, tipping=False)
        table = result.sensitivity["capability_index_final"]
        assert columns <= set(table.columns) and set(table["parameter"]) == set(bounds)
        assert np.isfinite(table.drop(columns="parameter").to_numpy()).all()


def test_tipping_point_brackets_the_flip(tmp_path):
    path = write_sweep(
        tmp_path,
        analysis={
            "tipping": {
                "parameter": "customers.procurement.savings_target",
                "low": 0.0,
                "high": 0.3,
                "replicates": 3,
                "tolerance": 0.02,
            }
        },
    )
    sweep = load_sweep(path)
    point = find_tipping(sweep, sweep.spec.analysis.tipping, InlineExecutor())
    assert point.found, point.message
    lo, hi = point.bracket
    assert hi - lo <= 0.02
    shares = point.shares().set_index("value")["tipped_share"]
    assert shares.loc[0.0] < 0.5 <= shares.loc[0.3]
    assert point.ci[0] <= point.estimate <= point.ci[1]


def test_the_search_seeds_are_the_replicate_seeds_and_a_stop_ends_the_search(tmp_path):
    import threading

    from sim.experiments.tipping import search_seeds
    from sim.runs.runner import replicate_seeds

    assert search_seeds(2026, 16) == replicate_seeds(2026, 16)
    path = write_sweep(
        tmp_path,
        analysis={"tipping": {"parameter": "customers.procurement.savings_target", "low": 0.0, "high": 0.3}},
    )
    sweep = load_sweep(path)
    stop = threading.Event()
    stop.set()
    with pytest.raises(KeyboardInterrupt):
        find_tipping(sweep, sweep.spec.analysis.tipping, InlineExecutor(), stop=stop)


def test_the_metrics_a_sweep_file_may_name_are_those_of_the_runs(tiny_run):
    from sim.experiments.spec import RUN_METRICS

    runs = pd.read_parquet(tiny_run / "runs.parquet")
    metrics = [
        c
        for c in runs.columns
        if pd.api.types.is_float_dtype(runs[c]) and c not in ("savings_target", "margin_defense")
    ]
    assert sorted(metrics) == sorted(RUN_METRICS)


def test_logistic_midpoint_recovers_a_known_threshold():
    rng = np.random.default_rng(0)
    x = np.repeat(np.linspace(0, 1, 11), 40)
    y = rng.random(x.size) < 1 / (1 + np.exp(-(x - 0.37) / 0.05))
    estimate, (low, high) = logistic_midpoint(pd.DataFrame({"value": x, "tipped": y}), (0, 1), rng)
    assert abs(estimate - 0.37) < 0.03 and low < 0.37 < high and high - low < 0.1


def test_prim_finds_the_box_where_the_outcome_lives(tmp_path):
    rng = np.random.default_rng(1)
    n = 400
    runs = pd.DataFrame(
        {
            "key": [f"k{i}" for i in range(n)],
            "label": "",
            "seed": np.arange(n),
            "status": "ok",
            "a": rng.random(n),
            "b": rng.random(n),
        }
    )
    runs["outcome"] = np.where(runs["a"] > 0.6, "spiral", "equilibrium")
    runs["joint_value_total"] = rng.random(n)
    box = discover(runs, ["a", "b"], "spiral", 0.95, tmp_path)
    limits = box.limits.set_index("parameter")
    # the widest box of density >= 0.95 is a > 0.6 - 0.4 * 0.05 / 0.95 = 0.579, with b unrestricted
    assert list(limits.index) == ["a"] and 0.56 < limits.loc["a", "low"] < 0.65
    assert box.density >= 0.95 and box.coverage > 0.8
    assert (tmp_path / "ema_results.tar.gz").is_file()
