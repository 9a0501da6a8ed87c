"""Phase diagrams: outcome shares over two swept parameters, a metric heat map, the boundary.

The boundary is where half of the runs in a cell end in a spiral or a collapse: the
line a researcher wants to see move when a third lever changes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure

from ..plots import plain
from ..report import OUTCOME_COLORS
from .spec import OUTCOME_NAMES

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


def phase_figure(diagram: PhaseDiagram, labels: dict[str, str] | None = None) -> Figure:
    """Four outcome-share maps and the metric heat map, each with the 50%-tipped boundary."""
    labels = labels or {}
    xs, ys, tipped = diagram.grid("share_tipped")
    panels = [(f"share_{o}", f"share {o}", _ramp(OUTCOME_COLORS[o]), (0, 1)) for o in OUTCOME_NAMES]
    panels.append((diagram.metric, diagram.metric.replace("_", " "), "viridis", None))
    fig = Figure(figsize=(3 * len(panels), 3.4), layout="constrained")
    axes = fig.subplots(1, len(panels), sharey=True)
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
            ax.contour(xs, ys, tipped, levels=[0.5], colors="white", linewidths=2.5)
            ax.contour(xs, ys, tipped, levels=[0.5], colors="black", linewidths=1.0, linestyles="--")
        ax.set_title(plain(title), fontsize=10)
        ax.set_xlabel(plain(labels.get(diagram.x, diagram.x)), fontsize=9)
        fig.colorbar(mesh, ax=ax, shrink=0.85)
    axes[0].set_ylabel(plain(labels.get(diagram.y, diagram.y)), fontsize=9)
    fig.suptitle("Phase diagram (dashed: half the runs spiral or collapse)", fontsize=11)
    return fig


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
