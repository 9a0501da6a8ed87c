"""The per-account table: each named account, the rest of each segment, and the market total.

Money columns are totals over the horizon (means over replicates); the rows add up to
the market totals of the time series, which a test checks.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim.engine.accounts import YOU, account_indices

if TYPE_CHECKING:
    from sim.inputs.schema import Scenario
    from sim.runs.runner import RunResult

MONEY = ("volume", "contribution", "customer_value", "supplier_value")
TOTAL = "market total"


def row_groups(scenario: Scenario) -> list[tuple[str, str, bool, np.ndarray]]:
    """(row label, segment, named?, customer indices) for every row of the table but the total."""
    index = account_indices(scenario)
    named = set(index.values())
    rows = [(a.name, a.segment, True, np.array([index[a.name]])) for a in scenario.accounts]
    start = 0
    for group in scenario.customers:
        members = np.array([i for i in range(start, start + group.count) if i not in named], dtype=np.int64)
        if members.size:
            label = f"other customers: {group.name}" if scenario.accounts else f"customers: {group.name}"
            rows.append((label, group.name, False, members))
        start += group.count
    return rows


def account_table(scenario: Scenario, runs: Sequence[RunResult]) -> pd.DataFrame:
    """One side's table (means over ``runs``): discount at the end, totals, and how often accounts moved."""
    records = []
    groups = row_groups(scenario)
    for label, segment, named, idx in [*groups, (TOTAL, "", False, np.arange(scenario.n_customers))]:
        per_run = []
        for run in runs:
            t = run.totals
            status = t.status(YOU)
            weights = t.volume[idx]
            served = t.supplier[idx] >= 0
            discount = (
                float(np.average(t.discount[idx], weights=weights))
                if weights.sum() > 0
                else float(t.discount[idx][served].mean())
                if served.any()
                else 0.0
            )
            per_run.append(
                {
                    "discount": discount,
                    **{k: float(getattr(t, k)[idx].sum()) for k in MONEY},
                    "switched": float((status[idx] == "switched").sum()),
                    "left": float((status[idx] == "left").sum()),
                }
            )
        frame = pd.DataFrame(per_run)
        records.append(
            {
                "account": label,
                "segment": segment,
                "named": named,
                "customers": int(idx.size),
                **frame.mean().to_dict(),
            }
        )
    return pd.DataFrame(records)


def status_text(switched: float, left: float, customers: int, runs: int) -> str:
    """'stayed', 'switched in 3 of 20 runs', or for a segment row '2.1 of 95 switched, 0.5 left' (means)."""
    if customers == 1:
        parts = []
        if switched:
            parts.append(f"switched in {switched * runs:.0f} of {runs} runs" if runs > 1 else "switched")
        if left:
            parts.append(f"left in {left * runs:.0f} of {runs} runs" if runs > 1 else "left the market")
        return "; ".join(parts) or "stayed"
    if not switched and not left:
        return "all stayed"
    fmt = (lambda v: f"{v:.1f}") if runs > 1 else (lambda v: f"{v:.0f}")
    return f"{fmt(switched)} of {customers} switched, {fmt(left)} left"
