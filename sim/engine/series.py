"""The names of a run's recorded series and of the reasons a customer moves: what a run's tables hold.

Kept apart from the recorder (which computes them) so that what only reads a run's tables (sweep
workers' chunk files, workbooks, observed files for a calibration, the analysis) knows the names
without loading the engine's compiled passes.
"""

from __future__ import annotations

from sim.engine.capabilities import CAPABILITIES

MARKET_SERIES = (
    "discount_mean",
    "demand_mean",
    "capability_index",
    *CAPABILITIES,
    "value_mean",
    "supplier_margin",
    "supplier_cash",
    "supplier_profit",
    "contribution",
    "revenue",
    "investment",
    "investment_desired",
    "investment_planned",
    "investment_sustaining",
    "gift_cost",
    "capability_depletion",
    "engagement_value",
    "overhead_fixed",
    "service_standard",
    "margin_standard",
    "expectation_ratio",
    "customer_value",
    "supplier_value",
    "joint_value",
    "balance",
    "balance_smoothed",
    "active_suppliers",
    "customers_served",
    "engagement_mean",
    "trust_mean",
    "market_success_mean",
    "gift_value_mean",
    "switches",
    "relationships_ended",
    "transaction_cost",
    "exits",
    "redesigns",
)

COUNT_SERIES = ("active_suppliers", "customers_served", "switches", "relationships_ended", "exits", "redesigns")
# Market series in money per period and as shares (how tables and workbooks format them).
MONEY_SERIES = (
    "supplier_cash", "supplier_profit", "contribution", "revenue", "investment", "investment_desired",
    "investment_planned", "investment_sustaining", "gift_cost", "capability_depletion", "engagement_value",
    "overhead_fixed", "customer_value", "supplier_value", "joint_value", "transaction_cost",
)  # fmt: skip
SHARE_SERIES = ("discount_mean", "demand_mean", "supplier_margin", "balance", "balance_smoothed", "margin_standard")

# Why a customer moved, as recorded per move (``Recorder.move_log``): reports name the reason of each switch.
MOVE_REASONS = ("price gap", "value shortfall", "walk-away", "supplier exit")
PRICE_GAP, VALUE_SHORTFALL, WALK_AWAY, SUPPLIER_EXIT = range(len(MOVE_REASONS))
