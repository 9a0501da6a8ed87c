"""Side-by-side what-if: two scenarios on the same seeds, a delta table and overlay charts."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from sim.inputs.schema import Scenario
from sim.runs.runner import RunResult, replicate_seeds, representative, simulate


@dataclass
class Comparison:
    a: Scenario
    b: Scenario
    seeds: list[int]
    summary: dict[str, Any]
    deltas: pd.DataFrame
    timeseries: dict[str, list[pd.DataFrame]]
    wall_seconds: float
    out: Path | None = None
    typical: dict[str, RunResult] | None = None  # a typical run of each side, for the plain-words summary


def compare(
    a: Scenario,
    b: Scenario,
    *,
    seed: int | None = None,
    replicates: int = 1,
    progress=None,
    per_replicate: Callable[[Scenario, int], Scenario] | None = None,
) -> Comparison:
    """Run ``a`` and ``b`` on the same seeds and tabulate ``b - a`` for every metric.

    ``per_replicate(scenario, i)`` gives replicate ``i``'s scenario of a side (``--posterior``: its drawn parameters).
    """
    start = time.perf_counter()
    base = a.seed if seed is None else seed
    seeds = [base] if replicates == 1 else replicate_seeds(base, replicates)
    runs = {
        label: [
            simulate(per_replicate(sc, i) if per_replicate else sc, s, record_agents_every=0, progress=progress)
            for i, s in enumerate(seeds)
        ]
        for label, sc in (("a", a), ("b", b))
    }
    rows = []
    for key, first in runs["a"][0].summary["metrics"].items():
        if isinstance(first, list | str):
            continue  # per-supplier lists and labels have no difference to take
        va = _mean([r.summary["metrics"][key] for r in runs["a"]])
        vb = _mean([r.summary["metrics"][key] for r in runs["b"]])
        delta = None if va is None or vb is None else vb - va
        rel = None if delta is None or not va else delta / abs(va)
        rows.append({"metric": key, a.name: va, b.name: vb, "difference": delta, "relative": rel})
    deltas = pd.DataFrame(rows)
    outcomes = {label: _counts(runs[label]) for label in runs}
    outlooks = {label: _counts(runs[label], "outlook") for label in runs}
    summary = {
        "a": a.name,
        "b": b.name,
        "seeds": seeds,
        "periods": a.periods,
        "currency": a.currency,
        "outcomes": {a.name: outcomes["a"], b.name: outcomes["b"]},
        "outlooks": {a.name: outlooks["a"], b.name: outlooks["b"]},
        "overrides": a.overrides,
        "descriptions": {a.name: a.description, b.name: b.description},
        "metrics": {r["metric"]: {a.name: r[a.name], b.name: r[b.name], "difference": r["difference"]} for r in rows},
    }
    result = Comparison(
        a,
        b,
        seeds,
        summary,
        deltas,
        {"a": [r.timeseries for r in runs["a"]], "b": [r.timeseries for r in runs["b"]]},
        time.perf_counter() - start,
        typical={label: representative(runs[label]) for label in runs},
    )
    return result


def _mean(values: list[Any]) -> float | None:
    numbers = [v for v in values if v is not None]
    return sum(numbers) / len(numbers) if numbers else None


def _counts(runs: list[Any], key: str = "outcome") -> dict[str, int]:
    out: dict[str, int] = {}
    for r in runs:
        if r.summary.get(key):
            out[r.summary[key]] = out.get(r.summary[key], 0) + 1
    return out


def _median(frames: list[pd.DataFrame]) -> pd.DataFrame:
    return frames[0] if len(frames) == 1 else pd.concat(frames).groupby("period").median().reset_index()
