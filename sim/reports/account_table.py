"""The per-account table: each named account, the rest of each segment, and the market total.

Money columns are totals over the horizon (means over replicates, with the 10th and 90th
percentile beside the profit figures when there are several); the rows add up to the
market totals of the time series, which a test checks. ``yours`` is the contribution to
you (the first supplier) while the customer bought from you. Every move is counted by its
reason (price gap, value shortfall, walk-away, supplier exit), so a switch never goes
unexplained.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim.engine.accounts import YOU, account_indices
from sim.engine.series import MOVE_REASONS

if TYPE_CHECKING:
    from sim.inputs.schema import Scenario
    from sim.runs.runner import RunResult

MONEY = ("volume", "contribution", "customer_value", "supplier_value")
RANGED = ("contribution", "yours")  # money columns that carry an 80% range over replicates
TOTAL = "market total"
REASON_COLUMNS = tuple(f"moves_{r.replace(' ', '_').replace('-', '_')}" for r in MOVE_REASONS)


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


def all_rows(scenario: Scenario) -> list[tuple[str, str, bool, np.ndarray]]:
    """The table's rows with the market total last."""
    return [*row_groups(scenario), (TOTAL, "", False, np.arange(scenario.n_customers))]


def row_figures(run: RunResult, idx: np.ndarray) -> dict[str, float]:
    """One run's figures of one row: discount at the end, money totals, moves by reason, switched and left."""
    t = run.totals
    status = t.status(YOU)
    yours = idx[t.supplier[idx] == YOU]  # your discount: of the customers still yours at the end
    weights = t.volume[yours]
    discount = (
        float(np.average(t.discount[yours], weights=weights))
        if weights.sum() > 0
        else float(t.discount[yours].mean())
        if yours.size
        else np.nan
    )
    moves = t.reasons[idx].sum(axis=0) if t.reasons.size else np.zeros(len(MOVE_REASONS))
    return {
        "discount": discount,
        **{k: float(getattr(t, k)[idx].sum()) for k in MONEY},
        "yours": float(t.yours[idx].sum()) if t.yours.size else 0.0,
        "switched": float((status[idx] == "switched").sum()),
        "left": float((status[idx] == "left").sum()),
        **{column: float(n) for column, n in zip(REASON_COLUMNS, moves, strict=True)},
    }


def account_table(scenario: Scenario, runs: Sequence[RunResult]) -> pd.DataFrame:
    """One side's table (means over ``runs``): discount at the end, totals, moves by reason, switched or lost."""
    records = []
    for label, segment, named, idx in all_rows(scenario):
        frame = pd.DataFrame([row_figures(run, idx) for run in runs])
        record = {"account": label, "segment": segment, "named": named, "customers": int(idx.size)}
        record.update(frame.mean().to_dict())  # skips runs where a row had no discount of yours (nan)
        if len(runs) > 1:
            for key in RANGED:
                record[f"{key}_p10"] = float(np.percentile(frame[key], 10))
                record[f"{key}_p90"] = float(np.percentile(frame[key], 90))
        records.append(record)
    table = pd.DataFrame(records)
    table["status"] = [status_text(r, len(runs)) for r in table.to_dict("records")]
    return table


def reasons_of(row: Mapping[str, float], suffix: str = "") -> dict[str, float]:
    """A row's moves by reason (means over runs), the reasons people read as keys."""
    return {
        reason: float(row.get(column + suffix, 0.0))
        for reason, column in zip(MOVE_REASONS, REASON_COLUMNS, strict=True)
    }


def status_text(row: Mapping[str, float], runs: int, suffix: str = "") -> str:
    """How the row's customers ended up, and why they moved.

    A named account: ``stayed``, or ``switched in 3 of 20 runs (price gap 2, walk-away 1)``
    with the number of moves of each reason over the runs; a segment row: ``2.1 of 95 switched,
    0.5 left (moves a run: price gap 1.2, value shortfall 1.4)`` (means).
    """
    switched, left = float(row["switched" + suffix]), float(row["left" + suffix])
    customers = int(row["customers"])
    reasons = {k: v for k, v in reasons_of(row, suffix).items() if v > 0}
    if customers == 1:
        parts = []
        if switched:
            parts.append(f"switched in {switched * runs:.0f} of {runs} runs" if runs > 1 else "switched")
        if left:
            parts.append(f"left in {left * runs:.0f} of {runs} runs" if runs > 1 else "left the market")
        text = "; ".join(parts) or "stayed"
        if reasons:
            why = ", ".join(f"{k} {v * runs:.0f}" for k, v in reasons.items())
            text += f" ({why})" if parts else f" (moved and came back: {why})"
        return text
    fmt = (lambda v: f"{v:.1f}") if runs > 1 else (lambda v: f"{v:.0f}")
    text = "all stayed" if not switched and not left else f"{fmt(switched)} of {customers} switched, {fmt(left)} left"
    if reasons:
        per = "moves a run" if runs > 1 else "moves"
        text += f" ({per}: " + ", ".join(f"{k} {fmt(v)}" for k, v in reasons.items()) + ")"
    return text
