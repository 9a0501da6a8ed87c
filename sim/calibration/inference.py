"""The inference loop: pyabc's ABC-SMC over the fitted parameters, its runs batched into ensembles.

ABC-SMC (Toni et al. 2009; Beaumont et al. 2009, as pyabc implements it) draws a first
population of parameter sets from the uniform priors, keeps those whose simulated series
come closest to the observed ones (the distance in ``summaries``), and then, population
after population, perturbs the kept sets, simulates them and keeps those within a
tightening threshold (the median distance of the previous population), weighting each by
prior over proposal density. It stops when the budget of runs is spent (the population it
was filling is dropped), when fewer than MIN_ACCEPTANCE of the proposals are accepted, or
after MAX_GENERATIONS. The last complete population, with its weights, is the posterior.

All randomness is seeded: pyabc draws from numpy's global generator, which is seeded from
the calibration's seed for the run and restored afterwards; the runs' seeds come from the
same seed (``batches``). pyabc keeps its bookkeeping in an in-memory SQLite database
(no server, nothing on disk).
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Executor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.calibration.batches import Simulator
from sim.calibration.spec import Calibration
from sim.calibration.summaries import distance, observed_statistics
from sim.errors import InputError
from sim.runs.inline import InlineExecutor

MIN_ACCEPTANCE = 0.01
MAX_GENERATIONS = 30


@dataclass
class Fitted:
    """The posterior: the last population's parameter sets with their weights, and how it was reached."""

    calibration: Calibration
    particles: pd.DataFrame  # one column per fitted path, then weight and distance
    generations: list[dict[str, Any]]
    runs: int  # runs simulated or reused, the populations that were dropped included
    reused: int  # runs taken from an earlier session's files (--resume)
    stopped: str
    wall_seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    def values(self) -> np.ndarray:
        """The posterior parameter sets, (particles, parameters)."""
        return self.particles[list(self.calibration.paths)].to_numpy(dtype=float)

    def weights(self) -> np.ndarray:
        return self.particles["weight"].to_numpy(dtype=float)


@contextlib.contextmanager
def seeded(seed: int) -> Iterator[None]:
    """numpy's global generator seeded for pyabc, and restored afterwards (callers' draws are untouched)."""
    state = np.random.get_state()
    np.random.seed(seed % 2**32)
    try:
        yield
    finally:
        np.random.set_state(state)


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """pyabc's progress lines (INFO on its loggers) stay out of procsim's terminal; warnings still show."""
    loggers = [logging.getLogger(name) for name in ("ABC", "Sampler", "History", "Distance", "Epsilon", "Acceptor")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.WARNING)
    try:
        yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


def infer(
    calibration: Calibration,
    *,
    executor: Executor | None = None,
    folder: Path | None = None,
    progress: Callable[[int], None] | None = None,
) -> Fitted:
    """Run ABC-SMC for ``calibration``; ``folder`` keeps each simulated batch (and serves them on a resume)."""
    import pyabc

    from sim.calibration.sampler import BatchSampler, PrefetchedModel

    start = time.perf_counter()
    names = [f"p{i}" for i in range(len(calibration.fits))]
    priors = pyabc.Distribution(
        **{
            name: pyabc.RV("uniform", fit.low, fit.high - fit.low)
            for name, fit in zip(names, calibration.fits, strict=True)
        }
    )
    with contextlib.ExitStack() as stack:
        if executor is None:
            executor = InlineExecutor()
        simulator = Simulator(calibration, executor, folder, progress)
        model = PrefetchedModel(names)
        sampler = BatchSampler(simulator, model)
        stack.enter_context(seeded(calibration.seed))
        stack.enter_context(quiet())
        abc = pyabc.ABCSMC(
            model,
            priors,
            distance(calibration.observed),
            population_size=calibration.population,
            sampler=sampler,
            eps=pyabc.MedianEpsilon(),
        )
        abc.new("sqlite://", observed_statistics(calibration.observed))
        abc.history.stores_sum_stats = False  # every particle's statistics in SQLite cost as much as the runs
        history = abc.run(
            max_total_nr_simulations=calibration.proposals,
            min_acceptance_rate=MIN_ACCEPTANCE,
            max_nr_populations=MAX_GENERATIONS,
        )
        if history.max_t < 0:
            raise InputError(
                f"the budget of {calibration.budget:,} runs was spent before the first population of "
                f"{calibration.population} was complete; give a larger --budget",
                source="--budget",
            )
        frame, weights = history.get_distribution(m=0, t=history.max_t)
        distances = history.get_weighted_distances(t=history.max_t)
        populations = history.get_all_populations()
        _close(history)
    particles = pd.DataFrame(
        {path: frame[name].to_numpy(dtype=float) for name, path in zip(names, calibration.paths, strict=True)}
    )
    particles["weight"] = np.asarray(weights, dtype=float) / float(np.sum(weights))
    particles["distance"] = distances["distance"].to_numpy(dtype=float)
    generations = [
        {
            "population": int(row.t),
            "epsilon": float(row.epsilon),
            "evaluated": int(row.samples),
            "accepted": int(row.particles),
        }
        for row in populations.itertuples()
        if int(row.t) >= 0
    ]
    stopped = _why(calibration, simulator, sampler, len(generations))
    return Fitted(
        calibration,
        particles,
        generations,
        simulator.runs,
        simulator.reused * calibration.replicates,
        stopped,
        time.perf_counter() - start,
    )


def _why(calibration: Calibration, simulator: Simulator, sampler: Any, generations: int) -> str:
    """Why the search stopped, in words."""
    if generations >= MAX_GENERATIONS:
        return f"it reached {MAX_GENERATIONS} populations"
    if simulator.left <= 0:
        return f"the budget of {calibration.budget:,} runs was spent"
    if sampler.rounds and sampler.rounds[-1]["accepted"] < calibration.population:
        return f"fewer than {MIN_ACCEPTANCE:.0%} of the proposals came close enough to go on"
    return "the thresholds stopped improving"


def _close(history: Any) -> None:
    """Close pyabc's in-memory database here, in this thread (pyabc leaves it open; if the garbage collector
    closed it later from an executor's thread, SQLite would complain that the thread is not its own)."""
    with contextlib.suppress(Exception):
        history._session.close()
        history._engine.dispose()
