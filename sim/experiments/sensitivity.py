"""Global sensitivity with SALib: Sobol indices (with confidence intervals) and Morris screening.

Each design point is first averaged over its seeds, so the indices describe the levers
and not the noise between replicates. Needs the sweep's own sobol or morris design,
because the indices depend on the sample's structure.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.experiments.spec import Sweep
from sim.reports.plots import plain


class SensitivityUnavailable(Exception):
    """Why indices cannot be computed for this sweep (said in the analysis, not raised to the user)."""


def point_means(runs: pd.DataFrame, metric: str, n_points: int) -> np.ndarray:
    """The metric per design point averaged over its seeds, in design order."""
    ok = runs[runs["status"] == "ok"]
    means = ok.groupby("point")[metric].mean().reindex(range(n_points))
    if means.isna().any():
        missing = int(means.isna().sum())
        raise SensitivityUnavailable(f"{metric}: {missing} design point(s) have no successful run or no value")
    return means.to_numpy(float)


def sensitivity(sweep: Sweep, runs: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Sobol S1/ST (and 95% intervals) or Morris mu*/sigma per parameter, for one metric."""
    kind = sweep.spec.design.kind
    if kind not in ("sobol", "morris"):
        raise SensitivityUnavailable("needs a sobol or morris design")
    sample = getattr(sweep.spec.design, kind)
    names = list(sample.bounds)
    problem = {"num_vars": len(names), "names": names, "bounds": [list(sample.bounds[n]) for n in names]}
    y = point_means(runs, metric, len(sweep.points))
    if np.ptp(y) == 0:
        raise SensitivityUnavailable(f"{metric} does not vary over the design")
    if kind == "sobol":
        from SALib.analyze import sobol

        res = sobol.analyze(
            problem, y, calc_second_order=sample.second_order, conf_level=0.95, seed=sample.seed, print_to_console=False
        )
        return pd.DataFrame(
            {"parameter": names, "S1": res["S1"], "S1_conf": res["S1_conf"], "ST": res["ST"], "ST_conf": res["ST_conf"]}
        ).sort_values("ST", ascending=False, ignore_index=True)
    from SALib.analyze import morris

    res = morris.analyze(
        problem,
        sweep.sample_matrix,
        y,
        conf_level=0.95,
        num_levels=sample.levels,
        seed=sample.seed,
        print_to_console=False,
    )
    return pd.DataFrame(
        {"parameter": names, "mu_star": res["mu_star"], "mu_star_conf": res["mu_star_conf"], "sigma": res["sigma"]}
    ).sort_values("mu_star", ascending=False, ignore_index=True)


def sensitivity_figure(tables: dict[str, pd.DataFrame]) -> Figure:
    """One bar chart per metric: total and first-order Sobol indices, or Morris mu*, with 95% intervals."""
    fig = Figure(figsize=(5 * len(tables), 3.8), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(tables)))
    for ax, (metric, table) in zip(axes, tables.items(), strict=True):
        pos = np.arange(len(table))
        if "ST" in table:
            ax.barh(pos + 0.2, table["ST"], 0.4, xerr=table["ST_conf"], color="#1d4ed8", label="total (ST)")
            ax.barh(pos - 0.2, table["S1"], 0.4, xerr=table["S1_conf"], color="#93c5fd", label="first order (S1)")
        else:
            ax.barh(pos, table["mu_star"], 0.6, xerr=table["mu_star_conf"], color="#1d4ed8", label="Morris mu*")
        ax.set_yticks(pos, [plain(p.rsplit(".", 1)[-1]) for p in table["parameter"]], fontsize=8)
        ax.invert_yaxis()
        ax.set_title(plain(metric.replace("_", " ")), fontsize=10)
        ax.legend(fontsize=8)
    return fig
