"""The behaviour MODEL-SPEC section 7 and issue "Model 2.0" say the defaults must show, over several seeds.

Every test states the claim it checks; none tunes a parameter for itself: they use the
bundled scenarios (which are the seed stories) and vary one lever at a time. "Long run"
means the horizon plus the outlook (or a longer horizon where totals are compared).
"""

import itertools

import numpy as np
import pytest

from sim.engine.capabilities import CAPABILITIES
from sim.engine.customers import balance_index
from sim.engine.model import ProcurementModel
from sim.engine.outcomes import classify, imbalance_phases
from sim.inputs.loading import load_scenario
from sim.runs.runner import simulate

from .conftest import SEEDS, bundled, run


def summary(scenario, seed, **kwargs):
    return simulate(scenario, seed, record_agents_every=0, **kwargs).summary


def series(scenario, seed):
    return run(scenario, seed).recorder.timeseries()


# --------------------------------------------------------------------------- no pressure


def test_no_pressure_and_a_balanced_exchange_stay_within_2_percent_of_baseline_in_the_long_run():
    for seed in SEEDS:
        ts = series(bundled("baseline", {"periods": 200}), seed)
        assert classify(ts.iloc[:40], 4).outcome == "equilibrium"
        for column in ("capability_index", *CAPABILITIES):
            assert ts[column].between(0.98, 1.02).all(), (seed, column, ts[column].min())
        s = summary(bundled("baseline"), seed)
        assert s["outlook"] == "equilibrium" and s["outlook_capability_index"] > 0.98


# --------------------------------------------------------------------------- constant pressure and the threshold

TARGETS = (0.0, 0.02, 0.04, 0.06, 0.08, 0.10, 0.12, 0.15, 0.20)


def test_a_small_savings_target_gives_a_new_slightly_lower_equilibrium_that_holds():
    for seed in SEEDS:
        s = summary(bundled("baseline", {"customers.procurement.savings_target": 0.02}), seed)
        assert s["outcome"] == "equilibrium" and s["outlook"] == "equilibrium"
        assert 0.9 < s["metrics"]["capability_index_final"] < 0.99


def test_a_large_savings_target_tips_into_a_spiral_and_collapse():
    for seed in SEEDS:
        ts = series(bundled("baseline", {"customers.procurement.savings_target": 0.20}), seed)
        assert classify(ts, 4).outcome == "collapse"
        ci = ts["capability_index"].to_numpy()
        first = int(np.argmax((ts["exits"] > 0) | (ts["relationships_ended"] > 0)))
        assert ci[first - 1] < 0.8 and (np.diff(ci[4:first]) < 0).all()  # a sustained slide before it collapses


@pytest.mark.parametrize("seed", SEEDS[:3])
def test_one_long_run_threshold_and_capability_falls_monotonically_with_the_target(seed):
    """Below the threshold the market settles in the long run; above it, it collapses or spirals."""
    outlooks, finals = [], []
    for target in TARGETS:
        s = summary(bundled("baseline", {"customers.procurement.savings_target": target}), seed)
        outlooks.append(s["outlook"])
        finals.append(s["metrics"]["capability_index_final"])
    bad = [o in ("spiral", "collapse") for o in outlooks]
    first = bad.index(True)
    assert 0 < first < len(TARGETS) - 1 and all(bad[first:]) and not any(bad[:first]), outlooks
    assert all(np.diff(finals) < 0)  # more pressure, lower capability at the horizon


def test_the_horizon_alone_misreads_a_slow_slide_and_the_outlook_catches_it():
    """Issue: at a 10% target the index looks settled at period 40, yet the market goes under later."""
    for seed in SEEDS[:3]:
        s = summary(bundled("baseline", {"customers.procurement.savings_target": 0.10}), seed)
        assert s["outcome"] in ("equilibrium", "drifting") and s["metrics"]["capability_index_final"] > 0.8
        assert s["outlook"] == "collapse" and s["outlook_period"] > 40


# --------------------------------------------------------------------------- the capability trap

PULSE = {"market.ratchet": 0.0, "periods": 160}


def pulse(target, until):
    return bundled("baseline", {**PULSE, "customers.procurement.savings_target": {0: target, until: 0.0}})


def test_a_short_mild_pressure_pulse_recovers():
    for seed in SEEDS:
        ts = series(pulse(0.05, 8), seed)
        assert ts["capability_index"].min() < 0.98  # it did bite ...
        assert ts["capability_index"].iloc[-1] > 0.98  # ... and healed


@pytest.mark.parametrize("target, until", [(0.25, 12), (0.10, 24)])
def test_a_strong_or_long_pulse_leaves_a_lasting_loss_after_pressure_and_discounts_are_gone(target, until):
    for seed in SEEDS[:3]:
        ts = series(pulse(target, until), seed)
        ci, discount = ts["capability_index"], ts["discount_mean"]
        assert discount.iloc[-1] < 0.5 * discount.max()  # the discounts came back down ...
        assert ci.iloc[-1] < 0.96 and ci.iloc[-40:].max() < 0.96  # ... but capability did not come back


def test_equal_down_and_up_budget_pulses_leave_a_net_loss():
    """Erosion is faster than rebuilding: cut every budget by a fifth for two years, then raise it by a fifth
    for two years. Over the whole episode capability is lost on balance; with equal lags it would not be."""
    spend = {"quality": 0.08, "innovation": 0.10, "support": 0.05, "sales_coverage": 0.05}
    schedule = {k: {0: v, 8: 0.8 * v, 16: 1.2 * v, 24: v} for k, v in spend.items()}
    lags = {"quality": 4, "innovation": 8, "support": 2, "sales_coverage": 3}
    episode = {"suppliers.spend": schedule, "suppliers.margin_defense": 0.0, "periods": 80}
    for seed in SEEDS[:3]:
        asymmetric = series(bundled("baseline", episode), seed)["capability_index"].iloc[8:]
        symmetric = series(bundled("baseline", {**episode, "suppliers.rebuild_lag": lags}), seed)["capability_index"]
        assert asymmetric.mean() < 0.99
        assert abs(symmetric.iloc[8:].mean() - 1.0) < 0.005


def test_trust_is_lost_faster_than_it_is_won():
    """One bad contract cycle for the customer (its supplier charges a third more for a year, then its old
    price again) costs trust quickly; winning it back takes more than twice as long (L3)."""
    for seed in SEEDS[:3]:
        model = ProcurementModel(bundled("baseline", {"periods": 40}), rng=seed, record_agents_every=0)
        while model.running:
            if 4 <= model.period <= 8:
                model.state.premium[:] = 0.35 if model.period < 8 else 0.0
            model.step()
        trust = model.recorder.timeseries()["trust_mean"].to_numpy()
        low = int(trust.argmin())
        lost = 1.0 - trust[low]
        assert lost > 0.05
        fall = low - int(np.argmax(trust < 1.0 - 0.1 * lost))
        rise = int(np.argmax((np.arange(len(trust)) > low) & (trust > 1.0 - 0.1 * lost))) - low
        assert rise > 2 * fall, (fall, rise)


@pytest.mark.parametrize("seed", SEEDS[:3])
def test_a_run_started_below_the_threshold_capability_does_not_climb_back(seed):
    above = simulate(bundled("baseline", {"suppliers.initial_capability": 0.9}), seed, record_agents_every=0)
    below = simulate(bundled("baseline", {"suppliers.initial_capability": 0.6}), seed, record_agents_every=0)
    assert above.summary["outlook"] in ("equilibrium", "growth") and above.summary["outlook_capability_index"] > 0.97
    assert below.summary["outlook"] in ("spiral", "collapse")
    assert below.timeseries["capability_index"].max() < 0.9


# --------------------------------------------------------------------------- strategies and competition


def test_a_cheaper_rival_wins_a_graded_share():
    """The share a rival wins grows with its price gap, from a few customers to most of them."""
    shares = []
    for gap in (0.02, 0.05, 0.08, 0.12):
        won = []
        for seed in SEEDS[:3]:
            scenario = bundled(
                "baseline",
                {
                    "periods": 8,
                    "suppliers": {
                        "groups": [
                            {"name": "rival", "count": 1, "strategy": "hold", "acquisition_discount": gap},
                            {"name": "incumbents", "count": 2, "strategy": "hold"},
                        ]
                    },
                },
            )
            model = run(scenario, seed)
            won.append(model.state.customers_acquired[0] / model.state.customers_initial[1:].sum())
        shares.append(np.mean(won))
    assert all(np.diff(shares) > 0) and shares[0] < 0.1 and 0.1 < shares[2] < 0.9 and shares[-1] > 0.5, shares


@pytest.mark.parametrize("strategy", ["hold", "value_trade"])
def test_holding_price_or_trading_value_beats_conceding_for_both_sides_in_the_long_run(strategy):
    for seed in SEEDS[:3]:
        conceding = summary(bundled("procurement_squeeze", {"periods": 100}), seed)["metrics"]
        other = summary(bundled("procurement_squeeze", {"periods": 100, "suppliers.strategy": strategy}), seed)
        m = other["metrics"]
        assert other["outlook"] == "equilibrium" and m["capability_index_final"] > 0.9
        for key in ("supplier_profit_total", "supplier_value_total", "customer_value_total"):
            assert m[key] > conceding[key], (key, m[key], conceding[key])


def test_value_trade_works_through_the_support_organisation():
    """Added service costs more from an eroded support capability, so a run-down supplier cannot trade value."""
    for seed in SEEDS[:3]:
        healthy = summary(bundled("gifts_not_discounts"), seed)["metrics"]
        eroded = summary(bundled("gifts_not_discounts", {"suppliers.initial_capability": 0.6}), seed)["metrics"]
        assert healthy["capability_index_final"] > 0.9 > eroded["capability_index_final"]
        assert healthy["supplier_profit_total"] > eroded["supplier_profit_total"]


@pytest.mark.parametrize(
    "lever, values", [("suppliers.margin_defense", (0.2, 0.5, 0.8)), ("suppliers.concession_rate", (0.2, 0.5, 0.9))]
)
def test_more_margin_defense_and_faster_concession_are_worse_in_the_long_run(lever, values):
    for seed in SEEDS[:3]:
        runs = [
            simulate(bundled("procurement_squeeze", {lever: v, "periods": 100}), seed, record_agents_every=0)
            for v in values
        ]
        joint = [r.summary["metrics"]["joint_value_total"] for r in runs]
        customer = [r.summary["metrics"]["customer_value_total"] for r in runs]
        capability = [r.timeseries["capability_index"].mean() for r in runs]
        for name, values_ in (("joint", joint), ("customer", customer), ("capability", capability)):
            assert values_[0] > values_[1] > values_[2], (lever, name, values_)


def test_boulware_holds_out_longer_than_conceder():
    for seed in SEEDS:
        slow = summary(bundled("procurement_squeeze", {"suppliers.strategy": "boulware"}), seed)["metrics"]
        fast = summary(bundled("procurement_squeeze", {"suppliers.strategy": "conceder"}), seed)["metrics"]
        assert slow["capability_index_final"] > fast["capability_index_final"]


def test_higher_customer_engagement_is_better():
    for seed in SEEDS:
        finals = [
            summary(bundled("procurement_squeeze", {"customers.engagement": e}), seed)["metrics"]
            for e in (0.3, 0.5, 0.8)
        ]
        assert finals[0]["joint_value_total"] < finals[1]["joint_value_total"] < finals[2]["joint_value_total"]
        assert finals[0]["capability_index_final"] < finals[2]["capability_index_final"]


def test_a_buyer_who_reads_the_financials_squeezes_harder():
    """'I've seen your financials': the heavier procurement weighs the supplier's margin, the deeper the damage."""
    for seed in SEEDS[:3]:
        finals = [
            summary(
                bundled(
                    "baseline",
                    {"customers.procurement.style": "opportunist", "customers.procurement.financials_pressure": fp},
                ),
                seed,
            )["metrics"]
            for fp in (0.0, 1.0, 5.0)
        ]
        assert finals[0]["discount_final"] + 0.01 < finals[1]["discount_final"] < finals[2]["discount_final"]
        assert finals[0]["capability_index_final"] > finals[1]["capability_index_final"] + 0.01


def test_an_aggressive_conceder_wins_share_then_spirals_and_its_customers_pay_redesign():
    for seed in SEEDS:
        model = run(bundled("bidding_war"), seed)
        rec = model.recorder
        challenger = 0  # the first group
        n = len(rec.agent_periods)
        customers = rec.suppliers["customers"][:n, challenger]
        index = np.mean([rec.suppliers[k][:n, challenger] for k in CAPABILITIES], axis=0)
        peak = int(customers.argmax())
        assert customers[peak] > 1.3 * customers[0]  # wins share first ...
        assert index[peak:].min() < index[peak] - 0.01 and index.min() < 0.92 * index[0]  # ... then it slides
        exit_period = model.supplier_agents[challenger].exit_period
        assert exit_period is not None and exit_period > peak  # ... and it goes under
        ts = rec.timeseries()
        assert ts.loc[ts["period"] == exit_period, "redesigns"].item() > 0  # its customers must redesign
        assert ts["transaction_cost"][exit_period + 1 :].sum() > 0
        incumbents = model.state.cash[1:]
        assert (incumbents > model.state.cash[challenger]).all()  # the losers of the bidding war are better off


# --------------------------------------------------------------------------- the stories


@pytest.mark.parametrize(
    "name, at_horizon, in_the_long_run",
    [
        ("baseline", {"equilibrium"}, {"equilibrium"}),
        ("procurement_squeeze", {"spiral"}, {"collapse"}),
        ("hold_the_line", {"equilibrium"}, {"equilibrium"}),
        ("gifts_not_discounts", {"equilibrium"}, {"equilibrium"}),
        ("reciprocal_partnership", {"growth"}, {"growth"}),
        ("bidding_war", {"collapse"}, {"collapse"}),
        ("parity_contagion", {"spiral"}, {"collapse"}),
        ("supplier_exit_redesign", {"collapse"}, {"collapse"}),
        ("fire_the_customer", {"drifting"}, {"spiral"}),
    ],
)
def test_every_scenario_tells_its_story_at_the_horizon_and_in_its_outlook(name, at_horizon, in_the_long_run):
    for seed in SEEDS:
        s = summary(bundled(name), seed)
        assert s["outcome"] in at_horizon and s["outlook"] in in_the_long_run, (name, seed, s["outcome"], s["outlook"])


def test_the_squeeze_first_goes_out_of_balance_against_the_supplier_who_cuts_and_stays_out_of_balance():
    """Source texts: procurement takes too much first; the supplier tries to restore its balance by cutting
    quality, R&D, support and sales. Under the honest ledger cutting is no value to the supplier (it draws
    down capability), so the balance never calls it fair again while capability falls (Model 3.0 issue)."""
    for seed in SEEDS[:3]:
        ts = series(bundled("procurement_squeeze"), seed)
        phases = imbalance_phases(ts, (0.4, 0.6), 4)
        assert phases and phases[0][2] == "supplier" and phases[0][0] < 12, phases
        after = ts[ts["period"] >= phases[0][0]]
        assert (after["investment"] < after["investment_planned"]).mean() > 0.8  # it cuts ...
        assert after["capability_index"].iloc[-1] < after["capability_index"].iloc[0] - 0.1  # ... capability falls
        assert (after["balance_smoothed"] < 0.4).all()  # ... and the exchange is never called fair again


def test_parity_spreads_a_key_accounts_discount_to_customers_who_never_asked():
    model = run(bundled("parity_contagion"), 1)
    others = model.cp.group == 1
    assert (model.state.discount[others] > 0.05).mean() > 0.8
    assert model.cp.p["savings_target"][others].max() == 0


def test_a_supplier_gives_notice_to_an_account_that_does_not_pay_for_its_upkeep():
    """Walk-away (seeds 000, 001) in a bundled story: once the supplier asks every account to pay for all of its
    upkeep, the key account that won a deep discount gets notice and its price is corrected; the discount that
    spreads stops short of the key account's, and the market that collapsed without the review does not (or
    decades later)."""
    for seed in SEEDS[:3]:
        reviewed = summary(bundled("fire_the_customer"), seed)
        kept = summary(bundled("parity_contagion"), seed)
        assert reviewed["metrics"]["accounts_noticed"] >= 1
        assert any("given notice" in e["event"] for e in reviewed["events"])
        assert reviewed["metrics"]["discount_final"] < kept["metrics"]["discount_final"] - 0.05
        assert kept["outlook"] == "collapse"
        assert reviewed["outlook"] != "collapse" or reviewed["outlook_period"] > kept["outlook_period"] + 40


# --------------------------------------------------------------------------- Model 3.0: reciprocity, upkeep, value


def _accounts_with(tmp_path, current):
    """The template account list with ACME Industries at ``current`` discount."""
    from sim.inputs.accounts import template_csv

    rows = template_csv(bundled("baseline")).splitlines()
    head, acme, rest = rows[0], rows[1].split(","), rows[2:]
    acme[3] = f"{100 * current:g}%"
    path = tmp_path / f"accounts_{100 * current:g}.csv"
    path.write_text("\n".join([head, ",".join(acme), *rest]) + "\n")
    return path


def _grant_runs(tmp_path, current, step, seeds=3):
    """Base and what-if runs of baseline with ACME at ``current`` and, in the what-if, ``current + step``."""
    from sim.engine.accounts import account_indices
    from sim.whatif.answer import whatif

    accounts = str(_accounts_with(tmp_path, current))
    base = bundled("baseline", {"accounts_file": accounts})
    grant = [{"grant": round(current + step, 4), "to": "ACME Industries", "from_period": 0}]
    variant = load_scenario("baseline", {"accounts_file": accounts}, interventions=grant)
    result = whatif(base, variant, replicates=seeds)
    return result, account_indices(variant)["ACME Industries"]


@pytest.mark.parametrize("current", [0.0, 0.02, 0.04, 0.06, 0.08])
def test_a_grant_raises_the_granted_accounts_value_at_any_current_discount(tmp_path, current):
    """Design brief section 7: a discount granted to one account raises that account's own value over the
    horizon (its price falls; the supplier's resulting cuts are spread over all its accounts). A favour
    creates obligation, not distrust (seed 004 on gifts; inequity aversion, L7)."""
    for step in (0.02, 0.05):
        result, row = _grant_runs(tmp_path, current, step)
        for base, granted in zip(result.runs["base"], result.runs["whatif"], strict=True):
            gain = granted.totals.customer_value[row] - base.totals.customer_value[row]
            assert gain > 0, (current, step, gain)


def test_a_larger_grant_never_makes_the_granted_account_likelier_to_leave(tmp_path):
    """A favoured account never becomes likelier to leave because it was favoured (design brief section 7)."""
    for current in (0.0, 0.04, 0.08):
        left = []
        for step in (0.0, 0.02, 0.05, 0.10):
            result, row = _grant_runs(tmp_path, current, step, seeds=5)
            left.append(sum(run.totals.supplier[row] != 0 for run in result.runs["whatif"]))
        assert all(b <= a for a, b in itertools.pairwise(left)), (current, left)


@pytest.mark.parametrize("name", ["procurement_squeeze", "parity_contagion", "supplier_exit_redesign", "bidding_war"])
def test_a_supplier_that_cannot_fund_its_upkeep_is_never_shown_in_the_fair_band(name):
    """The honest ledger (Model 3.0 issue): when a supplier's contribution does not fund the upkeep of its offer,
    its balance is below the fair band in every period that holds, whatever engagement it is credited with."""
    seen = 0
    for seed in SEEDS[:2]:
        model = ProcurementModel(bundled(name), rng=seed, record_agents_every=0)
        low = model.fair_band[0]
        while model.running:
            model.step()
            st = model.state
            for j in np.flatnonzero(st.active & (st.list_revenue > 0)):
                mine = st.supplier == j
                if st.contribution[mine].sum() < st.sustaining_cost[mine].sum():
                    seen += 1
                    shown = balance_index(st.supplier_value[mine].sum(), st.customer_value[mine].sum())
                    assert shown < low, (name, seed, model.period, j, shown)
    if name in ("procurement_squeeze", "parity_contagion"):
        assert seen > 20  # the squeeze stories do reach it: the claim is not vacuous


def _reinvestor(reinvest: bool, factor: float = 1.1):
    spend = {"quality": 0.08, "innovation": 0.10, "support": 0.05, "sales_coverage": 0.05}
    raised = {k: {0: v, 4: round(v * factor, 4)} for k, v in spend.items()}
    groups = [
        {"name": "reinvestor", "count": 1, **({"spend": raised} if reinvest else {})},
        {"name": "rivals", "count": 2},
    ]
    return bundled("baseline", {"periods": 60, "suppliers": {"groups": groups}})


def test_reinvestment_is_worse_before_better_where_customers_reward_capability():
    """Cheaper or better (Model 3.0 issue; L1's worse-before-better): a lone supplier that spends 10% more on
    its capabilities first earns less than it would have, then more, holding a premium for the value no
    rival sells and winning share."""
    for seed in SEEDS[:3]:
        runs = {}
        for reinvest in (False, True):
            model = run(_reinvestor(reinvest), seed)
            n = len(model.recorder.agent_periods)
            runs[reinvest] = (np.cumsum(model.recorder.suppliers["profit"][:n, 0]), model)
        difference = runs[True][0] - runs[False][0]
        trough = int(difference.argmin())
        assert difference[trough] < 0 and 4 < trough < 30  # worse first ...
        assert difference[-1] > 0  # ... then better
        reinvestor = runs[True][1]
        served = reinvestor.state.supplier == 0
        assert reinvestor.state.premium[served].mean() > 0.01  # it holds a higher price ...
        assert served.sum() > (runs[False][1].state.supplier == 0).sum()  # ... and wins share


def _long_run_threshold(window: int, seeds: list[int]) -> float:
    """The savings target at which half the runs of baseline spiral or collapse within ``window`` periods."""
    from sim.runs.runner import run_ensemble

    def share(target: float) -> float:
        scenario = bundled("baseline", {"customers.procurement.savings_target": target, "outlook_periods": window - 40})
        results = run_ensemble([scenario] * len(seeds), seeds)
        return np.mean([r.summary["outlook"] in ("spiral", "collapse") for r in results])

    low, high = 0.0, 0.2
    while high - low > 0.0025:
        middle = 0.5 * (low + high)
        low, high = (low, middle) if share(middle) >= 0.5 else (middle, high)
    return 0.5 * (low + high)


@pytest.mark.slow
def test_the_long_run_threshold_does_not_depend_on_the_window():
    """Model 3.0 issue: the long-run threshold on baseline agrees (within half a point) at 600 and 1,000 periods,
    because the margin standard stops at its floor instead of sliding for a century."""
    from sim.runs.runner import replicate_seeds

    seeds = replicate_seeds(2026, 8)
    at_600, at_1000 = _long_run_threshold(600, seeds), _long_run_threshold(1000, seeds)
    assert abs(at_600 - at_1000) <= 0.005, (at_600, at_1000)
    assert 0.04 < at_1000 < 0.12


def test_a_forced_redesign_costs_more_than_the_discount_it_chased():
    """Seed 001: the 30% of the development budget that goes on redesigns is more than the discount procurement
    asks. In supplier_exit_redesign, each customer forced to redesign pays more per period while it redesigns
    than the discount it had from the supplier that went under was worth per period."""
    for seed in SEEDS[:3]:
        model = ProcurementModel(bundled("supplier_exit_redesign"), rng=seed, record_agents_every=0)
        chased, months = np.zeros(model.n_customers), np.zeros(model.n_customers)
        redesign, redesigning = np.zeros(model.n_customers), np.zeros(model.n_customers)
        while model.running:
            st = model.state
            with_it = st.supplier == 0
            model.step()
            chased += np.where(with_it, st.discount * st.volume, 0.0)
            months += with_it
            paying = st.redesign_left > 0
            redesign += np.where(paying, st.redesign_cost, 0.0)
            redesigning += paying
        forced = redesigning > 0
        assert forced.sum() > 50
        per_period = redesign[forced] / redesigning[forced]
        assert (per_period > chased[forced] / np.maximum(months[forced], 1)).all()
