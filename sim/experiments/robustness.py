"""Robustness of each lever setting across the uncertainties (the EMA Workbench's idea, computed here).

A sweep file names its **levers** (choices: the supplier's strategy, procurement's style) and
its **uncertainties** (the market, which nobody chooses). Every combination of lever values is
a *setting*; every combination of uncertainty values a *market*. For each setting and market
the chosen metric is averaged over the seeds; then

* **regret** (Savage): how far the setting falls short of the best setting in that market,
  in the metric's unit; a setting's maximum regret over the markets is what choosing it can
  cost at worst, and the setting with the smallest maximum regret is the minimax choice;
* **satisficing**: the share of markets in which the setting meets the file's threshold (a
  metric's mean at least or at most a bound, or at most a share of runs that spiral or
  collapse).

**Feature scores** say which parameters drive the metric and the tipping: each parameter's
main-effect share of the variance over the runs (the correlation ratio eta squared: the
variance of the means by that parameter's values over the total variance). It needs no model
fit, is exact on a grid, and is what a tree-based score approximates on samples.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from sim.experiments.labels import Parameter, format_metric, metric_name
from sim.experiments.phase import BAD, verdicts
from sim.experiments.spec import TIPPED_SHARE, RobustnessSpec
from sim.reports.plots import plain

TIPPED = "_tipped"  # the runs' tipped flag, as a column


@dataclass
class Robustness:
    """Each lever setting's robustness (``table``), its regret in every market, and the feature scores."""

    spec: RobustnessSpec
    levers: list[str]  # the runs' columns of the levers
    uncertainties: list[str]  # and of the uncertainties
    table: pd.DataFrame  # setting, lever columns, markets, mean, mean_regret, max_regret, satisficing, rank
    regret: pd.DataFrame  # lever settings x markets, both named in people's words
    scores: pd.DataFrame  # parameter (column), kind (lever | uncertainty), metric score, tipped score
    missing: int  # (setting, market) pairs without a successful run
    names: dict[str, Parameter]  # each column's parameter, as people read it


def robustness(
    runs: pd.DataFrame,
    levers: list[str],
    uncertainties: list[str],
    spec: RobustnessSpec,
    names: dict[str, Parameter],
    *,
    named: bool = False,
) -> Robustness:
    """Regret and satisficing of every setting of ``levers`` (run columns) across the markets of ``uncertainties``.

    ``names`` maps each column to its parameter (to name a setting in people's words); ``named``: the
    design's what-ifs set levers, so their names (the runs' ``label``) name the settings too.
    """
    if named:
        levers = ["label", *levers]
    ok = runs[runs["status"] == "ok"].copy()
    ok[TIPPED] = verdicts(ok, spec.regime).isin(BAD).astype(float)
    keys = levers + uncertainties
    for column in keys:  # a what-if that leaves a parameter alone: "(base)", and the column as text to sort
        if ok[column].isna().any():
            ok[column] = ["(base)" if pd.isna(v) else str(v) for v in ok[column]]
    threshold = spec.threshold
    judged = TIPPED if threshold.metric == TIPPED_SHARE else threshold.metric
    means = ok.groupby(keys, sort=True).agg(value=(spec.metric, "mean"), judged=(judged, "mean"))
    value = means["value"].unstack(uncertainties)
    judged_wide = means["judged"].unstack(uncertainties)
    best = value.max(axis=0) if spec.goal == "max" else value.min(axis=0)
    regret = (best - value) if spec.goal == "max" else (value - best)
    if threshold.at_least is not None:
        satisfied = judged_wide >= threshold.at_least
    else:
        satisfied = judged_wide <= threshold.at_most
    markets = value.notna().sum(axis=1)
    table = pd.DataFrame(
        {
            "markets": markets,
            "mean": value.mean(axis=1),
            "mean_regret": regret.mean(axis=1),
            "max_regret": regret.max(axis=1),
            "satisficing": satisfied.where(value.notna()).sum(axis=1) / markets.clip(lower=1),
        }
    )
    table = table.reset_index()
    table.insert(0, "setting", [_setting_name(row, levers, names) for _, row in table.iterrows()])
    table = table.sort_values(["max_regret", "satisficing"], ascending=[True, False], kind="stable", ignore_index=True)
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    regret.columns = [
        _setting_name(dict(zip(uncertainties, k if isinstance(k, tuple) else (k,), strict=True)), uncertainties, names)
        for k in regret.columns
    ]
    regret.index = [
        _setting_name(dict(zip(levers, k if isinstance(k, tuple) else (k,), strict=True)), levers, names)
        for k in regret.index
    ]
    scores = pd.DataFrame(
        [
            {
                "parameter": column,
                "kind": "lever" if column in levers else "uncertainty",
                "metric": eta_squared(ok, column, spec.metric),
                "tipped": eta_squared(ok, column, TIPPED),
            }
            for column in keys
            if column != "label"  # the what-ifs' names: the same split as their levers' values
        ]
    ).sort_values("metric", ascending=False, ignore_index=True)
    missing = int(value.isna().sum().sum())
    return Robustness(spec, levers, uncertainties, table, regret, scores, missing, names)


def _setting_name(row: dict | pd.Series, levers: list[str], names: dict[str, Parameter]) -> str:
    parts = []
    for column in levers:
        if column == "label":
            parts.append(str(row[column]))
            continue
        parameter = names.get(column) or Parameter(column, column.replace("_", " "), "number")
        value = row[column]
        parts.append(f"{parameter.name} {value}" if value == "(base)" else parameter.with_value(value))
    return ", ".join(parts)


def eta_squared(runs: pd.DataFrame, column: str, metric: str) -> float:
    """The share of ``metric``'s variance over the runs explained by the values of ``column`` (0 to 1)."""
    frame = runs[[column, metric]].dropna(subset=[metric])
    total = float(frame[metric].var(ddof=0)) if len(frame) > 1 else 0.0
    if total <= 0:
        return 0.0
    groups = frame.groupby(column)[metric]
    between = float(((groups.mean() - frame[metric].mean()) ** 2 * groups.size()).sum() / len(frame))
    return min(max(between / total, 0.0), 1.0)


def robustness_figure(result: Robustness, currency: str, names: dict[str, Parameter], limit: int = 15) -> Figure:
    """Three panels: each setting's maximum and mean regret, its satisficing share, and the feature scores."""
    table = result.table.head(limit)
    metric = result.spec.metric
    fig = Figure(figsize=(14, 0.45 * max(len(table), len(result.scores)) + 2.4), layout="constrained")
    regret_ax, share_ax, score_ax = fig.subplots(1, 3, width_ratios=[2.0, 1.0, 1.3])
    pos = np.arange(len(table))
    regret_ax.barh(pos, table["max_regret"], 0.6, color="#b91c1c", label="maximum regret")
    regret_ax.scatter(table["mean_regret"], pos, color="black", zorder=3, s=18, label="mean regret")
    regret_ax.set_yticks(pos, [plain(s) for s in table["setting"]], fontsize=9)
    regret_ax.invert_yaxis()
    regret_ax.xaxis.set_major_locator(MaxNLocator(4))
    regret_ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _p: plain(format_metric(metric, v, currency))))
    regret_ax.set_title(plain(f"regret: {metric_name(metric)} given up"), fontsize=11, loc="left")
    regret_ax.legend(fontsize=8, loc="lower right")
    share_ax.barh(pos, table["satisficing"], 0.6, color="#15803d")
    share_ax.set_yticks(pos, [])
    share_ax.invert_yaxis()
    share_ax.set_xlim(0, 1)
    share_ax.xaxis.set_major_locator(MaxNLocator(3))
    share_ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _p: f"{100 * v:.0f}%"))
    share_ax.set_title("markets it satisfies", fontsize=11, loc="left")
    scores = result.scores
    spos = np.arange(len(scores))
    score_ax.barh(spos - 0.2, scores["metric"], 0.4, color="#1d4ed8", label=plain(metric_name(metric)))
    score_ax.barh(spos + 0.2, scores["tipped"], 0.4, color="#c2410c", label="spiral or collapse")
    labels = [
        plain(f"{(names.get(c) or Parameter(c, c, 'number')).name} ({k})")
        for c, k in zip(scores["parameter"], scores["kind"], strict=True)
    ]
    score_ax.set_yticks(spos, labels, fontsize=9)
    score_ax.invert_yaxis()
    score_ax.set_xlim(0, 1)
    score_ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _p: f"{100 * v:.0f}%"))
    score_ax.set_title("what drives it", fontsize=11, loc="left")
    score_ax.legend(fontsize=8, loc="lower right")
    return fig
