"""Scenario discovery through the EMA Workbench (optional extra ``procsim[discovery]``).

The sweep's runs are exported in the workbench's own results format (a tar.gz that
``ema_workbench.load_results`` reads), and its PRIM finds the box of parameter values in
which the chosen outcome is concentrated. We call the workbench rather than re-implement
PRIM.
"""

from __future__ import annotations

import contextlib
import io
import logging
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.experiments.spec import OUTCOME_NAMES
from sim.reports.files import atomic_path


class DiscoveryUnavailable(Exception):
    """Why PRIM could not run (the extra is missing, or the outcome never/always happens)."""


@dataclass
class Box:
    """The PRIM box chosen on the peeling trajectory, and where the runs were exported."""

    outcome: str
    coverage: float
    density: float
    mass: float
    limits: pd.DataFrame  # parameter, low, high (restricted parameters only)
    trajectory: pd.DataFrame  # coverage, density, mass, restricted dimensions per peel
    export: Path


@contextlib.contextmanager
def _quiet_workbench():
    """The workbench warns about optional parts (ipyparallel) and logs to stderr; keep our output clean."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        logging.getLogger("EMA").setLevel(logging.ERROR)
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            yield


def experiments_and_outcomes(runs: pd.DataFrame, parameters: list[str]) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """The runs as the workbench's (experiments, outcomes) pair: parameters and seeds; outcome flags and metrics."""
    ok = runs[runs["status"] == "ok"].reset_index(drop=True)
    experiments = ok[parameters].copy()
    for column in parameters:
        if not pd.api.types.is_numeric_dtype(experiments[column]):
            experiments[column] = experiments[column].astype("category")
    experiments["seed"] = ok["seed"].astype(np.int64)
    experiments["scenario"] = ok["key"].astype("category")
    experiments["policy"] = ok["label"].astype("category")
    experiments["model"] = pd.Categorical(["procsim"] * len(ok))
    outcomes = {f"is_{o}": (ok["outcome"] == o).to_numpy() for o in OUTCOME_NAMES}
    for column in ok.columns:
        if column not in experiments and pd.api.types.is_float_dtype(ok[column]):
            outcomes[column] = ok[column].to_numpy(float)
    return experiments, outcomes


def discover(runs: pd.DataFrame, parameters: list[str], outcome: str, threshold: float, folder: Path) -> Box:
    """Export the runs for the workbench and run its PRIM on ``outcome``."""
    blocked = "altair" not in sys.modules
    if blocked:  # its interactive altair view is never used here; importing altair takes a second
        sys.modules["altair"] = None  # type: ignore[assignment]  # import altair now raises ImportError
    try:
        with _quiet_workbench():
            from ema_workbench import ScalarOutcome, save_results
            from ema_workbench.analysis import prim
    except ImportError:
        raise DiscoveryUnavailable("the EMA Workbench is not installed: pip install 'procsim[discovery]'") from None
    finally:
        if blocked and sys.modules.get("altair", 0) is None:
            del sys.modules["altair"]
    experiments, outcomes = experiments_and_outcomes(runs, parameters)
    y = outcomes[f"is_{outcome}"]
    if y.all() or not y.any():
        raise DiscoveryUnavailable(f"every run or no run ended in {outcome}; nothing to discover")
    export = folder / "ema_results.tar.gz"
    with atomic_path(export) as tmp, _quiet_workbench():
        for name in outcomes:
            ScalarOutcome(name)  # the workbench saves only outcomes it knows by name
        save_results((experiments, outcomes), str(tmp))
    x = experiments[parameters]
    with _quiet_workbench():
        finder = prim.Prim(x, y)
        box = finder.find_box()
    trajectory = box.peeling_trajectory[["coverage", "density", "mass", "res_dim"]].copy()
    good = trajectory.index[trajectory["density"] >= threshold]
    chosen = int(trajectory.loc[good, "coverage"].idxmax()) if len(good) else int(trajectory.index[-1])
    with _quiet_workbench():
        box.select(chosen)
    limits = _restricted(box.box_lims[chosen], box.box_lims[0], parameters)
    row = trajectory.loc[chosen]
    return Box(outcome, float(row["coverage"]), float(row["density"]), float(row["mass"]), limits, trajectory, export)


def _restricted(lims: pd.DataFrame, initial: pd.DataFrame, parameters: list[str]) -> pd.DataFrame:
    """The parameters the box restricts, with their bounds (or allowed categories)."""
    rows = []
    for name in parameters:
        low, high = lims[name].iloc[0], lims[name].iloc[1]
        if isinstance(low, set):
            if low != initial[name].iloc[0]:
                rows.append({"parameter": name, "low": ", ".join(sorted(map(str, low))), "high": ""})
        elif (low, high) != (initial[name].iloc[0], initial[name].iloc[1]):
            rows.append({"parameter": name, "low": float(low), "high": float(high)})
    return pd.DataFrame(rows, columns=["parameter", "low", "high"])
