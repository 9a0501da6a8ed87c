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
import math
import threading
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter
from scipy.optimize import minimize

from sim.experiments.labels import Parameter
from sim.experiments.spec import MAX_BISECTIONS, Sweep, TippingSpec
from sim.inputs.loading import build_scenario
from sim.inputs.overrides import _apply_override
from sim.reports.plots import plain

BOOTSTRAP = 400


def outcomes_of(
    base: dict[str, Any], source: str, params: dict[str, Any], seeds: list[int], regime: str = "horizon"
) -> list[str]:
    """The outcomes of one parameter setting over several seeds, run as one ensemble (each as its single run),
    at the horizon or in their outlook (module-level, so any executor can ship it)."""
    from sim.runs.runner import run_ensemble

    raw = copy.deepcopy(base)
    for path, value in params.items():
        _apply_override(raw, path, value)
    scenario = build_scenario(raw, source=source)
    results = run_ensemble([scenario] * len(seeds), seeds, outlook=regime == "outlook")
    if regime == "outlook":
        return [r.summary.get("outlook") or r.summary["outcome"] for r in results]
    return [r.summary["outcome"] for r in results]


def search_seeds(seed: int, n: int) -> list[int]:
    """The search's seeds: ``n`` spawned from the sweep's seed, the numbers ``sim.runs.runner.replicate_seeds``
    gives (a test checks), without loading the engine into the process that only waits for the workers."""
    return [int(s.generate_state(1)[0]) for s in np.random.SeedSequence(seed).spawn(n)]


def search_runs(spec: TippingSpec) -> int:
    """How many runs the bisection makes at most (for a progress bar)."""
    steps = min(MAX_BISECTIONS, max(0, math.ceil(math.log2((spec.high - spec.low) / spec.tolerance))))
    return (2 + steps) * spec.replicates


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
    sweep: Sweep,
    spec: TippingSpec,
    executor: Executor,
    log: Callable[[str], None] | None = None,
    *,
    slots: int = 1,
    progress: Callable[[int], None] | None = None,
    name: Callable[[float], str] | None = None,
    stop: threading.Event | None = None,
) -> TippingPoint:
    """Bisect ``spec.parameter`` between ``spec.low`` and ``spec.high`` on the tipped share.

    The replicates at each value run as ensembles, one per executor slot (one bisection step
    at a time: evaluating the next levels at once, in bigger ensembles, measured no faster, as an
    ensemble lasts as long as its slowest run's outlook). ``progress`` is called with the runs
    finished; ``name(value)`` writes a value for the log; ``stop`` (set by another thread) ends the
    search before its next step with ``KeyboardInterrupt``.
    """
    seeds = search_seeds(sweep.spec.seed, spec.replicates)
    tipped_outcomes = set(spec.outcomes)
    rows: list[dict[str, Any]] = []
    parts = [list(map(int, part)) for part in np.array_split(seeds, max(1, min(slots, len(seeds)))) if len(part)]
    word = name or (lambda value: f"{spec.parameter} = {value:.6g}")

    def share_at(value: float) -> float:
        if stop is not None and stop.is_set():
            raise KeyboardInterrupt
        params = {**spec.set, spec.parameter: float(value)}
        futures = [executor.submit(outcomes_of, sweep.base, sweep.source, params, part, spec.regime) for part in parts]
        outcomes = []
        for future, part in zip(futures, parts, strict=True):
            outcomes += future.result()
            if progress:
                progress(len(part))
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
            log(f"  tipping: {word(value)}: {share:.0%} of the runs tipped")
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
    """50% point of a logistic fit of tipped ~ value, and a 95% bootstrap interval over replicates.

    The likelihood depends on the runs only through how many tipped at each value, so every fit
    works on those counts, and bootstrap samples with the same counts share one fit: when the
    replicates agree at every value (a sharp flip) every sample is the same and one fit serves
    all ``BOOTSTRAP`` of them.
    """
    x = frame["value"].to_numpy(float)
    y = frame["tipped"].to_numpy(float)
    values = np.unique(x)
    groups = [np.flatnonzero(x == v) for v in values]
    runs = np.array([len(g) for g in groups], dtype=float)
    fits: dict[tuple[float, ...], float] = {}

    def fit(tipped: np.ndarray) -> float:
        key = tuple(tipped)
        if key not in fits:
            fits[key] = _fit(values, tipped, runs, limits)
        return fits[key]

    estimate = fit(np.array([y[g].sum() for g in groups]))
    boots = [fit(np.array([y[rng.choice(g, size=len(g))].sum() for g in groups])) for _ in range(BOOTSTRAP)]
    low, high = np.percentile(boots, [2.5, 97.5])
    return estimate, (float(low), float(high))


def _fit(values: np.ndarray, tipped: np.ndarray, runs: np.ndarray, limits: tuple[float, float]) -> float:
    """Maximum-likelihood midpoint of p = 1 / (1 + exp(-(x - m) / s)) given ``tipped`` of ``runs`` runs at each
    value; the scale is kept positive."""
    span = limits[1] - limits[0]
    floor = span * 1e-3
    untipped = runs - tipped

    def nll(theta: np.ndarray) -> float:
        m, log_s = theta
        z = (values - m) / (floor + np.exp(log_s))
        # log(1 + exp(-z)) and log(1 + exp(z)), computed stably
        return float(np.sum(tipped * np.logaddexp(0, -z) + untipped * np.logaddexp(0, z)))

    start = np.array([_crossing(values, tipped / runs), np.log(span / 10)])
    best = minimize(nll, start, method="Nelder-Mead", options={"xatol": floor / 10, "fatol": 1e-9, "maxiter": 2000})
    m = float(best.x[0])
    return float(np.clip(m, limits[0], limits[1]))


def _crossing(values: np.ndarray, shares: np.ndarray) -> float:
    """A starting guess: the midpoint between the highest mostly-untipped and lowest mostly-tipped value."""
    below, above = values[shares < 0.5], values[shares >= 0.5]
    if below.size and above.size:
        return float(
            0.5 * (below.max() + above.min()) if below.max() < above.min() else 0.5 * (below.min() + above.max())
        )
    return float(values.mean())


def tipping_figure(point: TippingPoint, parameter: Parameter) -> Figure:
    """Tipped share at every evaluated value, the fitted midpoint and its interval, in the parameter's unit."""
    fig = Figure(figsize=(9, 4.2), layout="constrained")
    ax = fig.subplots()
    shares = point.shares()
    ax.scatter(
        shares["value"],
        shares["tipped_share"],
        s=30 + 3 * shares["runs"],
        color="#c2410c",
        zorder=3,
        label="share tipped (bisection evaluations)",
    )
    if point.found and point.estimate is not None:
        ax.axvline(
            point.estimate, color="black", lw=1.5, label=plain(f"tipping point {parameter.format(point.estimate)}")
        )
        ax.axvspan(*point.ci, color="#9ca3af", alpha=0.35, label=plain(f"95% CI {parameter.span(*point.ci)}"))
    ax.axhline(0.5, color="#6b7280", lw=0.8, ls=":")
    ax.set_xlabel(plain(parameter.name), fontsize=13)
    ax.set_ylabel("share of runs tipped", fontsize=13)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: plain(parameter.format(v))))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{100 * v:.0f}%"))
    ax.tick_params(labelsize=11)
    ax.set_ylim(-0.05, 1.05)
    ax.legend(fontsize=10, loc="best")
    return fig
