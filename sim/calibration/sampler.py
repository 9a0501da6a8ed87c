"""pyabc's sampling, batched: a population's proposals simulated as ensembles instead of one run at a time.

pyabc hands a sampler ``simulate_one``, a function that draws one proposal, simulates it
and decides whether to accept it. One run at a time would waste procsim's ensemble
engine, so :class:`BatchSampler` splits that function into its two halves, which pyabc
builds it from (``generate_valid_proposal`` and ``evaluate_proposal``, called with the very
arguments pyabc bound): it draws a round of proposals, has the :class:`Simulator` run
them all as ensembles (on the sweep's workers or a Dask cluster), then evaluates them in
proposal order with their statistics ready (:class:`PrefetchedModel`) and keeps the first
``n`` accepted, as pyabc's own parallel samplers do. Proposals, acceptance and weights are
pyabc's; only where the runs happen changes. Rounds are sized from the acceptance rate so
far, never from the number of workers, so the result does not depend on them.
"""

from __future__ import annotations

import math
from functools import partial
from typing import Any

import numpy as np
import pyabc
from pyabc.inference_util import evaluate_proposal, generate_valid_proposal
from pyabc.population import Particle

from sim.calibration.batches import Simulator
from sim.calibration.summaries import statistics

MIN_RATE = 0.01  # the acceptance rate a round is sized for at worst
MARGIN = 1.2  # a round proposes this much more than the rate so far says it needs


class PrefetchedModel(pyabc.Model):
    """pyabc's model: the statistics of a proposal, which its round has already simulated."""

    def __init__(self, names: list[str]):
        super().__init__("procsim")
        self.names = names
        self.ready: dict[tuple[float, ...], dict[str, float]] = {}

    def values(self, parameter: Any) -> tuple[float, ...]:
        return tuple(float(parameter[name]) for name in self.names)

    def sample(self, pars: Any) -> dict[str, float]:
        return self.ready[self.values(pars)]


class BatchSampler(pyabc.sampler.Sampler):
    """Samples a population in rounds of proposals simulated together (see the module's docstring)."""

    def __init__(self, simulator: Simulator, model: PrefetchedModel):
        super().__init__()
        self.simulator = simulator
        self.model = model
        self.calls = 0  # populations sampled (the prior's calibration sample included)
        self.rate = 1.0  # acceptance rate of the last population
        self.rounds: list[dict[str, int]] = []

    def sample_until_n_accepted(
        self,
        n: int,
        simulate_one: Any,
        t: int,
        *,
        max_eval: float = np.inf,
        all_accepted: bool = False,
        ana_vars: Any = None,
    ) -> Any:
        call, self.calls = self.calls, self.calls + 1
        propose, evaluate = _halves(simulate_one)
        sample = self._create_empty_sample()
        accepted = evaluated = round_ = 0
        rate = 1.0 if all_accepted else self.rate
        while accepted < n:
            want = n - accepted if all_accepted else math.ceil((n - accepted) / max(rate, MIN_RATE) * MARGIN)
            size = int(min(want, self.simulator.left, max_eval - evaluated))
            if size <= 0:
                break
            proposals = [propose() for _ in range(size)]
            values = np.array([self.model.values(theta) for _, theta in proposals])
            matrices = self.simulator.statistics(call, round_, values)
            observed = self.simulator.calibration.observed
            for (m, theta), row, matrix in zip(proposals, values, matrices, strict=True):
                self.model.ready[tuple(row)] = statistics(matrix, observed)
                particle = evaluate(m, theta)
                self.model.ready.pop(tuple(row), None)
                sample.append(particle)
                evaluated += 1
                accepted += int(particle.accepted)
                if accepted >= n:
                    break
            rate = accepted / evaluated
            round_ += 1
        self.nr_evaluations_ = evaluated
        self.rate = accepted / evaluated if evaluated else self.rate
        self.rounds.append({"population": t, "rounds": round_, "evaluated": evaluated, "accepted": accepted})
        if accepted < n:
            sample.ok = False
        return sample


def _halves(simulate_one: Any) -> tuple[Any, Any]:
    """``simulate_one`` as (draw a proposal, evaluate a proposal), from the arguments pyabc bound to it.

    pyabc 0.13 builds both from these two functions (``inference_util``); a version that builds it
    otherwise is refused here rather than sampled wrongly.
    """
    func = getattr(simulate_one, "func", None)
    kw = getattr(simulate_one, "keywords", {}) if isinstance(simulate_one, partial) else {}
    name = getattr(func, "__name__", "")
    if name == "_simulate_one" and kw.get("evaluate", True):
        draw = {k: kw[k] for k in ("t", "m", "p", "model_prior", "parameter_priors", "model_perturbation_kernel")}
        draw["transitions"] = kw["transitions"]
        judge = {
            k: kw[k]
            for k in (
                "t",
                "models",
                "summary_statistics",
                "distance_function",
                "eps",
                "acceptor",
                "x_0",
                "weight_function",
                "proposal_id",
            )
        }
        return (lambda: generate_valid_proposal(**draw)), (lambda m, theta: evaluate_proposal(m, theta, **judge))
    if name == "_simulate_one_from_prior":
        prior, parameters, models, stats = (
            kw["model_prior"],
            kw["parameter_priors"],
            kw["models"],
            kw["summary_statistics"],
        )

        def draw_prior() -> tuple[int, Any]:
            m = int(prior.rvs())
            return m, parameters[m].rvs()

        def judge_prior(m: int, theta: Any) -> Any:
            result = models[m].summary_statistics(0, theta, stats)
            return Particle(
                m=m,
                parameter=theta,
                weight=1.0,
                sum_stat=result.sum_stat,
                distance=np.inf,
                accepted=True,
                proposal_id=0,
                preliminary=False,
            )

        return draw_prior, judge_prior
    raise TypeError(f"pyabc handed the sampler an unknown simulate function {name or simulate_one!r}")
