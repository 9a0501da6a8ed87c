"""Piecewise-constant schedules for numeric levers, e.g. ``{0: 0.08, 12: 0.0}``.

A lever given as a schedule takes each value from its period on, so users can ask
"what if procurement relents after three years?" without writing code.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Schedule:
    """A value that changes at given periods; ``points`` maps start period to value."""

    points: tuple[tuple[int, float], ...]

    def __post_init__(self) -> None:
        if not self.points:
            raise ValueError("a schedule needs at least one period: value pair")
        periods = [p for p, _ in self.points]
        if periods != sorted(periods) or len(set(periods)) != len(periods):
            raise ValueError("schedule periods must be distinct and increasing")
        if periods[0] != 0:
            raise ValueError("a schedule must start at period 0, e.g. {0: 0.08, 12: 0.0}")

    @classmethod
    def from_mapping(cls, mapping: dict) -> Schedule:
        """Build from a ``{period: value}`` mapping (keys may be strings from the CLI)."""
        try:
            items = sorted((int(k), float(v)) for k, v in mapping.items())
        except (TypeError, ValueError):
            raise ValueError("a schedule maps whole periods to numbers, e.g. {0: 0.08, 12: 0.0}") from None
        return cls(tuple(items))

    def value_at(self, period: int) -> float:
        """The value in force during ``period``."""
        value = self.points[0][1]
        for start, v in self.points:
            if start > period:
                break
            value = v
        return value

    @property
    def initial(self) -> float:
        return self.points[0][1]

    @property
    def values(self) -> list[float]:
        return [v for _, v in self.points]

    def as_dict(self) -> dict[int, float]:
        return dict(self.points)


def initial_value(lever: float | Schedule) -> float:
    """The value of a constant or scheduled lever at period 0."""
    return lever.initial if isinstance(lever, Schedule) else float(lever)
