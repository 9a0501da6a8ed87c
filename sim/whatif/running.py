"""Running a what-if's sides: every side on the same seeds, all of them batched into as few ensembles as fit.

A what-if is many runs of nearly the same market (the base and one or more changed
markets, each over the same seeds), the case the ensemble engine is for: markets that
share the horizon and the contract cycle step together as one array program. Each run's
result, per-account totals included, is exactly its single run's (``run_ensemble``), so
batching changes how fast an answer comes, never the answer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from sim.inputs.schema import Scenario
from sim.runs.runner import RunResult, run_ensemble

MAX_CUSTOMERS = 60_000  # customers per ensemble: a few hundred MB at most, as a sweep's batches


def run_sides(
    sides: Mapping[str, Scenario],
    seeds: Sequence[int],
    *,
    progress: Callable[[int], None] | None = None,
    per_replicate: Callable[[Scenario, int], Scenario] | None = None,
) -> dict[str, list[RunResult]]:
    """Each side over ``seeds``; markets that can share an ensemble do, up to ``MAX_CUSTOMERS`` customers each.

    ``per_replicate(scenario, i)``, if given, is replicate ``i``'s scenario of a side (a posterior's draw).
    """
    jobs = [
        (name, per_replicate(scenario, i) if per_replicate else scenario, seed)
        for name, scenario in sides.items()
        for i, seed in enumerate(seeds)
    ]
    groups: dict[tuple[int, int], list[tuple[str, Scenario, int]]] = {}
    for job in jobs:
        key = (job[1].periods, job[1].market.contract_cycle)
        groups.setdefault(key, []).append(job)
    runs: dict[str, list[RunResult]] = {name: [] for name in sides}
    for group in groups.values():
        for batch in _batches(group):
            results = run_ensemble(
                [scenario for _, scenario, _ in batch],
                [seed for _, _, seed in batch],
                totals=True,
                track_demand=True,
                progress=progress,
            )
            for (name, _, _), result in zip(batch, results, strict=True):
                runs[name].append(result)
    return runs


def _batches(jobs: list[tuple[str, Scenario, int]]) -> list[list[tuple[str, Scenario, int]]]:
    """Consecutive jobs, cut where the next would take an ensemble past ``MAX_CUSTOMERS``."""
    out: list[list[tuple[str, Scenario, int]]] = [[]]
    size = 0
    for job in jobs:
        n = job[1].n_customers
        if out[-1] and size + n > MAX_CUSTOMERS:
            out.append([])
            size = 0
        out[-1].append(job)
        size += n
    return out
