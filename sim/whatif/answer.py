"""What-ifs: the base and a changed scenario on the same seeds, answered in money and years.

``procsim whatif baseline --accounts accounts.csv --grant "ACME=5%"`` runs both sides over
replicates (default 20, all of them batched into ensembles) and answers first: what it
costs you (your company is the first supplier) over the horizon with an 80% range, per
year and now (its net present value), where that comes from (the granted account, the
accounts that obtained parity, accounts lost or won, the rest of your market), whether
the account stays, which peers follow and when; then both runs' charts and a
per-account table. A range of grants (``ACME=0..10%``) adds a cost curve, and ``find``
the largest grant that keeps the account and its named peers. The terminal, report.html,
report.xlsx and summary.json all print the one ``answer`` stored in summary.json.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.engine.accounts import account_indices, targets
from sim.engine.outcomes import OUTCOMES
from sim.errors import InputError
from sim.inputs.schema import Intervention, Scenario
from sim.runs.runner import RunResult, replicate_seeds
from sim.whatif import reconcile
from sim.whatif.curve import curve_point, curve_summary, find_level, named_peers
from sim.whatif.questions import Plan, current_discounts, with_grants
from sim.whatif.running import run_sides
from sim.whatif.table import compare_accounts
from sim.whatif.words import lead_words, lines_data, sentence

PARITY_STEP = reconcile.PARITY_STEP
PARITY_YEARS = reconcile.PARITY_YEARS
DEFAULT_RATE = 0.08  # a year: a common cost of capital; --rate changes it
SIDES = ("base", "whatif")


@dataclass
class WhatIf:
    """Both sides of a what-if over the same seeds, the answer and the per-account table (and a cost curve)."""

    base: Scenario
    variant: Scenario
    label: str
    seeds: list[int]
    runs: dict[str, list[RunResult]]
    answer: dict[str, Any]
    accounts: pd.DataFrame
    summary: dict[str, Any]
    wall_seconds: float
    out: Path | None = None

    @property
    def timeseries(self) -> dict[str, list[pd.DataFrame]]:
        return {side: [r.timeseries for r in runs] for side, runs in self.runs.items()}

    @property
    def curve(self) -> dict[str, Any] | None:
        return self.summary.get("curve")


# --------------------------------------------------------------------------- labels


def derive_label(overrides: dict[str, Any], interventions: Sequence[Intervention | dict[str, Any]]) -> str:
    """A folder-safe label from what changed, e.g. ``grant-ACME-5pct`` or ``savings_target-6pct``."""
    parts = []
    for item in interventions:
        data = item if isinstance(item, dict) else item.model_dump()
        parts.append(f"grant-{data['to']}-{_value_word(data['grant'])}")
    for path, value in overrides.items():
        if path in ("seed", "periods"):
            continue
        if path == "accounts_file":
            parts.append(f"accounts-{Path(str(value)).stem}")
            continue
        parts.append(f"{path.split('.')[-1]}-{_value_word(value)}")
    text = "_".join(parts) or "whatif"
    return safe_label(text)


def safe_label(text: str) -> str:
    """Letters, digits, ``-``, ``_`` and ``.`` only, at most 60 characters."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.") or "whatif"
    return cleaned[:60]


def _value_word(value: Any) -> str:
    if isinstance(value, float) and 0 <= value < 1:
        return f"{100 * value:g}pct"
    return str(value).replace("%", "pct")


def changed_overrides(variant: Scenario, base: Scenario | None = None) -> dict[str, Any]:
    """The what-if's own --set overrides: those the base was not loaded with too."""
    shared = base.overrides if base is not None else {}
    return {k: v for k, v in variant.overrides.items() if k not in ("seed", "periods") and shared.get(k, object()) != v}


def changes(scenario: Scenario, base: Scenario | None = None) -> list[str]:
    """What a scenario changes, in words: its --set overrides and its grants (for headers and sentences)."""
    from sim.inputs.grants import describe
    from sim.reports.pages import override_text

    out = [override_text(k, v) for k, v in changed_overrides(scenario, base).items()]
    known = {i.model_dump_json() for i in base.interventions} if base is not None else set()
    out += [describe(i) for i in scenario.interventions if i.model_dump_json() not in known]
    return out


# --------------------------------------------------------------------------- running


def whatif(
    base: Scenario,
    variant: Scenario,
    *,
    replicates: int = 20,
    seed: int | None = None,
    label: str | None = None,
    progress: Callable[[int], None] | None = None,
    rate: float = DEFAULT_RATE,
    per_replicate: Callable[[Scenario, int], Scenario] | None = None,
) -> WhatIf:
    """Run ``base`` and ``variant`` (with its grants) on the same seeds and answer what the change does.

    ``per_replicate(scenario, i)`` gives replicate ``i``'s scenario of a side (``--posterior``: its drawn parameters).
    """
    new = _new_grants(base, variant)
    now = current_discounts(variant)
    grants = [
        {"to": g.to, "level": float(g.grant), "current": now.get(g.to), "step": None, "start": g.from_period}
        for g in new
    ]
    market = variant.model_copy(deep=True)
    market.overrides, market.source = dict(variant.overrides), variant.source
    market.interventions = [i for i in variant.interventions if i not in new]
    return ask(
        base,
        market,
        Plan(grants=grants),
        replicates=replicates,
        seed=seed,
        label=label,
        progress=progress,
        rate=rate,
        per_replicate=per_replicate,
    )


def ask(
    base: Scenario,
    market: Scenario,
    plan: Plan,
    *,
    replicates: int = 20,
    seed: int | None = None,
    label: str | None = None,
    progress: Callable[[int], None] | None = None,
    rate: float = DEFAULT_RATE,
    per_replicate: Callable[[Scenario, int], Scenario] | None = None,
) -> WhatIf:
    """Answer ``plan`` (grants, a range, a search) on ``market`` (the what-if's scenario without them) against ``base``.

    ``per_replicate`` draws each replicate's scenario of every side (the same draw on every side of a replicate).
    """
    if (base.periods, base.periods_per_year) != (market.periods, market.periods_per_year):
        raise InputError(
            "the base and the what-if must cover the same horizon: give --periods or --years (both sides), "
            "not --set periods or periods_per_year",
            field="periods",
        )
    start = time.perf_counter()
    first = base.seed if seed is None else seed
    seeds = [first] if replicates == 1 else replicate_seeds(first, replicates)
    levels = list(plan.curve.levels) if plan.curve is not None else [None]
    sides: dict[str, Scenario] = {"base": base}
    for level in levels:
        sides[_side(level)] = with_grants(market, plan.grants_at(level))
    runs = run_sides(sides, seeds, progress=progress, per_replicate=per_replicate)
    curve = None
    detail = levels[-1]
    if plan.curve is not None:
        points = [curve_point(base, sides[_side(lv)], runs["base"], runs[_side(lv)], plan, lv, rate) for lv in levels]
        found = find_level(points, plan.find) if plan.find is not None else None
        if plan.find is not None:  # the details: the level found, or the one that keeps them most often
            best = max(points, key=lambda p: (p["kept_with_peers"], -p["level"]))
            detail = (found or best)["level"]
        curve = curve_summary(plan, points, found, base, runs["base"])
    variant = sides[_side(detail)]
    pair = {"base": runs["base"], "whatif": runs[_side(detail)]}
    answer = compute_answer(base, variant, pair, plan.grants_at(detail), rate)
    named = safe_label(label) if label else derive_label(changed_overrides(variant, base), _new_grants(base, variant))
    table = compare_accounts(base, variant, pair)
    for side in SIDES:  # the demand histories were needed for the answer only
        for run in pair[side]:
            run.totals.demand.clear()
            run.totals.discounts.clear()
    summary = whatif_summary(base, variant, named, seeds, pair, answer)
    if curve is not None:
        summary["curve"] = curve
    return WhatIf(base, variant, named, seeds, pair, answer, table, summary, time.perf_counter() - start)


def _side(level: float | None) -> str:
    return "whatif" if level is None else f"level {level:.6f}"


def _new_grants(base: Scenario, variant: Scenario) -> list[Intervention]:
    known = {i.model_dump_json() for i in base.interventions}
    return [i for i in variant.interventions if i.model_dump_json() not in known]


# --------------------------------------------------------------------------- the answer


def compute_answer(
    base: Scenario,
    variant: Scenario,
    runs: dict[str, list[RunResult]],
    grants: Sequence[dict[str, Any]] | None = None,
    rate: float = DEFAULT_RATE,
) -> dict[str, Any]:
    """Every figure of the answer, the lines under it and the sentence."""
    pairs = list(zip(runs["base"], runs["whatif"], strict=True))
    new = _new_grants(base, variant)
    if grants is None:
        now = current_discounts(variant)
        grants = [{"to": g.to, "level": float(g.grant), "current": now.get(g.to), "step": None} for g in new]
    same_market = base.n_customers == variant.n_customers
    target = new[0].to if new and same_market else None
    rows = reconcile.granted_rows(variant, new) if same_market else np.empty(0, dtype=np.int64)
    answer: dict[str, Any] = {
        "horizon_years": variant.periods / variant.periods_per_year,
        "replicates": len(pairs),
        "grants": [{k: g.get(k) for k in ("to", "level", "current", "step")} for g in grants],
        "capability_index_change": _mean_change(pairs, "capability_index_final"),
        "joint_value_change": _mean_change(pairs, "joint_value_total"),
        "target": target,
        "target_kind": None,
        "target_value_change": None,
        "peers": None,
        "peers_demanding_parity": None,
        "parity_window_years": None,
    }
    if same_market:
        label = target if len(new) == 1 else ("the granted accounts" if new else None)
        answer.update(reconcile.breakdown(pairs, rows, label))
    else:
        total = reconcile.spread([w.totals.supplier_profit[0] - b.totals.supplier_profit[0] for b, w in pairs])
        answer["profit_change"] = total
        answer["parts"] = [{"key": "rest", "label": "the whole change (the two markets differ in size)", **total}]
    answer.update(reconcile.in_time(pairs, variant.periods_per_year, rate))
    if target is not None:
        first_rows = targets(variant, new[0])
        answer["target_kind"] = "account" if target in account_indices(variant) else "segment"
        answer["target_value_change"] = reconcile.spread(
            [w.totals.customer_value[first_rows].sum() - b.totals.customer_value[first_rows].sum() for b, w in pairs]
        )
        answer["target_channels"] = reconcile.value_channels(pairs, first_rows)
        answer["target_kept"] = reconcile.kept(runs["whatif"], first_rows)
        answer["target_kept_base"] = reconcile.kept(runs["base"], first_rows)
        answer["named_peers"] = named_peers(variant, target)
        answer.update(reconcile.followers(pairs, variant, new[0], first_rows))
    answer["lines"] = lines_data(answer)
    lead = lead_words(grants, changed_overrides(variant, base), variant.n_suppliers)
    answer["text"] = sentence(answer, lead, variant.currency)
    return answer


def _mean_change(pairs: Sequence[tuple[RunResult, RunResult]], key: str) -> float:
    return float(np.mean([w.summary["metrics"][key] - b.summary["metrics"][key] for b, w in pairs]))


# --------------------------------------------------------------------------- summary.json


def whatif_summary(
    base: Scenario,
    variant: Scenario,
    label: str,
    seeds: list[int],
    runs: dict[str, list[RunResult]],
    answer: dict[str, Any],
) -> dict[str, Any]:
    counts = {side: Counter(r.summary["outcome"] for r in runs[side]) for side in SIDES}
    metrics = {}
    for key in runs["base"][0].summary["metrics"]:
        values = {side: [r.summary["metrics"][key] for r in runs[side]] for side in SIDES}
        means = {side: _mean(v) for side, v in values.items()}
        diff = None if None in means.values() else means["whatif"] - means["base"]
        metrics[key] = {**means, "difference": diff}
    return {
        "kind": "whatif",
        "label": label,
        "scenario": base.name,
        "description": whatif_description(base, variant),
        "seed": seeds[0],
        "seeds": seeds,
        "replicates": len(seeds),
        "periods": variant.periods,
        "periods_per_year": variant.periods_per_year,
        "currency": variant.currency,
        "suppliers": variant.n_suppliers,
        "customers": variant.n_customers,
        "overrides": changed_overrides(variant, base),
        "base_overrides": {k: v for k, v in base.overrides.items() if k not in ("seed", "periods")},
        "interventions": [i.model_dump() for i in variant.interventions],
        "changes": changes(variant, base),
        "accounts": len(variant.accounts),
        "answer": answer,
        "outcome": {side: _modal(counts[side]) for side in SIDES},
        "outcomes": {side: {o: counts[side].get(o, 0) for o in OUTCOMES} for side in SIDES},
        "metrics": metrics,
    }


def whatif_description(base: Scenario, variant: Scenario) -> str:
    """The what-if's own description (never the base scenario's, whose verdict may differ)."""
    if variant.description and variant.description != base.description:
        return variant.description
    return f"What-if on {base.name}: " + "; ".join(changes(variant, base) or ["no change"])


def _mean(values: list[Any]) -> float | None:
    """The mean of a metric's numbers over seeds (None for a metric that is not a number, such as a side)."""
    numbers = [v for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
    return float(np.mean(numbers)) if numbers else None


def _modal(counts: Counter) -> str:
    return max(OUTCOMES, key=lambda o: (counts.get(o, 0), -OUTCOMES.index(o)))
