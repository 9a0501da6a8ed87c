"""The outlook: what a run settles into after the horizon (MODEL-SPEC section 6).

A verdict read at the horizon can mislead: a market still sliding slowly looks like an
equilibrium at period 40 and goes under at period 120. The outlook keeps stepping the
same model (no series are written) until the run settles, collapses or reaches a limit,
and names the regime it ends in. It is settled when, over the last two contract cycles,
the capability index and the average discount have stopped moving and no trading
supplier is losing cash (a supplier that burns cash has not settled: it is on its way to
insolvency).
"""

from __future__ import annotations

import copy
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .outcomes import GROWTH, SPIRAL_LEVEL, WINDOW
from .recorder import capability_index

if TYPE_CHECKING:
    from .model import ProcurementModel

STILL = 0.005  # relative change of the index (and absolute change of the discount) counted as no change
DEFAULT_LIMIT = 200


@dataclass(frozen=True)
class Outlook:
    """The regime a run ends in beyond the horizon."""

    outcome: str  # collapse | spiral | equilibrium | growth | drifting
    period: int | None  # first period of a collapse (insolvency or an ended relationship), if any
    settled: int | None  # period at which the run settled (None: it did not within the limit)
    last_period: int  # last period simulated
    capability_index: float  # at the last period simulated
    detail: str

    def as_summary(self) -> dict:
        """The fields ``summary.json`` carries."""
        return {
            "outlook": self.outcome,
            "outlook_period": self.period,
            "outlook_settled_period": self.settled,
            "outlook_capability_index": round(self.capability_index, 6),
            "outlook_detail": self.detail,
        }


def project(model: ProcurementModel, limit: int = DEFAULT_LIMIT, *, joint_start: float | None = None) -> Outlook:
    """Step ``model`` past its horizon until it settles, collapses or ``limit`` periods have passed.

    ``model`` is changed (it is advanced); use :func:`project_copy` to keep it as it is.
    ``joint_start`` is the joint value per period at the start of the run (growth is
    judged against it; by default the first period of the recorded series).
    """
    st = model.state
    if joint_start is None:
        series = model.recorder.series["joint_value"]
        joint_start = float(series[: model.cycle].mean()) if model.period else 0.0
    index: deque[float] = deque(maxlen=WINDOW + 1)
    discount: deque[float] = deque(maxlen=WINDOW + 1)
    profit: deque[np.ndarray] = deque(maxlen=WINDOW)
    joint: deque[float] = deque(maxlen=model.cycle)
    ci = capability_index(model)
    end = model.period + limit
    while model.period < end:
        t = model.period
        model.step()
        _, ended, _ = model.recorder.take_moves()
        if (st.exit_period == t).any() or ended:
            what = "a supplier became insolvent" if (st.exit_period == t).any() else "a relationship ended"
            return Outlook("collapse", t, None, t, capability_index(model), f"{what} in period {t}")
        ci = capability_index(model)
        volume = st.volume.sum()
        index.append(ci)
        discount.append(float(st.discount @ st.volume / volume) if volume > 0 else 0.0)
        profit.append(st.profit * st.active)
        joint.append(float(st.customer_value.sum() + st.supplier_value.sum()))
        if len(index) > WINDOW and _still(index, discount) and (np.sum(profit, axis=0) >= 0).all():
            return _settled(t, ci, float(np.mean(joint)), joint_start)
    falling = len(index) > WINDOW and index[-1] < index[0]
    if ci < SPIRAL_LEVEL and falling:
        return Outlook(
            "spiral",
            None,
            None,
            model.period - 1,
            ci,
            f"capability index {ci:.2f} and still falling after {limit} more periods",
        )
    burning = len(profit) and (np.sum(profit, axis=0) < 0).any()
    why = "suppliers still losing cash" if burning else "still changing"
    return Outlook(
        "drifting",
        None,
        None,
        model.period - 1,
        ci,
        f"not settled after {limit} more periods (capability index {ci:.2f}, {why})",
    )


def project_copy(model: ProcurementModel, limit: int = DEFAULT_LIMIT) -> Outlook:
    """The outlook of a model without changing it: ``model`` stays at its horizon (or mid-run).

    The copy leaves the recorded series behind (the outlook writes none), so copying costs
    a few periods' worth of stepping even for a large market.
    """
    from .recorder import Recorder

    joint = model.recorder.series["joint_value"]
    joint_start = float(joint[: model.cycle].mean()) if model.period else 0.0
    recorder, collector = model.recorder, model.datacollector
    model.recorder = model.datacollector = None
    try:
        twin = copy.deepcopy(model)
    finally:
        model.recorder, model.datacollector = recorder, collector
    twin.recorder = twin.datacollector = Recorder(twin, 0)
    return project(twin, limit, joint_start=joint_start)


def _still(index: deque[float], discount: deque[float]) -> bool:
    first, last = index[0], index[-1]
    return abs(last - first) <= STILL * max(first, 1e-9) and abs(discount[-1] - discount[0]) <= STILL


def _settled(t: int, ci: float, joint_end: float, joint_start: float) -> Outlook:
    if joint_start > 0 and joint_end >= (1 + GROWTH) * joint_start:
        return Outlook(
            "growth",
            None,
            t,
            t,
            ci,
            f"settled in period {t} with joint value {100 * (joint_end / joint_start - 1):.0f}% above the start",
        )
    if ci >= SPIRAL_LEVEL:
        return Outlook("equilibrium", None, t, t, ci, f"settled in period {t} at a capability index of {ci:.2f}")
    return Outlook(
        "spiral",
        None,
        t,
        t,
        ci,
        f"stuck at a capability index of {ci:.2f} from period {t} (the capability trap: nothing pulls it back up)",
    )
