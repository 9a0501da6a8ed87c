"""The outlook: what a run settles into after the horizon (MODEL-SPEC section 6).

A verdict read at the horizon can mislead: a market still sliding slowly looks like an
equilibrium at period 40 and goes under at period 120. The outlook keeps stepping a copy
of the model (no series are written) until the run settles, collapses or reaches a limit,
and names the regime it ends in. It is settled when, over the last two contract cycles,
capability, cash and the margin standard are all flat: the capability index and the
average discount have stopped moving, the margin the suppliers defend has stopped eroding,
their cash flow has stopped changing, and no trading supplier is losing cash (a supplier
that burns cash has not settled: it is on its way to insolvency).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim.engine.outcomes import GROWTH, SPIRAL_LEVEL, WINDOW, growth_reference
from sim.engine.recorder import capability_indices

if TYPE_CHECKING:
    from sim.engine.model import ProcurementModel

STILL = 0.005  # relative change of the index (and absolute change of the discount) counted as no change
STILL_MARGIN = 0.001  # change of the defended margin standard counted as none (a tenth of a point)
DEFAULT_LIMIT = 600


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
    if joint_start is None:
        joint_start = float(_joint_starts(model, [0])[0])
    return project_markets(model, np.array([limit]), np.array([joint_start]))[0]


def project_copy(model: ProcurementModel, limit: int = DEFAULT_LIMIT) -> Outlook:
    """The outlook of a model without changing it: ``model`` stays at its horizon (or mid-run).

    The copy leaves the recorded series behind (the outlook writes none), so copying costs
    a few periods' worth of stepping even for a large market.
    """
    return project_ensemble(model, [0], [limit])[0]


def project_ensemble(model: ProcurementModel, markets: list[int], limits: list[int]) -> list[Outlook]:
    """The outlooks of some markets of a model (an ensemble) without changing it.

    The markets are copied (with their generators) and stepped together; a market drops
    out as it settles or collapses, and the ensemble is compacted as markets drop out, so
    the work follows the markets still running. Each market's outlook is that of its
    single run.
    """
    if not markets:
        return []
    starts = _joint_starts(model, markets)
    twin = model.select(markets, copy_generators=True)
    return project_markets(twin, np.asarray(limits, dtype=np.int64), starts, compact=True)


def _joint_starts(model: ProcurementModel, markets: list[int]) -> np.ndarray:
    """What each market's growth is judged against: the joint value per period over the first contract
    cycle of its recorded series, scaled to the reference capability (:func:`growth_reference`)."""
    if not model.period:
        return np.zeros(len(markets))
    joint, index = model.recorder._rows["joint_value"], model.recorder._rows["capability_index"]
    return np.array(
        [
            growth_reference(float(joint[r][: model.cycle].mean()), float(index[r][: model.cycle].mean()))
            for r in markets
        ]
    )


def project_markets(
    model: ProcurementModel, limits: np.ndarray, joint_start: np.ndarray, *, compact: bool = False
) -> list[Outlook]:
    """Step every market of ``model`` past its horizon until each settles, collapses or passes its limit.

    The markets step together, each judged on its own series. With ``compact`` the model may
    be replaced by smaller copies of the markets still running (``model`` is then left
    behind part-way); without it ``model`` is advanced until the last market is done.
    """
    count = model.n_members
    results: list[Outlook | None] = [None] * count
    ids = np.arange(count)  # each current market's position in the results
    ends = model.period + limits
    index = np.zeros((WINDOW + 1, count))
    discount = np.zeros((WINDOW + 1, count))
    joint = np.zeros((model.cycle, count))
    profit = np.zeros((WINDOW, model.n_suppliers))
    standard = np.zeros((WINDOW + 1, count))
    flow = np.zeros((WINDOW + 1, count))
    live = np.ones(count, dtype=bool)
    ci = capability_indices(model)
    steps = 0
    while True:
        t = model.period
        for r in np.flatnonzero(live & (t >= ends)):
            results[ids[r]] = _unsettled(model, r, ci[r], index[:, r], profit, steps, int(limits[ids[r]]), t)
            live[r] = False
        if not live.any():
            break
        if compact and live.sum() <= 0.5 * len(live) and len(live) >= 4:
            keep = np.flatnonzero(live)
            rows = np.concatenate(
                [np.arange(model.sup_start[r], model.sup_start[r] + model.sup_count[r]) for r in keep]
            )
            model = model.select(keep.tolist(), copy_generators=False)
            ids, ends, ci, live = ids[keep], ends[keep], ci[keep], live[keep]
            index, discount, joint, profit = index[:, keep], discount[:, keep], joint[:, keep], profit[:, rows]
            standard, flow = standard[:, keep], flow[:, keep]
        st, cust, sups = model.state, model.recorder.customers, model.recorder.supplier_rows
        model.advance()
        ended = model.recorder.take_all_moves()[1] > 0
        exited = sups.sum(st.exit_period == t) > 0
        ci = capability_indices(model)
        for r in np.flatnonzero(live & (exited | ended)):
            what = "a supplier became insolvent" if exited[r] else "a relationship ended"
            results[ids[r]] = Outlook("collapse", t, None, t, float(ci[r]), f"{what} in period {t}")
            live[r] = False
        volume = cust.sum(st.volume)
        weighted = np.divide(cust.dot(st.discount, st.volume), volume, out=np.zeros(len(volume)), where=volume > 0)
        book = sups.sum(st.list_revenue)
        defended = np.divide(
            sups.dot(st.margin_standard, st.list_revenue), book, out=np.zeros(len(book)), where=book > 0
        )
        cash_flow = np.divide(sups.sum(st.profit), book, out=np.zeros(len(book)), where=book > 0)
        for buffer, value in (
            (index, ci),
            (discount, weighted),
            (joint, cust.sum(st.customer_value) + cust.sum(st.supplier_value)),
            (standard, defended),
            (flow, cash_flow),
        ):
            buffer[:-1] = buffer[1:]
            buffer[-1] = value
        profit[:-1] = profit[1:]
        profit[-1] = st.profit * st.active
        steps += 1
        if steps > WINDOW:
            first, last = index[0], index[-1]
            still = (
                (np.abs(last - first) <= STILL * np.maximum(first, 1e-9))
                & (np.abs(discount[-1] - discount[0]) <= STILL)
                & (np.abs(standard[-1] - standard[0]) <= STILL_MARGIN)
                & (np.abs(flow[-1] - flow[0]) <= STILL)
            )
            losing = sups.sum(profit.sum(axis=0) < 0) > 0
            for r in np.flatnonzero(live & still & ~losing):
                mean = float(np.mean(joint[-min(steps, model.cycle) :, r].copy()))
                results[ids[r]] = _settled(t, float(ci[r]), mean, float(joint_start[ids[r]]))
                live[r] = False
    return results  # type: ignore[return-value]


def _unsettled(
    model: ProcurementModel, r: int, ci: float, index: np.ndarray, profit: np.ndarray, steps: int, limit: int, t: int
) -> Outlook:
    """The outlook of a market that neither settled nor collapsed within its limit."""
    ci = float(ci)
    falling = steps > WINDOW and index[-1] < index[0]
    if ci < SPIRAL_LEVEL and falling:
        return Outlook(
            "spiral", None, None, t - 1, ci, f"capability index {ci:.2f} and still falling after {limit} more periods"
        )
    start, count = int(model.sup_start[r]), int(model.sup_count[r])
    kept = profit[-min(steps, WINDOW) :, start : start + count] if steps else profit[:0, start : start + count]
    burning = steps and (kept.sum(axis=0) < 0).any()
    why = "suppliers still losing cash" if burning else "still changing"
    return Outlook(
        "drifting", None, None, t - 1, ci, f"not settled after {limit} more periods (capability index {ci:.2f}, {why})"
    )


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
