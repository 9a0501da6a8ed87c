"""Shared helpers: small scenarios built from dicts or bundled names, and quick runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sim.engine.model import ProcurementModel
from sim.inputs.loading import build_scenario, load_scenario

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = sorted(p.stem for p in (ROOT / "scenarios").glob("*.yaml"))
SEEDS = (1, 2, 3, 4, 5)


def bundled(name: str, overrides: dict[str, Any] | None = None):
    """A bundled scenario with ``--set``-style dotted overrides."""
    return load_scenario(name, overrides)


def market(raw: dict[str, Any]):
    """A scenario from a raw mapping, as a YAML file would give it."""
    return build_scenario(raw, source="<test>")


def run(scenario, seed: int = 1, **kwargs) -> ProcurementModel:
    return ProcurementModel(scenario, rng=seed, **kwargs).run()


@pytest.fixture
def small():
    """A one-supplier market of 60 customers over 24 periods."""
    return market({"periods": 24, "suppliers": {"count": 1}, "customers": {"count": 60}})
