"""Customer-side rules: the procurement demand, the balance index and trust.

These are the formulas of MODEL-SPEC sections 2-3, as functions over arrays so the
model, the tests and the docs all point at one place.
"""

from __future__ import annotations

import numpy as np


def procurement_demand(
    params: dict[str, np.ndarray],
    *,
    perceived_value: np.ndarray,
    price: np.ndarray,
    market_success: np.ndarray,
    supplier_margin: np.ndarray,
    best_peer_discount: np.ndarray,
) -> np.ndarray:
    """Discount level procurement demands at renewal (capped at ``max_discount``).

    ``params`` maps each procurement lever to its values for the renewing customers.

    own    = savings_target
           + value_pressure      * max(0, 1 - (perceived value - surplus_target) / price)
           + budget_pressure     * max(0, 1 - G)
           + financials_pressure * max(0, supplier margin - margin_norm)
    demand = own + parity_pressure * max(0, best peer discount - own)

    The parity term closes ``parity_pressure`` of the gap between what the customer would
    ask on its own and the best discount its peers get from the same supplier, so at
    ``parity_pressure = 1`` a customer asks for full parity.
    """
    p = params
    safe_price = np.maximum(price, 1e-9)
    own = (
        p["savings_target"]
        + p["value_pressure"] * np.maximum(0.0, 1.0 - (perceived_value - p["surplus_target"]) / safe_price)
        + p["budget_pressure"] * np.maximum(0.0, 1.0 - market_success)
        + p["financials_pressure"] * np.maximum(0.0, supplier_margin - p["margin_norm"])
    )
    demand = own + p["parity_pressure"] * np.maximum(0.0, best_peer_discount - own)
    return np.minimum(demand, p["max_discount"])


def balance_index(supplier_value: np.ndarray, customer_value: np.ndarray) -> np.ndarray:
    """Share of joint value the supplier keeps, B = V_s / (V_s + V_c).

    Negative values count as zero (a side that loses keeps none of the joint value);
    when neither side gains anything the balance is undefined and reported as 0.5.
    """
    vs = np.maximum(supplier_value, 0.0)
    total = vs + np.maximum(customer_value, 0.0)
    out = np.full_like(total, 0.5)
    np.divide(vs, total, out=out, where=total > 0)
    return out


def trust_target(balance: np.ndarray, band: tuple[float, float], tolerance: np.ndarray) -> np.ndarray:
    """Trust the smoothed balance sustains: 1 inside the fair band, falling to 0 at ``tolerance`` outside it."""
    distance = np.maximum(0.0, np.maximum(band[0] - balance, balance - band[1]))
    return 1.0 - np.minimum(1.0, distance / tolerance)
