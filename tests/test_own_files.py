"""procsim touches only what it made, and refuses output places that can never work (issue 19).

Cleaning up after a killed run removes procsim's own staging folders (they carry a marker
it wrote) and the temporaries of files it owns inside its own output folders, never a
file by the look of its name. ``--out`` is checked before any work: the current folder,
one above it, the home folder, a file, a non-empty folder, a name or path too long for
the file system, a place inside another run's folder.
"""

from __future__ import annotations

import errno
import json
import os
import time
from pathlib import Path

import pytest
import yaml

import sim.compare.comparison  # noqa: F401 - imported before a test replaces what it imports from sim.runs.runner
from sim.cli import main
from sim.reports import files as outputs

from .test_hardening import TINY, TINY_SWEEP

THREE_DAYS = 3 * 24 * 3600


def _plant(folder: Path) -> dict[Path, str]:
    """Hidden files and folders of someone else, three days old, as the issue found them removed."""
    folder.mkdir(parents=True, exist_ok=True)
    planted = {
        folder / ".notmine.tmp" / "keep.txt": "theirs",
        folder / ".session.tmp": "a session",
        folder / ".kde.partial-backup": "a backup",
        folder / ".x.partial-abcdefgh" / "summary.json": "{}",  # looks like a staging folder, carries no marker
        folder / ".summary.json.abcdefgh.tmp": "looks like an atomic write's temporary",
    }
    for path, text in planted.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    old = time.time() - THREE_DAYS
    for path in [*planted, *(p.parent for p in planted)]:
        os.utime(path, (old, old))
    return planted


def _intact(planted: dict[Path, str]) -> list[str]:
    return [str(p) for p, text in planted.items() if not p.is_file() or p.read_text() != text]


def _game_export(folder: Path) -> None:
    from sim.game import debrief
    from sim.game.registry import Registry
    from sim.game.settings import Settings

    session = Registry().create(Settings(rounds=2, tables=1, timer=0))
    _, buyer, _ = session.join(session.seats.seat(0, "procurement").key, "Buyers")
    _, seller, _ = session.join(session.seats.seat(0, "supplier").key, "Sellers")
    session.start()
    session.submit(buyer, {"demand": 0.05})
    session.submit(seller, {"answer": "discount", "points": 0.02})  # the round settles when both have moved
    session.reveal()
    debrief.export(session, folder)


@pytest.mark.slow
def test_foreign_hidden_files_beside_and_inside_output_folders_survive_every_command(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    results = tmp_path / "results"  # runs under a results folder also rebuild results/index.html
    planted = _plant(results) | _plant(tmp_path)
    sweep_file = tmp_path / "s.yaml"
    sweep_file.write_text(yaml.safe_dump(TINY_SWEEP))
    sweep = results / "sweep"
    commands = [
        ["run", "baseline", "--out", str(results / "run"), *TINY],
        ["run", "baseline", "--out", str(results / "reps"), "--replicates", "2", *TINY],
        ["compare", "baseline", "hold_the_line", "--out", str(results / "cmp"), *TINY],
        ["whatif", "baseline", "--set", "suppliers.margin_defense=0.2", "--replicates", "2",
         "--out", str(results / "wi"), "--base-set", "customers.count=10", "--periods", "4", "--quiet"],
        ["sweep", str(sweep_file), "--out", str(sweep), "--workers", "1", "--quiet"],
    ]  # fmt: skip
    for command in commands:
        assert main(command) == 0, command
    inside = _plant(sweep)  # inside an output folder that commands work in
    ours = sweep / ".summary.json.abcdefgh.tmp"  # a temporary of a file procsim writes there: a name it reserves
    del inside[ours]
    planted |= inside | _plant(sweep / "chunks")
    assert main(["sweep", str(sweep_file), "--out", str(sweep), "--resume", "--workers", "1", "--quiet"]) == 0
    assert main(["analyze", str(sweep), "--no-tipping", "--quiet"]) == 0
    _game_export(results / "game")
    assert _intact(planted) == []
    assert not ours.exists()
    assert (results / "index.html").is_file() and (sweep / "analysis.html").is_file()
    assert not list(tmp_path.rglob(outputs.MARKER))  # no published folder carries the marker


def test_only_a_marked_staging_folder_a_day_old_is_removed(tmp_path):
    mine_old, mine_new = outputs.staging_folder(tmp_path, "run"), outputs.staging_folder(tmp_path, "run")
    planted = _plant(tmp_path)
    old = time.time() - THREE_DAYS
    os.utime(mine_old, (old, old))
    assert outputs.clean_stale(tmp_path) == 1
    assert not mine_old.exists() and mine_new.is_dir() and _intact(planted) == []
    # a marker that is a link (to someone's file) does not make a folder procsim's
    fake = tmp_path / ".y.partial-abcdefgh"
    fake.mkdir()
    (fake / outputs.MARKER).symlink_to(tmp_path / ".session.tmp")
    os.utime(fake, (old, old))
    assert outputs.clean_stale(tmp_path) == 0 and fake.is_dir()
    # the temporaries of files procsim owns in a folder go only when asked for by name
    temporary = tmp_path / ".summary.json.abcdefgh.tmp"
    assert outputs.clean_stale(tmp_path, names=("summary.json",)) == 1 and not temporary.exists()
    assert (tmp_path / ".session.tmp").is_file()


# ----------------------------------------------------------------------------- --out


@pytest.fixture
def no_work(monkeypatch):
    """Fail the test if a simulation starts: --out must be refused before any work."""

    def refuse(*_args, **_kwargs):
        raise AssertionError("the run started before --out was checked")

    monkeypatch.setattr("sim.runs.runner.simulate", refuse)
    monkeypatch.setattr("sim.compare.comparison.simulate", refuse)


def _places(tmp_path: Path) -> dict[str, tuple[str, str]]:
    home = tmp_path / "home"
    home.mkdir()
    run = tmp_path / "earlier-run"
    run.mkdir()
    (run / "manifest.json").write_text(json.dumps({"procsim": "1"}))
    (run / "summary.json").write_text("{}")
    full = tmp_path / "full"
    full.mkdir()
    (full / "theirs.txt").write_text("keep")
    (tmp_path / "a-file").write_text("keep")
    deep = str(tmp_path / "/".join(["d" * 200] * 25))
    return {
        ".": (".", "is the current folder"),
        "empty": ("", "is the current folder"),
        "..": ("..", "is a folder above the current one"),
        "home": (str(home), "is your home folder"),
        "full": (str(full), "exists and is not"),
        "file": (str(tmp_path / "a-file"), "exists and is not an empty folder (it is a file)"),
        "inside a run": (str(run / "mine"), "the output folder of another run"),
        "300 characters": (str(tmp_path / ("x" * 300)), "a folder name of 300 characters"),
        "over the path limit": (deep, "this system allows at most"),
    }


@pytest.mark.parametrize(
    "place",
    [".", "empty", "..", "home", "full", "file", "inside a run", "300 characters", "over the path limit"],
)
@pytest.mark.parametrize("command", ["run", "compare", "whatif", "sweep"])
def test_out_is_refused_at_once_with_a_message(tmp_path, monkeypatch, capsys, no_work, place, command):
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    out, words = _places(tmp_path)[place]
    sweep_file = tmp_path / "s.yaml"
    sweep_file.write_text(yaml.safe_dump(TINY_SWEEP))
    args = {
        "run": ["run", "baseline", *TINY],
        "compare": ["compare", "baseline", "hold_the_line", *TINY],
        "whatif": ["whatif", "baseline", "--set", "suppliers.margin_defense=0.2", *TINY],
        "sweep": ["sweep", str(sweep_file), "--workers", "1", "--quiet"],
    }[command]
    before = sorted(p.name for p in tmp_path.rglob("*"))
    assert main([*args, "--out", out]) == 2
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("procsim: error: ") and words in lines[0], err
    assert "internal error" not in err and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.rglob("*")) == before  # nothing written, nothing removed


def test_a_long_name_that_fits_still_runs(tmp_path):
    out = tmp_path / ("y" * 240)  # its staging folder's name must fit too
    assert main(["run", "baseline", "--out", str(out), *TINY]) == 0
    assert (out / "report.html").is_file()


def test_a_failure_to_rewrite_the_index_is_a_warning_after_the_run_is_published(tmp_path, monkeypatch, capsys):
    def refuse(_root):
        raise OSError(errno.EACCES, os.strerror(errno.EACCES), str(_root / "index.html"))

    monkeypatch.setattr("sim.reports.results_index.rebuild_index", refuse)
    out = tmp_path / "results" / "run"
    assert main(["run", "baseline", "--out", str(out), *TINY]) == 0
    err = capsys.readouterr().err
    assert "procsim: warning: the outputs are complete in" in err and "permission denied" in err
    assert "internal error" not in err and "report it" not in err
    assert (out / "report.html").is_file()


def test_the_index_lists_a_run_folder_whose_summary_is_not_procsims_as_unreadable(tmp_path, capsys):
    strange = tmp_path / "results" / "strange"
    strange.mkdir(parents=True)
    (strange / "summary.json").write_text(json.dumps({"replicates": 3}))  # no metrics, no outcome
    (strange / "report.html").write_text("")
    (strange / "manifest.json").write_text("{}")
    assert main(["run", "baseline", "--out", str(tmp_path / "results" / "run"), *TINY]) == 0
    page = (tmp_path / "results" / "index.html").read_text()
    assert "strange: unreadable summary" in page and "warning" not in capsys.readouterr().err
