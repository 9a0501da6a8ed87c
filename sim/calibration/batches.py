"""Parameter sets simulated as ensembles on any executor, each batch kept on disk for ``--resume``.

ABC proposes parameter sets; :class:`Simulator` cuts them into tasks of a fixed size (so
the same calibration makes the same tasks on one worker, many, or a Dask cluster), runs
each task's runs as one vectorised ensemble (``run_ensemble``, the sweep's engine: each
run identical to its single run) wherever the executor puts it, and keeps every finished
task as a small file. A resumed calibration replays the same proposals (all its randomness
is seeded) and takes each task that is on disk, with the very parameters and seeds, from
there instead of simulating it again.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor, Future, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sim.calibration.spec import Builder, Calibration
from sim.runs.resources import (
    BATCHED_SECONDS_PER_CUSTOMER_PERIOD,
    BATCHED_SECONDS_PER_RUN,
    ENSEMBLE_BYTES_PER_CUSTOMER,
    PROCESS_BYTES,
    Estimate,
    MiB,
)

ENSEMBLE_ROWS = 50_000  # customers in one task's ensemble at most (as a sweep's batches)
MAX_TASK_RUNS = 64  # runs per task at most: small enough to share a round between workers
# pyabc's share (benchmarks/bench_calibration.py): importing it and compiling the passes, then per parameter
# set its proposal, distance, weight and bookkeeping in the driver.
FIXED_SECONDS = 10.0
SECONDS_PER_PROPOSAL = 1e-3


@dataclass(frozen=True)
class Task:
    """Runs of some parameter sets: everything a worker needs, picklable."""

    data: dict[str, Any]  # the scenario as data
    paths: tuple[str, ...]
    values: np.ndarray  # (sets, parameters)
    seeds: np.ndarray  # (sets, replicates)
    series: tuple[str, ...]
    periods: np.ndarray | None  # the periods to return (None: every period of the horizon)
    source: str


def simulate(task: Task) -> np.ndarray:
    """Each parameter set's series at the task's periods, averaged over its seeds: (sets, series, periods).

    The runs of a task are one ensemble without the outlook (calibration compares the
    horizon only); a value the model leaves undefined counts as 0.
    """
    from sim.runs.runner import run_ensemble

    sets, replicates = task.seeds.shape
    builder = Builder(task.data, task.paths, task.source)
    scenarios = [builder(row) for row in task.values]
    results = run_ensemble(
        [scenarios[i] for i in range(sets) for _ in range(replicates)], task.seeds.reshape(-1).tolist(), outlook=False
    )
    matrices = []
    for result in results:
        matrix = np.array([np.asarray(result.series[name], dtype=float) for name in task.series])
        matrices.append(matrix if task.periods is None else matrix[:, task.periods])
    stacked = np.nan_to_num(np.array(matrices), nan=0.0, posinf=0.0, neginf=0.0)
    return stacked.reshape(sets, replicates, *stacked.shape[1:]).mean(axis=1)


def task_size(calibration: Calibration) -> int:
    """Parameter sets per task: about MAX_TASK_RUNS runs, fewer for large markets."""
    runs = max(1, min(MAX_TASK_RUNS, ENSEMBLE_ROWS // max(calibration.scenario.n_customers, 1)))
    return max(1, runs // calibration.replicates)


class Simulator:
    """Simulates rounds of proposals through an executor, counting runs and keeping finished tasks."""

    def __init__(
        self,
        calibration: Calibration,
        executor: Executor,
        folder: Path | None = None,
        progress: Callable[[int], None] | None = None,
    ):
        self.calibration = calibration
        self.executor = executor
        self.folder = folder
        self.progress = progress
        self.size = task_size(calibration)
        self.proposals = 0  # parameter sets simulated (or taken from disk) so far
        self.reused = 0  # of them, taken from disk
        self.source = str(calibration.scenario.source or calibration.scenario.name)

    @property
    def runs(self) -> int:
        return self.proposals * self.calibration.replicates

    @property
    def left(self) -> int:
        """Parameter sets the budget still pays for."""
        return self.calibration.proposals - self.proposals

    def seeds(self, call: int, round_: int, sets: int) -> np.ndarray:
        """Seeds of a round's runs: (sets, replicates), from the calibration's seed, the call and the round."""
        sequence = np.random.SeedSequence([self.calibration.seed, call, round_])
        state = sequence.generate_state(sets * self.calibration.replicates, dtype=np.uint32)
        return state.astype(np.int64).reshape(sets, self.calibration.replicates)

    def statistics(self, call: int, round_: int, values: np.ndarray) -> np.ndarray:
        """The observed series at the observed periods for every proposal of a round: (sets, series, periods)."""
        seeds = self.seeds(call, round_, len(values))
        return self._run(self._tasks(values, seeds, self.calibration.observed.periods), (call, round_))

    def series(self, values: np.ndarray, seeds: np.ndarray) -> np.ndarray:
        """The observed series over the whole horizon for each parameter set: (sets, series, periods); not kept."""
        return self._run(self._tasks(values, seeds, None), None)

    def _tasks(self, values: np.ndarray, seeds: np.ndarray, periods: np.ndarray | None) -> list[Task]:
        cal = self.calibration
        return [
            Task(cal.data, cal.paths, values[at : at + self.size], seeds[at : at + self.size], cal.observed.series,
                 periods, self.source)
            for at in range(0, len(values), self.size)
        ]  # fmt: skip

    def _run(self, tasks: list[Task], kept_as: tuple[int, int] | None) -> np.ndarray:
        """Every task's result in order: from disk where kept (``kept_as``: call and round), else simulated."""
        found: dict[int, np.ndarray] = {}
        pending: dict[Future, int] = {}
        for index, task in enumerate(tasks):
            kept = self._kept(*kept_as, index, task) if kept_as else None
            if kept is not None:
                found[index] = kept
                self._count(len(task.values), reused=True)
            else:
                pending[self.executor.submit(simulate, task)] = index
        try:
            for future in as_completed(pending):
                index = pending[future]
                found[index] = future.result()
                if kept_as:
                    self._keep(*kept_as, index, tasks[index], found[index])
                self._count(len(tasks[index].values))
        except BaseException:
            for future in pending:
                future.cancel()
            raise
        return np.concatenate([found[i] for i in range(len(tasks))])

    def _count(self, sets: int, reused: bool = False) -> None:
        self.proposals += sets
        self.reused += sets if reused else 0
        if self.progress:
            self.progress(sets * self.calibration.replicates)

    def _path(self, call: int, round_: int, index: int) -> Path | None:
        if self.folder is None:
            return None
        return self.folder / f"c{call:03d}-r{round_:03d}-t{index:04d}.npz"

    def _kept(self, call: int, round_: int, index: int, task: Task) -> np.ndarray | None:
        """A finished task from disk, if it holds exactly these parameter sets and seeds."""
        path = self._path(call, round_, index)
        if path is None or not path.is_file():
            return None
        try:
            with np.load(path) as kept:
                same = np.array_equal(kept["values"], task.values) and np.array_equal(kept["seeds"], task.seeds)
                stats = kept["statistics"]
        except (OSError, ValueError, KeyError, EOFError):
            return None  # damaged: simulate again
        return stats if same and stats.shape[:2] == (len(task.values), len(task.series)) else None

    def _keep(self, call: int, round_: int, index: int, task: Task, stats: np.ndarray) -> None:
        path = self._path(call, round_, index)
        if path is None:
            return
        from sim.reports.files import atomic_path

        with atomic_path(path) as tmp, open(tmp, "wb") as handle:
            np.savez(handle, values=task.values, seeds=task.seeds, statistics=stats)


def estimate(calibration: Calibration, workers: int, draws: int = 100) -> Estimate:
    """Memory, disk and time of a calibration before it starts: the budget's runs as a sweep's batched runs
    (no outlook), ``draws`` more for the fit band, and pyabc's bookkeeping per parameter set."""
    n, periods = calibration.scenario.n_customers, calibration.scenario.periods
    runs = calibration.budget + draws
    per_task = task_size(calibration) * calibration.replicates
    memory = 2 * PROCESS_BYTES + max(workers, 1) * (PROCESS_BYTES + per_task * n * ENSEMBLE_BYTES_PER_CUSTOMER)
    one = BATCHED_SECONDS_PER_RUN + BATCHED_SECONDS_PER_CUSTOMER_PERIOD * n * periods
    seconds = FIXED_SECONDS + runs * one / max(workers, 1) + calibration.proposals * SECONDS_PER_PROPOSAL
    stats = len(calibration.observed.series) * len(calibration.observed.periods)
    disk = calibration.proposals * 8 * (len(calibration.fits) + calibration.replicates + stats) + 5 * MiB
    what = f"calibration: up to {calibration.budget:,} runs of {n:,} customers"
    return Estimate(what, memory, disk, seconds)
