"""Customer-side rules: the procurement demand, the balance index and trust.

These are the formulas of MODEL-SPEC sections 2-3, as functions over arrays so the
model, the tests and the docs all point at one place.
"""

from __future__ import annotations

import numpy as np

from sim.engine.compiled import compiled_ufunc

# The procurement levers procurement's demand reads, in the order of :func:`demand_level`'s arguments.
DEMAND_LEVERS = (
    "savings_target",
    "value_pressure",
    "surplus_target",
    "budget_pressure",
    "financials_pressure",
    "margin_norm",
    "parity_pressure",
    "max_discount",
)


def procurement_demand(
    params: dict[str, np.ndarray],
    *,
    perceived_value: np.ndarray,
    price: np.ndarray,
    market_success: np.ndarray,
    supplier_margin: np.ndarray,
    best_peer_discount: np.ndarray,
) -> np.ndarray:
    """Discount level procurement demands at renewal (capped at ``max_discount``): :func:`demand_level`
    with ``params`` mapping each procurement lever to its values for the renewing customers."""
    return demand_level(
        *(params[name] for name in DEMAND_LEVERS),
        perceived_value,
        price,
        market_success,
        supplier_margin,
        best_peer_discount,
    )


@compiled_ufunc("float64(" + ", ".join(["float64"] * 13) + ")")
def demand_level(
    savings_target: float,
    value_pressure: float,
    surplus_target: float,
    budget_pressure: float,
    financials_pressure: float,
    margin_norm: float,
    parity_pressure: float,
    max_discount: float,
    perceived_value: float,
    price: float,
    market_success: float,
    supplier_margin: float,
    best_peer_discount: float,
) -> float:
    """Discount level procurement demands at renewal, capped at ``max_discount`` (a ufunc: arrays or numbers).

    own    = savings_target
           + value_pressure      * max(0, 1 - (perceived value - surplus_target) / price)
           + budget_pressure     * max(0, 1 - G)
           + financials_pressure * max(0, supplier margin - margin_norm)
    demand = own + parity_pressure * max(0, best peer discount - own)

    The parity term closes ``parity_pressure`` of the gap between what the customer would
    ask on its own and the best discount its peers get from the same supplier, so at
    ``parity_pressure = 1`` a customer asks for full parity.
    """
    safe_price = max(price, 1e-9)
    own = (
        savings_target
        + value_pressure * max(0.0, 1.0 - (perceived_value - surplus_target) / safe_price)
        + budget_pressure * max(0.0, 1.0 - market_success)
        + financials_pressure * max(0.0, supplier_margin - margin_norm)
    )
    demand = own + parity_pressure * max(0.0, best_peer_discount - own)
    return min(demand, max_discount)


@compiled_ufunc("float64(float64, float64)")
def balance_index(supplier_value: float, customer_value: float) -> float:
    """Share of joint value the supplier keeps, B = V_s / (V_s + V_c) (a ufunc: arrays or numbers).

    Negative values count as zero (a side that loses keeps none of the joint value);
    when neither side gains anything the balance is undefined and reported as 0.5.
    """
    vs = max(supplier_value, 0.0)
    total = vs + max(customer_value, 0.0)
    return vs / total if total > 0 else 0.5


@compiled_ufunc("float64(float64, float64, float64, float64)")
def trust_sustained(balance: float, low: float, high: float, tolerance: float) -> float:
    """Trust the smoothed balance sustains: 1 inside the fair band [low, high], falling to 0 at ``tolerance`` outside it."""
    distance = max(0.0, low - balance, balance - high)
    return 1.0 - min(1.0, distance / tolerance)


def trust_target(balance: np.ndarray, band: tuple[float, float], tolerance: np.ndarray) -> np.ndarray:
    """:func:`trust_sustained` with the band as a (low, high) pair."""
    return trust_sustained(balance, band[0], band[1], tolerance)


@compiled_ufunc("float64(float64, float64, float64, float64)")
def fresh_cocreation(gain: float, engagement: float, coverage: float, reference: float) -> float:
    """Co-creation a new relationship starts with (a ufunc): nothing built yet, but a buyer who
    engages below the reference (price-only) takes value away from the first day:
    min(0, cocreation_gain * (engagement * K_sales - E_ref))."""
    return min(gain * (engagement * coverage - reference), 0.0)
