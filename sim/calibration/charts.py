"""The calibration's two figures: observed against the simulated band, and the posterior pair by pair.

Built as ``matplotlib.figure.Figure`` objects (no pyplot), as the run reports' figures are.
"""

from __future__ import annotations

import math

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, PercentFormatter

from sim.calibration.inference import Fitted
from sim.calibration.observed import kind, label
from sim.calibration.results import Band
from sim.reports.fmt import money
from sim.reports.plots import plain, x_values

BAND, LINE, POINTS = "#93c5fd", "#1d4ed8", "#b91c1c"


def fit_figure(fitted: Fitted, band: Band) -> Figure:
    """One panel per observed series: the posterior predictive's 10-90% band and median, the observed points."""
    cal = fitted.calibration
    observed, per_year = cal.observed, cal.scenario.periods_per_year
    n = len(observed.series)
    cols = min(n, 3)
    rows = math.ceil(n / cols)
    fig = Figure(figsize=(16, max(4.5, 4.2 * rows)), dpi=110, layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel()
    x = x_values(band.periods, per_year)
    for j, (ax, name) in enumerate(zip(axes, observed.series, strict=False)):
        ax.fill_between(x, band.low[j], band.high[j], color=BAND, alpha=0.6, lw=0, label="calibrated model, 10-90%")
        ax.plot(x, band.mid[j], color=LINE, lw=1.8, label="calibrated model, median")
        seen = np.isfinite(observed.values[:, j])
        ax.plot(
            x_values(observed.periods[seen], per_year),
            observed.values[seen, j],
            "o",
            color=POINTS,
            ms=5,
            label="observed",
        )
        ax.set_title(label(name), fontsize=12, loc="left")
        ax.set_xlabel("years", fontsize=10)
        ax.grid(alpha=0.3)
        _unit(ax, kind(name), cal.scenario.currency)
        if j == 0:
            ax.legend(fontsize=9, loc="best", framealpha=0.8, edgecolor="none")
    for ax in axes[n:]:
        ax.axis("off")
    fig.suptitle(
        f"{plain(cal.scenario.name, 60)}: observed against the calibrated model", fontsize=14, x=0.01, ha="left"
    )
    return fig


def _unit(ax, how: str, currency: str) -> None:
    if how == "share":
        ax.yaxis.set_major_formatter(PercentFormatter(xmax=1, decimals=None))
    elif how == "money":
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: plain(money(v, currency), 30)))


def pairs_figure(fitted: Fitted) -> Figure:
    """The posterior of every parameter (weighted histograms) and of every pair (points sized by weight)."""
    fits = fitted.calibration.fits
    values, weights = fitted.values(), fitted.weights()
    k = len(fits)
    size = min(16, 3.2 * k + 1.5)
    fig = Figure(figsize=(size, size if k > 1 else 4.5), dpi=110, layout="constrained")
    axes = fig.subplots(k, k, squeeze=False)
    for i in range(k):
        for j in range(k):
            ax = axes[i, j]
            if j > i:
                ax.axis("off")
                continue
            if i == j:
                edges = np.linspace(fits[j].low, fits[j].high, 41)
                ax.hist(values[:, j], bins=edges, weights=weights, color=LINE, alpha=0.75)
                ax.set_yticks([])
            else:
                ax.scatter(values[:, j], values[:, i], s=8 + 600 * weights, color=LINE, alpha=0.5, lw=0)
                ax.set_ylim(fits[i].low, fits[i].high)
                _axis(ax.yaxis, fits[i].percent)
                if j == 0:
                    ax.set_ylabel(fits[i].name, fontsize=10)
            ax.set_xlim(fits[j].low, fits[j].high)
            _axis(ax.xaxis, fits[j].percent)
            if i == k - 1:
                ax.set_xlabel(fits[j].name, fontsize=10)
            ax.tick_params(labelsize=8)
            ax.grid(alpha=0.3)
    fig.suptitle("Posterior: each parameter over its prior range, and each pair", fontsize=13, x=0.01, ha="left")
    return fig


def _axis(axis, percent: bool) -> None:
    if percent:
        axis.set_major_formatter(PercentFormatter(xmax=1, decimals=None))
