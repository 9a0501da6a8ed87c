"""The model's state: numpy arrays over suppliers (S) and customers (N), owned by the model.

Customer arrays describe each customer and its one current relationship (single sourcing):
which supplier, on what terms, with how much trust. Per-period flows (volume, value,
ledger) are kept for the recorder and for inspection.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

# Customer fields the recorder copies every period; they lead the customer block so one
# slice copies them all.
RECORDED_CUSTOMER_FIELDS = (
    "discount",
    "gift",
    "demand",
    "volume",
    "value",
    "market_success",
    "trust",
    "engagement",
    "cocreation",
    "customer_value",
    "supplier_value",
    "balance_smoothed",
)


@dataclass
class MarketState:
    # ---- suppliers (S,)
    active: np.ndarray  # bool: still trading
    cash: np.ndarray
    capability: np.ndarray  # (S, 4) stocks, baseline 1.0
    overhead_fixed: np.ndarray  # money per period
    revenue_initial: np.ndarray  # list-price revenue per period at the start (sizes cash and reserve)
    negative_cash_periods: np.ndarray
    exit_period: np.ndarray  # -1 while active
    margin: np.ndarray  # operating margin last period
    margin_reported: np.ndarray  # operating margin smoothed over a year: what the published financials show
    margin_standard: np.ndarray  # operating margin the supplier currently defends (erodes toward what it achieves)
    standard: np.ndarray  # (S, 4) share of each planned budget the supplier aims to spend (its service standard)
    expectation_ratio: np.ndarray  # value its customers expect, relative to baseline (volume-weighted)
    received_ratio: np.ndarray  # value its customers receive, relative to baseline (volume-weighted)
    revenue: np.ndarray
    list_revenue: np.ndarray
    cogs: np.ndarray
    overhead: np.ndarray  # fixed overhead plus cost to serve
    shortfall_seen: np.ndarray  # margin shortfall of the trailing year (what budget rounds react to)
    cut: np.ndarray  # total budget cut in force (money per period), revised toward what margin defense asks
    investment: np.ndarray  # (S, 4) budgets actually spent
    desired_investment: np.ndarray  # (S, 4)
    sustaining_investment: (
        np.ndarray
    )  # (S, 4) upkeep: what keeps the offer's capabilities (at least 1.0) where they are
    gift_cost_total: np.ndarray
    profit: np.ndarray
    customers_initial: np.ndarray  # customers served at the start (for retention)
    customers_acquired: np.ndarray  # customers won from rivals during the run
    # ---- customers (N,)
    base_demand: np.ndarray  # list-price spend per period at G = 1
    supplier: np.ndarray  # int, -1 = no supplier (left the market)
    offset: np.ndarray  # renewal phase within the contract cycle
    discount: np.ndarray
    gift: np.ndarray  # added service value per unit (money)
    market_success: np.ndarray  # G
    perceived_value: np.ndarray  # value per unit procurement perceives (lags the delivered value)
    trust: np.ndarray
    engagement: np.ndarray
    expectation: np.ndarray  # value per unit the buyer expects (erodes toward what it receives)
    cocreation: np.ndarray  # X: multiplier - 1 on innovation and support value
    balance_smoothed: np.ndarray
    favour: np.ndarray  # concession level given beyond what procurement asked (a grant), share of list price
    service: np.ndarray  # share of the supplier's discretionary service (support, sales) the account receives
    premium: np.ndarray  # price above list the supplier asks for better value than rivals offer, per unit
    cover: np.ndarray  # the account's contribution (favours added back) over its share of the upkeep
    uncovered_periods: np.ndarray  # periods in a row the account has not funded its share of the upkeep
    notice_period: np.ndarray  # period the supplier gave notice to the account, -1 if none
    redesign_left: np.ndarray  # periods of redesign still to pay
    redesign_cost: np.ndarray  # per period while redesigning
    pending_cost: np.ndarray  # one-off switching costs charged next period
    relationship_start: np.ndarray
    demand: np.ndarray  # last procurement demand (level)
    # per-period flows
    volume: np.ndarray
    price: np.ndarray
    value: np.ndarray  # u: value per unit delivered
    value_capability: np.ndarray  # its parts, per unit: what the supplier's capabilities deliver to the segment,
    value_withheld: np.ndarray  # ... less the discretionary service the supplier withholds from this account,
    value_cocreated: np.ndarray  # ... plus what co-creation adds (or takes away); the gift is the rest
    paid: np.ndarray  # what the customer paid this period (price x volume, at the price of the period)
    customer_value: np.ndarray  # V_c
    supplier_value: np.ndarray  # V_s
    contribution: np.ndarray
    sustaining_cost: np.ndarray  # the account's share of the investment that sustains what it receives
    cost_to_serve: np.ndarray
    gift_cost: np.ndarray
    transaction_cost: np.ndarray  # switching and redesign costs borne this period

    @classmethod
    def empty(cls, n_suppliers: int, n_customers: int) -> MarketState:
        """Zeroed arrays of the right shapes; the model fills in initial values.

        The customers' float arrays are rows of one (fields, N) block, so the recorder can
        take every volume-weighted mean with one matrix-vector product and copy all
        per-customer series of a period in one slice.
        """
        s, n = n_suppliers, n_customers
        shapes: dict[str, tuple[int, ...] | tuple[tuple[int, ...], type]] = {
            "active": ((s,), bool),
            "capability": (s, 4),
            "standard": (s, 4),
            "sustaining_investment": (s, 4),
            "investment": (s, 4),
            "desired_investment": (s, 4),
            "negative_cash_periods": ((s,), np.int64),
            "exit_period": ((s,), np.int64),
            "customers_initial": ((s,), np.int64),
            "customers_acquired": ((s,), np.int64),
            "supplier": ((n,), np.int64),
            "offset": ((n,), np.int64),
            "uncovered_periods": ((n,), np.int64),
            "notice_period": ((n,), np.int64),
            "redesign_left": ((n,), np.int64),
            "relationship_start": ((n,), np.int64),
        }
        names = [f.name for f in fields(cls)]
        supplier_fields = set(names[: names.index("base_demand")])
        block_fields = [f for f in names if f not in supplier_fields and f not in shapes]
        block_fields.sort(
            key=lambda f: (
                RECORDED_CUSTOMER_FIELDS.index(f) if f in RECORDED_CUSTOMER_FIELDS else len(RECORDED_CUSTOMER_FIELDS)
            )
        )
        block = np.zeros((len(block_fields), n))
        values = {name: block[i] for i, name in enumerate(block_fields)}
        for name in names:
            spec = shapes.get(name)
            if name in values:
                continue
            if spec is None:
                values[name] = np.zeros(s)
            elif isinstance(spec[1], type):
                values[name] = np.zeros(spec[0], dtype=spec[1])
            else:
                values[name] = np.zeros(spec)
        state = cls(**values)
        state.customer_block = block
        state.customer_rows = {name: i for i, name in enumerate(block_fields)}
        return state
