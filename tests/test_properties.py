"""Property-based checks: any parameter set within the documented bounds gives a sane run.

Bounds come from the schema itself (the same ``Bounds`` the reference documents), so a
widened range is automatically tested.
"""

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.engine.model import ProcurementModel
from sim.engine.strategies import PROCUREMENT_STYLES, SUPPLIER_STRATEGIES
from sim.inputs.loading import build_scenario
from sim.inputs.schema import CustomerGroup, ProcurementSettings, SupplierGroup
from sim.inputs.values import Bounds

SKIP = {"share", "cash_months", "annual_revenue", "size_spread"}  # scale only: covered by fixed values


def numeric_fields(model):
    for name, info in model.model_fields.items():
        bounds = next((m for m in info.metadata if isinstance(m, Bounds)), None)
        if bounds is not None and name not in SKIP:
            yield name, bounds


def draws(model):
    return st.fixed_dictionaries(
        {}, optional={name: st.floats(b.lo, b.hi, allow_nan=False) for name, b in numeric_fields(model)}
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    supplier=draws(SupplierGroup),
    customer=draws(CustomerGroup),
    procurement=draws(ProcurementSettings),
    strategy=st.sampled_from(sorted(SUPPLIER_STRATEGIES)),
    style=st.sampled_from(sorted(PROCUREMENT_STYLES)),
    suppliers=st.integers(1, 4),
    seed=st.integers(0, 2**32 - 1),
    ratchet=st.floats(0, 1),
)
def test_any_documented_parameter_set_runs_clean(
    supplier, customer, procurement, strategy, style, suppliers, seed, ratchet
):
    raw = {
        "periods": 16,
        "market": {"contract_cycle": 2, "ratchet": ratchet},
        "suppliers": {**supplier, "strategy": strategy, "count": suppliers},
        "customers": {**customer, "count": 25, "procurement": {**procurement, "style": style}},
    }
    model = ProcurementModel(build_scenario(raw), rng=seed)
    st_ = model.state
    for _ in range(16):
        cash_before = st_.cash.copy()
        model.step()
        flows = st_.revenue - st_.cogs - st_.overhead - st_.investment.sum(axis=1) - st_.gift_cost_total
        np.testing.assert_allclose(st_.cash - cash_before, flows, rtol=1e-9, atol=1e-3)  # the ledger closes
    ts = model.recorder.timeseries()
    assert np.isfinite(ts.select_dtypes("number").to_numpy()).all()  # no NaN or infinity
    for name in ("capability", "market_success", "volume", "value", "trust", "engagement", "investment", "gift"):
        assert (getattr(st_, name) >= 0).all(), name  # no negative stocks
    assert ((st_.discount >= 0) & (st_.discount <= 0.95)).all()
    assert ((ts["balance"] >= 0) & (ts["balance"] <= 1)).all()
