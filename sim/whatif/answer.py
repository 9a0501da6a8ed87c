"""What-ifs: the base and a changed scenario on the same seeds, answered in money and years.

``procsim whatif baseline --accounts accounts.csv --grant "ACME=5%@0"`` runs both over
replicates (default 20) and answers first: what it costs you (your company is the first
supplier) over the horizon with an 80% range, how many of the account's peers demand
parity within two years, what the account gains and what happens to the capability
index; then both runs' charts and a per-account table. The terminal, report.html and
report.xlsx all print the one ``answer`` stored in summary.json.
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

from sim.engine.accounts import YOU, account_indices, effective_periods, targets
from sim.engine.outcomes import OUTCOMES
from sim.inputs.schema import Intervention, Scenario
from sim.reports.account_table import MONEY, TOTAL, account_table, row_groups, status_text
from sim.reports.fmt import money, signed_money
from sim.runs.runner import RunResult, replicate_seeds, simulate

PARITY_STEP = 0.001  # a tenth of a percentage point: a demand or discount this much above the base counts
PARITY_YEARS = 2
SIDES = ("base", "whatif")


@dataclass
class WhatIf:
    """Both sides of a what-if over the same seeds, the answer and the per-account table."""

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


def _shown(value: Any) -> str:
    return f"{100 * value:g}%" if isinstance(value, float) and 0 < value < 1 else str(value)


# --------------------------------------------------------------------------- running


def whatif(
    base: Scenario,
    variant: Scenario,
    *,
    replicates: int = 20,
    seed: int | None = None,
    label: str | None = None,
    progress: Callable[[int], None] | None = None,
    per_replicate: Callable[[Scenario, int], Scenario] | None = None,
) -> WhatIf:
    """Run ``base`` and ``variant`` on the same seeds and answer what the change does.

    ``per_replicate(scenario, i)`` gives replicate ``i``'s scenario of a side (``--posterior``: its drawn parameters).
    """
    start = time.perf_counter()
    first = base.seed if seed is None else seed
    seeds = [first] if replicates == 1 else replicate_seeds(first, replicates)
    runs: dict[str, list[RunResult]] = {"base": [], "whatif": []}
    for i, s in enumerate(seeds):
        for side, scenario in (("base", base), ("whatif", variant)):
            drawn = per_replicate(scenario, i) if per_replicate else scenario
            runs[side].append(simulate(drawn, s, record_agents_every=0, progress=progress, track_demand=True))
    label = safe_label(label) if label else derive_label(changed_overrides(variant, base), _new_grants(base, variant))
    answer = compute_answer(base, variant, runs)
    table = compare_accounts(base, variant, runs)
    for side in SIDES:  # the demand histories were needed for the answer only
        for run in runs[side]:
            run.totals.demand.clear()
            run.totals.discounts.clear()
    summary = whatif_summary(base, variant, label, seeds, runs, answer)
    result = WhatIf(base, variant, label, seeds, runs, answer, table, summary, time.perf_counter() - start)
    return result


def _new_grants(base: Scenario, variant: Scenario) -> list[Intervention]:
    known = {i.model_dump_json() for i in base.interventions}
    return [i for i in variant.interventions if i.model_dump_json() not in known]


def _targets(variant: Scenario, grants: Sequence[Intervention]) -> np.ndarray:
    if not grants:
        return np.empty(0, dtype=np.int64)
    return np.unique(np.concatenate([targets(variant, g) for g in grants]))


# --------------------------------------------------------------------------- the answer


def compute_answer(base: Scenario, variant: Scenario, runs: dict[str, list[RunResult]]) -> dict[str, Any]:
    """Every figure of the answer sentence, and the sentence itself."""
    per_year = variant.periods_per_year
    years = variant.periods / per_year
    pairs = list(zip(runs["base"], runs["whatif"], strict=True))
    profit = np.array([w.totals.supplier_profit[YOU] - b.totals.supplier_profit[YOU] for b, w in pairs])
    capability = np.array(
        [
            w.summary["metrics"]["capability_index_final"] - b.summary["metrics"]["capability_index_final"]
            for b, w in pairs
        ]
    )
    joint = np.array(
        [w.summary["metrics"]["joint_value_total"] - b.summary["metrics"]["joint_value_total"] for b, w in pairs]
    )
    grants = _new_grants(base, variant)
    answer: dict[str, Any] = {
        "horizon_years": years,
        "replicates": len(pairs),
        "profit_change": _spread(profit),
        "capability_index_change": float(capability.mean()),
        "joint_value_change": float(joint.mean()),
        "target": None,
        "target_value_change": None,
        "peers": None,
        "peers_demanding_parity": None,
        "parity_window_years": None,
    }
    same_market = base.n_customers == variant.n_customers
    if grants and same_market:
        first = grants[0]
        rows = targets(variant, first)
        value = [float(w.totals.customer_value[rows].sum() - b.totals.customer_value[rows].sum()) for b, w in pairs]
        answer["target"] = first.to
        answer["target_kind"] = "account" if first.to in account_indices(variant) else "segment"
        answer["target_value_change"] = float(np.mean(value))
        counts = [_parity(b, w, variant, first, rows) for b, w in pairs]
        answer["peers"] = float(np.mean([c[0] for c in counts]))
        answer["peers_demanding_parity"] = float(np.mean([c[1] for c in counts]))
        answer["parity_window_years"] = counts[0][2]
    answer["text"] = sentence(answer, changed_overrides(variant, base), grants, variant.currency)
    return answer


def _spread(values: np.ndarray) -> dict[str, float]:
    return {
        "mean": float(values.mean()),
        "p10": float(np.percentile(values, 10)),
        "p90": float(np.percentile(values, 90)),
    }


def _parity(
    base: RunResult, whatif: RunResult, scenario: Scenario, grant: Intervention, rows: np.ndarray
) -> tuple[int, int, float]:
    """(peers, peers whose demand rose by PARITY_STEP or more within the window, window in years)."""
    table = whatif.totals.peers
    n = scenario.n_customers
    if table is None or not table.size:
        return 0, 0, 0.0
    neighbours = np.unique(table[:, rows].ravel())
    neighbours = neighbours[(neighbours < n) & ~np.isin(neighbours, rows)]
    begin = int(effective_periods(whatif.model, rows, int(grant.from_period)).min())
    end = min(begin + PARITY_YEARS * scenario.periods_per_year, scenario.periods)
    window = (end - begin) / scenario.periods_per_year
    if not neighbours.size or begin >= end:
        return int(neighbours.size), 0, max(window, 0.0)
    demand_w = np.stack(whatif.totals.demand[begin:end])[:, neighbours]
    demand_b = np.stack(base.totals.demand[begin:end])[:, neighbours]
    asked = ((demand_w - demand_b) >= PARITY_STEP).any(axis=0)
    return int(neighbours.size), int(asked.sum()), window


def _span(low: float, high: float, currency: str, positive: str, negative: str) -> str:
    """An 80% range in the sentence's direction: 'EUR 2.4M-3.9M', or 'from a EUR 0.2M gain to a EUR 0.9M cost'."""
    if low >= 0:
        return f"{money(low, currency)}-{money(high, currency).removeprefix(currency + ' ')}"
    if high <= 0:
        return f"{money(-high, currency)}-{money(-low, currency).removeprefix(currency + ' ')} {negative}"
    return f"from a {money(-low, currency)} {negative} to a {money(high, currency)} {positive}"


def sentence(answer: dict[str, Any], overrides: dict[str, Any], grants: Sequence[Intervention], currency: str) -> str:
    """The answer in one sentence, e.g. 'Granting ACME 5% costs you EUR 3.1M profit over 5 years (80% range ...)'."""
    actions = [f"granting {g.to} {_shown(float(g.grant))}" for g in grants]
    actions += [f"setting {k} to {_shown(v)}" for k, v in overrides.items() if k != "accounts_file"]
    lead = " and ".join(actions) or "the what-if"
    lead = lead[:1].upper() + lead[1:]
    p = answer["profit_change"]
    years = f"{answer['horizon_years']:g} year{'s' if answer['horizon_years'] != 1 else ''}"
    if p["mean"] < 0:
        clause = f"{lead} costs you {money(-p['mean'], currency)} profit over {years}"
        spread = _span(-p["p90"], -p["p10"], currency, "cost", "gain")
    else:
        clause = f"{lead} earns you {money(p['mean'], currency)} more profit over {years}"
        spread = _span(p["p10"], p["p90"], currency, "gain", "cost")
    if answer["replicates"] > 1:
        clause += f" (80% range {spread})"
    parts = [clause]
    if answer["peers"] is not None:
        peers, asked = round(answer["peers"]), min(round(answer["peers_demanding_parity"]), round(answer["peers"]))
        whose = "its" if answer.get("target_kind") == "account" else "the segment's"
        window = answer["parity_window_years"]
        within = f"within {window:g} year{'s' if window != 1 else ''}"
        parts.append(f"{asked} of {whose} {peers} peers demand parity {within}")
        change = answer["target_value_change"]
        verb = "rises" if change >= 0 else "falls"
        owner = answer["target"] + ("'" if answer["target"].endswith("s") else "'s")
        parts.append(f"{owner} value {verb} {money(abs(change), currency)}")
    else:
        parts.append(f"joint value {signed_money(answer['joint_value_change'], currency)}")
    cap = answer["capability_index_change"]
    parts.append(f"capability index {cap:+.3f}" if abs(cap) < 0.005 else f"capability index {cap:+.2f}")
    return "; ".join(parts)


# --------------------------------------------------------------------------- the per-account table


def compare_accounts(base: Scenario, variant: Scenario, runs: dict[str, list[RunResult]]) -> pd.DataFrame:
    """Both sides' per-account tables side by side, the change, and which accounts parity reached."""
    sides = {side: account_table(sc, runs[side]) for side, sc in (("base", base), ("whatif", variant))}
    if len(sides["base"]) != len(sides["whatif"]) or list(sides["base"]["account"]) != list(sides["whatif"]["account"]):
        sides["base"] = sides["base"].set_index("account").reindex(sides["whatif"]["account"]).reset_index()
    b, w = sides["base"], sides["whatif"]
    table = w[["account", "segment", "named", "customers"]].copy()
    for key in ("discount", *MONEY, "switched", "left"):
        table[f"{key}_base"] = b[key].to_numpy()
        table[f"{key}_whatif"] = w[key].to_numpy()
    table["contribution_change"] = table["contribution_whatif"] - table["contribution_base"]
    n_runs = len(runs["whatif"])
    grants = _new_grants(base, variant)
    granted = _targets(variant, grants)
    reached = np.zeros(variant.n_customers)
    if base.n_customers == variant.n_customers:
        for rb, rw in zip(runs["base"], runs["whatif"], strict=True):
            reached += (rw.totals.discount - rb.totals.discount) >= PARITY_STEP
    reached[granted] = 0.0
    groups = {label: idx for label, _, _, idx in row_groups(variant)}
    table["granted"] = [bool(np.isin(groups.get(a, []), granted).any()) for a in table["account"]]
    table["reached"] = [
        float(reached[groups[a]].sum() / n_runs) if a in groups else float(reached.sum() / n_runs)
        for a in table["account"]
    ]
    table["status_base"] = [status_text(r.switched_base, r.left_base, r.customers, n_runs) for r in table.itertuples()]
    table["status_whatif"] = [
        status_text(r.switched_whatif, r.left_whatif, r.customers, n_runs) for r in table.itertuples()
    ]
    table["highlight"] = table["named"] & (table["reached"] >= 0.5)
    named = table[table["named"]].copy()
    named = named.iloc[np.argsort(-named["contribution_change"].abs().to_numpy(), kind="stable")]
    rest = table[~table["named"] & (table["account"] != TOTAL)]
    return pd.concat([named, rest, table[table["account"] == TOTAL]], ignore_index=True)


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
