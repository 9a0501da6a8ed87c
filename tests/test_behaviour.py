"""The behaviour MODEL-SPEC section 7 says the defaults must show, checked over several seeds.

Every test states the claim it checks; none tunes a parameter for itself: they use the
bundled scenarios (which are the seed stories) and vary one lever at a time.
"""

import numpy as np
import pytest

from sim.capabilities import CAPABILITIES
from sim.outcomes import classify, metrics

from .conftest import SEEDS, bundled, run


def outcome(scenario, seed):
    model = run(scenario, seed)
    ts = model.recorder.timeseries()
    return classify(ts, model.cycle).outcome, metrics(ts, model), ts, model


def test_no_pressure_and_a_balanced_exchange_stay_in_equilibrium_within_2_percent():
    for seed in SEEDS:
        result, _, ts, _ = outcome(bundled("baseline"), seed)
        assert result == "equilibrium"
        for column in ("capability_index", *CAPABILITIES):
            assert ts[column].between(0.98, 1.02).all(), (seed, column, ts[column].min())


SMALL, LARGE = 0.02, 0.20
TARGETS = (0.0, 0.02, 0.04, 0.06, 0.08, 0.10, 0.12, 0.15, 0.20)


def test_a_small_savings_target_gives_a_new_slightly_lower_equilibrium():
    for seed in SEEDS:
        result, m, ts, _ = outcome(bundled("baseline", {"customers.procurement.savings_target": SMALL}), seed)
        assert result == "equilibrium"
        assert 0.9 < m["capability_index_final"] < 0.99
        assert abs(ts["capability_index"].iloc[-1] / ts["capability_index"].iloc[-9] - 1) < 0.02  # settled


def test_a_large_savings_target_tips_into_a_spiral_and_collapse():
    for seed in SEEDS:
        model = run(bundled("baseline", {"customers.procurement.savings_target": LARGE}), seed)
        ts = model.recorder.timeseries()
        assert classify(ts, model.cycle).outcome == "collapse"
        ci = ts["capability_index"].to_numpy()
        assert ci.min() < 0.5 and (np.diff(ci[:30]) < 0).all()  # a sustained slide before it collapses


@pytest.mark.parametrize("seed", SEEDS[:3])
def test_there_is_one_threshold_between_equilibrium_and_spiral(seed):
    """Below the threshold the index settles; above it the index is still falling at the horizon."""
    outcomes, finals = [], []
    for target in TARGETS:
        result, m, _, _ = outcome(bundled("baseline", {"customers.procurement.savings_target": target}), seed)
        outcomes.append(result)
        finals.append(m["capability_index_final"])
    bad = [o in ("spiral", "collapse") for o in outcomes]
    first = bad.index(True)
    assert 0 < first < len(TARGETS) - 1 and all(bad[first:]) and not any(bad[:first])
    assert all(np.diff(finals) < 0)  # more pressure, lower capability
    slope_below = (finals[0] - finals[first - 1]) / (TARGETS[first - 1] - TARGETS[0])
    slope_above = (finals[first] - finals[-1]) / (TARGETS[-1] - TARGETS[first])
    assert slope_above > 1.5 * slope_below  # past the threshold the loop amplifies the pressure


@pytest.mark.parametrize("strategy", ["hold", "value_trade"])
def test_holding_price_or_trading_value_beats_conceding_under_the_same_pressure(strategy):
    for seed in SEEDS:
        _, conceding, _, _ = outcome(bundled("procurement_squeeze"), seed)
        _, other, _, _ = outcome(bundled("procurement_squeeze", {"suppliers.strategy": strategy}), seed)
        assert other["capability_index_final"] > conceding["capability_index_final"] + 0.2
        assert other["customer_value_total"] > conceding["customer_value_total"]


def test_more_margin_defense_is_worse_under_the_same_pressure():
    for seed in SEEDS:
        finals = [
            outcome(bundled("procurement_squeeze", {"suppliers.margin_defense": md}), seed)[1] for md in (0.2, 0.5, 0.8)
        ]
        assert (
            finals[0]["capability_index_final"]
            > finals[1]["capability_index_final"]
            > finals[2]["capability_index_final"]
        )
        assert finals[0]["joint_value_total"] > finals[1]["joint_value_total"] > finals[2]["joint_value_total"]


def test_faster_concession_is_worse():
    for seed in SEEDS:
        finals = [
            outcome(bundled("procurement_squeeze", {"suppliers.concession_rate": r}), seed)[1] for r in (0.2, 0.5, 0.9)
        ]
        assert (
            finals[0]["capability_index_final"]
            > finals[1]["capability_index_final"]
            > finals[2]["capability_index_final"]
        )
        slow, fast = (
            outcome(bundled("procurement_squeeze", {"suppliers.strategy": "boulware"}), seed)[1],
            outcome(bundled("procurement_squeeze", {"suppliers.strategy": "conceder"}), seed)[1],
        )
        assert slow["capability_index_final"] > fast["capability_index_final"]


def test_higher_customer_engagement_is_better():
    for seed in SEEDS:
        finals = [
            outcome(bundled("procurement_squeeze", {"customers.engagement": e}), seed)[1] for e in (0.3, 0.5, 0.8)
        ]
        assert finals[0]["joint_value_total"] < finals[1]["joint_value_total"] < finals[2]["joint_value_total"]
        assert finals[0]["capability_index_final"] < finals[2]["capability_index_final"]


def test_an_aggressive_conceder_wins_share_then_spirals_and_its_customers_pay_redesign():
    for seed in SEEDS:
        model = run(bundled("bidding_war"), seed)
        rec = model.recorder
        challenger = 0  # the first group
        customers = rec.suppliers["customers"][: len(rec.agent_periods), challenger]
        quality = rec.suppliers["quality"][: len(rec.agent_periods), challenger]
        peak = int(customers.argmax())
        assert customers[peak] > 1.3 * customers[0]  # wins share first ...
        assert quality[peak:].min() < 0.8  # ... then its capabilities slide
        exit_period = model.supplier_agents[challenger].exit_period
        assert exit_period is not None and exit_period > peak  # ... and it goes under
        ts = rec.timeseries()
        assert ts.loc[ts["period"] == exit_period, "redesigns"].item() > 0  # its customers must redesign
        assert ts["transaction_cost"][exit_period + 1 :].sum() > 0
        incumbents = model.state.cash[1:]
        assert (incumbents > model.state.cash[challenger]).all()  # the losers of the bidding war are better off


def test_capability_trap_pressure_that_relents_heals_below_the_threshold_but_not_above_it():
    """Issue 2: a pulse past the threshold leaves permanent erosion; below it, the system recovers.

    Discounts must be able to come back down for recovery, so the ratchet is loosened to 0.5.
    """
    for seed in SEEDS[:3]:
        mild, severe = [
            run(
                bundled(
                    "baseline",
                    {"customers.procurement.savings_target": {0: s, 12: 0.0}, "market.ratchet": 0.5, "periods": 60},
                ),
                seed,
            ).recorder.timeseries()
            for s in (0.08, 0.25)
        ]
        assert mild["capability_index"].iloc[-1] > 0.97  # recovered
        assert severe["capability_index"].iloc[-1] < severe["capability_index"].iloc[12] - 0.1  # kept eroding
        assert severe["discount_mean"].iloc[-1] > severe["discount_mean"].iloc[12]  # the loop sustains itself


@pytest.mark.parametrize(
    "name, expected",
    [
        ("baseline", {"equilibrium"}),
        ("procurement_squeeze", {"spiral", "collapse"}),
        ("hold_the_line", {"equilibrium"}),
        ("gifts_not_discounts", {"equilibrium"}),
        ("reciprocal_partnership", {"growth"}),
        ("bidding_war", {"collapse"}),
        ("parity_contagion", {"spiral", "collapse"}),
        ("supplier_exit_redesign", {"collapse"}),
    ],
)
def test_every_scenario_tells_its_story(name, expected):
    for seed in SEEDS:
        assert outcome(bundled(name), seed)[0] in expected, (name, seed)


def test_parity_spreads_a_key_accounts_discount_to_customers_who_never_asked():
    model = run(bundled("parity_contagion"), 1)
    others = model.cp.group == 1
    assert (model.state.discount[others] > 0.05).mean() > 0.8
    assert model.cp.p["savings_target"][others].max() == 0
