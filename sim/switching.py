"""Supplier choice at renewal: a logit over contract values, drawn with the model's RNG.

Each option's utility is divided by the customer's temperature (bounded rationality) and
perturbed with Gumbel noise; the largest wins, which samples the multinomial logit
exactly (the Gumbel-max trick) in one vectorised draw. The Gumbel variates are drawn as
``-log(E)`` with ``E`` standard exponential, the same distribution at a quarter of the cost
of ``Generator.gumbel``, and only for customers with more than one realistic option.
"""

from __future__ import annotations

import numpy as np


# An option this many temperatures below the best has a logit probability below e^-36
# (about 2e-16, under one double-precision ulp of 1): it is treated as impossible, so
# customers with a single contender need no random draw.
NEGLIGIBLE = 36.0


def choose_suppliers(utility: np.ndarray, temperature: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Index of the chosen option for each customer; ``utility`` is (options, customers), -inf = unavailable."""
    scaled = utility / temperature
    best = scaled.max(axis=0)
    choice = scaled.argmax(axis=0)
    contenders = (scaled >= best - NEGLIGIBLE).sum(axis=0) > 1
    if contenders.any():
        cols = scaled[:, contenders]
        noisy = cols - np.log(rng.standard_exponential(cols.shape))
        choice[contenders] = noisy.argmax(axis=0)  # -inf stays -inf: unavailable options never win
    return choice


def logit_probabilities(utility: np.ndarray, temperature: np.ndarray) -> np.ndarray:
    """Choice probabilities of the same logit, (options, customers) (for tests and explanations)."""
    scaled = utility / temperature
    weights = np.exp(scaled - scaled.max(axis=0))
    return weights / weights.sum(axis=0)
