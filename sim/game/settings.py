"""What the facilitator chooses for a session (scenario, rounds, seed, tables, timer) and the checks on people's input.

Every value a page sends is checked here or in :mod:`.table` before it is used; a bad one
is a :class:`~sim.game.table.GameError` that names its field.
"""

from __future__ import annotations

import math
import unicodedata
from dataclasses import asdict, dataclass

from sim.game.table import GameError
from sim.inputs.loading import list_scenarios

MAX_TABLES = 20
MAX_TIMER = 3600
MAX_NAME = 40


def clean_name(text: object, what: str, field: str) -> str:
    """A team or table name: 1-40 printable characters, spaces collapsed (shown escaped everywhere)."""
    if not isinstance(text, str):
        raise GameError(f"the {what} must be text", field)
    name = " ".join(text.split())
    if not name:
        raise GameError(f"give a {what}", field)
    if len(name) > MAX_NAME:
        raise GameError(f"the {what} is too long ({len(name)} characters; at most {MAX_NAME})", field)
    if any(unicodedata.category(c)[0] == "C" for c in name):
        raise GameError(f"the {what} contains control characters", field)
    return name


def whole(value: object, what: str, field: str, low: int, high: int) -> int:
    """A whole number from a page (a number or its text) between ``low`` and ``high``."""
    if isinstance(value, bool) or not isinstance(value, int | str | float):
        raise GameError(f"{what} must be a whole number between {low} and {high}", field)
    try:
        number = int(str(value).strip()[:30])
    except ValueError:
        raise GameError(f"{what} must be a whole number between {low} and {high}", field) from None
    if not low <= number <= high:
        raise GameError(f"{what} must be between {low} and {high}, got {number}", field)
    return number


def number(value: object, field: str) -> float:
    """A finite number from a page (a number or its text)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise GameError(f"{field} must be a number", field)
    try:
        out = float(str(value)[:30]) if isinstance(value, str) else float(value)
    except (ValueError, OverflowError):
        raise GameError(f"{field} must be a number", field) from None
    if not math.isfinite(out):
        raise GameError(f"{field} must be a number", field)
    return out


@dataclass(frozen=True)
class Settings:
    """What the facilitator chooses: scenario, rounds, seed, tables (and their names), round timer."""

    scenario: str = "procurement_squeeze"
    rounds: int = 6
    seed: int | None = None  # None: the scenario's seed
    tables: int = 2
    timer: int = 180  # seconds per round; 0: no timer (End round closes it)
    table_names: tuple[str, ...] = ()

    @classmethod
    def parse(cls, data: object, also: tuple[str, ...] = ()) -> Settings:
        """Settings from a facilitator's form (strings or numbers); GameError names the bad field.

        The scenario is a bundled one or one of ``also`` (the scenario file given on the
        command line): the page cannot make the server read any other file.
        """
        if not isinstance(data, dict):
            raise GameError("expected the settings as an object")
        scenarios = [n for n, _, _ in list_scenarios()] + [a for a in also if a]
        scenario = data.get("scenario", cls.scenario)
        if not isinstance(scenario, str) or scenario not in scenarios:
            raise GameError(f"unknown scenario; choose one of {', '.join(scenarios)}", "scenario")
        rounds = whole(data.get("rounds", cls.rounds), "Rounds", "rounds", 1, 40)
        seed_text = data.get("seed")
        seed = None if seed_text in (None, "") else whole(seed_text, "The seed", "seed", 0, 2**32 - 1)
        tables = whole(data.get("tables", cls.tables), "Tables", "tables", 1, MAX_TABLES)
        timer = whole(data.get("timer", cls.timer), "The round timer (seconds)", "timer", 0, MAX_TIMER)
        raw_names = data.get("table_names", ())
        if isinstance(raw_names, str):
            raw_names = [n for n in raw_names.split(",") if n.strip()]
        if not isinstance(raw_names, list | tuple) or len(raw_names) > tables:
            raise GameError(f"give at most {tables} table names, separated by commas", "table_names")
        names = tuple(clean_name(n, "table name", "table_names") for n in raw_names)
        if len(set(names)) != len(names):
            raise GameError("two tables have the same name", "table_names")
        return cls(scenario, rounds, seed, tables, timer, names)

    def table_name(self, index: int) -> str:
        """The name of table ``index`` (0-based): the facilitator's, else 'Table n'."""
        return self.table_names[index] if index < len(self.table_names) else f"Table {index + 1}"

    def as_dict(self) -> dict:
        """Plain values (what a saved session keeps)."""
        return {**asdict(self), "table_names": list(self.table_names)}

    @classmethod
    def of(cls, data: dict) -> Settings:
        """Settings saved by as_dict()."""
        return cls(**{**data, "table_names": tuple(data.get("table_names", ()))})
