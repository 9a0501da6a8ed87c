"""Tournament tables: each design point's mean metrics and outcome shares, ranked.

For a strategy tournament (supplier strategy x procurement style) this ranks every
pairing by joint value and by each side's total, and gives each parameter's marginal
means (e.g. a strategy averaged over all procurement styles).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.experiments.spec import OUTCOME_NAMES


def ranking(runs: pd.DataFrame, parameters: list[str], rank_by: list[str]) -> pd.DataFrame:
    """One row per design point: parameters, runs, outcome shares, mean and 95% half-width of each metric, ranks."""
    ok = runs[runs["status"] == "ok"]
    keys = ["point", "label", *parameters]
    grouped = ok.groupby(keys, dropna=False)
    table = grouped.size().rename("runs").to_frame()
    for outcome in OUTCOME_NAMES:
        table[f"share_{outcome}"] = grouped["outcome"].apply(lambda s, o=outcome: float((s == o).mean()))
    for metric in rank_by:
        table[metric] = grouped[metric].mean()
        table[f"{metric}_ci95"] = grouped[metric].apply(_half_width)
        table[f"rank_{metric}"] = table[metric].rank(ascending=False, method="min").astype(int)
    return table.reset_index().sort_values(f"rank_{rank_by[0]}", kind="stable", ignore_index=True)


def marginal_means(runs: pd.DataFrame, parameter: str, rank_by: list[str]) -> pd.DataFrame:
    """Each value of one parameter averaged over everything else, ranked by the first metric."""
    ok = runs[runs["status"] == "ok"]
    table = ok.groupby(parameter)[rank_by].mean()
    table.insert(0, "runs", ok.groupby(parameter).size())
    return table.sort_values(rank_by[0], ascending=False).reset_index()


def _half_width(values: pd.Series) -> float:
    """Half-width of a normal 95% interval of the mean (0 for a single run)."""
    n = values.count()
    return float(1.96 * values.std(ddof=1) / np.sqrt(n)) if n > 1 else 0.0
