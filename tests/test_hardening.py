"""Hardening beyond bad files: size estimates, output folders, full disks, signals, the read-only query, caps."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import Future
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

import sim.compare.comparison  # noqa: F401 - imported before a test replaces what it imports from sim.runs.runner
from sim.cli import main
from sim.errors import InputError, clean, excerpt
from sim.experiments.spec import MAX_BISECTIONS, TippingSpec
from sim.experiments.tipping import find_tipping
from sim.reports import files as outputs
from sim.runs import resources

from .conftest import bundled

ROOT = Path(__file__).resolve().parent.parent
TINY = ["--set", "customers.count=10", "--periods", "4", "--quiet"]
# The same tiny market as a sweep: two design points.
TINY_SWEEP = {
    "base": "baseline",
    "set": {"customers.count": 10, "periods": 4},
    "design": {"grid": {"suppliers.margin_defense": [0.0, 1.0]}},
}


# ----------------------------------------------------------------------------- messages


def test_excerpts_are_short_and_escaped_whatever_the_value():
    nested: list = [1]
    for _ in range(50):
        nested = [nested, nested, nested]  # 3**50 leaves if walked: the excerpt must not walk it
    assert len(excerpt(nested)) <= 60
    assert excerpt("a" * 10_000).count("a") < 70
    assert "\x1b" not in excerpt("\x1b[2Jboom") and "\\x1b" in excerpt("\x1b[2Jboom")
    assert "\n" not in str(InputError("line one\nline two", source="a\nb", field="c\x07"))
    assert clean("x" * 500, 20).endswith("...") and len(clean("x" * 500, 20)) == 20


# ----------------------------------------------------------------------------- resource guard


def test_the_estimate_grows_with_customers_periods_replicates_and_simulated_periods():
    small = resources.for_run(bundled("baseline", {"customers.count": 100}))
    big = resources.for_run(bundled("baseline", {"customers.count": 10_000}))
    reps = resources.for_run(bundled("baseline", {"customers.count": 10_000}), replicates=10)
    assert small.memory < big.memory < reps.memory and small.seconds < big.seconds < reps.seconds
    # the outlook of Model 2.0 simulates beyond the horizon without recording: time, not memory
    assert resources.run_seconds(1000, 240) > resources.run_seconds(1000, 40)
    assert resources.model_bytes(1000) == resources.model_bytes(1000, 0)
    assert "GB" in resources.size(3e9) and "hours" in resources.duration(3 * 3600)


def test_work_that_does_not_fit_is_refused_with_the_estimate_unless_forced(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(resources, "available_memory", lambda: 50 * resources.MiB)
    out = tmp_path / "out"
    assert main(["run", "baseline", "--out", str(out), *TINY]) == 2
    err = capsys.readouterr().err
    assert "too big for this machine" in err and "of memory is available" in err and "--force" in err
    assert not out.exists()
    assert main(["run", "baseline", "--out", str(out), *TINY, "--force"]) == 0
    assert (out / "report.html").is_file()


def test_a_disk_too_small_for_the_outputs_is_refused(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(resources, "free_disk", lambda _path: 1000)
    assert main(["run", "baseline", "--out", str(tmp_path / "out"), *TINY]) == 2
    assert "too big for this disk" in capsys.readouterr().err


# ----------------------------------------------------------------------------- output folders


def test_out_is_checked_before_the_run(tmp_path, monkeypatch, capsys):
    def no_run(*_args, **_kwargs):
        raise AssertionError("the run started before --out was checked")

    monkeypatch.setattr("sim.runs.runner.simulate", no_run)
    monkeypatch.setattr("sim.compare.comparison.simulate", no_run)
    dangling = tmp_path / "dangling"
    dangling.symlink_to(tmp_path / "nowhere")
    assert main(["run", "baseline", "--out", str(dangling), *TINY]) == 2
    assert "broken symbolic link" in capsys.readouterr().err
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "mine.txt").write_text("keep")
    assert main(["compare", "baseline", "hold_the_line", "--out", str(taken), *TINY]) == 2
    assert "exists and is not an empty folder" in capsys.readouterr().err


def test_out_may_be_a_link_to_an_empty_folder(tmp_path):
    target = tmp_path / "target"
    target.mkdir()
    link = tmp_path / "link"
    link.symlink_to(target)
    assert main(["run", "baseline", "--out", str(link), *TINY]) == 0
    assert (target / "report.html").is_file() and link.resolve() == target


@pytest.mark.parametrize(("code", "words"), [(errno.ENOSPC, "no space left"), (errno.EACCES, "permission denied")])
def test_a_full_disk_or_a_refused_write_is_a_plain_message(tmp_path, monkeypatch, capsys, code, words):
    def refuse(*_args, **_kwargs):
        raise OSError(code, os.strerror(code), "agents.parquet")

    monkeypatch.setattr("sim.reports.run_folder.write_parquet", refuse)
    out = tmp_path / "out"
    assert main(["run", "baseline", "--out", str(out), *TINY]) == 2
    err = capsys.readouterr().err
    assert f"cannot write: {words}" in err and "internal error" not in err and "report it" not in err
    assert list(tmp_path.iterdir()) == []  # nothing half-written


def test_a_full_disk_stops_a_sweep_with_the_resume_command(tmp_path, monkeypatch, capsys):
    sweep = tmp_path / "s.yaml"
    sweep.write_text(yaml.safe_dump(TINY_SWEEP))

    def refuse(*_args, **_kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr("sim.experiments.store.write_parquet_atomic", refuse)
    assert main(["sweep", str(sweep), "--out", str(tmp_path / "out"), "--workers", "1", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "no space left on the disk" in err and "--resume" in err


def test_day_old_leftovers_of_killed_runs_are_removed_by_the_next_run(tmp_path):
    """Only procsim's own staging folders (marked when made) are cleaned up; look-alikes stay (issue 19)."""
    root = tmp_path / "runs"
    root.mkdir()
    old_dir, new_dir = outputs.staging_folder(root, "x"), outputs.staging_folder(root, "y")
    for path in (old_dir, new_dir):
        (path / "summary.json").write_text("{}")
    lookalike, old_file = root / ".z.partial-abcdefgh", root / ".a.json.123.tmp"  # not made by procsim
    lookalike.mkdir()
    old_file.write_text("")
    day_ago = time.time() - outputs.STALE_SECONDS - 60
    for path in (old_dir, lookalike, old_file):
        os.utime(path, (day_ago, day_ago))
    assert main(["run", "baseline", "--out", str(root / "run"), *TINY]) == 0
    assert sorted(p.name for p in root.iterdir()) == sorted([new_dir.name, lookalike.name, old_file.name, "run"])
    assert not (root / "run" / outputs.MARKER).exists()  # the marker is not published


def test_a_dollar_in_a_name_is_shown_not_parsed_as_maths(tmp_path):
    path = tmp_path / "maths.yaml"
    path.write_text(yaml.safe_dump({"extends": "baseline", "name": "$\\frac{1}$ plan", "currency": "$"}))
    assert main(["run", str(path), "--out", str(tmp_path / "a"), *TINY]) == 0
    assert main(["compare", str(path), "baseline", "--out", str(tmp_path / "b"), *TINY]) == 0


def test_a_sweep_name_cannot_leave_the_output_root(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    sweep = tmp_path / "s.yaml"
    sweep.write_text(
        yaml.safe_dump({"name": "../../x", "base": "baseline", "design": {"grid": {"suppliers.margin_defense": [0]}}})
    )
    assert main(["sweep", str(sweep), "--quiet"]) == 2
    assert "name:" in capsys.readouterr().err and not (tmp_path / "results").exists()


# ----------------------------------------------------------------------------- signals


def test_sigterm_stops_a_run_cleanly_with_exit_143(tmp_path):
    out = tmp_path / "run"
    proc = subprocess.Popen(
        [sys.executable, "-m", "sim", "run", "baseline", "--out", str(out), "--set", "customers.count=20000"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not list(tmp_path.glob(".run.partial-*")) and time.monotonic() < deadline:  # the outputs are being written
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.01)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err
    assert "terminated; nothing was written" in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


# ----------------------------------------------------------------------------- query


@pytest.fixture(scope="module")
def sweep_folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("query")
    sweep = folder / "s.yaml"
    sweep.write_text(yaml.safe_dump({**TINY_SWEEP, "replicates": 2}))
    assert main(["sweep", str(sweep), "--out", str(folder / "out"), "--workers", "1", "--quiet"]) == 0
    return folder / "out"


@pytest.mark.parametrize(
    ("sql", "words"),
    [
        ("SELECT * FROM read_csv('/etc/passwd')", "Permission Error"),
        ("SELECT * FROM read_text('{parent}/s.yaml')", "Permission Error"),
        ("COPY runs TO '{folder}/stolen.csv'", "only SELECT queries are allowed"),
        ("ATTACH '{folder}/x.db'", "only SELECT queries are allowed"),
        ("INSTALL httpfs", "only SELECT queries are allowed"),
        ("SET enable_external_access = true", "only SELECT queries are allowed"),
        ("SELECT 1; SELECT 2", "exactly one statement"),
        ("SELEC oops", "Parser Error"),
    ],
)
def test_query_reads_only_the_sweep_folder_with_one_select(sweep_folder, capsys, sql, words):
    before = sorted(p.name for p in sweep_folder.iterdir())
    text = sql.format(folder=sweep_folder, parent=sweep_folder.parent)
    assert main(["query", str(sweep_folder), text]) == 2
    err = capsys.readouterr().err
    assert words in err and err.count("\n") == 1
    assert sorted(p.name for p in sweep_folder.iterdir()) == before
    assert "root:" not in err


def test_query_answers_a_select_over_runs_and_series(sweep_folder, capsys):
    assert main(["query", str(sweep_folder), "--csv", "SELECT count(*) AS n FROM runs"]) == 0
    assert capsys.readouterr().out.splitlines() == ["n", "4"]
    sql = "SELECT count(*) AS n FROM series s JOIN runs r USING (point, replicate)"
    assert main(["query", str(sweep_folder), "--csv", sql]) == 0
    assert int(capsys.readouterr().out.splitlines()[1]) > 0


def test_the_summary_records_the_results_checksums(sweep_folder):
    summary = json.loads((sweep_folder / "summary.json").read_text())
    assert set(summary["sha256"]) == {"runs.parquet", "series.parquet"}


# ----------------------------------------------------------------------------- termination


def test_the_tipping_search_stops_at_its_cap_whatever_the_tolerance():
    class Threshold:
        """An executor whose runs tip above 0.3 (no simulation)."""

        def submit(self, _fn, _base, _source, params, seeds, *_rest):
            future: Future = Future()
            future.set_result(["spiral" if params["x"] > 0.3 else "equilibrium"] * len(seeds))  # one per seed
            return future

    spec = TippingSpec.model_construct(
        parameter="x", low=0.0, high=1.0, replicates=2, tolerance=1e-300, outcomes=["spiral"], set={}
    )
    sweep = SimpleNamespace(spec=SimpleNamespace(seed=1), base={}, source="<test>")
    point = find_tipping(sweep, spec, Threshold())
    assert point.found and point.bracket[0] <= 0.3 <= point.bracket[1]
    assert len(point.evaluations) == 2 * (2 + MAX_BISECTIONS)
    with pytest.raises(ValueError, match="tolerance: at least"):
        TippingSpec(parameter="x", low=0.0, high=1.0, tolerance=1e-300)


def test_a_closed_output_pipe_ends_quietly_with_the_shells_code():
    """`procsim list | head`: the reader goes away; no 'internal error', no traceback, exit 141 (128 + SIGPIPE)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "sim", "list"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    proc.stdout.close()  # the reader is gone before procsim writes a line
    err = proc.stderr.read().decode()
    proc.stderr.close()
    assert proc.wait(timeout=60) == 141
    assert "error" not in err and "Traceback" not in err
