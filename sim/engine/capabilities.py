"""The supplier's four capability stocks and the investment policy that feeds them.

Budgets are set from revenue at list price; a margin shortfall is closed partly by
cutting them (``margin_defense``); each stock then moves toward the level its budget
sustains with its own first-order lag, so cuts look free at first (the capability trap).
"""

from __future__ import annotations

import numpy as np

CAPABILITIES: tuple[str, ...] = ("quality", "innovation", "support", "sales_coverage")
QUALITY, INNOVATION, SUPPORT, SALES = range(4)


def distribute_cuts(
    cut: np.ndarray,
    cuttable: np.ndarray,
    weights: np.ndarray | None,
    order: np.ndarray | None,
    proportional: np.ndarray | None = None,
) -> np.ndarray:
    """Split each supplier's total ``cut`` over its four budgets.

    ``cuttable`` (how much of each budget may go) and ``weights`` are (suppliers, 4). With an ``order`` row (a permutation,
    -1 for "use weights"), budgets are cut one after another, each down to zero before the
    next; otherwise the cut is shared in proportion to ``weights x cuttable`` and any part
    a budget cannot absorb is passed on to the others. ``weights=None`` means equal weights.
    Rows where ``proportional`` is true (default: every row when there are neither weights
    nor an order) share the cut in proportion to the room alone, in one pass: with equal
    weights, shares proportional to the room never exceed it. An ensemble of markets passes
    its markets' choices row by row.
    """
    total = cuttable.sum(axis=1)
    cut = np.minimum(cut, total)
    if proportional is None:
        proportional = np.full(len(cut), weights is None and order is None)
    if weights is None:
        weights = np.ones_like(cuttable)
    if proportional.all():
        return cuttable * np.divide(cut, total, out=np.zeros_like(cut), where=total > 0)[:, None]
    out = np.zeros_like(cuttable)
    if proportional.any():
        share = np.divide(
            cut[proportional], total[proportional], out=np.zeros(int(proportional.sum())), where=total[proportional] > 0
        )
        out[proportional] = cuttable[proportional] * share[:, None]
    remaining = cut.copy()
    sequential = np.zeros(len(cut), dtype=bool) if order is None else order[:, 0] >= 0
    rows = np.flatnonzero(sequential)
    for step in range(cuttable.shape[1] if rows.size else 0):
        k = order[rows, step]
        take = np.minimum(remaining[rows], cuttable[rows, k])
        out[rows, k] += take
        remaining[rows] -= take
    rows = np.flatnonzero(~sequential & ~proportional & (remaining > 0))
    room = cuttable[rows].copy()
    left = remaining[rows]
    # Each pass either places the whole remaining cut or empties at least one budget.
    for _ in range(cuttable.shape[1] if rows.size else 0):
        share = weights[rows] * room
        total = share.sum(axis=1)
        active = (left > 1e-12 * (1.0 + cut[rows])) & (total > 0)
        if not active.any():
            break
        frac = np.divide(share, total[:, None], out=np.zeros_like(share), where=total[:, None] > 0)
        take = np.where(active[:, None], np.minimum(frac * left[:, None], room), 0.0)
        room -= take
        left = left - take.sum(axis=1)
        out[rows] += take
    return out
