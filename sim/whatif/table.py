"""The what-if's per-account table: both sides side by side, the change in what each account brings you.

Each row (a named account, the rest of a segment, the market total) shows both sides'
figures (means over the seeds), the change in its contribution to you with an 80% range,
how it ended up in each side and why it moved, and whether the parity spread reached it.
The granted account's change is the breakdown's "granted" part, figure for figure.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from sim.engine.accounts import YOU
from sim.inputs.schema import Scenario
from sim.reports.account_table import MONEY, REASON_COLUMNS, TOTAL, account_table, row_groups, status_text
from sim.runs.runner import RunResult
from sim.whatif.reconcile import PARITY_STEP, granted_rows

SIDE_KEYS = ("discount", *MONEY, "yours", "switched", "left", *REASON_COLUMNS)


def compare_accounts(base: Scenario, variant: Scenario, runs: dict[str, list[RunResult]]) -> pd.DataFrame:
    """Both sides' per-account tables side by side, the change (with its range), and which accounts parity reached."""
    sides = {side: account_table(sc, runs[side]) for side, sc in (("base", base), ("whatif", variant))}
    if len(sides["base"]) != len(sides["whatif"]) or list(sides["base"]["account"]) != list(sides["whatif"]["account"]):
        sides["base"] = sides["base"].set_index("account").reindex(sides["whatif"]["account"]).reset_index()
    b, w = sides["base"], sides["whatif"]
    table = w[["account", "segment", "named", "customers"]].copy()
    for key in SIDE_KEYS:
        table[f"{key}_base"] = b[key].to_numpy()
        table[f"{key}_whatif"] = w[key].to_numpy()
    table["contribution_change"] = table["contribution_whatif"] - table["contribution_base"]
    table["yours_change"] = table["yours_whatif"] - table["yours_base"]
    n_runs = len(runs["whatif"])
    same = base.n_customers == variant.n_customers
    groups = {label: idx for label, _, _, idx in row_groups(variant)}
    everyone = np.arange(variant.n_customers)
    lows, highs = [], []
    for label in table["account"]:
        idx = groups.get(label, everyone)
        if same:
            changes = [
                w_.totals.yours[idx].sum() - b_.totals.yours[idx].sum()
                for b_, w_ in zip(runs["base"], runs["whatif"], strict=True)
            ]
            lows.append(float(np.percentile(changes, 10)))
            highs.append(float(np.percentile(changes, 90)))
        else:
            lows.append(np.nan)
            highs.append(np.nan)
    table["yours_change_p10"], table["yours_change_p90"] = lows, highs
    new = [
        i for i in variant.interventions if i.model_dump_json() not in {j.model_dump_json() for j in base.interventions}
    ]
    granted = granted_rows(variant, new)
    reached = np.zeros(variant.n_customers)
    if same:
        for rb, rw in zip(runs["base"], runs["whatif"], strict=True):
            reached += ((rw.totals.discount - rb.totals.discount) >= PARITY_STEP) & (rw.totals.supplier == YOU)
    reached[granted] = 0.0
    table["granted"] = [bool(np.isin(groups.get(a, []), granted).any()) for a in table["account"]]
    table["reached"] = [
        float(reached[groups[a]].sum() / n_runs) if a in groups else float(reached.sum() / n_runs)
        for a in table["account"]
    ]
    records = table.to_dict("records")
    table["status_base"] = [status_text(r, n_runs, "_base") for r in records]
    table["status_whatif"] = [status_text(r, n_runs, "_whatif") for r in records]
    table["highlight"] = table["named"] & (table["reached"] >= 0.5)
    named = table[table["named"]].copy()
    named = named.iloc[np.argsort(-named["yours_change"].abs().to_numpy(), kind="stable")]
    rest = table[~table["named"] & (table["account"] != TOTAL)]
    return pd.concat([named, rest, table[table["account"] == TOTAL]], ignore_index=True)


def shown_columns() -> Sequence[str]:
    """The columns of accounts.csv and the workbook's Accounts sheet, in order."""
    sides = [f"{k}_{s}" for k in ("discount", *MONEY, "yours", "switched", "left") for s in ("base", "whatif")]
    return [
        "account",
        "segment",
        "named",
        "customers",
        *sides,
        "yours_change",
        "yours_change_p10",
        "yours_change_p90",
        "contribution_change",
        "granted",
        "reached",
        "status_base",
        "status_whatif",
        "highlight",
    ]
