"""One browser session's simulation: its models, the levers they were set up with, a lock.

The play loop steps the models in a worker thread while the page renders. Every step
happens under the lock and publishes an immutable snapshot (a copy of the series), and
the page reads only snapshots, so a chart never reads arrays a step is writing.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from sim.dashboard.phase import Phase, phase_of
from sim.engine.model import ProcurementModel
from sim.engine.schedule import Schedule
from sim.inputs.loading import load_scenario
from sim.inputs.schema import Scenario


@dataclass(frozen=True)
class Lever:
    """A lever the dashboard exposes: its scenario path, label and range (None for choices)."""

    path: str
    label: str
    low: float | None = None
    high: float | None = None
    step: float | None = None
    percent: bool = False


LEVERS = (
    Lever("customers.procurement.savings_target", "Savings target", 0.0, 0.3, 0.01, percent=True),
    Lever("customers.procurement.style", "Procurement style"),
    Lever("suppliers.strategy", "Supplier strategy"),
    Lever("suppliers.concession_rate", "Concession rate", 0.0, 1.0, 0.05),
    Lever("suppliers.margin_defense", "Margin defense", 0.0, 1.0, 0.05),
    Lever("customers.engagement", "Customer engagement", 0.0, 1.0, 0.05),
    Lever("suppliers.count", "Number of suppliers", 1, 10, 1),
)


def lever_values(scenario: Scenario) -> dict[str, Any]:
    """Each lever's value in a scenario (a schedule shows its starting value)."""
    c, s = scenario.customers[0], scenario.suppliers[0]
    values = {
        "customers.procurement.savings_target": c.procurement.savings_target,
        "customers.procurement.style": c.procurement.style,
        "suppliers.strategy": s.strategy,
        "suppliers.concession_rate": s.concession_rate,
        "suppliers.margin_defense": s.margin_defense,
        "customers.engagement": c.engagement,
        "suppliers.count": s.count,
    }
    return {k: (v.initial if isinstance(v, Schedule) else v) for k, v in values.items()}


@dataclass(frozen=True, eq=False)
class Frame:
    """What the page shows of one model at one moment (never mutated after publishing)."""

    label: str
    series: pd.DataFrame
    phase: Phase
    period: int
    running: bool
    outlook: str | None = None  # the verdict read with its outlook, once the horizon is reached


@dataclass(eq=False)
class Simulation:
    """The models of one session: one, or two on the same seed for a side-by-side comparison."""

    scenario_name: str
    levers: dict[str, Any]
    seed: int
    strategies: tuple[str, ...]
    models: list[ProcurementModel] = field(default_factory=list)
    frames: tuple[Frame, ...] = ()
    first: pd.Series | None = None  # the market's first period (sets the charts' fixed ranges)
    lock: threading.Lock = field(default_factory=threading.Lock)
    _outlooks: dict[tuple[int, int], str | None] = field(default_factory=dict)

    @classmethod
    def create(
        cls,
        scenario_name: str,
        levers: dict[str, Any] | None = None,
        seed: int | None = None,
        compare_with: str | None = None,
    ) -> Simulation:
        """Set up a scenario with lever overrides; with ``compare_with`` a second model uses that strategy."""
        base = load_scenario(scenario_name)
        values = {**lever_values(base), **(levers or {})}
        strategies = (values["suppliers.strategy"],) + ((compare_with,) if compare_with else ())
        sim = cls(scenario_name, values, base.seed if seed is None else int(seed), strategies)
        for strategy in strategies:
            scenario = load_scenario(scenario_name, {**values, "suppliers.strategy": strategy})
            sim.models.append(ProcurementModel(scenario, rng=sim.seed, record_agents_every=0))
        probe = ProcurementModel(sim.models[0].config, rng=sim.seed, record_agents_every=0)
        probe.step()  # a copy's first period, to fix the charts' axes before the first step
        sim.first = probe.recorder.timeseries().iloc[0]
        sim._publish()
        return sim

    @property
    def scenario(self) -> Scenario:
        """The resolved scenario of the first model (levers applied)."""
        return self.models[0].config

    @property
    def periods(self) -> int:
        """The horizon in periods."""
        return self.models[0].periods

    @property
    def running(self) -> bool:
        """Whether any model can still step."""
        return any(m.running for m in self.models)

    def step(self, n: int = 1) -> bool:
        """Advance every model ``n`` periods (those still running); returns whether any still runs."""
        with self.lock:
            for _ in range(n):
                for model in self.models:
                    if model.running:
                        model.step()
            self._publish()
        return self.running

    def _outlook(self, model: ProcurementModel) -> str | None:
        """The outlook sentence of a model at its horizon, worked out once (on a copy of the model)."""
        if model.running:
            return None
        key = (id(model), model.period)
        if key not in self._outlooks:
            from sim.reports.story import outlook_sentence
            from sim.runs.runner import outlook_summary

            summary = outlook_summary(model)
            self._outlooks[key] = None if summary is None else outlook_sentence(summary)
        return self._outlooks[key]

    def _publish(self) -> None:
        frames = []
        for strategy, model in zip(self.strategies, self.models, strict=True):
            ts = model.recorder.timeseries() if model.period else pd.DataFrame()
            frames.append(
                Frame(
                    strategy,
                    ts,
                    phase_of(ts, model.cycle, model.fair_band),
                    model.period,
                    model.running,
                    self._outlook(model),
                )
            )
        self.frames = tuple(frames)
