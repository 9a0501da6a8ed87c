"""What a calibration found, computed once for every output: the parameter table, the fit, the sentences.

The terminal, ``calibration.html``, ``summary.json`` and ``posterior.csv`` all print these
figures: each parameter's weighted posterior median with its 50% and 90% intervals, how
much of its prior range the 90% interval still covers (a parameter whose interval covers
PINNED or more of the range is one the data could not pin down), and how well the
calibrated model reproduces what was observed: the share of observed values inside the
simulated 10-90% band of the posterior predictive (parameter sets drawn by weight, one
fresh seed each).
"""

from __future__ import annotations

from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sim.calibration.batches import Simulator
from sim.calibration.inference import Fitted
from sim.calibration.observed import label
from sim.inputs.schema import Scenario

PINNED = 0.75  # a 90% interval covering this share of the prior's own 90% range or more: not pinned down
DRAWS = 100  # posterior predictive runs for the fit band


def weighted_quantiles(values: np.ndarray, weights: np.ndarray, qs: tuple[float, ...]) -> np.ndarray:
    """Quantiles of weighted samples (the inverse of the weighted empirical distribution, midpoint rule)."""
    order = np.argsort(values, kind="stable")
    v, w = values[order], weights[order] / weights.sum()
    cumulative = np.cumsum(w) - 0.5 * w
    return np.interp(qs, cumulative, v)


def parameter_table(fitted: Fitted) -> pd.DataFrame:
    """One row per fitted parameter: prior bounds, median, 50% and 90% intervals, prior coverage, pinned down."""
    rows = []
    values, weights = fitted.values(), fitted.weights()
    for j, fit in enumerate(fitted.calibration.fits):
        q05, q25, q50, q75, q95 = weighted_quantiles(values[:, j], weights, (0.05, 0.25, 0.5, 0.75, 0.95))
        coverage = float((q95 - q05) / (0.9 * (fit.high - fit.low)))
        rows.append(
            {
                "parameter": fit.name,
                "path": fit.path,
                "prior_low": fit.low,
                "prior_high": fit.high,
                "median": float(q50),
                "p25": float(q25),
                "p75": float(q75),
                "p05": float(q05),
                "p95": float(q95),
                "prior_coverage": coverage,
                "pinned_down": coverage < PINNED,
            }
        )
    return pd.DataFrame(rows)


def medians(fitted: Fitted) -> list[float]:
    """The posterior median of each fitted parameter, in the order of the fits."""
    return [float(v) for v in parameter_table(fitted)["median"]]


@dataclass
class Band:
    """The posterior predictive: per observed series and period of the horizon, the 10th, 50th and 90th percentile."""

    series: tuple[str, ...]
    periods: np.ndarray  # (periods,) 0 .. horizon - 1
    low: np.ndarray  # (series, periods)
    mid: np.ndarray
    high: np.ndarray


def predictive(fitted: Fitted, executor: Executor, draws: int = DRAWS) -> Band:
    """Simulate ``draws`` parameter sets drawn from the posterior by weight, one fresh seed each."""
    cal = fitted.calibration
    rng = np.random.default_rng([cal.seed, 7])
    picks = rng.choice(len(fitted.particles), size=draws, p=fitted.weights())
    seeds = np.random.SeedSequence([cal.seed, 7]).generate_state(draws, dtype=np.uint32).astype(np.int64)
    simulator = Simulator(cal, executor)
    runs = simulator.series(fitted.values()[picks], seeds.reshape(-1, 1))
    low, mid, high = np.percentile(runs, (10, 50, 90), axis=0)
    return Band(cal.observed.series, np.arange(runs.shape[2]), low, mid, high)


def fit_quality(fitted: Fitted, band: Band) -> dict[str, Any]:
    """Observed values inside the band, per series and in all."""
    observed = fitted.calibration.observed
    per_series = []
    for j, name in enumerate(observed.series):
        seen = np.isfinite(observed.values[:, j])
        values, periods = observed.values[seen, j], observed.periods[seen]
        lo, hi = band.low[j, periods], band.high[j, periods]
        tolerance = 1e-9 * np.maximum(1.0, np.abs(values))
        inside = int(((values >= lo - tolerance) & (values <= hi + tolerance)).sum())
        per_series.append({"series": name, "label": label(name), "points": int(seen.sum()), "inside": inside})
    points = sum(s["points"] for s in per_series)
    inside = sum(s["inside"] for s in per_series)
    return {"points": points, "inside": inside, "share": inside / points if points else 0.0, "series": per_series}


def calibrated(fitted: Fitted) -> Scenario:
    """The scenario at the posterior medians: ``calibrated.yaml``, which ``procsim run`` loads."""
    cal = fitted.calibration
    scenario = cal.scenario_at(medians(fitted))
    scenario.name = f"{cal.scenario.name}_calibrated"
    fitted_names = ", ".join(f"{fit.name} {fit.format(v)}" for fit, v in zip(cal.fits, medians(fitted), strict=True))
    scenario.description = f"{cal.scenario.name} calibrated to {_file(cal.observed.source)}: {fitted_names}"
    return scenario


def _file(source: str) -> str:
    return source.replace("\\", "/").rsplit("/", 1)[-1]


def sentences(fitted: Fitted, table: pd.DataFrame, quality: dict[str, Any]) -> dict[str, str]:
    """The page's and the terminal's plain words: what was fitted, how well, and what the data left open."""
    cal = fitted.calibration
    obs = cal.observed
    names = [label(s) for s in obs.series]
    if len(names) > 6:
        names = [*names[:4], f"{len(names) - 4} more series"]
    what = (
        f"Fitted {_words([f.name for f in cal.fits])} of {cal.scenario.name} to {obs.points:,} observed values of "
        f"{_words(names)} over {len(obs.periods)} periods ({obs.times[0]} to {obs.times[-1]}), "
        f"with {fitted.runs:,} runs in {len(fitted.generations)} populations of {cal.population}; "
        f"it stopped because {fitted.stopped}."
    )
    worst = min(quality["series"], key=lambda s: s["inside"] / s["points"])
    how = (
        f"The calibrated model's 10-90% band holds {quality['inside']:,} of the {quality['points']:,} observed values "
        f"({quality['share']:.0%})"
    )
    if len(quality["series"]) > 1 and worst["inside"] < worst["points"]:
        how += f"; the loosest fit is {worst['label']} ({worst['inside']} of {worst['points']} inside)"
    how += "."
    open_ = table[~table["pinned_down"]]
    if open_.empty:
        left = (
            f"The data pinned down every fitted parameter: each 90% interval covers less than {PINNED:.0%} of its "
            "prior range."
        )
    else:
        parts = [f"{row.parameter} ({row.prior_coverage:.0%})" for row in open_.itertuples()]
        left = (
            f"The data could not pin down {_words(parts)}: the posterior's 90% interval is about as wide as the "
            "prior's (share of the prior range in brackets), so answers that depend on it carry that uncertainty."
        )
    values = "; ".join(
        f"{fit.name} {fit.format(row.median)} (90% interval {fit.span(row.p05, row.p95)})"
        for fit, row in zip(cal.fits, table.itertuples(), strict=True)
    )
    return {"what": what, "values": f"Posterior medians: {values}.", "how": how, "left": left}


def _words(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
