"""Tipping points: the value of one parameter at which the outcome flips, with a confidence interval.

Bisection on the share of replicates that tip (spiral or collapse by default), with the
same seeds at every value (common random numbers), until the bracket is narrower than
the tolerance (and never more than ``MAX_BISECTIONS`` steps). A logistic curve fitted to
every evaluation gives the 50% point, and a bootstrap over replicates its 95% interval,
widened to the final bracket when the outcomes are perfectly separated (then the
bootstrap alone would have no width).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from scipy.optimize import minimize

from ..plots import plain
from ..runner import replicate_seeds
from ..scenario import _apply_override, build_scenario
from .spec import MAX_BISECTIONS, Sweep, TippingSpec

BOOTSTRAP = 400


def outcome_of(base: dict[str, Any], source: str, params: dict[str, Any], seed: int, regime: str = "horizon") -> str:
    """The outcome of one run, at the horizon or in its outlook (module-level, so any executor can ship it)."""
    from ..runner import simulate

    raw = copy.deepcopy(base)
    for path, value in params.items():
        _apply_override(raw, path, value)
    summary = simulate(
        build_scenario(raw, source=source), seed, record_agents_every=0, outlook=regime == "outlook"
    ).summary
    return summary.get("outlook") or summary["outcome"] if regime == "outlook" else summary["outcome"]


@dataclass
class TippingPoint:
    """Where the outcome flips: the bisection bracket, the fitted 50% point and its interval."""

    parameter: str
    found: bool
    bracket: tuple[float, float]
    estimate: float | None
    ci: tuple[float, float] | None
    evaluations: pd.DataFrame  # one row per run: value, replicate, seed, outcome, tipped
    message: str = ""
    increasing: bool = True
    extra: dict[str, Any] = field(default_factory=dict)

    def shares(self) -> pd.DataFrame:
        """Tipped share per evaluated value."""
        return (
            self.evaluations.groupby("value")["tipped"]
            .agg(["mean", "size"])
            .rename(columns={"mean": "tipped_share", "size": "runs"})
            .reset_index()
        )


def find_tipping(
    sweep: Sweep, spec: TippingSpec, executor: Executor, log: Callable[[str], None] | None = None
) -> TippingPoint:
    """Bisect ``spec.parameter`` between ``spec.low`` and ``spec.high`` on the tipped share."""
    seeds = replicate_seeds(sweep.spec.seed, spec.replicates)
    tipped_outcomes = set(spec.outcomes)
    rows: list[dict[str, Any]] = []

    def share_at(value: float) -> float:
        params = {**spec.set, spec.parameter: float(value)}
        futures = [executor.submit(outcome_of, sweep.base, sweep.source, params, s, spec.regime) for s in seeds]
        outcomes = [f.result() for f in futures]
        for r, (seed, outcome) in enumerate(zip(seeds, outcomes, strict=True)):
            rows.append(
                {
                    "value": float(value),
                    "replicate": r,
                    "seed": seed,
                    "outcome": outcome,
                    "tipped": outcome in tipped_outcomes,
                }
            )
        share = sum(o in tipped_outcomes for o in outcomes) / len(outcomes)
        if log:
            log(f"  tipping: {spec.parameter} = {value:.6g}: {share:.0%} tipped")
        return share

    lo, hi = spec.low, spec.high
    at_lo, at_hi = share_at(lo), share_at(hi)
    increasing = at_hi >= at_lo
    if (at_lo - 0.5) * (at_hi - 0.5) > 0 or at_lo == at_hi:
        frame = pd.DataFrame(rows)
        return TippingPoint(
            spec.parameter,
            False,
            (lo, hi),
            None,
            None,
            frame,
            f"no flip between {lo:g} ({at_lo:.0%} tipped) and {hi:g} ({at_hi:.0%} tipped)",
            increasing,
        )
    for _step in range(MAX_BISECTIONS):  # the tolerance floor ends it sooner; this is the hard cap
        if hi - lo <= spec.tolerance:
            break
        mid = 0.5 * (lo + hi)
        tipped_mid = share_at(mid) >= 0.5
        if tipped_mid == increasing:
            hi = mid
        else:
            lo = mid
    frame = pd.DataFrame(rows)
    estimate, ci = logistic_midpoint(frame, (spec.low, spec.high), np.random.default_rng(sweep.spec.seed))
    # When every replicate agrees at every value the bootstrap interval has no width, yet the
    # flip is only known to lie within the final bracket: report the wider of the two.
    ci = (min(ci[0], lo), max(ci[1], hi))
    return TippingPoint(
        spec.parameter, True, (lo, hi), estimate, ci, frame, f"flips between {lo:.4g} and {hi:.4g}", increasing
    )


def logistic_midpoint(
    frame: pd.DataFrame, limits: tuple[float, float], rng: np.random.Generator
) -> tuple[float, tuple[float, float]]:
    """50% point of a logistic fit of tipped ~ value, and a 95% bootstrap interval over replicates."""
    x = frame["value"].to_numpy(float)
    y = frame["tipped"].to_numpy(float)
    estimate = _fit(x, y, limits)
    groups = [np.flatnonzero(x == v) for v in np.unique(x)]
    boots = []
    for _ in range(BOOTSTRAP):
        pick = np.concatenate([rng.choice(g, size=len(g)) for g in groups])
        boots.append(_fit(x[pick], y[pick], limits))
    low, high = np.percentile(boots, [2.5, 97.5])
    return estimate, (float(low), float(high))


def _fit(x: np.ndarray, y: np.ndarray, limits: tuple[float, float]) -> float:
    """Maximum-likelihood midpoint of p = 1 / (1 + exp(-(x - m) / s)); the scale is kept positive."""
    span = limits[1] - limits[0]
    floor = span * 1e-3

    def nll(theta: np.ndarray) -> float:
        m, log_s = theta
        z = (x - m) / (floor + np.exp(log_s))
        # log(1 + exp(-z)) and log(1 + exp(z)), computed stably
        return float(np.sum(y * np.logaddexp(0, -z) + (1 - y) * np.logaddexp(0, z)))

    start = np.array([_crossing(x, y), np.log(span / 10)])
    best = minimize(nll, start, method="Nelder-Mead", options={"xatol": floor / 10, "fatol": 1e-9, "maxiter": 2000})
    m = float(best.x[0])
    return float(np.clip(m, limits[0], limits[1]))


def _crossing(x: np.ndarray, y: np.ndarray) -> float:
    """A starting guess: the midpoint between the highest mostly-untipped and lowest mostly-tipped value."""
    values = np.unique(x)
    shares = np.array([y[x == v].mean() for v in values])
    below, above = values[shares < 0.5], values[shares >= 0.5]
    if below.size and above.size:
        return float(
            0.5 * (below.max() + above.min()) if below.max() < above.min() else 0.5 * (below.min() + above.max())
        )
    return float(values.mean())


def tipping_figure(point: TippingPoint, label: str) -> Figure:
    """Tipped share at every evaluated value, the fitted midpoint and its interval."""
    fig = Figure(figsize=(7, 3.6), layout="constrained")
    ax = fig.subplots()
    shares = point.shares()
    ax.scatter(
        shares["value"],
        shares["tipped_share"],
        s=20 + 3 * shares["runs"],
        color="#c2410c",
        zorder=3,
        label="share tipped (bisection evaluations)",
    )
    if point.found and point.estimate is not None:
        ax.axvline(point.estimate, color="black", lw=1.2, label=f"tipping point {point.estimate:.4g}")
        ax.axvspan(*point.ci, color="#9ca3af", alpha=0.35, label=f"95% CI [{point.ci[0]:.4g}, {point.ci[1]:.4g}]")
    ax.axhline(0.5, color="#6b7280", lw=0.8, ls=":")
    ax.set_xlabel(plain(label))
    ax.set_ylabel("share of replicates tipped")
    ax.set_ylim(-0.05, 1.05)
    ax.legend(fontsize=8, loc="best")
    ax.set_title(plain(f"Tipping point of {label}: {point.message}"), fontsize=10)
    return fig
