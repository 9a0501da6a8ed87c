"""Phase diagrams: outcome shares over two swept parameters, a metric heat map, the boundary.

The boundary is where half of the runs in a cell end in a spiral or a collapse: the
line a researcher wants to see move when a third lever changes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter

from sim.experiments.labels import Parameter
from sim.experiments.spec import OUTCOME_NAMES
from sim.reports.pages import OUTCOME_COLORS
from sim.reports.plots import plain

BAD = ("spiral", "collapse")
MAX_LEVELS = 20  # more distinct values than this (sampled designs) are binned


def verdicts(runs: pd.DataFrame, regime: str) -> pd.Series:
    """Each run's outcome at the horizon, or its outlook (the horizon's verdict where a run has none)."""
    if regime == "outlook" and "outlook" in runs:
        return runs["outlook"].where(runs["outlook"].notna(), runs["outcome"])
    return runs["outcome"]


@dataclass
class PhaseDiagram:
    """Per cell of (x, y): runs, share of each outcome, share that tipped, mean of the metric."""

    x: str
    y: str
    metric: str
    table: pd.DataFrame

    def grid(self, column: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """x values, y values and the column as a (y, x) matrix for plotting."""
        wide = self.table.pivot(index=self.y, columns=self.x, values=column).sort_index().sort_index(axis=1)
        return wide.columns.to_numpy(float), wide.index.to_numpy(float), wide.to_numpy(float)


def phase_diagram(runs: pd.DataFrame, x: str, y: str, metric: str, regime: str = "horizon") -> PhaseDiagram:
    """Aggregate the runs of a sweep into a phase diagram over columns ``x`` and ``y``.

    ``regime`` ``outlook`` reads each run's outlook (where it settles past the horizon)
    instead of its verdict at the horizon.
    """
    ok = runs[runs["status"] == "ok"].copy()
    ok["outcome"] = verdicts(ok, regime)
    for column in (x, y):
        ok[column] = _levels(pd.to_numeric(ok[column], errors="raise"))
    grouped = ok.groupby([x, y])
    table = grouped.size().rename("runs").to_frame()
    for outcome in OUTCOME_NAMES:
        table[f"share_{outcome}"] = grouped["outcome"].apply(lambda s, o=outcome: float((s == o).mean()))
    table["share_tipped"] = table["share_spiral"] + table["share_collapse"]
    table[metric] = grouped[metric].mean()
    return PhaseDiagram(x, y, metric, table.reset_index())


def _levels(values: pd.Series) -> pd.Series:
    """Grid values as they are; many distinct (sampled) values as the centres of 10 bins."""
    if values.nunique() <= MAX_LEVELS:
        return values
    bins = pd.cut(values, 10)
    return bins.map(lambda interval: round(float(interval.mid), 6)).astype(float)


def dominant(diagram: PhaseDiagram) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """x values, y values and each cell's most common outcome as an index into ``OUTCOME_NAMES`` (-1: no runs)."""
    shares = [diagram.grid(f"share_{o}")[2] for o in OUTCOME_NAMES]
    xs, ys, _ = diagram.grid("share_tipped")
    stack = np.nan_to_num(np.stack(shares), nan=-1.0)
    best = stack.argmax(axis=0)  # ties go to the first in OUTCOME_NAMES (the worse outcome)
    best[stack.max(axis=0) < 0] = -1
    return xs, ys, best


def phase_figure(diagram: PhaseDiagram, x: Parameter, y: Parameter, regime: str) -> Figure:
    """One large panel: each cell coloured by its most common outcome, the 50%-tipped boundary drawn over it.

    Sized and lettered to be read on a projector: outcome names in the legend, axis ticks
    in the parameters' units (percent, money), the boundary as a thick dashed line.
    """
    xs, ys, best = dominant(diagram)
    _, _, tipped = diagram.grid("share_tipped")
    present = [i for i in range(len(OUTCOME_NAMES)) if (best == i).any()]
    colours = ListedColormap([OUTCOME_COLORS[OUTCOME_NAMES[i]] for i in present] or ["#e5e7eb"])
    index = np.full(best.shape, np.nan)
    for k, i in enumerate(present):
        index[best == i] = k
    fig = Figure(figsize=(11, 6.6), layout="constrained")
    ax = fig.subplots()
    ax.pcolormesh(_edges(xs), _edges(ys), index, cmap=colours, vmin=-0.5, vmax=max(len(present), 1) - 0.5)
    if len(xs) > 1 and len(ys) > 1 and np.nanmin(tipped) < 0.5 < np.nanmax(tipped):
        ax.contour(xs, ys, tipped, levels=[0.5], colors="white", linewidths=6)
        ax.contour(xs, ys, tipped, levels=[0.5], colors="black", linewidths=3, linestyles="--")
    handles = [Patch(color=OUTCOME_COLORS[OUTCOME_NAMES[i]], label=OUTCOME_NAMES[i]) for i in present]  # fixed words
    handles.append(Line2D([], [], color="black", lw=3, ls="--", label="half the runs spiral or collapse"))
    ax.legend(handles=handles, fontsize=15, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    ax.set_xlabel(plain(x.name), fontsize=18)
    ax.set_ylabel(plain(y.name), fontsize=18)
    grid_ticks(ax, xs, ys, x, y)
    ax.tick_params(labelsize=15)
    when = "in the long run (outlook)" if regime == "outlook" else "at the horizon"
    ax.set_title(f"Most common outcome {when}", fontsize=20, loc="left")
    return fig


def phase_panels(diagram: PhaseDiagram, x: Parameter, y: Parameter, metric: str) -> Figure:
    """The detail behind the large panel: each outcome's share per cell and the mean of ``metric``."""
    xs, ys, tipped = diagram.grid("share_tipped")
    panels = [(f"share_{o}", f"share {o}", _ramp(OUTCOME_COLORS[o]), (0, 1)) for o in OUTCOME_NAMES]
    panels.append((diagram.metric, metric, "viridis", None))
    fig = Figure(figsize=(15, 8.4))  # placed by hand: a constrained layout of six colour bars took twice as long
    fig.subplots_adjust(left=0.07, right=0.98, bottom=0.09, top=0.95, wspace=0.12, hspace=0.22)
    axes = fig.subplots(2, 3, sharex=True, sharey=True).ravel()
    for ax, (column, title, cmap, limits) in zip(axes, panels, strict=True):
        _, _, values = diagram.grid(column)
        mesh = ax.pcolormesh(
            _edges(xs),
            _edges(ys),
            values,
            cmap=cmap,
            shading="flat",
            vmin=limits[0] if limits else None,
            vmax=limits[1] if limits else None,
        )
        if len(xs) > 1 and len(ys) > 1 and np.nanmin(tipped) < 0.5 < np.nanmax(tipped):
            ax.contour(xs, ys, tipped, levels=[0.5], colors="white", linewidths=3)
            ax.contour(xs, ys, tipped, levels=[0.5], colors="black", linewidths=1.5, linestyles="--")
        ax.set_title(plain(title), fontsize=14)
        grid_ticks(ax, xs, ys, x, y, most=6)
        ax.tick_params(labelsize=11)
        colorbar = fig.colorbar(mesh, ax=ax, shrink=0.85)
        if limits:
            colorbar.formatter = FuncFormatter(lambda v, _pos: f"{100 * v:.0f}%")
            colorbar.update_ticks()
    for ax in axes[3:]:
        ax.set_xlabel(plain(x.name), fontsize=13)
    for ax in axes[::3]:
        ax.set_ylabel(plain(y.name), fontsize=13)
    return fig


def grid_ticks(ax: Any, xs: np.ndarray, ys: np.ndarray, x: Parameter, y: Parameter, most: int = 10) -> None:
    """Ticks on the grid's own values (every k-th when there are many), labelled in the parameters' units with
    the precision their range needs: no tick falls off the grid, between its cells or past its edges."""
    for axis, values, parameter in ((ax.xaxis, xs, x), (ax.yaxis, ys, y)):
        step = max(1, math.ceil(len(values) / most))
        axis.set_ticks(values[::step])
        span = float(values.max() - values.min()) if len(values) > 1 else abs(float(values[0])) or 1.0
        axis.set_major_formatter(FuncFormatter(lambda v, _pos, p=parameter, s=span: plain(p.precise(v, s))))


def _edges(centres: np.ndarray) -> np.ndarray:
    """Cell edges around sorted centres (half-way between neighbours)."""
    if len(centres) == 1:
        return np.array([centres[0] - 0.5, centres[0] + 0.5])
    mids = (centres[1:] + centres[:-1]) / 2
    return np.concatenate([[2 * centres[0] - mids[0]], mids, [2 * centres[-1] - mids[-1]]])


def _ramp(color: str) -> ListedColormap:
    """White to the outcome's colour."""
    from matplotlib.colors import to_rgb

    end = np.array(to_rgb(color))
    return ListedColormap(np.linspace([1.0, 1.0, 1.0], end, 64))
