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
    scaled = utility / temperature
    best = scaled.max(axis=0)
    choice = scaled.argmax(axis=0)
    contenders = (scaled >= best - NEGLIGIBLE).sum(axis=0) > 1
    if contenders.any():
        cols = scaled[:, contenders]
        if members is None:
            noise = rng.standard_exponential(cols.shape)
        else:
            noise = rng.noise(cols.shape, members[contenders], options)
        noisy = cols - np.log(noise)
        choice[contenders] = noisy.argmax(axis=0)  # -inf stays -inf: unavailable options never win
    return choice


class Streams:
    """The standard exponential variates of each market of an ensemble, drawn ahead from its own generator.

    A generator's draw of ``n`` variates followed by ``m`` more is its draw of ``n + m``, so
    drawing a block ahead and handing out its values in order gives every market exactly
    the values its single run draws, without one call per market per period.
    """

    AHEAD = 4  # a market that runs short draws this many times what it needs now (little is left unused at the end)
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
            self.buffer[r, start + left :] = self.rngs[r].standard_exponential(width - start - left)
            self.pos[r] = start

    def noise(self, shape: tuple[int, int], who: np.ndarray, options: np.ndarray | None) -> np.ndarray:
        """Variates for columns owned by different markets: each market's (its options x its columns) block,
        filled in order from its own stream, as its single run draws it."""
        rows, n = shape
        counts = np.bincount(who, minlength=len(self.rngs))
        order = np.argsort(who, kind="stable")
        if options is None or (options[counts > 0] == rows).all():
            self._ensure(rows * counts)
            sorted_who = who[order]
            first = np.cumsum(counts) - counts
            local = np.arange(n) - first[sorted_who]
            start = sorted_who * self.buffer.shape[1] + self.pos[sorted_who] + local
            flat = start[None, :] + np.arange(rows)[:, None] * counts[sorted_who][None, :]
            noise = np.empty(shape)
            noise[:, order] = self.buffer.ravel()[flat]
            self.pos += rows * counts
            return noise
        sizes = options * counts
        self._ensure(np.where(counts > 0, sizes, 0))
        noise = np.ones(shape)  # padding rows are unavailable: their noise is never read
        start = 0
        for r in np.flatnonzero(counts).tolist():
            k, m = int(counts[r]), int(options[r])
            cols = order[start : start + k]
            draw = self.buffer[r, self.pos[r] : self.pos[r] + m * k].reshape(m, k)
            self.pos[r] += m * k
            noise[: m - 1, cols] = draw[:-1]
            noise[-1, cols] = draw[-1]
            start += k
        return noise


def logit_probabilities(utility: np.ndarray, temperature: np.ndarray) -> np.ndarray:
    """Choice probabilities of the same logit, (options, customers) (for tests and explanations)."""
    scaled = utility / temperature
    weights = np.exp(scaled - scaled.max(axis=0))
    return weights / weights.sum(axis=0)
