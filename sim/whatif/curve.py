"""A cost curve: the answer at each level of a range of grants, and the largest grant that keeps the account.

``--grant "ACME=0..10%"`` runs every level on the same seeds as the base (one batch of
ensembles) and gives, per level, your profit change with its 80% range, per year and now,
and how often the account, and the account with its named peers, stay with you.
``--find 90%`` picks the largest level at which they stay in at least 90% of runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.engine.accounts import account_indices, targets
from sim.inputs.schema import Intervention, Scenario
from sim.runs.runner import RunResult
from sim.whatif import reconcile
from sim.whatif.words import level_text

if TYPE_CHECKING:
    from sim.whatif.questions import Plan


def named_peers(scenario: Scenario, name: str) -> list[str]:
    """The named accounts that compare prices with ``name`` (either way round), in list order."""
    out = []
    for account in scenario.accounts:
        if account.name == name:
            out += [p for p in account.peers if p not in out]
        elif name in account.peers and account.name not in out:
            out.append(account.name)
    return out


def _rows(scenario: Scenario, name: str) -> np.ndarray:
    return targets(scenario, Intervention(grant=0.0, to=name, from_period=0))


def curve_point(
    base: Scenario,
    variant: Scenario,
    base_runs: Sequence[RunResult],
    runs: Sequence[RunResult],
    plan: Plan,
    level: float,
    rate: float,
) -> dict[str, Any]:
    """One level of the curve: your profit change (mean, 80% range), per year, now, and who stays."""
    assert plan.curve is not None  # noqa: S101 - only ranges have curves
    name = plan.curve.to
    pairs = list(zip(base_runs, runs, strict=True))
    total = reconcile.spread([w.totals.supplier_profit[0] - b.totals.supplier_profit[0] for b, w in pairs])
    timing = reconcile.in_time(pairs, variant.periods_per_year, rate)
    rows = _rows(variant, name)
    index = account_indices(variant)
    peers = np.array([index[p] for p in named_peers(variant, name)], dtype=np.int64)
    together = np.concatenate([rows, peers])
    same = base.n_customers == variant.n_customers
    value = (
        reconcile.spread([w.totals.customer_value[rows].sum() - b.totals.customer_value[rows].sum() for b, w in pairs])
        if same
        else None
    )
    return {
        "level": level,
        "step": None if plan.current is None else level - plan.current,
        "profit_change": total,
        "per_year": timing["per_year"],
        "npv": timing["npv"],
        "kept": reconcile.kept(runs, rows),
        "kept_with_peers": reconcile.kept(runs, together),
        "target_value_change": value,
    }


def find_level(points: Sequence[dict[str, Any]], probability: float) -> dict[str, Any] | None:
    """The point of the largest level whose account and named peers stay in at least ``probability`` of runs."""
    fits = [p for p in points if p["kept_with_peers"] >= probability - 1e-12]
    return max(fits, key=lambda p: p["level"]) if fits else None


def curve_summary(
    plan: Plan,
    points: list[dict[str, Any]],
    found: dict[str, Any] | None,
    base: Scenario,
    base_runs: Sequence[RunResult],
) -> dict[str, Any]:
    """The curve as summary.json stores it, with its sentence (and the search's, when asked)."""
    assert plan.curve is not None  # noqa: S101 - only ranges have curves
    name = plan.curve.to
    peers = named_peers(base, name)
    index = account_indices(base)
    together = np.concatenate([_rows(base, name), np.array([index[p] for p in peers], dtype=np.int64)])
    out = {
        "target": name,
        "current": plan.current,
        "levels": [p["level"] for p in points],
        "points": points,
        "named_peers": peers,
        "kept_base": reconcile.kept(base_runs, together),
        "find": plan.find,
        "found": found,
    }
    out["text"] = curve_text(out, base.currency, base.periods / base.periods_per_year)
    return out


def curve_text(curve: dict[str, Any], currency: str, years: float) -> str:
    """The curve in a sentence: the cost at both ends, and the search's answer."""
    from sim.whatif.words import signed

    points = curve["points"]
    first, last = points[0], points[-1]
    now = f" (now {level_text(curve['current'])})" if curve.get("current") is not None else ""
    text = (
        f"Granting {curve['target']} {level_text(first['level'])} to {level_text(last['level'])}{now}: your profit "
        f"over {years:g} years changes by {signed(first['profit_change']['mean'], currency)} at "
        f"{level_text(first['level'])} and by {signed(last['profit_change']['mean'], currency)} at "
        f"{level_text(last['level'])}"
    )
    if curve.get("find") is None:
        return text
    who = curve["target"] + (f" and its {len(curve['named_peers'])} named peers" if curve["named_peers"] else "")
    share = f"{100 * curve['find']:g}%"
    found = curve.get("found")
    if found is None:
        best = max(points, key=lambda p: (p["kept_with_peers"], -p["level"]))
        return (
            f"{text}; no level keeps {who} with you in {share} of runs (at best {level_text(best['level'])}: "
            f"{100 * best['kept_with_peers']:.0f}%)"
        )
    return (
        f"{text}; the largest grant that keeps {who} with you in at least {share} of runs is "
        f"{level_text(found['level'])} ({100 * found['kept_with_peers']:.0f}% of runs), "
        f"a change of {signed(found['profit_change']['mean'], currency)} in your profit"
    )
