import numpy as np
import pytest

from sim.engine.customers import balance_index, procurement_demand, trust_target


def levers(n=1, **changes):
    base = {
        "savings_target": 0.0,
        "value_pressure": 0.0,
        "budget_pressure": 0.0,
        "financials_pressure": 0.0,
        "parity_pressure": 0.0,
        "surplus_target": 0.3,
        "max_discount": 0.35,
        "margin_norm": 0.05,
    }
    base.update(changes)
    return {k: np.full(n, float(v)) for k, v in base.items()}


def demand(params, perceived=1.4, price=1.0, g=1.0, margin=0.06, peer=0.0):
    one = lambda v: np.array([float(v)])  # noqa: E731
    return procurement_demand(
        params,
        perceived_value=one(perceived),
        price=one(price),
        market_success=one(g),
        supplier_margin=one(margin),
        best_peer_discount=one(peer),
    )[0]


def test_each_pressure_term_as_in_the_model_spec():
    assert demand(levers(savings_target=0.05)) == pytest.approx(0.05)
    # perceived surplus 0.1 against a target of 0.3 at price 1: shortfall 0.2
    assert demand(levers(value_pressure=0.5), perceived=1.1) == pytest.approx(0.5 * 0.2)
    assert demand(levers(budget_pressure=0.5), g=0.9) == pytest.approx(0.05)
    assert demand(levers(financials_pressure=2.0), margin=0.10) == pytest.approx(0.10)
    assert demand(levers(), perceived=2.0, g=1.2, margin=0.0) == 0.0  # nothing to complain about


def test_parity_closes_its_share_of_the_gap_to_the_best_peer():
    assert demand(levers(savings_target=0.05, parity_pressure=1.0), peer=0.20) == pytest.approx(0.20)
    assert demand(levers(savings_target=0.05, parity_pressure=0.5), peer=0.20) == pytest.approx(0.125)
    assert demand(levers(savings_target=0.05, parity_pressure=1.0), peer=0.01) == pytest.approx(0.05)


def test_demand_is_capped():
    assert demand(levers(savings_target=0.8, max_discount=0.3)) == pytest.approx(0.3)


def test_balance_index_is_the_suppliers_share_of_joint_value():
    np.testing.assert_allclose(balance_index(np.array([3.0, -1.0, 0.0]), np.array([1.0, 2.0, 0.0])), [0.75, 0.0, 0.5])


def test_trust_falls_only_with_the_customers_own_disadvantage():
    """Directional (Model 3.0): a supplier keeping more than the band's top costs the customer's trust; the
    customer keeping more than its share (the supplier's disadvantage) costs none."""
    b = np.array([0.5, 0.4, 0.3, 0.7, 0.1, 0.9])
    np.testing.assert_allclose(trust_target(b, (0.4, 0.6), np.full(6, 0.2)), [1.0, 1.0, 1.0, 0.5, 1.0, 0.0])


def test_when_neither_side_gains_the_side_that_loses_more_is_out_of_balance():
    np.testing.assert_allclose(
        balance_index(np.array([-3.0, -1.0, -2.0]), np.array([-1.0, -3.0, -2.0])), [0.0, 1.0, 0.5]
    )
