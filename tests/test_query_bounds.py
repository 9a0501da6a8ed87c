"""``procsim query`` is bounded: time, memory and rows; signals stop DuckDB; every sweep folder answers (issue 19, 22).

A query runs over a sweep's own files only, so it cannot read or write anything else
(tests/test_hardening.py); here it also cannot run forever, exhaust memory, flood the
terminal, read a file from DuckDB's temporary folder, or ignore Ctrl-C and SIGTERM. A
sweep whose result files carry no checksum to verify them is queried with a warning, and
a sweep that kept no series answers queries over its runs.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml

from sim.cli import main
from sim.experiments import sql as bounded

from .test_hardening import TINY_SWEEP

ENDLESS = "SELECT count(*) FROM range(10000000000000)"
RECURSIVE = "WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t) SELECT count(*) FROM t"


def _sweep(folder: Path, **extra) -> Path:
    spec = folder / "s.yaml"
    spec.write_text(yaml.safe_dump({**TINY_SWEEP, "replicates": 2, **extra}))
    out = folder / "out"
    assert main(["sweep", str(spec), "--out", str(out), "--workers", "1", "--quiet"]) == 0
    return out


@pytest.fixture(scope="module")
def sweep_folder(tmp_path_factory) -> Path:
    return _sweep(tmp_path_factory.mktemp("bounded"))


@pytest.mark.parametrize("sql", [ENDLESS, RECURSIVE])
def test_a_query_that_runs_too_long_is_stopped_with_a_message(sweep_folder, capsys, sql):
    started = time.monotonic()
    assert main(["query", str(sweep_folder), sql, "--timeout", "1"]) == 2
    err = capsys.readouterr().err
    assert "ran longer than 1 s and was stopped" in err and "--timeout" in err and err.count("\n") == 1
    assert time.monotonic() - started < 30  # stopped, not finished (a finished one takes hours)


def test_rows_beyond_the_limit_are_counted_not_fetched_and_the_cut_is_said(sweep_folder, capsys):
    assert (
        main(["query", str(sweep_folder), "--csv", "--max-rows", "3", "SELECT range AS n FROM range(1000000000)"]) == 0
    )
    captured = capsys.readouterr()
    assert captured.out.splitlines() == ["n", "0", "1", "2"]
    assert "showing the first 3 of 1,000,000,000 rows; --max-rows" in captured.err
    assert main(["query", str(sweep_folder), "--csv", "--max-rows", "4", "SELECT * FROM runs"]) == 0
    captured = capsys.readouterr()
    assert len(captured.out.splitlines()) == 5 and "showing" not in captured.err  # exactly at the limit: no cut


def test_a_query_that_needs_too_much_memory_is_refused_not_blamed_on_the_model(sweep_folder, monkeypatch, capsys):
    monkeypatch.setattr(bounded, "QUERY_MEMORY", 256 * 2**20)
    sql = "SELECT list(range) FROM range(200000000)"
    assert main(["query", str(sweep_folder), sql]) == 2
    err = capsys.readouterr().err
    assert "needs more than the 0.2 GiB of memory a query may use" in err and err.count("\n") == 1
    assert "customers" not in err and "periods" not in err


def test_duckdbs_temporary_folder_is_not_readable(sweep_folder, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".tmp").mkdir()
    (tmp_path / ".tmp" / "secret.csv").write_text("password\nhunter2\n")
    assert main(["query", str(sweep_folder), "SELECT * FROM read_csv('.tmp/secret.csv')"]) == 2
    err = capsys.readouterr().err
    assert "Permission Error" in err and "hunter2" not in err


def _wait_for_duckdb(proc: subprocess.Popen) -> None:
    """Until the process has loaded DuckDB (after the CLI's signal handling is in place), then a moment more."""
    maps = Path(f"/proc/{proc.pid}/maps")
    deadline = time.monotonic() + 120
    while maps.exists() and "duckdb" not in maps.read_text(errors="replace"):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the query did not start"
        time.sleep(0.1)
    time.sleep(1.0 if maps.exists() else 5.0)


@pytest.mark.parametrize(
    ("signum", "code", "words"), [(signal.SIGTERM, 143, "terminated"), (signal.SIGINT, 130, "interrupted")]
)
def test_a_signal_interrupts_duckdb_at_once(sweep_folder, signum, code, words):
    proc = subprocess.Popen(
        [sys.executable, "-m", "sim", "query", str(sweep_folder), ENDLESS],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_for_duckdb(proc)
        assert proc.poll() is None
        sent = time.monotonic()
        proc.send_signal(signum)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == code, err
    assert time.monotonic() - sent < 20 and words in err and "Traceback" not in err and "internal error" not in err


def test_results_without_checksums_are_queried_with_a_warning(tmp_path, capsys):
    """A tampered runs.parquet whose checksums were also removed from summary.json is not trusted silently."""
    out = _sweep(tmp_path)
    capsys.readouterr()
    table = pq.read_table(out / "runs.parquet")
    pq.write_table(table.slice(0, 1), out / "runs.parquet")  # tampered: a run removed
    summary = json.loads((out / "summary.json").read_text())
    del summary["sha256"]
    (out / "summary.json").write_text(json.dumps(summary))
    assert main(["query", str(out), "--csv", "SELECT count(*) AS n FROM runs"]) == 0
    captured = capsys.readouterr()
    assert captured.out.splitlines() == ["n", "1"]
    assert "procsim: warning:" in captured.err and "records no SHA-256 for runs.parquet" in captured.err
    assert "--resume" in captured.err


def test_a_sweep_that_kept_no_series_answers_queries_over_its_runs(tmp_path, capsys):
    out = _sweep(tmp_path, outputs={"series": "none"})
    capsys.readouterr()
    assert main(["query", str(out), "--csv", "SELECT count(*) AS n FROM runs"]) == 0
    assert capsys.readouterr().out.splitlines() == ["n", "4"]
    assert main(["query", str(out), "SELECT * FROM series"]) == 2
    err = capsys.readouterr().err
    assert "kept no per-period series" in err and "series: none" in err and err.count("\n") == 1
    assert main(["query", str(out), "SELECT * FROM nothing"]) == 2
    assert "(the tables are: runs)" in capsys.readouterr().err


def test_query_csv_is_safe_for_a_spreadsheet(sweep_folder, capsys):
    assert main(["query", str(sweep_folder), "--csv", "SELECT '=HYPERLINK(1)' AS name, -1 AS n"]) == 0
    assert capsys.readouterr().out.splitlines() == ["name,n", "'=HYPERLINK(1),-1"]


@pytest.mark.slow
def test_the_bundled_sensitivity_sweep_answers_a_query(tmp_path, capsys):
    """Issue 22: `series: none` (the bundled sensitivity sweep) made every query fail."""
    out = tmp_path / "sensitivity"
    assert main(["sweep", "sensitivity", "--out", str(out), "--workers", "2", "--quiet"]) == 0
    capsys.readouterr()
    assert main(["query", str(out), "--csv", "SELECT count(*) AS n FROM runs"]) == 0
    assert int(capsys.readouterr().out.splitlines()[1]) > 0
