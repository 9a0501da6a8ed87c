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

    Negative values count as zero (a side that loses keeps none of the joint value). When
    neither side gains, the side that loses more is the one out of balance (0: the supplier,
    1: the customer), so a supplier that cannot fund its upkeep is never shown as fair because
    its customer loses too; 0.5 only when both lose exactly as much (or nothing is traded).
    """
    vs = max(supplier_value, 0.0)
    total = vs + max(customer_value, 0.0)
    if total > 0:
        return vs / max(total, 1e-300)  # (never 0/0, even where the compiler evaluates both branches)
    if supplier_value < customer_value:
        return 0.0
    return 1.0 if customer_value < supplier_value else 0.5


@compiled_ufunc("float64(float64, float64, float64)")
def trust_sustained(balance: float, high: float, tolerance: float) -> float:
    """Trust the smoothed balance sustains: 1 unless the supplier keeps more than the fair band's top ``high``
    (the customer's own disadvantage), falling to 0 at ``tolerance`` above it (a ufunc).

    Directional, as inequity aversion finds (L7): a customer who keeps more than its fair share
    loses no trust; the supplier's side of that imbalance acts through the supplier's own
    decisions on the account (its service, its quote, walk-away).
    """
    return 1.0 - min(1.0, max(0.0, balance - high) / tolerance)


def trust_target(balance: np.ndarray, band: tuple[float, float], tolerance: np.ndarray) -> np.ndarray:
    """:func:`trust_sustained` with the band as a (low, high) pair."""
    return trust_sustained(balance, band[1], tolerance)


@compiled_ufunc("float64(float64, float64, float64, float64, float64)")
def engagement_sustained(level: float, trust: float, favour: float, reciprocity: float, worth: float) -> float:
    """Engagement the customer offers (a ufunc): its ``level`` at full trust, plus what it returns for a favour.

    E* = T * min(1, level + reciprocity * favour / worth): a customer given a concession it did
    not ask for returns ``reciprocity`` of the favour's worth in engagement, valued at ``worth``
    (the supplier's engagement value per unit at full engagement; L8, seed 004 on gifts).
    """
    returned = reciprocity * favour / worth if worth > 0 else 0.0
    return trust * min(1.0, level + returned)


@compiled_ufunc("float64(float64, float64)")
def service_sustained(cover: float, response: float) -> float:
    """Share of its discretionary service a supplier gives an account that funds ``cover`` of its upkeep
    (a ufunc): all of it from full cover, ``1 - response`` of it at none."""
    return 1.0 - response * min(1.0, max(0.0, 1.0 - cover))


@compiled_ufunc("float64(float64, float64, float64, float64)")
def fresh_cocreation(gain: float, engagement: float, coverage: float, reference: float) -> float:
    """Co-creation a new relationship starts with (a ufunc): nothing built yet, but a buyer who
    engages below the reference (price-only) takes value away from the first day:
    min(0, cocreation_gain * (engagement * K_sales - E_ref))."""
    return min(gain * (engagement * coverage - reference), 0.0)
