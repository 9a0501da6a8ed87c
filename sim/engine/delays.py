"""First-order delays, symmetric and asymmetric: how the model's stocks follow their targets.

A stock that adjusts toward a target with lag ``tau`` closes ``1 / tau`` of the gap each
period. Capabilities and trust move with two lags: one when they fall, another when they
rise (erosion is fast, rebuilding slow; trust is lost faster than it is won), which is
what makes a temporary shock leave a lasting mark.
"""

from __future__ import annotations

import numpy as np

from sim.engine.compiled import compiled_ufunc


def toward(stock: np.ndarray, target: np.ndarray, rate: np.ndarray | float) -> np.ndarray:
    """The change that moves ``stock`` a share ``rate`` (= 1 / lag) of the way to ``target``."""
    return (target - stock) * rate


@compiled_ufunc("float64(float64, float64, float64, float64)")
def toward_asymmetric(stock: float, target: float, rise_rate: float, fall_rate: float) -> float:
    """Like :func:`toward`, at ``rise_rate`` when the target is above the stock and ``fall_rate`` below it
    (a ufunc: arrays broadcast, and compiled passes call it on numbers)."""
    gap = target - stock
    return gap * (rise_rate if gap > 0 else fall_rate)
