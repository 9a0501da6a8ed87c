"""Answers over a posterior: each replicate of ``run``, ``compare`` or ``whatif`` draws its fitted parameters.

``--posterior DIR`` names a finished calibration. :class:`Drawing` draws one weighted
posterior particle per replicate (seeded, so the same command gives the same draws) and
gives each replicate's scenario: the base scenario with the fitted paths set to that
particle's values. Both sides of a comparison or what-if get the same draw in the same
replicate (as they get the same seed), so their difference is the question's, not the
draw's; a path the command sets itself (``--set``) keeps its own value. The spread of the
answer then holds the parameters' uncertainty as well as the seeds'; the reports say so
in the one sentence :meth:`Drawing.sentence` writes.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.calibration.spec import build, scenario_data
from sim.errors import InputError
from sim.inputs.schema import Scenario


@dataclass(frozen=True)
class Posterior:
    """A finished calibration's posterior: the fitted paths and the weighted particles."""

    folder: Path
    scenario: str
    paths: tuple[str, ...]
    names: tuple[str, ...]
    values: np.ndarray  # (particles, paths)
    weights: np.ndarray  # (particles,), summing to 1


def read_posterior(folder: str | Path) -> Posterior:
    """Read ``summary.json`` and ``posterior.parquet`` of a calibration folder (``procsim calibrate --out``)."""
    folder = Path(folder)
    summary_path, parquet = folder / "summary.json", folder / "posterior.parquet"
    if not folder.is_dir():
        raise InputError(
            "is not a folder (give the --out folder of a finished procsim calibrate)",
            source=str(folder),
            field="--posterior",
        )
    if not summary_path.is_file() or not parquet.is_file():
        unfinished = (folder / "calibration.json").is_file()
        raise InputError(
            "this calibration has not finished (resume it with procsim calibrate ... --resume)"
            if unfinished
            else "holds no calibration (no summary.json and posterior.parquet from procsim calibrate)",
            source=str(folder),
            field="--posterior",
        )
    try:
        summary = json.loads(summary_path.read_text(encoding="utf-8"))
        paths = tuple(str(f["path"]) for f in summary["fits"])
        frame = pd.read_parquet(parquet)
        values = frame[list(paths)].to_numpy(dtype=float)
        weights = frame["weight"].to_numpy(dtype=float)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputError(
            f"cannot read the calibration ({type(exc).__name__}); it is damaged: run procsim calibrate again",
            source=str(folder),
            field="--posterior",
        ) from None
    if summary.get("kind") != "calibration" or not len(values) or not np.all(np.isfinite(values)):
        raise InputError("holds no usable posterior", source=str(folder), field="--posterior")
    if not np.all(weights >= 0) or not weights.sum() > 0:
        raise InputError("the posterior's weights are damaged", source=str(folder), field="--posterior")
    names = tuple(p.rsplit(".", 1)[-1].replace("_", " ") for p in paths)
    return Posterior(folder, str(summary.get("scenario", "")), paths, names, values, weights / weights.sum())


@dataclass
class Drawing:
    """One posterior particle per replicate, and the replicates' scenarios (built once each)."""

    posterior: Posterior
    replicates: int
    seed: int
    picks: np.ndarray = field(init=False)
    _built: dict[tuple[int, int], Scenario] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        rng = np.random.default_rng([int(self.seed), 23])
        self.picks = rng.choice(len(self.posterior.weights), size=self.replicates, p=self.posterior.weights)

    def values(self, replicate: int) -> np.ndarray:
        return self.posterior.values[self.picks[replicate]]

    def scenario(self, base: Scenario, replicate: int) -> Scenario:
        """``base`` with the fitted paths at this replicate's draw (paths ``base`` was ``--set`` with keep theirs)."""
        key = (id(base), replicate)
        if key not in self._built:
            own = set(base.overrides)
            chosen = [(p, v) for p, v in zip(self.posterior.paths, self.values(replicate), strict=True) if p not in own]
            built = build(scenario_data(base), [p for p, _ in chosen], [v for _, v in chosen], str(base.source))
            built.overrides, built.source = dict(base.overrides), base.source
            self._built[key] = built
        return self._built[key]

    def check(self, base: Scenario) -> None:
        """Refuse a base scenario the posterior's paths do not fit, before anything runs."""
        try:
            self.scenario(base, 0)
        except InputError as exc:
            raise InputError(
                f"the posterior's parameters do not fit {base.name}: {exc}",
                source=str(self.posterior.folder),
                field="--posterior",
            ) from None

    def sentence(self) -> str:
        """The reports' one sentence on what the ranges hold."""
        names = list(self.posterior.names)
        listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
        return (
            f"Each of the {self.replicates} replicates drew its {listed} from the posterior of calibration "
            f"{self.posterior.folder.name}, so the ranges include the uncertainty of these parameters."
        )

    def summary(self) -> dict[str, Any]:
        """``summary["posterior"]``: where the draws came from, each replicate's values, the sentence."""
        return {
            "folder": str(self.posterior.folder),
            "paths": list(self.posterior.paths),
            "draws": [[float(v) for v in self.values(i)] for i in range(self.replicates)],
            "sentence": self.sentence(),
        }


def run_replicates(
    scenario: Scenario,
    drawing: Drawing,
    seed: int,
    *,
    record_agents_every: int = 1,
    progress: Callable[[int], None] | None = None,
) -> Any:
    """``procsim run --posterior``: the replicates, each with its own draw and seed, summarised as replicates are."""
    from sim.runs.runner import ReplicateResult, replicate_seeds, replicate_summary, simulate

    start = time.perf_counter()
    seeds = replicate_seeds(seed, drawing.replicates)
    runs = [
        simulate(drawing.scenario(scenario, i), s, record_agents_every=record_agents_every, progress=progress)
        for i, s in enumerate(seeds)
    ]
    summary = replicate_summary(scenario, seed, runs)
    summary["posterior"] = drawing.summary()
    return ReplicateResult(scenario, seed, runs, summary, time.perf_counter() - start, seeds=seeds)


def drawing(folder: str | Path | None, replicates: int, seed: int, *bases: Scenario) -> Drawing | None:
    """``--posterior DIR``: the draws for ``replicates`` (None without a folder), checked against ``bases``."""
    if folder is None:
        return None
    if replicates < 2:
        raise InputError(
            "each replicate draws its parameters from the posterior: give --replicates 2 or more (e.g. 20)",
            field="--posterior",
        )
    found = Drawing(read_posterior(folder), replicates, seed)
    for base in bases:
        found.check(base)
    return found
