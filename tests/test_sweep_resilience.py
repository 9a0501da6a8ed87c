"""Sweeps survive a killed worker and run unchanged on a Dask cluster (slow: real processes)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from sim.cli import main
from sim.experiments import load_sweep, run_sweep
from sim.experiments.runner import InlineExecutor

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def sweep_file(tmp_path_factory) -> Path:
    """60 design points x 2 seeds of a 100-customer market: a few seconds on two workers."""
    folder = tmp_path_factory.mktemp("resilience")
    path = folder / "resilience.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "base": "procurement_squeeze",
                "set": {"customers.count": 100, "periods": 32},
                "design": {
                    "grid": {
                        "customers.procurement.savings_target": {"from": 0.0, "to": 0.19, "steps": 20},
                        "suppliers.margin_defense": [0.0, 0.5, 1.0],
                    }
                },
                "replicates": 2,
                "seed": 9,
                "chunk_size": 2,
                "outputs": {"series": "every_k", "every": 8},
            }
        )
    )
    return path


@pytest.fixture(scope="module")
def reference(sweep_file, tmp_path_factory) -> Path:
    """The same sweep, uninterrupted, in one process."""
    out = tmp_path_factory.mktemp("reference") / "out"
    run_sweep(load_sweep(sweep_file), out, executor=InlineExecutor())
    return out


def descendants(pid: int) -> list[tuple[int, int]]:
    """(pid, depth) of every process below ``pid``, from /proc."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            parents.setdefault(ppid, []).append(int(entry.name))
    found, frontier = [], [(pid, 0)]
    while frontier:
        current, depth = frontier.pop()
        for child in parents.get(current, []):
            found.append((child, depth + 1))
            frontier.append((child, depth + 1))
    return found


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="finds worker processes through /proc")
def test_resume_after_a_killed_worker_equals_an_uninterrupted_sweep(sweep_file, reference, tmp_path):
    out = tmp_path / "killed"
    proc = subprocess.Popen(
        [sys.executable, "-m", "sim", "sweep", str(sweep_file), "--out", str(out), "--workers", "2", "--quiet"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while not list((out / "chunks").glob("runs-*.parquet")) if (out / "chunks").is_dir() else True:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "no chunk appeared"
        time.sleep(0.01)
    # the pool's workers are the deepest processes (main -> forkserver -> workers)
    tree = descendants(proc.pid)
    deepest = max(depth for _, depth in tree)
    victim = next(pid for pid, depth in tree if depth == deepest)
    os.kill(victim, signal.SIGKILL)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 1, err
    assert "worker process died" in err and "--resume" in err
    total = len(load_sweep(sweep_file).chunks())
    done = len(list((out / "chunks").glob("runs-*.parquet")))
    assert 0 < done < total
    assert not (out / "runs.parquet").exists()

    assert main(["sweep", str(sweep_file), "--out", str(out), "--workers", "2", "--resume", "--quiet"]) == 0
    for name in ("runs.parquet", "series.parquet"):
        assert (out / name).read_bytes() == (reference / name).read_bytes(), name


def test_a_dask_cluster_gives_the_same_results_as_local_processes(sweep_file, reference, tmp_path):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        out = tmp_path / "dask"
        assert (
            main(["sweep", str(sweep_file), "--out", str(out), "--scheduler", cluster.scheduler_address, "--quiet"])
            == 0
        )
    for name in ("runs.parquet", "series.parquet"):
        assert (out / name).read_bytes() == (reference / name).read_bytes(), name
