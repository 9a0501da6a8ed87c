"""Running scenarios: one seed, replicates over derived seeds, and a no-discount counterfactual.

``run_scenario`` builds the model, runs it to the horizon and classifies the outcome;
it returns a result and writes nothing (``sim.api.run_scenario``, what ``from sim import
run_scenario`` gives, also writes the run folder when asked). ``run_replicates`` repeats a scenario over seeds derived from one base seed, so a
comparison of two scenarios can use the very same seeds.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.engine.account_totals import AccountTotals
from sim.engine.market import Market
from sim.engine.model import ProcurementModel
from sim.engine.outcomes import OUTCOMES, Classification, Series, classify, metrics
from sim.engine.outlook import Outlook, project_copy, project_ensemble
from sim.inputs.loading import build_scenario, load_scenario
from sim.inputs.overrides import _apply_override
from sim.inputs.schema import Scenario

Progress = Callable[[int], None]


@dataclass
class RunResult:
    """One simulated run: its summary, market time series and the model itself.

    ``series`` holds the market series as a table or as numpy columns; ``timeseries`` is
    always the table (built once, on first use: a sweep's runs never need one).
    """

    scenario: Scenario
    seed: int
    summary: dict[str, Any]
    series: pd.DataFrame | Series
    model: ProcurementModel
    wall_seconds: float
    counterfactual: RunResult | None = None
    out: Path | None = None
    totals: AccountTotals | None = None

    @property
    def timeseries(self) -> pd.DataFrame:
        """The market series, one row per period."""
        if not isinstance(self.series, pd.DataFrame):
            self.series = pd.DataFrame(self.series)
        return self.series

    @property
    def agents(self) -> pd.DataFrame:
        """Per-agent series in long form (one row per agent per recorded period)."""
        return self.model.recorder.agents()


@dataclass
class ReplicateResult:
    """The same scenario over several seeds, with the per-metric spread."""

    scenario: Scenario
    seed: int
    runs: list[RunResult]
    summary: dict[str, Any]
    wall_seconds: float
    out: Path | None = None
    seeds: list[int] = field(default_factory=list)

    @property
    def timeseries(self) -> pd.DataFrame:
        """All replicates in long form, with a ``seed`` column."""
        return pd.concat([r.timeseries.assign(seed=r.seed) for r in self.runs], ignore_index=True)


def replicate_seeds(seed: int, n: int) -> list[int]:
    """``n`` independent seeds derived from ``seed`` (numpy SeedSequence spawning)."""
    return [int(s.generate_state(1)[0]) for s in np.random.SeedSequence(seed).spawn(n)]


def simulate(
    scenario: Scenario,
    seed: int,
    *,
    record_agents_every: int = 1,
    progress: Progress | None = None,
    outlook: bool = True,
    track_demand: bool = False,
) -> RunResult:
    """Run one seed to the horizon, summarise it and (``outlook``) project it past the horizon.

    Per-account totals are added up as it runs (``result.totals``); ``track_demand`` also
    keeps every period's demands and discounts (what-ifs count the peers that ask for parity).
    The outlook continues a copy of the model for up to ``scenario.outlook_periods`` more
    periods (none if 0) without writing series; ``summary["outlook"]`` names the regime it
    settles into, and ``result.model`` stays at the horizon.
    """
    start = time.perf_counter()
    model = ProcurementModel(scenario, rng=seed, record_agents_every=record_agents_every)
    totals = AccountTotals.start(model, track=track_demand)
    while model.running:
        model.step()
        totals.observe(model)
        if progress:
            progress(1)
    ts = model.recorder.columns()
    summary, verdict, found = summarise(model.markets[0], ts)
    if outlook and scenario.outlook_periods > 0:
        summary.update(outlook_of(model, verdict.outcome, found, scenario.outlook_periods).as_summary())
    return RunResult(scenario, seed, summary, ts, model, time.perf_counter() - start, totals=totals)


def run_ensemble(
    scenarios_or_overrides: Sequence[Scenario | dict[str, Any]],
    seeds: Sequence[int],
    *,
    base: Scenario | str | Path | None = None,
    outlook: bool = True,
    progress: Progress | None = None,
    totals: bool = False,
    track_demand: bool = False,
) -> list[RunResult]:
    """Run many markets as one vectorised model: ``scenarios_or_overrides[i]`` with ``seeds[i]``.

    Each item is a :class:`Scenario` or a mapping of overrides of ``base`` (a scenario, a
    bundled name or a path). The markets must share the horizon and the contract cycle.
    Every result (summary, time series, outlook) is identical to ``simulate(scenario, seed,
    record_agents_every=0)``; ``result.model`` is the market's :class:`~sim.engine.market.Market`
    view (its state at the horizon). The outlooks run batched too: markets drop out as they
    settle. ``progress`` is called with the number of runs finished. With ``totals`` each
    result carries its per-account totals as ``simulate`` adds them up (``track_demand``: with
    every period's demands and discounts), equal to the single run's.
    """
    start = time.perf_counter()
    scenarios = [item if isinstance(item, Scenario) else _scenario_of(base, item) for item in scenarios_or_overrides]
    model = ProcurementModel.ensemble(scenarios, [int(s) for s in seeds])
    added = AccountTotals.start(model, track=track_demand) if totals or track_demand else None
    while model.running:
        model.step()
        if added is not None:
            added.observe(model)
    parts = added.split(model) if added is not None else [None] * len(model.markets)
    results, projected = [], []
    for market, part in zip(model.markets, parts, strict=True):
        ts = market.recorder.columns()
        summary, verdict, found = summarise(market, ts)
        results.append(RunResult(market.config, market.seed, summary, ts, market, 0.0, totals=part))  # type: ignore[arg-type]
        limit = market.config.outlook_periods
        if outlook and limit > 0:
            if verdict.outcome == "collapse":
                summary.update(_collapsed(market, found).as_summary())
            else:
                projected.append(market.index)
    limits = [model.markets[r].config.outlook_periods for r in projected]
    for r, seen in zip(projected, project_ensemble(model, projected, limits), strict=True):
        results[r].summary.update(seen.as_summary())
    wall = (time.perf_counter() - start) / len(results)
    for result in results:
        result.wall_seconds = wall
    if progress:
        progress(len(results))
    return results


def _scenario_of(base: Scenario | str | Path | None, overrides: dict[str, Any]) -> Scenario:
    if base is None:
        raise ValueError("overrides need a base scenario (base=)")
    if not isinstance(base, Scenario):
        return load_scenario(base, overrides)
    data = base.to_yaml_dict()  # grouped sections as a file writes them, so suppliers.x paths apply
    for key in ("source", "overrides"):
        data.pop(key, None)
    for path, value in overrides.items():
        _apply_override(data, path, value)
    scenario = build_scenario(data, source=str(base.source or base.name))
    scenario.source = base.source
    scenario.overrides = json.loads(json.dumps({**base.overrides, **overrides}, default=str))
    return scenario


def summarise(market: Market, ts: pd.DataFrame | Series) -> tuple[dict[str, Any], Classification, dict[str, Any]]:
    """The summary of one market at its horizon (without the outlook), its verdict and its metrics."""
    scenario = market.config
    verdict = classify(ts, market.cycle)
    found = metrics(ts, market)
    summary = {
        "scenario": scenario.name,
        "description": scenario.description,
        "seed": market.seed,
        "periods": scenario.periods,
        "periods_per_year": scenario.periods_per_year,
        "currency": scenario.currency,
        "suppliers": scenario.n_suppliers,
        "customers": scenario.n_customers,
        "outcome": verdict.outcome,
        "outcome_detail": verdict.detail,
        "metrics": found,
        "events": [{"period": p, "event": e} for p, e in market.events],
        "overrides": scenario.overrides,
        "interventions": [i.model_dump() for i in scenario.interventions],
        "accounts": len(scenario.accounts),
    }
    return summary, verdict, found


def outlook_of(model: ProcurementModel, outcome: str, found: dict[str, Any], limit: int) -> Outlook:
    """The outlook of a model at its horizon: a collapse already seen stands; otherwise project a copy.

    ``model`` itself stays at its horizon, so ``result.model`` shows the state the series end in.
    """
    if outcome == "collapse":
        return _collapsed(model, found)
    return project_copy(model, limit)


def _collapsed(model: ProcurementModel | Market, found: dict[str, Any]) -> Outlook:
    """A collapse within the horizon stands as the outlook."""
    at = found["time_to_collapse"]
    return Outlook(
        "collapse",
        at,
        None,
        model.period - 1,
        found["capability_index_final"],
        f"collapsed within the horizon, in period {at}",
    )


def outlook_summary(model: ProcurementModel) -> dict[str, Any] | None:
    """The verdict at the horizon and its outlook, as summary keys (for a model that reached the horizon)."""
    if model.config.outlook_periods <= 0 or model.period < model.periods:
        return None
    ts = model.recorder.timeseries()
    verdict = classify(ts, model.cycle)
    outlook = outlook_of(model, verdict.outcome, metrics(ts, model), model.config.outlook_periods)
    return {
        "outcome": verdict.outcome,
        "periods": model.periods,
        "periods_per_year": model.config.periods_per_year,
        **outlook.as_summary(),
    }


def no_discount(scenario: Scenario) -> Scenario:
    """The counterfactual of a scenario: same market and seed, but no supplier grants a discount."""
    data = scenario.model_dump()
    for group in data["suppliers"]:
        group["strategy"] = "hold"
        group["acquisition_discount"] = 0.0
    for account in data["accounts"]:
        account["current_discount"] = 0.0
    data["interventions"] = []
    data["name"] = f"{scenario.name} (no discounts)"
    out = Scenario.model_validate(data)
    out.source = scenario.source
    return out


def grants_discounts(scenario: Scenario) -> bool:
    """Whether any supplier in the scenario can give a discount (else the counterfactual is itself)."""
    return (
        any(g.strategy != "hold" or g.acquisition_discount != 0 for g in scenario.suppliers)
        or any(a.current_discount > 0 for a in scenario.accounts)
        or bool(scenario.interventions)
    )


def run_scenario(
    scenario: Scenario | str | Path,
    seed: int | None = None,
    *,
    overrides: dict[str, Any] | None = None,
    counterfactual: bool = True,
    record_agents_every: int = 1,
    progress: Progress | None = None,
) -> RunResult:
    """Run a scenario once (it writes nothing: the caller decides whether to write it).

    ``scenario`` may be a loaded :class:`Scenario`, a bundled name or a path. ``seed``
    defaults to the scenario's own. With ``counterfactual`` the same market is also run
    without discounts, so the report can say what discounting cost each side.
    """
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario, overrides)
    seed = scenario.seed if seed is None else int(seed)
    result = simulate(scenario, seed, record_agents_every=record_agents_every, progress=progress)
    if counterfactual and grants_discounts(scenario):
        result.counterfactual = simulate(no_discount(scenario), seed, record_agents_every=0, outlook=False)
        result.summary["counterfactual"] = counterfactual_summary(result, result.counterfactual)
    return result


def counterfactual_summary(run: RunResult, base: RunResult) -> dict[str, Any]:
    """What discounting cost each side against the same market without discounts."""
    a, b = run.summary["metrics"], base.summary["metrics"]
    return {
        "outcome": base.summary["outcome"],
        "supplier_profit_difference": a["supplier_profit_total"] - b["supplier_profit_total"],
        "supplier_value_difference": a["supplier_value_total"] - b["supplier_value_total"],
        "customer_value_difference": a["customer_value_total"] - b["customer_value_total"],
        "joint_value_difference": a["joint_value_total"] - b["joint_value_total"],
        "capability_index_final": b["capability_index_final"],
    }


def run_replicates(
    scenario: Scenario | str | Path,
    replicates: int,
    seed: int | None = None,
    *,
    overrides: dict[str, Any] | None = None,
    record_agents_every: int = 1,
    progress: Progress | None = None,
) -> ReplicateResult:
    """Run a scenario over ``replicates`` seeds derived from ``seed`` and summarise the spread."""
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario, overrides)
    seed = scenario.seed if seed is None else int(seed)
    start = time.perf_counter()
    seeds = replicate_seeds(seed, replicates)
    runs = [simulate(scenario, s, record_agents_every=record_agents_every, progress=progress) for s in seeds]
    result = ReplicateResult(
        scenario, seed, runs, replicate_summary(scenario, seed, runs), time.perf_counter() - start, seeds=seeds
    )
    return result


def representative(runs: Sequence[RunResult]) -> RunResult:
    """A typical run: of those with the most common outcome, the one with the median final capability index."""
    counts = Counter(r.summary["outcome"] for r in runs)
    modal = max(OUTCOMES, key=lambda o: (counts.get(o, 0), -OUTCOMES.index(o)))
    pool = sorted(
        (r for r in runs if r.summary["outcome"] == modal), key=lambda r: r.summary["metrics"]["capability_index_final"]
    )
    return pool[len(pool) // 2]


def replicate_summary(scenario: Scenario, seed: int, runs: list[RunResult]) -> dict[str, Any]:
    """Outcome counts and mean / 10th / 90th percentile of every numeric metric."""
    counts = Counter(r.summary["outcome"] for r in runs)
    outlooks = Counter(r.summary.get("outlook") for r in runs if r.summary.get("outlook"))
    numeric = (int, float, type(None))
    names = [n for n in runs[0].summary["metrics"] if all(isinstance(r.summary["metrics"][n], numeric) for r in runs)]
    spread: dict[str, dict[str, float | None]] = {}
    for name in names:
        values = [r.summary["metrics"][name] for r in runs]
        numbers = np.array([v for v in values if v is not None], dtype=float)
        spread[name] = {
            "mean": float(numbers.mean()) if numbers.size else None,
            "p10": float(np.percentile(numbers, 10)) if numbers.size else None,
            "p90": float(np.percentile(numbers, 90)) if numbers.size else None,
            "runs_with_value": int(numbers.size),
        }
    modal = max(OUTCOMES, key=lambda o: (counts.get(o, 0), -OUTCOMES.index(o)))
    return {
        "scenario": scenario.name,
        "description": scenario.description,
        "seed": seed,
        "replicates": len(runs),
        "seeds": [r.seed for r in runs],
        "periods": scenario.periods,
        "periods_per_year": scenario.periods_per_year,
        "currency": scenario.currency,
        "suppliers": scenario.n_suppliers,
        "customers": scenario.n_customers,
        "outcome": modal,
        "outcomes": {o: counts.get(o, 0) for o in OUTCOMES},
        **(
            {
                "outlook": max(OUTCOMES, key=lambda o: (outlooks.get(o, 0), -OUTCOMES.index(o))),
                "outlooks": {o: outlooks.get(o, 0) for o in OUTCOMES},
                "outlook_period": _median([r.summary.get("outlook_period") for r in runs]),
            }
            if outlooks
            else {}
        ),
        "metrics": spread,
        "overrides": scenario.overrides,
        "interventions": [i.model_dump() for i in scenario.interventions],
        "accounts": len(scenario.accounts),
    }


def _median(values: list[Any]) -> float | None:
    """Median of the values that exist (None when none does), e.g. the period of a collapse."""
    numbers = [v for v in values if v is not None]
    return float(np.median(numbers)) if numbers else None
