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


def choose_suppliers(
    utility: np.ndarray,
    temperature: np.ndarray,
    rng: np.random.Generator | list[np.random.Generator],
    members: np.ndarray | None = None,
    options: np.ndarray | None = None,
) -> np.ndarray:
    """Index of the chosen option for each customer; ``utility`` is (options, customers), -inf = unavailable.

    In an ensemble of markets ``rng`` is one generator per market and ``members`` each
    customer's market: every market draws its own noise, in the shape and order a market run
    alone draws it, so each market's choices are those of its single run. ``options`` is each
    market's own number of options where markets have fewer than the table's rows (the rows
    between its suppliers and the last row, leaving the market, are padding).
    """
    scaled = utility / temperature
    best = scaled.max(axis=0)
    choice = scaled.argmax(axis=0)
    contenders = (scaled >= best - NEGLIGIBLE).sum(axis=0) > 1
    if contenders.any():
        cols = scaled[:, contenders]
        if members is None:
            noise = rng.standard_exponential(cols.shape)
        else:
            noise = _member_noise(cols.shape, members[contenders], rng, options)
        noisy = cols - np.log(noise)
        choice[contenders] = noisy.argmax(axis=0)  # -inf stays -inf: unavailable options never win
    return choice


def _member_noise(
    shape: tuple[int, int], who: np.ndarray, rngs: list[np.random.Generator], options: np.ndarray | None
) -> np.ndarray:
    """Exponential variates for columns owned by different markets, each drawn from its market's generator."""
    order = np.argsort(who, kind="stable")
    markets, counts = np.unique(who[order], return_counts=True)
    rows = shape[0]
    if options is None or (options[markets] == rows).all():
        draws = [
            rngs[r].standard_exponential((rows, k)) for r, k in zip(markets.tolist(), counts.tolist(), strict=True)
        ]
        noise = np.empty(shape)
        noise[:, order] = np.concatenate(draws, axis=1)
        return noise
    noise = np.ones(shape)  # padding rows are unavailable: their noise is never read
    start = 0
    for r, k in zip(markets.tolist(), counts.tolist(), strict=True):
        n = int(options[r])
        cols = order[start : start + k]
        draw = rngs[r].standard_exponential((n, k))
        noise[: n - 1, cols] = draw[:-1]
        noise[-1, cols] = draw[-1]
        start += k
    return noise


def logit_probabilities(utility: np.ndarray, temperature: np.ndarray) -> np.ndarray:
    """Choice probabilities of the same logit, (options, customers) (for tests and explanations)."""
    scaled = utility / temperature
    weights = np.exp(scaled - scaled.max(axis=0))
    return weights / weights.sum(axis=0)
