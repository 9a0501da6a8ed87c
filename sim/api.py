"""The Python entry points behind ``from sim import ...``: run a scenario and, when asked, write its folder.

The runs layer returns results and writes nothing; these two functions add the one
thing a notebook or script usually wants next, ``out=``: the complete run folder
(summary, series, charts, report.html, report.xlsx, manifest), written atomically.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sim.inputs.schema import Scenario
from sim.reports.run_folder import write_replicates, write_run
from sim.runs import runner
from sim.runs.runner import Progress, ReplicateResult, RunResult


def run_scenario(
    scenario: Scenario | str | Path,
    seed: int | None = None,
    out: str | Path | None = None,
    *,
    overrides: dict[str, Any] | None = None,
    counterfactual: bool = True,
    record_agents_every: int = 1,
    progress: Progress | None = None,
    command: Sequence[str] | None = None,
) -> RunResult:
    """Run a scenario once and, with ``out``, write its outputs there.

    ``scenario`` may be a loaded :class:`Scenario`, a bundled name or a path. ``seed``
    defaults to the scenario's own. With ``counterfactual`` the same market is also run
    without discounts, so the report can say what discounting cost each side.
    """
    result = runner.run_scenario(
        scenario,
        seed,
        overrides=overrides,
        counterfactual=counterfactual,
        record_agents_every=record_agents_every,
        progress=progress,
    )
    if out is not None:
        result.out = write_run(result, Path(out), command=command)
    return result


def run_replicates(
    scenario: Scenario | str | Path,
    replicates: int,
    seed: int | None = None,
    out: str | Path | None = None,
    *,
    overrides: dict[str, Any] | None = None,
    record_agents_every: int = 1,
    progress: Progress | None = None,
    command: Sequence[str] | None = None,
) -> ReplicateResult:
    """Run a scenario over ``replicates`` seeds derived from ``seed`` and, with ``out``, write the folder."""
    result = runner.run_replicates(
        scenario, replicates, seed, overrides=overrides, record_agents_every=record_agents_every, progress=progress
    )
    if out is not None:
        result.out = write_replicates(result, Path(out), command=command)
    return result
