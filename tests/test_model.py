import mesa
import numpy as np
import pandas as pd
import pytest

from sim.engine.agents import Customer, Supplier
from sim.engine.capabilities import CAPABILITIES
from sim.engine.model import ProcurementModel

from .conftest import SCENARIOS, bundled, market, run


def test_is_a_mesa_model_with_supplier_and_customer_agents(small):
    model = ProcurementModel(small, rng=3)
    assert isinstance(model, mesa.Model)
    assert len(model.agents_by_type[Supplier]) == 1 and len(model.agents_by_type[Customer]) == 60
    customer = model.customer_agents[0]
    assert customer.supplier is model.supplier_agents[0]
    assert customer.discount == 0 and customer.market_success == 1
    assert model.supplier_agents[0].capabilities == dict.fromkeys(CAPABILITIES, 1.0)
    model.step()
    assert model.steps == 1 and model.period == 1


def test_agent_views_show_the_live_arrays():
    model = ProcurementModel(bundled("procurement_squeeze", {"customers.count": 30, "periods": 12}), rng=2).run()
    st = model.state
    for agent in model.customer_agents[:5]:
        assert agent.discount == pytest.approx(st.discount[agent.index])
        assert agent.value == pytest.approx(st.value[agent.index])
    sup = model.supplier_agents[1]
    assert sup.cash == pytest.approx(st.cash[1])
    assert sum(len(s.customers) for s in model.supplier_agents) == 30


def test_runs_to_the_horizon_and_stops(small):
    model = run(small)
    assert model.period == small.periods and not model.running
    assert len(model.recorder.timeseries()) == small.periods


@pytest.mark.parametrize("name", SCENARIOS)
def test_accounting_closes_every_period(name):
    """Cash changes by exactly revenue - unit costs - overhead - investments, for every supplier."""
    model = ProcurementModel(bundled(name, {"periods": 24}), rng=5)
    st = model.state
    for _ in range(24):
        cash_before = st.cash.copy()
        model.step()
        flows = st.revenue - st.cogs - st.overhead - st.investment.sum(axis=1) - st.gift_cost_total
        np.testing.assert_allclose(st.cash - cash_before, flows, rtol=1e-12, atol=1e-6)
        # the per-relationship ledger adds up to the suppliers' books
        books = st.revenue.sum() - st.cogs.sum() - st.cost_to_serve.sum() - st.gift_cost_total.sum()
        assert st.contribution.sum() == pytest.approx(books, rel=1e-9, abs=1e-3)


@pytest.mark.parametrize("name", SCENARIOS)
def test_no_nan_no_negative_stocks(name):
    model = run(bundled(name), seed=3)
    ts = model.recorder.timeseries()
    assert np.isfinite(ts.select_dtypes("number").to_numpy()).all()
    st = model.state
    assert (st.capability >= 0).all() and (st.market_success >= 0).all()
    assert ((st.trust >= 0) & (st.trust <= 1)).all() and ((st.discount >= 0) & (st.discount < 1)).all()


def test_same_seed_same_results_different_seed_different():
    scenario = bundled("bidding_war", {"customers.count": 40})
    a, b, c = run(scenario, 9), run(scenario, 9), run(scenario, 10)
    pd.testing.assert_frame_equal(a.recorder.timeseries(), b.recorder.timeseries())
    pd.testing.assert_frame_equal(a.recorder.agents(), b.recorder.agents())
    assert not a.recorder.timeseries().equals(c.recorder.timeseries())


def test_default_seed_is_the_scenarios():
    scenario = market({"seed": 17, "periods": 5, "customers": {"count": 10}})
    assert ProcurementModel(scenario).seed == 17


def test_datacollector_api_for_mesa_tools(small):
    model = run(small)
    frame = model.datacollector.get_model_vars_dataframe()
    assert {"discount_mean", "capability_index", "joint_value"} <= set(frame.columns)
    agents = model.datacollector.get_agent_vars_dataframe()
    assert agents.index.names == ["period", "agent_id"]
    assert len(agents) == small.periods * (1 + 60)


def test_agent_recording_can_be_thinned():
    scenario = market({"periods": 20, "customers": {"count": 10}})
    model = ProcurementModel(scenario, rng=1, record_agents_every=5).run()
    assert model.recorder.agent_periods == [0, 5, 10, 15, 19]
    assert ProcurementModel(scenario, rng=1, record_agents_every=0).run().recorder.agents().empty


def test_scheduled_lever_changes_at_its_period():
    scenario = bundled(
        "procurement_squeeze",
        {"customers.count": 20, "periods": 10, "customers.procurement.savings_target": {0: 0.1, 5: 0.0}},
    )
    model = ProcurementModel(scenario, rng=1)
    for _ in range(5):
        model.step()
    assert (model.cp.p["savings_target"] == 0.1).all()
    model.step()
    assert (model.cp.p["savings_target"] == 0.0).all()


def test_exit_moves_every_customer_and_charges_redesign():
    model = run(bundled("supplier_exit_redesign"), seed=2)
    st = model.state
    exited = np.flatnonzero(~st.active)
    assert exited.size == 1
    assert not np.isin(st.supplier, exited).any()
    ts = model.recorder.timeseries()
    assert ts["redesigns"].sum() > 0 and ts["transaction_cost"].sum() > 0
    assert any("insolvent" in event for _, event in model.events)
