"""The command line: what a user types, what comes back, and what is (not) written."""

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from sim.cli import main

ROOT = Path(__file__).resolve().parent.parent
SMALL_RUN = ["--set", "customers.count=40", "--periods", "12", "--seed", "3"]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "run"
    assert main(["run", "procurement_squeeze", "--out", str(out), *SMALL_RUN, "--quiet"]) == 0
    return out


def test_run_writes_every_output(run_dir):
    for name in (
        "summary.json",
        "timeseries.csv",
        "agents.parquet",
        "scenario.yaml",
        "manifest.json",
        "report.html",
        "report.xlsx",
        "plots/overview.png",
        "plots/capabilities.png",
        "plots/capabilities.svg",
    ):
        assert (run_dir / name).is_file(), name
    summary = json.loads((run_dir / "summary.json").read_text())
    assert {"scenario", "seed", "periods", "outcome", "metrics"} <= set(summary)
    assert summary["seed"] == 3 and summary["periods"] == 12 and summary["customers"] == 40
    assert {
        "capability_index_final",
        "capability_index_min",
        "discount_final",
        "supplier_margin_final",
        "supplier_profit_total",
        "customer_value_total",
        "joint_value_total",
        "balance_final",
        "retention_rate",
        "time_to_collapse",
        "spiral_onset",
    } <= set(summary["metrics"])
    assert "counterfactual" in summary  # what discounting cost, against the same market without discounts
    ts = pd.read_csv(run_dir / "timeseries.csv")
    assert len(ts) == 12 and {
        "period",
        "discount_mean",
        "capability_index",
        "quality",
        "innovation",
        "support",
        "sales_coverage",
        "supplier_margin",
        "supplier_cash",
        "customer_value",
        "supplier_value",
        "joint_value",
        "balance",
        "active_suppliers",
        "engagement_mean",
    } <= set(ts.columns)
    agents = pd.read_parquet(run_dir / "agents.parquet")
    assert set(agents["agent_type"]) == {"supplier", "customer"} and agents["period"].nunique() == 12
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["seed"] == 3 and manifest["packages"]["mesa"].startswith("3.5") and manifest["python"]
    report = (run_dir / "report.html").read_text()
    assert "What happened" in report and "data:image/png;base64," in report
    assert 'src="http' not in report  # self-contained


def test_same_seed_gives_the_same_bytes(run_dir, tmp_path):
    again = tmp_path / "again"
    assert main(["run", "procurement_squeeze", "--out", str(again), *SMALL_RUN, "--quiet"]) == 0
    for name in (
        "summary.json",
        "timeseries.csv",
        "agents.parquet",
        "scenario.yaml",
        "report.html",
        "report.xlsx",
        "plots/overview.png",
        "plots/overview.svg",
    ):
        assert (run_dir / name).read_bytes() == (again / name).read_bytes(), name


def test_replicates_give_fans_and_outcome_counts(tmp_path):
    out = tmp_path / "rep"
    assert (
        main(
            [
                "run",
                "baseline",
                "--replicates",
                "3",
                "--out",
                str(out),
                "--set",
                "customers.count=20",
                "--periods",
                "8",
                "--quiet",
            ]
        )
        == 0
    )
    summary = json.loads((out / "summary.json").read_text())
    assert sum(summary["outcomes"].values()) == 3 and len(summary["seeds"]) == 3
    assert set(summary["metrics"]["capability_index_final"]) >= {"mean", "p10", "p90"}
    assert (out / "plots" / "outcomes.png").is_file() and len(pd.read_csv(out / "runs.csv")) == 3


def test_compare_runs_both_on_the_same_seeds(tmp_path, capsys):
    out = tmp_path / "cmp"
    assert (
        main(
            [
                "compare",
                "procurement_squeeze",
                "hold_the_line",
                "--out",
                str(out),
                "--set",
                "customers.count=30",
                "--periods",
                "16",
            ]
        )
        == 0
    )
    deltas = pd.read_csv(out / "deltas.csv").set_index("metric")
    assert deltas.loc["capability_index_final", "difference"] > 0  # holding keeps more capability
    assert (out / "report.html").is_file() and (out / "plots" / "overview.png").is_file()
    assert "difference" in capsys.readouterr().out


def test_list_and_validate(capsys):
    assert main(["list"]) == 0
    listed = capsys.readouterr().out
    assert "procurement_squeeze" in listed and "bidding_war" in listed
    assert main(["validate", "baseline", str(ROOT / "scenarios" / "bidding_war.yaml")]) == 0
    assert capsys.readouterr().out.count("ok:") == 2


@pytest.mark.parametrize(
    "args, words",
    [
        (["run", "nosuchscenario"], "no scenario file or bundled scenario named 'nosuchscenario'"),
        (
            ["run", "baseline", "--set", "suppliers.margin_defence=0.5"],
            "suppliers.margin_defence: unknown field (did you mean 'margin_defense'?)",
        ),
        (
            ["run", "baseline", "--set", "suppliers.margin_defense=1.7"],
            "suppliers.margin_defense: must be between 0 and 1, got 1.7",
        ),
        (["run", "baseline", "--set", "customers.count"], "expected path=value"),
        (["run", "baseline", "--set", "suppliers.strategy=concedes"], "did you mean 'concede'"),
        (["run", "baseline", "--set", "customers.procurement.savings_target={5: 0.1}"], "must start at period 0"),
        (["run", "baseline", "--replicates", "0"], "must be at least 1"),
        (["run", "baseline", "--seed", "-4"], "must be between 0 and 4294967295"),
        (["compare", "baseline", "hold_the_lin"], "did you mean 'hold_the_line'"),
        (["compare", "baseline"], "required"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_bad_input_exits_2_with_one_clear_message_and_writes_nothing(tmp_path, capsys, args, words):
    out = tmp_path / "out"
    code = _exit_code(lambda: main([*args, "--out", str(out)] if args[0] in ("run", "compare") else args))
    err = capsys.readouterr().err
    assert code == 2
    assert words in err
    assert "Traceback" not in err
    assert not out.exists() and not list(tmp_path.glob(".*partial*"))


def _exit_code(call) -> int:
    try:
        return call()
    except SystemExit as exc:  # argparse reports usage errors by exiting
        return exc.code


def test_validate_reports_every_bad_file_and_exits_2(tmp_path, capsys):
    assert main(["validate", "baseline", str(tmp_path / "nothere.yaml")]) == 2
    captured = capsys.readouterr()
    assert "ok:" in captured.out and "nothere.yaml" in captured.err


def test_bad_file_names_the_file_and_field(tmp_path, capsys):
    bad = tmp_path / "mine.yaml"
    bad.write_text("extends: baseline\nsuppliers:\n  gross_margin: 145%\n")
    assert main(["run", str(bad), "--out", str(tmp_path / "out")]) == 2
    assert "mine.yaml: suppliers.gross_margin: must be between 0.01 and 0.95, got 1.45" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_an_existing_output_folder_is_not_overwritten(tmp_path, capsys):
    out = tmp_path / "taken"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    assert main(["run", "baseline", "--out", str(out), "--periods", "4", "--set", "customers.count=5"]) == 2
    assert "exists and is not an empty folder" in capsys.readouterr().err
    assert (out / "keep.txt").read_text() == "mine"


def test_the_installed_command_and_python_dash_m_work_from_a_shell(tmp_path):
    """What a user types: exit codes and messages through a real process."""
    bad = subprocess.run(
        [sys.executable, "-m", "sim", "run", "baseline", "--set", "periods=0"],
        check=False,
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert bad.returncode == 2 and "periods" in bad.stderr and "Traceback" not in bad.stderr
    version = subprocess.run(
        [Path(sys.executable).parent / "procsim", "--version"], check=False, capture_output=True, text=True
    )
    assert version.returncode == 0 and version.stdout.startswith("procsim ")


def test_dashboard_and_game_reject_bad_input_before_serving(capsys):
    assert main(["dashboard", "no_such_scenario"]) == 2
    err = capsys.readouterr().err
    assert "no_such_scenario" in err and err.count("\n") == 1
    with pytest.raises(SystemExit) as exit_info:
        main(["game", "--port", "70000"])
    assert exit_info.value.code == 2
    assert "port" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main(["game", "--rounds", "41"])
    assert exit_info.value.code == 2
    assert "--rounds: must be between 1 and 40" in capsys.readouterr().err
