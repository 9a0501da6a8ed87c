"""Supplier choice at renewal: a logit over contract values, drawn with the model's RNG.

Each option's utility is divided by the customer's temperature (bounded rationality) and
perturbed with Gumbel noise; the largest wins, which samples the multinomial logit
exactly (the Gumbel-max trick) in one vectorised draw. The Gumbel variates are drawn as
``-log(E)`` with ``E`` standard exponential, the same distribution at a quarter of the cost
of ``Generator.gumbel``, and only for customers with more than one realistic option.
"""

from __future__ import annotations

import copy

import numpy as np

from sim.engine.kernels import best_option_pass, noisy_choice_pass

# An option this many temperatures below the best has a logit probability below e^-36
# (about 2e-16, under one double-precision ulp of 1): it is treated as impossible, so
# customers with a single contender need no random draw.
NEGLIGIBLE = 36.0


def choose_suppliers(
    utility: np.ndarray,
    temperature: np.ndarray,
    rng: np.random.Generator | Streams,
    members: np.ndarray | None = None,
    options: np.ndarray | None = None,
) -> np.ndarray:
    """Index of the chosen option for each customer; ``utility`` is (options, customers), -inf = unavailable.

    In an ensemble of markets ``rng`` is the markets' :class:`Streams` and ``members`` each
    customer's market: every market draws its own noise, in the shape and order a market run
    alone draws it, so each market's choices are those of its single run. ``options`` is each
    market's own number of options where markets have fewer than the table's rows (the rows
    between its suppliers and the last row, leaving the market, are padding).
    """
    rows, n = utility.shape
    scaled = np.empty((rows, n))
    choice = np.empty(n, dtype=np.int64)
    contender = np.empty(n, dtype=np.bool_)
    best_option_pass(utility, np.asarray(temperature, dtype=float), NEGLIGIBLE, scaled, choice, contender)
    if not contender.any():
        return choice
    if members is None:  # one market: its noise straight from its generator, (options x contenders)
        counts = np.array([int(contender.sum())])
        sizes = np.array([rows])
        buffer, pos = np.log(rng.standard_exponential(rows * int(counts[0])))[None, :], np.zeros(1, dtype=np.int64)
        members = np.zeros(n, dtype=np.int64)
    else:
        counts = np.bincount(members[contender], minlength=len(rng.rngs))
        sizes = np.full(len(counts), rows) if options is None else np.asarray(options, dtype=np.int64)
        buffer, pos = rng.reserve(sizes * counts)
    noisy_choice_pass(scaled, contender, members, counts, sizes, buffer, pos, choice)
    if isinstance(rng, Streams):
        rng.pos += sizes * counts
    return choice


class Streams:
    """The standard exponential variates of each market of an ensemble, drawn ahead from its own generator
    and kept as their logarithms (the Gumbel-max draw subtracts ``log(E)``).

    A generator's draw of ``n`` variates followed by ``m`` more is its draw of ``n + m``, so
    drawing a block ahead and handing out its values in order gives every market exactly
    the values its single run draws, without one call per market per period.
    """

    AHEAD = 8  # a market that runs short draws this many times what it needs now (a refill is a call per market)
    MINIMUM = 256

    def __init__(self, rngs: list[np.random.Generator]):
        self.rngs = rngs
        self.buffer = np.empty((len(rngs), self.MINIMUM))
        self.pos = np.full(len(rngs), self.MINIMUM, dtype=np.int64)  # nothing drawn yet

    def select(self, keep: list[int], copy_generators: bool) -> Streams:
        """The streams of the markets ``keep`` (their generators copied, or shared)."""
        out = Streams.__new__(Streams)
        out.rngs = [copy.deepcopy(self.rngs[r]) if copy_generators else self.rngs[r] for r in keep]
        out.buffer, out.pos = self.buffer[keep].copy(), self.pos[keep].copy()
        return out

    def _ensure(self, need: np.ndarray) -> None:
        """Top up the markets whose next ``need`` values are not all drawn yet."""
        width = self.buffer.shape[1]
        short = np.flatnonzero(self.pos + need > width)
        if not short.size:
            return
        wanted = np.maximum(self.AHEAD * need[short], self.MINIMUM)
        if wanted.max() > width:  # widen every row, keeping each row's values at its end
            grown = int(wanted.max())
            buffer = np.empty((len(self.rngs), grown))
            buffer[:, grown - width :] = self.buffer
            self.buffer, self.pos = buffer, self.pos + (grown - width)
            width = grown
        for r, total in zip(short.tolist(), wanted.tolist(), strict=True):
            left = width - int(self.pos[r])
            start = width - max(int(total), left)
            self.buffer[r, start : start + left] = self.buffer[r, self.pos[r] :]
            self.buffer[r, start + left :] = np.log(self.rngs[r].standard_exponential(width - start - left))
            self.pos[r] = start

    def reserve(self, need: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The buffer of ``log(E)`` and each market's position, with at least ``need`` values drawn ahead
        of it (the caller reads them and moves ``pos`` on)."""
        self._ensure(need)
        return self.buffer, self.pos


def logit_probabilities(utility: np.ndarray, temperature: np.ndarray) -> np.ndarray:
    """Choice probabilities of the same logit, (options, customers) (for tests and explanations)."""
    scaled = utility / temperature
    weights = np.exp(scaled - scaled.max(axis=0))
    return weights / weights.sum(axis=0)
