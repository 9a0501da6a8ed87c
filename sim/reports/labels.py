"""People's names for every figure procsim writes: one table for the terminal, HTML, XLSX and the analysis page.

Each metric of a run's summary, each column of the market series and of the per-account
table has one label and one kind (how it is formatted: money, a share as percent, an
index, a count, a period, a rate already in percent). Every output looks them up here,
so the same figure carries the same name everywhere and no raw key (``discount_max``)
reaches a reader.
"""

from __future__ import annotations

from sim.engine.capabilities import CAPABILITIES

# Metrics of a run (summary.json "metrics"): label and kind. The key figures come first, in report order.
METRICS: dict[str, tuple[str, str]] = {
    "capability_index_final": ("Capability index at the end", "index"),
    "capability_index_min": ("Lowest capability index", "index"),
    "discount_final": ("Average discount at the end", "pct"),
    "supplier_margin_final": ("Supplier operating margin at the end", "pct"),
    "supplier_profit_total": ("Supplier profit (cash) over the horizon", "money"),
    "supplier_value_total": ("Value the suppliers kept (after sustaining investment)", "money"),
    "capability_depletion_total": ("Capability capital drawn down by the suppliers", "money"),
    "customer_value_total": ("Customer value over the horizon", "money"),
    "joint_value_total": ("Joint value over the horizon", "money"),
    "balance_final": ("Balance index at the end (supplier share)", "pct"),
    "retention_rate": ("Customer retention rate CRR (market)", "rate"),
    "lifetime_value": ("Customer lifetime value LTV (per customer)", "money"),
    "redesign_and_switching_cost_total": ("Customers' switching and redesign costs", "money"),
    "accounts_noticed": ("Accounts given notice by their supplier (walk-away)", "count"),
    "accounts_dropped": ("Accounts dropped by their supplier", "count"),
    "time_to_collapse": ("Collapse", "period"),
    "spiral_onset": ("The imbalance began", "period"),
    # the rest of summary.json's metrics
    "discount_max": ("Highest average discount", "pct"),
    "supplier_cash_final": ("Supplier cash at the end", "money"),
    "joint_value_change": ("Change of joint value (last year against the first)", "pct"),
    "engagement_value_total": ("Engagement value to the suppliers over the horizon", "money"),
    "overhead_fixed_total": ("Suppliers' fixed overhead over the horizon", "money"),
    "investment_total": ("Suppliers' investment over the horizon", "money"),
    "investment_sustaining_total": ("Investment that would sustain the capabilities", "money"),
    "customers_final": ("Customers served at the end", "count"),
    "switches_total": ("Switches of supplier", "count"),
    "relationships_ended": ("Relationships ended", "count"),
    "suppliers_exited": ("Suppliers that went under", "count"),
    "break_even_volume_increase": ("Extra volume that pays for the discount (break-even)", "pct"),
    "imbalance_against": ("The imbalance went against", "text"),
    "retention_by_supplier": ("Retention rate by supplier", "text"),
    "outlook_period": ("Collapse (outlook past the horizon)", "period"),
}
KEY_FIGURES = tuple(list(METRICS)[:17])  # what the reports' key-figure tables show

_CAPABILITY_NAMES = {
    "quality": "Quality",
    "innovation": "Innovation (R&D)",
    "support": "Support",
    "sales_coverage": "Sales coverage",
}

# Market series (the time series' columns): label and kind.
SERIES: dict[str, tuple[str, str]] = {
    "period": ("Period", "int"),
    "year": ("Year (end of period)", "years"),
    "seed": ("Seed", "int"),
    "discount_mean": ("Average discount", "pct"),
    "demand_mean": ("Procurement's average demand", "pct"),
    "capability_index": ("Capability index", "index"),
    **{c: (f"Capability: {_CAPABILITY_NAMES.get(c, c)}", "index") for c in CAPABILITIES},
    "value_mean": ("Average delivered value", "index"),
    "supplier_margin": ("Supplier operating margin", "pct"),
    "supplier_cash": ("Supplier cash", "money"),
    "supplier_profit": ("Supplier profit", "money"),
    "contribution": ("Profit contribution", "money"),
    "revenue": ("Revenue", "money"),
    "investment": ("Investment", "money"),
    "investment_desired": ("Investment wanted", "money"),
    "investment_planned": ("Investment planned", "money"),
    "investment_sustaining": ("Investment that sustains the capabilities", "money"),
    "gift_cost": ("Cost of added service", "money"),
    "capability_depletion": ("Capability capital drawn down", "money"),
    "engagement_value": ("Engagement value", "money"),
    "overhead_fixed": ("Fixed overhead", "money"),
    "service_standard": ("Service standard", "index"),
    "margin_standard": ("Margin standard", "pct"),
    "expectation_ratio": ("Customers' expectations (1 = full capability)", "index"),
    "customer_value": ("Value to the customers", "money"),
    "supplier_value": ("Value to the suppliers", "money"),
    "joint_value": ("Joint value", "money"),
    "balance": ("Balance (supplier's share of joint value)", "pct"),
    "balance_smoothed": ("Balance, smoothed", "pct"),
    "active_suppliers": ("Active suppliers", "int"),
    "customers_served": ("Customers served", "int"),
    "engagement_mean": ("Customers' engagement", "index"),
    "trust_mean": ("Customers' trust", "index"),
    "market_success_mean": ("Customers' market success", "index"),
    "gift_value_mean": ("Value of added service", "index"),
    "switches": ("Switches", "int"),
    "relationships_ended": ("Relationships ended", "int"),
    "transaction_cost": ("Switching and redesign costs", "money"),
    "exits": ("Supplier exits", "int"),
    "redesigns": ("Forced redesigns", "int"),
}

# Columns of the per-account table (one side; a what-if adds ``_base`` and ``_whatif``).
ACCOUNT_COLUMNS: dict[str, tuple[str, str]] = {
    "account": ("Account", "text"),
    "segment": ("Segment", "text"),
    "named": ("Named account", "text"),
    "customers": ("Customers", "int"),
    "discount": ("Your discount at the end (while yours)", "pct"),
    "volume": ("Volume (list-price spend)", "money"),
    "contribution": ("Profit contribution", "money"),
    "contribution_p10": ("Profit contribution, 10th percentile", "money"),
    "contribution_p90": ("Profit contribution, 90th percentile", "money"),
    "customer_value": ("Value to the customer", "money"),
    "supplier_value": ("Value to the supplier", "money"),
    "yours": ("Your profit from it (after its share of your costs)", "money"),
    "yours_p10": ("Your profit from it, 10th percentile", "money"),
    "yours_p90": ("Your profit from it, 90th percentile", "money"),
    "switched": ("Switched (runs or customers)", "number"),
    "left": ("Left the market (runs or customers)", "number"),
    "moves_price_gap": ("Moves for a price gap", "number"),
    "moves_value_shortfall": ("Moves for a value shortfall", "number"),
    "moves_walk_away": ("Moves after walk-away", "number"),
    "moves_supplier_exit": ("Moves after a supplier exit", "number"),
    "status": ("How it ended, and why it moved", "text"),
    # what-ifs
    "yours_change": ("Your profit from it: change", "money"),
    "yours_change_p10": ("Your profit from it: change, 10th percentile", "money"),
    "yours_change_p90": ("Your profit from it: change, 90th percentile", "money"),
    "contribution_change": ("Profit contribution: change", "money"),
    "granted": ("Granted", "text"),
    "reached": ("Parity reached (share of runs, or customers)", "number"),
    "highlight": ("Reached in most runs", "text"),
}
SIDE_WORDS = {"base": "base", "whatif": "what-if"}

# How reports.workbook formats each kind in a cell (see workbook.number_format).
CELL_KIND = {
    "index": "index",
    "pct": "pct",
    "money": "money",
    "rate": "rate",
    "period": "number",
    "count": "int",
    "int": "int",
    "number": "number",
    "years": "years",
    "text": "text",
}


def metric_label(key: str) -> str:
    """A metric's label (its key with spaces if it has none)."""
    return METRICS.get(key, (key.replace("_", " ").capitalize(), ""))[0]


def metric_kind(key: str) -> str:
    return METRICS.get(key, ("", "number"))[1]


def series_label(column: str) -> str:
    """A series column's label; ``column__x`` (a replicate statistic) keeps its suffix."""
    base, _, rest = column.partition("__")
    label = SERIES.get(base, (base.replace("_", " ").capitalize(), ""))[0]
    return f"{label} ({rest})" if rest else label


def series_kind(column: str) -> str:
    return SERIES.get(column.partition("__")[0], ("", "index"))[1]


def account_label(column: str) -> str:
    """A per-account column's label, with ``(base)`` or ``(what-if)`` for a side's column."""
    for side, words in SIDE_WORDS.items():
        if column.endswith(f"_{side}") and column.removesuffix(f"_{side}") in ACCOUNT_COLUMNS:
            return f"{ACCOUNT_COLUMNS[column.removesuffix(f'_{side}')][0]} ({words})"
    return ACCOUNT_COLUMNS.get(column, (column.replace("_", " ").capitalize(), ""))[0]


def account_kind(column: str) -> str:
    for side in SIDE_WORDS:
        if column.endswith(f"_{side}") and column.removesuffix(f"_{side}") in ACCOUNT_COLUMNS:
            return ACCOUNT_COLUMNS[column.removesuffix(f"_{side}")][1]
    return ACCOUNT_COLUMNS.get(column, ("", "number"))[1]
