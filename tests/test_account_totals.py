"""Per-account totals: every move has a reason, your profit is split over your customers, an ensemble adds up as single runs."""

from __future__ import annotations

import numpy as np
import pytest

from sim.engine.recorder import MOVE_REASONS
from sim.inputs.loading import load_scenario
from sim.runs.runner import run_ensemble, simulate

SHORT = {"periods": 24, "outlook_periods": 0}
DESIGNS = [
    ("baseline", {}),
    ("bidding_war", {}),  # two supplier groups: price-driven moves
    (  # from year 2 the suppliers want every account to pay for all of its upkeep: notices, and some leave
        "procurement_squeeze",
        {
            "customers.procurement.savings_target": 0.25,
            "suppliers.firmness": {0: 0.0, 8: 1.0},
            "suppliers.walk_away_periods": 1,
            "customers.switching_cost": 0.1,
        },
    ),
    ("supplier_exit_redesign", {}),  # insolvencies orphan customers
    ("baseline", {"customers.count": 70}),  # another size in the same ensemble
]
TOTALS = ("volume", "contribution", "customer_value", "supplier_value", "supplier_profit", "yours", "reasons")


def _scenarios():
    return [load_scenario(name, {**SHORT, **overrides}) for name, overrides in DESIGNS]


def test_every_move_is_counted_once_with_its_reason():
    """Moves by reason add up to the switches and ended relationships; walk-aways to the accounts dropped."""
    reasons = dict.fromkeys(MOVE_REASONS, 0)
    for scenario in _scenarios():
        for seed in (1, 2, 3):
            run = simulate(scenario, seed, record_agents_every=0, outlook=False)
            moves = run.totals.reasons.sum(axis=0)
            ts = run.timeseries
            assert moves.sum() == ts["switches"].sum() + ts["relationships_ended"].sum()
            walked, m = moves[MOVE_REASONS.index("walk-away")], run.summary["metrics"]
            assert m["accounts_dropped"] <= walked <= m["accounts_dropped"] + m["accounts_noticed"]
            if run.summary["metrics"]["suppliers_exited"] == 0:
                assert moves[MOVE_REASONS.index("supplier exit")] == 0
            for reason, n in zip(MOVE_REASONS, moves, strict=True):
                reasons[reason] += int(n)
    assert all(n > 0 for n in reasons.values()), reasons  # each reason occurs in these markets


def test_your_profit_is_split_over_your_customers():
    for scenario in _scenarios():
        run = simulate(scenario, 4, record_agents_every=0, outlook=False)
        t = run.totals
        assert t.yours.sum() == pytest.approx(t.supplier_profit[0], rel=1e-9, abs=1e-3)
        assert sum(p[0] for p in t.profits) == pytest.approx(t.supplier_profit[0], rel=1e-12)
        assert (t.yours[t.initial_supplier != 0] == 0).sum() >= ((t.initial_supplier != 0) & ~t.switched).sum()


def test_an_ensemble_adds_up_each_market_as_its_single_run():
    scenarios = _scenarios()
    seeds = [5 + i for i in range(len(scenarios))]
    batched = run_ensemble(scenarios, seeds, totals=True, track_demand=True)
    for scenario, seed, result in zip(scenarios, seeds, batched, strict=True):
        single = simulate(scenario, seed, record_agents_every=0, track_demand=True)
        for name in TOTALS:
            assert np.array_equal(getattr(result.totals, name), getattr(single.totals, name)), name
        assert np.array_equal(result.totals.peers, single.totals.peers)
        for a, b in zip(result.totals.demand, single.totals.demand, strict=True):
            assert np.array_equal(a, b)
        for a, b in zip(result.totals.profits, single.totals.profits, strict=True):
            assert np.array_equal(a, b)
    plain = run_ensemble(scenarios[:2], seeds[:2])
    assert all(r.totals is None for r in plain)  # sweeps pay nothing for totals they do not read
