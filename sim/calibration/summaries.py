"""What ABC compares: the observed values against a run's series at the same periods, and the distance.

The summary statistics are the observed cells themselves: every series the file has, at
every period it has a value for (empty cells are left out), from the simulated market's
per-period series, averaged over the ``replicates`` seeds of a parameter set. The
distance is pyabc's adaptive weighted Euclidean distance (``AdaptivePNormDistance``, p=2):
before each population it rescales every statistic by its median absolute deviation over
the previous population's simulations, so a share (0.05) and a count (300) weigh alike,
and a fixed weight of 1/sqrt(n) for a series observed n times makes every series count the
same however many periods it covers. A statistic every simulation agrees on has no scale
and is left out (pyabc's rule).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from sim.calibration.observed import Observed


def key(series: str, period: int) -> str:
    """A statistic's name: ``discount_mean@12``."""
    return f"{series}@{int(period)}"


def keys(observed: Observed) -> list[str]:
    """The statistics of an observed file: each series at each period it has a value for."""
    return [
        key(name, period)
        for j, name in enumerate(observed.series)
        for i, period in enumerate(observed.periods)
        if np.isfinite(observed.values[i, j])
    ]


def observed_statistics(observed: Observed) -> dict[str, float]:
    """The observed values as pyabc's summary statistics (a mapping of names to numbers)."""
    return {
        key(name, period): float(observed.values[i, j])
        for j, name in enumerate(observed.series)
        for i, period in enumerate(observed.periods)
        if np.isfinite(observed.values[i, j])
    }


def at_observed(series: Mapping[str, np.ndarray], observed: Observed) -> np.ndarray:
    """A run's series at the observed periods, (series, periods); a value the model leaves undefined is 0."""
    matrix = np.array([np.asarray(series[name], dtype=float)[observed.periods] for name in observed.series])
    return np.nan_to_num(matrix, nan=0.0, posinf=0.0, neginf=0.0)


def statistics(matrix: np.ndarray, observed: Observed) -> dict[str, float]:
    """Simulated statistics (``at_observed``, averaged over seeds) at the cells the observed file fills."""
    return {
        key(name, period): float(matrix[j, i])
        for j, name in enumerate(observed.series)
        for i, period in enumerate(observed.periods)
        if np.isfinite(observed.values[i, j])
    }


def series_weights(observed: Observed) -> dict[str, float]:
    """1/sqrt(n) for each statistic of a series observed n times: every series weighs the same in the norm."""
    counts = np.isfinite(observed.values).sum(axis=0)
    return {
        key(name, period): float(1 / np.sqrt(counts[j]))
        for j, name in enumerate(observed.series)
        for i, period in enumerate(observed.periods)
        if np.isfinite(observed.values[i, j])
    }


FLOOR = 0.02


def floors(observed: Observed) -> dict[str, float]:
    """The smallest scale of each statistic: its series' writing step or FLOOR of its observed range."""
    out = {}
    for j, name in enumerate(observed.series):
        seen = observed.values[np.isfinite(observed.values[:, j]), j]
        step = float(observed.resolution[j]) if observed.resolution is not None else 0.0
        floor = max(step, FLOOR * float(seen.max() - seen.min()), 1e-12)
        for i, period in enumerate(observed.periods):
            if np.isfinite(observed.values[i, j]):
                out[key(name, period)] = floor
    return out


class FlooredMad:
    """pyabc's scale function: the median absolute deviation of each statistic over the simulations, at
    least its floor."""

    __name__ = "floored_mad"  # pyabc names its scale function in its logs

    def __init__(self, floor: dict[str, float]):
        self.floor = floor

    def __call__(self, *, samples: np.ndarray, s_ids: list[str], **_kwargs: Any) -> np.ndarray:
        mad = np.nanmedian(np.abs(samples - np.nanmedian(samples, axis=0)), axis=0)
        return np.maximum(mad, np.array([self.floor[name] for name in s_ids]))


def distance(observed: Observed) -> Any:
    """pyabc's adaptive p-norm distance (p = 2; scales: the floored median absolute deviation), series weighted."""
    import pyabc

    return pyabc.AdaptivePNormDistance(
        p=2,
        fixed_weights=series_weights(observed),
        scale_function=FlooredMad(floors(observed)),
    )
