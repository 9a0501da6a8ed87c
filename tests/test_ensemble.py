"""The batched ensemble engine gives every run exactly the results of its single run.

Equality, not closeness: every recorded series, the summary (with the outlook) and the
state at the horizon, for a sample of markets and designs that share nothing but the
horizon and the contract cycle; and the bundled sweeps write the same bytes batched and
one run at a time.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from sim import load_scenario
from sim.engine.model import ProcurementModel
from sim.runs.runner import run_ensemble, simulate

SHORT = {"periods": 24, "outlook_periods": 60}
DESIGNS = [
    ("baseline", {}),
    ("baseline", {"customers.count": 70, "suppliers.strategy": "boulware"}),  # other sizes in the same ensemble
    ("bidding_war", {}),  # two supplier groups, an acquisition discount
    ("parity_contagion", {}),  # one supplier, two segments, a peer network with parity
    (
        "baseline",
        {
            "market.negotiation_rounds": 3,
            "suppliers.strategy": "conceder",
            "customers.procurement.savings_target": 0.12,
        },
    ),
    (
        "baseline",
        {
            "market.engagement_reference": 0.4,
            "suppliers.strategy": "reciprocal",
            "customers.procurement.style": "partnership",
        },
    ),
    ("gifts_not_discounts", {}),
    ("supplier_exit_redesign", {}),  # insolvency and forced redesigns
    ("baseline", {"market.network.kind": "none", "market.ratchet": 0.0, "customers.procurement.savings_target": 0.12}),
    ("procurement_squeeze", {"suppliers.cut_order": ["sales_coverage", "support"], "suppliers.walk_away_periods": 4}),
    (
        "procurement_squeeze",
        {"suppliers.cut_weights.innovation": 3.0, "customers.procurement.savings_target": {0: 0.2, 8: 0.0}},
    ),
    ("fire_the_customer", {"suppliers.firmness": {0: 0.5, 12: 1.0}, "suppliers.walk_away_periods": 4}),  # notices
    (  # a reinvestor: value premiums, share won, rivals run down
        "baseline",
        {
            "suppliers": {
                "groups": [
                    {
                        "name": "reinvestor",
                        "count": 1,
                        "spend": {"quality": {0: 0.08, 2: 0.12}, "innovation": {0: 0.10, 2: 0.15}},
                    },
                    {"name": "rivals", "count": 2},
                ]
            }
        },
    ),
]


def _scenarios(designs=DESIGNS):
    return [load_scenario(name, {**SHORT, **overrides}) for name, overrides in designs]


def assert_same_run(batched, single) -> None:
    assert json.dumps(batched.summary, sort_keys=True) == json.dumps(single.summary, sort_keys=True)
    assert list(batched.timeseries.columns) == list(single.timeseries.columns)
    for column in single.timeseries.columns:
        a, b = batched.timeseries[column].to_numpy(), single.timeseries[column].to_numpy()
        assert a.dtype == b.dtype and np.array_equal(a, b), column
    for name in (
        "cash",
        "capability",
        "standard",
        "discount",
        "gift",
        "trust",
        "supplier",
        "market_success",
        "premium",
        "service",
        "favour",
        "notice_period",
    ):
        assert np.array_equal(getattr(batched.model.state, name), getattr(single.model.state, name)), name


def test_every_market_of_a_mixed_ensemble_is_its_single_run():
    scenarios = _scenarios()
    seeds = [3 + i for i in range(len(scenarios))]
    batched = run_ensemble(scenarios, seeds)
    outlooks = set()
    for scenario, seed, result in zip(scenarios, seeds, batched, strict=True):
        assert_same_run(result, simulate(scenario, seed, record_agents_every=0))
        outlooks.add(result.summary.get("outlook"))
    assert {"collapse", "equilibrium"} <= outlooks  # markets drop out of the outlook at different times
    assert batched[-1].model.state.premium.max() > 0.05  # the Model 3.0 paths ran: value premiums ...
    assert batched[-2].summary["metrics"]["accounts_noticed"] > 0  # ... and walk-away notices


def test_many_seeds_of_one_design_and_a_sample_across_a_grid():
    """What a sweep batches: every seed of a point, and neighbouring points together."""
    base = load_scenario("procurement_squeeze", SHORT)
    grid = [
        load_scenario(
            "procurement_squeeze", {**SHORT, "customers.procurement.savings_target": t, "suppliers.margin_defense": d}
        )
        for t in (0.0, 0.05, 0.1, 0.2)
        for d in (0.0, 1.0)
    ]
    scenarios = [base] * 6 + grid
    seeds = [11, 12, 13, 14, 15, 16, *range(100, 100 + len(grid))]
    batched = run_ensemble(scenarios, seeds)
    for i in (0, 3, 5, 6, 9, 13):
        assert_same_run(batched[i], simulate(scenarios[i], seeds[i], record_agents_every=0))


def test_overrides_of_a_base_and_the_ensemble_of_one():
    overrides = [{"customers.procurement.savings_target": 0.02 * k, "periods": 16} for k in range(3)]
    batched = run_ensemble(overrides, [1, 2, 3], base="baseline")
    for k, result in enumerate(batched):
        assert_same_run(result, simulate(load_scenario("baseline", overrides[k]), k + 1, record_agents_every=0))
    grouped = {"suppliers.margin_defense": 0.2, "customers.count": 12, "periods": 16}  # paths into grouped sections
    (of_scenario,) = run_ensemble([grouped], [4], base=load_scenario("baseline"))
    assert_same_run(of_scenario, simulate(load_scenario("baseline", grouped), 4, record_agents_every=0))
    (one,) = run_ensemble([load_scenario("baseline", {"periods": 16})], [9])
    assert_same_run(one, simulate(load_scenario("baseline", {"periods": 16}), 9, record_agents_every=0))


def test_markets_must_share_the_horizon_and_the_cycle():
    with pytest.raises(ValueError, match="horizon"):
        ProcurementModel.ensemble(_scenarios([("baseline", {}), ("baseline", {"periods": 30})]), [1, 2])
    with pytest.raises(ValueError, match="seed"):
        ProcurementModel.ensemble(_scenarios([("baseline", {})]), [1, 2])


def test_an_ensemble_is_a_mesa_model_with_a_view_of_each_market():
    model = ProcurementModel.ensemble(_scenarios(DESIGNS[:3]), [1, 2, 3]).run()
    assert model.n_members == 3 and len(model.markets) == 3
    market = model.markets[1]
    assert market.state.cash.shape == (market.n_suppliers,) and market.state.discount.shape == (70,)
    assert market.recorder.timeseries()["period"].tolist() == list(range(24))
    assert (market.state.supplier < market.n_suppliers).all()  # a market's own supplier numbers


@pytest.mark.slow
@pytest.mark.parametrize("name", ["strategy_tournament", "phase_savings_vs_defense"])
def test_bundled_sweeps_write_the_same_bytes_batched_and_one_run_at_a_time(name, tmp_path):
    from sim.experiments import load_sweep, run_sweep
    from sim.experiments.runner import InlineExecutor
    from sim.experiments.spec import SWEEP_FOLDER

    data = yaml.safe_load((SWEEP_FOLDER / f"{name}.yaml").read_text())
    data["base"] = str((SWEEP_FOLDER.parent / f"{data['base']}.yaml").resolve())
    outputs = {}
    for batch in (1, "auto"):
        path = tmp_path / f"{name}-{batch}.yaml"
        path.write_text(yaml.safe_dump({**data, "name": name, "batch": batch}))
        result = run_sweep(load_sweep(path), tmp_path / f"out-{batch}", executor=InlineExecutor())
        outputs[batch] = result.out
    for table in ("runs.parquet", "series.parquet"):
        assert (outputs[1] / table).read_bytes() == (outputs["auto"] / table).read_bytes(), table
    assert _fingerprint(outputs[1]) == _fingerprint(outputs["auto"])  # batching is not part of what a sweep is


def _fingerprint(folder: Path) -> str:
    return json.loads((folder / "sweep.json").read_text())["fingerprint"]


@pytest.mark.parametrize("value", [0, "fast", -3])
def test_a_bad_batch_setting_names_the_file_and_field(tmp_path, capsys, value):
    from sim.cli import main

    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump({"base": "baseline", "design": {"grid": {"periods": [8]}}, "batch": value}))
    assert main(["sweep", str(path), "--out", str(tmp_path / "out"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "bad.yaml" in err and "batch" in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_auto_batches_follow_the_market_size_and_the_workers(tmp_path):
    from sim.experiments import load_sweep
    from sim.experiments.runner import batch_size, batches, tasks

    path = tmp_path / "s.yaml"
    data = {"base": "baseline", "design": {"grid": {"customers.count": [300]}}, "replicates": 1000, "chunk_size": 25}
    path.write_text(yaml.safe_dump(data))
    sweep = load_sweep(path)
    assert batch_size(sweep, 1) == 166  # about 50,000 customers per ensemble
    assert batch_size(sweep, 2) == 125  # at least four batches per worker
    todo = list(tasks(sweep, tmp_path / "out"))
    groups = list(batches(todo, batch_size(sweep, 2)))
    assert [sum(len(t.seeds) for t in g) for g in groups] == [125] * 8  # whole chunks, every run once
