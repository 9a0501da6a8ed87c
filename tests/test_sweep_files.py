"""Sweep files are first-class inputs: `procsim validate` checks them and `procsim sweep --dry-run` prices them.

Both answer a bad sweep file as they answer a bad scenario: one line naming the file and
the field, what was expected, a suggestion for a typo, exit code 2, nothing written.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from sim.cli import main
from sim.experiments.spec import SWEEP_FOLDER

BUNDLED = sorted(p.stem for p in SWEEP_FOLDER.glob("*.yaml"))


def sweep_file(folder: Path, **fields) -> Path:
    data = {
        "base": "procurement_squeeze",
        "set": {"customers.count": 40, "periods": 12, "suppliers.count": 2},
        "design": {
            "grid": {"customers.procurement.savings_target": [0.0, 0.2], "suppliers.margin_defense": [0.0, 1.0]}
        },
        "replicates": 2,
    }
    data.update(fields)
    path = folder / "mine.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def files_under(folder: Path) -> set[Path]:
    return set(folder.rglob("*"))


@pytest.mark.parametrize("name", BUNDLED)
def test_every_bundled_sweep_validates_and_dry_runs_writing_nothing(name, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["validate", name]) == 0
    out = capsys.readouterr().out
    assert out.startswith("ok: ") and f"sweep {name}" in out and "runs" in out
    assert main(["validate", str(SWEEP_FOLDER / f"{name}.yaml")]) == 0  # a path, told apart by its keys
    capsys.readouterr()
    assert main(["sweep", name, "--dry-run", "--workers", "2"]) == 0
    text = capsys.readouterr().out
    for words in ("design points", "runs", "chunks", "batches", "memory", "on disk", "nothing was run or written"):
        assert words in text, words
    assert not list(tmp_path.iterdir())  # no results folder, nothing at all


def test_a_dry_run_counts_the_design_and_its_batches(tmp_path, capsys):
    path = sweep_file(tmp_path, replicates=3, chunk_size=2, batch=4)
    before = files_under(tmp_path)
    assert main(["sweep", str(path), "--dry-run", "--workers", "1", "--out", str(tmp_path / "out")]) == 0
    text = capsys.readouterr().out
    assert "design points  4: savings target (2) x margin defense (2)" in text
    assert "runs           12 (4 points x 3 seeds)" in text
    assert "chunks         8 files of up to 2 runs" in text  # two blocks of seeds per point
    assert "batches        4 (up to 4 runs each" in text  # whole chunks, about 4 runs a batch
    assert files_under(tmp_path) == before
    assert "output folder  " in text and "(new)" in text


def test_a_dry_run_of_a_started_sweep_says_how_much_is_done(tmp_path, capsys):
    path = sweep_file(tmp_path, chunk_size=1)
    out = tmp_path / "out"
    assert main(["sweep", str(path), "--out", str(out), "--workers", "1", "--quiet"]) == 0
    for seal in sorted((out / "chunks").glob("done-*.json"))[:3]:
        seal.unlink()
    before = {p: p.stat().st_mtime_ns for p in files_under(out)}
    capsys.readouterr()
    assert main(["sweep", str(path), "--out", str(out), "--dry-run", "--workers", "1"]) == 0
    assert "5 of 8 chunks sealed: --resume runs the rest" in capsys.readouterr().out
    assert {p: p.stat().st_mtime_ns for p in files_under(out)} == before  # not a file touched


def test_a_dry_run_says_when_the_machine_cannot_hold_the_sweep(tmp_path, capsys, monkeypatch):
    import sim.runs.resources

    monkeypatch.setattr(sim.runs.resources, "available_memory", lambda: 1_000_000)
    path = sweep_file(tmp_path)
    assert main(["sweep", str(path), "--dry-run", "--workers", "1"]) == 2
    captured = capsys.readouterr()
    assert "design points" in captured.out
    assert "too big for this machine" in captured.err and "dry run" in captured.err
    assert main(["sweep", str(path), "--dry-run", "--workers", "1", "--force"]) == 0


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"desing": {}}, "desing", "did you mean 'design'"),
        ({"analysis": {"rank_by": ["joint_value_totl"]}}, "analysis.rank_by.0", "did you mean 'joint_value_total'"),
        ({"analysis": {"sensitivity": ["nonsense"]}}, "analysis.sensitivity.0", "unknown metric"),
        (
            {"analysis": {"phase": {"x": "customers.procurement.savings_target", "y": "suppliers.concession_rate"}}},
            "analysis.phase.y",
            "unknown swept parameter",
        ),
        (
            {"analysis": {"phase": {"x": "suppliers.margin_defense", "y": "suppliers.margin_defense"}}},
            "analysis.phase.y",
            "two different",
        ),
        ({"analysis": {"envelopes": {"series": ["capability_indx"]}}}, "analysis.envelopes.series.0", "did you mean"),
        ({"analysis": {"envelopes": {"by": "margin"}}}, "analysis.envelopes.by", "unknown grouping"),
        (
            {"outputs": {"series": "none"}, "analysis": {"envelopes": {}}},
            "analysis.envelopes",
            "series over time",
        ),
        ({"levers": ["suppliers.margin_defense"]}, "uncertainties", "give both"),
        (
            {"levers": ["suppliers.margin_defense"], "uncertainties": ["suppliers.margin_defense"]},
            "uncertainties",
            "both a lever and an uncertainty",
        ),
        (
            {"levers": ["suppliers.margin_defense"], "uncertainties": ["customers.engagement"]},
            "uncertainties.0",
            "unknown swept parameter",
        ),
        (
            {"levers": ["suppliers.margin_defense"], "uncertainties": []},
            "uncertainties",
            "give both",
        ),
        (
            {
                "design": {
                    "scenarios": [
                        {"name": "mixed", "set": {"suppliers.strategy": "hold", "customers.engagement": 0.5}}
                    ],
                    "grid": {"suppliers.margin_defense": [0.0, 1.0]},
                },
                "levers": ["suppliers.strategy", "suppliers.margin_defense"],
                "uncertainties": ["customers.engagement"],
            },
            "design.scenarios.0",
            "both levers and uncertainties",
        ),
        (
            {"analysis": {"robustness": {"metric": "joint_value_total"}}},
            "analysis.robustness",
            "levers and uncertainties",
        ),
        (
            {
                "levers": ["suppliers.margin_defense"],
                "uncertainties": ["customers.procurement.savings_target"],
                "analysis": {"robustness": {"threshold": {"metric": "joint_value_total"}}},
            },
            "analysis.robustness.threshold",
            "at_least or at_most",
        ),
        (
            {
                "levers": ["suppliers.margin_defense"],
                "uncertainties": ["customers.procurement.savings_target"],
                "analysis": {"robustness": {"threshold": {"metric": "tiped_share", "at_most": 0.2}}},
            },
            "analysis.robustness.threshold.metric",
            "did you mean 'tipped_share'",
        ),
    ],
)
def test_validate_answers_a_bad_sweep_file_in_one_line_naming_file_and_field(tmp_path, capsys, fields, field, words):
    path = sweep_file(tmp_path, **fields)
    for command in (["validate", str(path)], ["sweep", str(path), "--dry-run", "--workers", "1"]):
        assert main(command) == 2, command
        captured = capsys.readouterr()
        err = captured.err
        assert err.count("\n") == 1 and "Traceback" not in err, err
        assert str(path) in err and f": {field}: " in err and words in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.yaml"]


def test_validate_takes_scenarios_and_sweeps_together_and_refuses_set_on_a_sweep(tmp_path, capsys):
    path = sweep_file(tmp_path)
    assert main(["validate", "baseline", str(path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("ok: ") and "suppliers" in lines[0]
    assert lines[1].startswith("ok: ") and "sweep mine" in lines[1] and "4 points x 2 seeds = 8 runs" in lines[1]
    assert main(["validate", str(path), "--set", "customers.count=10"]) == 2
    assert "--set" in capsys.readouterr().err
