"""Commands that do not simulate load no engine: `list`, `validate`, `accounts check`, `accounts template`, `query`.

Each runs in a fresh interpreter (so nothing an earlier test imported counts), and the
modules it loaded are checked: no model, no compiled passes, no numba, no Mesa, no
matplotlib. How fast they start is measured in benchmarks/ (bench_whatif.py), not here.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ENGINE = ("sim.engine.model", "sim.engine.kernels", "sim.runs.runner", "numba", "mesa", "matplotlib")
PROBE = """
import contextlib, io, json, sys
from sim.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    code = main(json.loads(sys.argv[1]))
print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""


def loaded(args: list[str]) -> tuple[int, set[str]]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    data = json.loads(done.stdout.strip().splitlines()[-1])
    return data["code"], set(data["modules"])


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    """A tiny finished sweep to query."""
    from sim.cli import main

    folder = tmp_path_factory.mktemp("sweep")
    spec = folder / "tiny.yaml"
    spec.write_text("base: baseline\nreplicates: 2\ndesign:\n  grid:\n    periods: [4]\n    customers.count: [10]\n")
    assert main(["sweep", str(spec), "--out", str(folder / "out"), "--workers", "1", "--quiet"]) == 0
    return folder / "out"


@pytest.fixture(scope="module")
def accounts(tmp_path_factory):
    from sim.inputs.accounts import template_csv
    from sim.inputs.loading import load_scenario

    path = tmp_path_factory.mktemp("accounts") / "accounts.csv"
    path.write_text(template_csv(load_scenario("baseline")), encoding="utf-8")
    return path


def test_commands_that_do_not_simulate_load_no_engine(sweep, accounts):
    for args in (
        ["list"],
        ["validate", "baseline", "procurement_squeeze"],
        ["accounts", "check", str(accounts)],
        ["accounts", "template"],
        ["query", str(sweep), "SELECT outcome, count(*) AS n FROM runs GROUP BY outcome"],
    ):
        code, modules = loaded(args)
        assert code == 0, args
        assert not modules & set(ENGINE), (args, sorted(modules & set(ENGINE)))


def test_a_command_that_simulates_does_load_it(tmp_path):
    """The probe can tell: a run loads the model (so the check above is not vacuous)."""
    out = tmp_path / "run"
    code, modules = loaded(
        ["run", "baseline", "--periods", "2", "--set", "customers.count=10", "--out", str(out), "--quiet"]
    )
    assert code == 0 and {"sim.engine.model", "numba"} <= modules


def test_an_analysis_without_a_tipping_search_loads_no_engine(sweep):
    """Only the tipping search simulates; the page, its figures and its checks read the sweep's tables."""
    code, modules = loaded(["analyze", str(sweep), "--no-tipping", "--quiet"])
    assert code == 0
    assert not modules & {"sim.engine.model", "sim.engine.kernels", "sim.runs.runner", "numba", "mesa"}
