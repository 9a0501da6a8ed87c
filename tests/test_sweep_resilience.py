"""Sweeps survive a killed driver or worker and a damaged folder, and run unchanged on a Dask cluster.

Every interruption (SIGKILL or SIGTERM of the driver or of a worker, a flipped byte, a
truncated chunk, a damaged sweep.json or runs.parquet) is followed by --resume, which must
give a runs.parquet byte-identical to an uninterrupted sweep's, and no worker process may
outlive its driver. Slow: real processes.
"""

from __future__ import annotations

import os
import shutil
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
    proc = start(sweep_file, out, chunks=1)
    # the pool's workers are the deepest processes (main -> forkserver -> workers)
    tree = descendants(proc.pid)
    deepest = max(depth for _, depth in tree)
    victim = next(pid for pid, depth in tree if depth == deepest)
    os.kill(victim, signal.SIGKILL)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 1, err
    assert "worker process died" in err and "--resume" in err
    total = len(load_sweep(sweep_file).chunks())
    done = len(list((out / "chunks").glob("done-*.json")))
    assert 0 < done < total
    assert not (out / "runs.parquet").exists()

    assert main(["sweep", str(sweep_file), "--out", str(out), "--workers", "2", "--resume", "--quiet"]) == 0
    for name in ("runs.parquet", "series.parquet"):
        assert (out / name).read_bytes() == (reference / name).read_bytes(), name


def start(sweep_file: Path, out: Path, chunks: int = 3) -> subprocess.Popen:
    """The sweep in its own process (2 workers), once it has published its first ``chunks`` chunks."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "sim", "sweep", str(sweep_file), "--out", str(out), "--workers", "2", "--quiet"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while len(list((out / "chunks").glob("done-*.json")) if (out / "chunks").is_dir() else []) < chunks:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "no chunk appeared"
        time.sleep(0.01)
    return proc


def alive(pid: int) -> bool:
    """Whether a process exists and is not a zombie (a reparented zombie may wait for a busy init)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def assert_gone(pids: list[int], seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while any(alive(p) for p in pids):
        assert time.monotonic() < deadline, f"left behind: {[p for p in pids if alive(p)]}"
        time.sleep(0.05)


def resume_matches(sweep_file: Path, out: Path, reference: Path, capsys) -> str:
    """--resume in this process; runs.parquet and series.parquet must equal the reference's; its stderr."""
    capsys.readouterr()
    assert main(["sweep", str(sweep_file), "--out", str(out), "--workers", "2", "--resume", "--quiet"]) == 0
    for name in ("runs.parquet", "series.parquet"):
        assert (out / name).read_bytes() == (reference / name).read_bytes(), name
    return capsys.readouterr().err


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="finds worker processes through /proc")
@pytest.mark.parametrize(
    "signum, code, words",
    [(signal.SIGKILL, -9, ""), (signal.SIGTERM, 143, "terminated by SIGTERM")],
    ids=["SIGKILL", "SIGTERM"],
)
def test_workers_die_with_the_driver_and_resume_equals_an_uninterrupted_sweep(
    sweep_file, reference, tmp_path, capsys, signum, code, words
):
    out = tmp_path / "driver"
    proc = start(sweep_file, out)
    workers = [pid for pid, _ in descendants(proc.pid)]
    assert workers
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == code, err
    if words:
        assert words in err and "--resume" in err and "Traceback" not in err
    assert_gone(workers)
    resume_matches(sweep_file, out, reference, capsys)


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="finds worker processes through /proc")
def test_a_terminated_worker_stops_the_sweep_and_resume_equals_an_uninterrupted_sweep(
    sweep_file, reference, tmp_path, capsys
):
    out = tmp_path / "worker"
    proc = start(sweep_file, out)
    tree = descendants(proc.pid)
    deepest = max(depth for _, depth in tree)
    os.kill(next(pid for pid, depth in tree if depth == deepest), signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 1 and "worker process died" in err and "--resume" in err, err
    assert_gone([pid for pid, _ in tree])
    resume_matches(sweep_file, out, reference, capsys)


def test_damaged_chunks_and_files_are_found_and_rebuilt_by_resume(sweep_file, reference, tmp_path, capsys):
    out = tmp_path / "damaged"
    shutil.copytree(reference, out)
    chunks = sorted((out / "chunks").glob("runs-*.parquet"))
    data = bytearray(chunks[3].read_bytes())
    data[len(data) // 2] ^= 0x01  # one flipped bit
    chunks[3].write_bytes(bytes(data))
    series = sorted((out / "chunks").glob("series-*.parquet"))[7]
    series.write_bytes(series.read_bytes()[:100])  # truncated
    (out / "chunks" / chunks[9].name).unlink()  # lost
    err = resume_matches(sweep_file, out, reference, capsys)
    assert "re-running 3 damaged chunk(s)" in err

    (out / "sweep.json").write_text('{"truncated', encoding="utf-8")
    assert main(["analyze", str(out), "--no-tipping"]) == 2
    assert "sweep.json is damaged" in capsys.readouterr().err
    assert "sweep.json was damaged; rebuilt it" in resume_matches(sweep_file, out, reference, capsys)

    with (out / "runs.parquet").open("ab") as handle:
        handle.write(b"junk")
    assert main(["analyze", str(out), "--no-tipping"]) == 2
    err = capsys.readouterr().err
    assert "runs.parquet does not match the SHA-256" in err and "--resume" in err
    assert main(["query", str(out), "SELECT count(*) FROM runs"]) == 2
    resume_matches(sweep_file, out, reference, capsys)
    assert main(["analyze", str(out), "--no-tipping"]) == 0


def test_a_dask_cluster_gives_the_same_results_as_local_processes(sweep_file, reference, tmp_path):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster:
        out = tmp_path / "dask"
        assert (
            main(["sweep", str(sweep_file), "--out", str(out), "--scheduler", cluster.scheduler_address, "--quiet"])
            == 0
        )
    for name in ("runs.parquet", "series.parquet"):
        assert (out / name).read_bytes() == (reference / name).read_bytes(), name
