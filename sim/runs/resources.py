"""Will it fit? Memory, disk and time of a run, comparison or sweep, estimated from its size before it starts.

A run that cannot fit should be refused in a second with the estimate, not end in a
MemoryError after minutes. The constants below were measured with
``python benchmarks/bench_resources.py`` (each workload in a fresh process; memory is the
resident-set high-water mark above the process after its imports, fitted by least squares
over 5,000-60,000 customers x 20-80 periods; the 2-core development machine, shared, so
the times are rough). They describe Model 1.x; re-measure when the model's state grows.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sim.errors import InputError

if TYPE_CHECKING:
    from sim.inputs.schema import Scenario

MiB = 2**20
PROCESS_BYTES = 300 * MiB  # an interpreter with numpy, pandas, Mesa, matplotlib, pyarrow and numba imported
MODEL_BYTES_PER_CUSTOMER = 1_100  # state arrays, Mesa agent objects, peer network ("sim" fit: 1,103)
RECORD_BYTES_PER_CUSTOMER_PERIOD = (
    660  # per-agent series in memory and the agents table built from them ("run" fit: 653)
)
OUTPUT_BYTES = 55 * MiB  # figures and report of one run ("run" fit intercept: 53 MB)
DISK_BYTES_PER_CUSTOMER_PERIOD = 20  # agents.parquet, zstd (15.8 MB for 20,000 customers x 40 periods)
# One run's time: fitted to the "sim" runs together with benchmarks/README.md's direct run of
# 300 customers x 40 periods (55.6 ms); within about 1.5x of every measured point.
SECONDS_PER_RUN = 0.02  # building a model and summarising it
SECONDS_PER_PERIOD = 0.5e-3  # numpy and Python call overhead of a period, whatever the market's size
SECONDS_PER_CUSTOMER_PERIOD = 150e-9  # simulating ("sim" fit alone: 161 ns)
RECORD_SECONDS_PER_CUSTOMER_PERIOD = 1.6e-6  # per-agent rows to agents.parquet ("run" fit 1.93 us, less two sims)
OUTPUT_SECONDS = 2.4  # figures, report, counterfactual and outlook (Model 2.0: a "run" of 5,000 x 20 takes 2.6 s)
# A sweep's batches (issue 13): an ensemble holds every run's state, the outlook's copy and the
# temporaries of its stages (measured: 397-455 MiB RSS for batches of 150 runs of 300
# customers with the compiled passes, less the process: 2.2-3.6 kB a customer; 4 kB keeps a
# margin), and a batched run costs its set-up, summary and files (0.6 ms) plus the simulation
# at the ensemble's pace (about 110 ns a customer-period): 1.9 ms a run of 300 customers x 40
# periods, as benchmarks/README.md's sweep benchmark measures (472-532 runs/s on one worker).
ENSEMBLE_BYTES_PER_CUSTOMER = 4_000
BATCHED_SECONDS_PER_RUN = 0.6e-3
BATCHED_SECONDS_PER_CUSTOMER_PERIOD = 110e-9
SWEEP_ROW_BYTES = 300  # one runs.parquet or series.parquet row in memory while compacting (measured: 289, 272)
SWEEP_ROW_DISK = 200  # the same row on disk, chunk and compacted file each (measured: 206, 174)
HEADROOM = 0.9  # refuse above this share of the memory (or disk) available


@dataclass(frozen=True)
class Estimate:
    """Peak memory and disk in bytes and wall time in seconds of one piece of work."""

    what: str
    memory: int
    disk: int
    seconds: float

    def describe(self) -> str:
        return (
            f"{self.what}: about {size(self.memory)} of memory, {size(self.disk)} on disk and {duration(self.seconds)}"
        )


def size(n: float) -> str:
    for unit, scale in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n:.0f} bytes"


def duration(seconds: float) -> str:
    if seconds < 90:
        return f"{max(seconds, 1):.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.1f} hours"
    return f"{seconds / 86400:.1f} days"


def simulated_periods(scenario: Scenario) -> int:
    """Periods one run of ``scenario`` simulates: the horizon and, at most, the outlook beyond it (no series)."""
    return scenario.periods + int(getattr(scenario, "outlook_periods", 0) or 0)


def model_bytes(customers: int, recorded_periods: int = 0) -> int:
    """Memory of one model held in memory, with ``recorded_periods`` of per-agent series."""
    return int(customers * (MODEL_BYTES_PER_CUSTOMER + RECORD_BYTES_PER_CUSTOMER_PERIOD * recorded_periods))


def run_seconds(customers: int, simulated: int, recorded_periods: int = 0) -> float:
    """Wall time of one run that simulates ``simulated`` periods and records ``recorded_periods`` of agents."""
    return (
        SECONDS_PER_RUN
        + SECONDS_PER_PERIOD * simulated
        + SECONDS_PER_CUSTOMER_PERIOD * customers * simulated
        + RECORD_SECONDS_PER_CUSTOMER_PERIOD * customers * recorded_periods
    )


def for_run(scenario: Scenario, *, replicates: int = 1, counterfactual: bool = True) -> Estimate:
    """``procsim run``: every replicate's model and agent series stay in memory until the files are written."""
    n, periods, sim = scenario.n_customers, scenario.periods, simulated_periods(scenario)
    extra = 1 if counterfactual and replicates == 1 else 0  # the no-discount run, without agent series
    memory = PROCESS_BYTES + OUTPUT_BYTES + replicates * model_bytes(n, periods) + extra * model_bytes(n)
    if replicates > 1:
        memory += replicates * n * periods * RECORD_BYTES_PER_CUSTOMER_PERIOD // 2  # the replicates' agents joined
    seconds = OUTPUT_SECONDS + replicates * run_seconds(n, sim, periods) + extra * run_seconds(n, sim)
    disk = replicates * n * periods * DISK_BYTES_PER_CUSTOMER_PERIOD + 2 * MiB
    runs = f"{replicates} runs" if replicates > 1 else "1 run"
    return Estimate(f"{runs} of {n:,} customers x {periods:,} periods", memory, disk, seconds)


def for_compare(a: Scenario, b: Scenario, *, replicates: int = 1) -> Estimate:
    """``procsim compare`` and ``whatif``: both sides' models (no agent series) for every replicate stay in memory."""
    memory = PROCESS_BYTES + OUTPUT_BYTES + replicates * (model_bytes(a.n_customers) + model_bytes(b.n_customers))
    seconds = OUTPUT_SECONDS + replicates * (
        run_seconds(a.n_customers, simulated_periods(a)) + run_seconds(b.n_customers, simulated_periods(b))
    )
    disk = 2 * replicates * 500 * (a.periods + b.periods) + 2 * MiB
    return Estimate(f"2 x {replicates} runs of {max(a.n_customers, b.n_customers):,} customers", memory, disk, seconds)


def for_evaluations(scenario: Scenario, runs: int, workers: int, what: str) -> Estimate:
    """New runs without files (the tipping-point search): one model per worker."""
    n = scenario.n_customers
    memory = PROCESS_BYTES + workers * (PROCESS_BYTES + model_bytes(n))
    seconds = runs * run_seconds(n, simulated_periods(scenario)) / max(workers, 1)
    return Estimate(f"{what}: {runs:,} runs of {n:,} customers", memory, 0, seconds)


def available_memory() -> int | None:
    """Memory this process could still get: the smaller of the machine's available memory and a cgroup limit."""
    limits = []
    try:
        with open("/proc/meminfo") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    limits.append(int(line.split()[1]) * 1024)
    except OSError:
        pass
    try:
        cap = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        used = int(Path("/sys/fs/cgroup/memory.current").read_text())
        if cap != "max":
            limits.append(int(cap) - used)
    except (OSError, ValueError):
        pass
    if not limits:
        try:
            limits.append(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
        except (OSError, ValueError, AttributeError):
            return None
    return max(min(limits), 0)


def free_disk(path: Path) -> int | None:
    """Free bytes on the file system that will hold ``path`` (its nearest existing ancestor)."""
    probe = Path(os.path.abspath(path))
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    try:
        return shutil.disk_usage(probe).free
    except OSError:
        return None


def check(estimate: Estimate, out: Path | None, *, force: bool = False) -> None:
    """Refuse (InputError, exit 2) work that needs more memory or disk than this machine has, unless ``force``."""
    if force:
        return
    memory = available_memory()
    if memory is not None and estimate.memory > HEADROOM * memory:
        raise InputError(
            f"too big for this machine: {estimate.describe()}, but only {size(memory)} of memory is available; "
            "make it smaller (fewer customers, periods or replicates; fewer --workers) or add --force to try anyway"
        )
    disk = free_disk(out) if out is not None else None
    if disk is not None and estimate.disk > HEADROOM * disk:
        raise InputError(
            f"too big for this disk: {estimate.describe()}, but only {size(disk)} is free; free some space, "
            "choose another --out, or add --force to try anyway",
            source=str(out),
        )


def release_free_memory() -> None:
    """Free what is no longer used now and hand the allocator's free memory back to the system.

    A model and its markets refer to each other, so a finished ensemble waits for the cyclic
    garbage collector; and glibc keeps freed heap pages for reuse (malloc_trim returns them;
    a no-op without glibc). Without this, a sweep worker's resident memory grew by about
    70 MiB per batch of 150 runs (880 MiB after 1,000 runs, against a 500 MiB peak with it).
    """
    gc.collect()
    # What survives is long-lived (modules, the sweep's own tables): later collections skip it, so
    # the next one costs milliseconds instead of the 80 ms a full scan of the heap takes.
    gc.freeze()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).malloc_trim(0)
