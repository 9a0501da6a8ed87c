"""A game session: its settings, tables, teams, rounds, timer and debrief, and the registry of sessions.

Rounds are the same for the whole room. While round r is open each table plays it as soon
as both its teams have submitted; when every table has played it, the next round opens.
The facilitator's timer (or *End round*) settles the tables still waiting, a missing move
repeating the team's last one. Every change bumps ``version``, which polling pages use to
fetch a view only when something happened. All methods take the session's lock.
"""

from __future__ import annotations

import threading
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

from sim.engine.model import ProcurementModel
from sim.errors import InputError
from sim.game.codes import CODE_PATTERN, new_code, new_secret, normalise_code, same_secret
from sim.game.table import ROLES, GameError, Table, game_scenario, series_of, step_period
from sim.inputs.loading import list_scenarios
from sim.inputs.schema import Scenario
from sim.runs.runner import no_discount

STATES = ("lobby", "running", "paused", "finished", "debrief")
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


def _whole(value: object, what: str, field: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str | float):
        raise GameError(f"{what} must be a whole number between {low} and {high}", field)
    try:
        number = int(str(value).strip())
    except ValueError:
        raise GameError(f"{what} must be a whole number between {low} and {high}, got {value!r}", field) from None
    if not low <= number <= high:
        raise GameError(f"{what} must be between {low} and {high}, got {number}", field)
    return number


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
    def parse(cls, data: dict, also: tuple[str, ...] = ()) -> Settings:
        """Settings from a facilitator's form (strings or numbers); GameError names the bad field.

        The scenario is a bundled one or one of ``also`` (the scenario file given on the
        command line): the page cannot make the server read any other file.
        """
        if not isinstance(data, dict):
            raise GameError("expected the settings as an object")
        scenarios = [n for n, _, _ in list_scenarios()] + [a for a in also if a]
        scenario = str(data.get("scenario", cls.scenario))
        if scenario not in scenarios:
            raise GameError(f"unknown scenario {scenario!r}; choose one of {', '.join(scenarios)}", "scenario")
        rounds = _whole(data.get("rounds", cls.rounds), "Rounds", "rounds", 1, 40)
        seed_text = data.get("seed")
        seed = None if seed_text in (None, "") else _whole(seed_text, "The seed", "seed", 0, 2**32 - 1)
        tables = _whole(data.get("tables", cls.tables), "Tables", "tables", 1, MAX_TABLES)
        timer = _whole(data.get("timer", cls.timer), "The round timer (seconds)", "timer", 0, MAX_TIMER)
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


@dataclass
class Player:
    """A device that joined: its token's table and role."""

    table: int
    role: str


@dataclass(eq=False)
class Session:
    """One game for a room: settings, tables, state, the current round and its timer."""

    code: str
    settings: Settings
    clock: Callable[[], float] = time.monotonic
    state: str = "lobby"
    round: int = 0  # the round open now (1-based); 0 in the lobby
    question: int = 0  # the debrief question on screen
    version: int = 0
    tables: list[Table] = field(default_factory=list)
    players: dict[str, Player] = field(default_factory=dict)
    deadline: float | None = None
    remaining_when_paused: float | None = None
    lock: threading.RLock = field(default_factory=threading.RLock)
    _balanced: pd.DataFrame | None = None
    _scenario: Scenario | None = None
    first_period: pd.Series | None = None  # a table's first period before any concession (fixes the pages' axes)

    def __post_init__(self) -> None:
        self.configure(self.settings)

    # ------------------------------------------------------------------ set-up

    @property
    def scenario(self) -> Scenario:
        """The game scenario every table plays."""
        assert self._scenario is not None  # noqa: S101 - invariant: set when the session is created
        return self._scenario

    @property
    def seed(self) -> int:
        """The seed every table's market (and the balanced policy) uses."""
        return self.scenario.seed if self.settings.seed is None else self.settings.seed

    @property
    def periods(self) -> int:
        """Periods in the whole game: rounds times the contract cycle."""
        return self.scenario.periods

    def configure(self, settings: Settings) -> None:
        """Apply settings in the lobby: new markets for every table; teams keep their seats."""
        with self.lock:
            if self.state != "lobby":
                raise GameError("the game has started; settings can only change in the lobby", status=409)
            seated = [t.index for t in self.tables if any(t.teams.values())]
            if seated and max(seated) >= settings.tables:
                raise GameError(
                    f"teams have joined {self.tables[max(seated)].name}; keep at least {max(seated) + 1} tables",
                    "tables",
                )
            try:
                scenario = game_scenario(settings.scenario, settings.rounds)
            except InputError as exc:
                raise GameError(str(exc), "scenario") from None
            teams = {t.index: t.teams for t in self.tables}
            self.settings, self._scenario = settings, scenario
            self.tables = [Table(i, settings.table_name(i), scenario, self.seed) for i in range(settings.tables)]
            probe = ProcurementModel(scenario, rng=self.seed, record_agents_every=0)
            probe.step()
            self.first_period = probe.recorder.timeseries().iloc[0]
            for table in self.tables:
                table.teams = dict(teams.get(table.index, table.teams))
            self._balanced = None
            self.version += 1

    # ------------------------------------------------------------------ players

    def join(self, table: object, role: object, team: object) -> tuple[str, Player, bool]:
        """Seat a device at a table in a role; returns (token, player, whether it created the team).

        The first device in a seat names the team; later devices join that team (a team
        may play on several devices) and any of them can submit the team's move.
        """
        with self.lock:
            if self.state == "debrief":
                raise GameError("this game is over", status=409)
            if role not in ROLES:
                raise GameError("choose procurement or supplier", "role")
            index = _whole(table, "The table", "table", 1, len(self.tables)) - 1
            seat = self.tables[index]
            created = seat.teams[role] is None
            if created:
                name = clean_name(team, "team name", "team")
                taken = {n.casefold() for t in self.tables for n in t.teams.values() if n}
                if name.casefold() in taken:
                    raise GameError(f"another team is already called {name!r}; choose another name", "team")
                seat.teams[role] = name
            token = new_secret()
            player = Player(index, str(role))
            self.players[token] = player
            self.version += 1
            return token, player, created

    def player(self, token: str | None) -> Player:
        """The player a token belongs to (GameError 401 if none)."""
        player = self.players.get(token or "")
        if player is None:
            raise GameError("this device has not joined this game; join again with the session code", status=401)
        return player

    def submit(self, player: Player, move: dict) -> None:
        """A team's move for the open round; the table plays as soon as both moves are in."""
        with self.lock:
            self.tick()
            if self.state != "running":
                raise GameError(
                    {
                        "lobby": "the game has not started yet",
                        "paused": "the facilitator has paused the game",
                    }.get(self.state, "the game is over"),
                    status=409,
                )
            table = self.tables[player.table]
            if table.rounds_played >= self.round:
                raise GameError("your table has played this round; wait for the other tables", status=409)
            if not isinstance(move, dict):
                raise GameError("expected the move as an object")
            if player.role == "procurement":
                table.submit_demand(_number(move.get("demand"), "demand"))
            else:
                table.submit_answer(move.get("answer"), _number(move.get("points", 0.0), "points"))
            if table.ready:
                table.play()
                self._maybe_next_round()
            self.version += 1

    # ------------------------------------------------------------------ the facilitator

    def start(self) -> None:
        """Open round 1 (from the lobby)."""
        with self.lock:
            if self.state != "lobby":
                raise GameError("the game has already started", status=409)
            self.state = "running"
            self._open_round(1)

    def pause(self) -> None:
        """Freeze the timer and refuse moves until resume()."""
        with self.lock:
            self.tick()
            if self.state != "running":
                raise GameError("only a running game can be paused", status=409)
            self.remaining_when_paused = self.remaining()
            self.state, self.deadline = "paused", None
            self.version += 1

    def resume(self) -> None:
        """Go on after pause(), with the time that was left."""
        with self.lock:
            if self.state != "paused":
                raise GameError("the game is not paused", status=409)
            self.state = "running"
            if self.remaining_when_paused is not None:
                self.deadline = self.clock() + self.remaining_when_paused
            self.remaining_when_paused = None
            self.version += 1

    def end_round(self) -> None:
        """Settle the open round at every table still waiting (missing moves repeat the last ones)."""
        with self.lock:
            if self.state not in ("running", "paused"):
                raise GameError("no round is open", status=409)
            for table in self.tables:
                if table.rounds_played < self.round:
                    table.play()
            self.state = "running"
            self.remaining_when_paused = None
            self._maybe_next_round()
            self.version += 1

    def reveal(self) -> None:
        """Show the debrief to everyone: the balanced policy, the hidden variables, the ranking."""
        with self.lock:
            if self.state == "lobby" or not any(t.rounds_played for t in self.tables):
                raise GameError("play at least one round before the debrief", status=409)
            if self.state == "debrief":
                return
            self.state, self.deadline, self.question = "debrief", None, 0
            self.version += 1

    def show_question(self, index: object) -> None:
        """Put debrief question ``index`` (0-based) on every screen."""
        from sim.game.debrief import QUESTIONS

        with self.lock:
            if self.state != "debrief":
                raise GameError("the questions come with the debrief", status=409)
            self.question = _whole(index, "The question", "question", 1, len(QUESTIONS)) - 1
            self.version += 1

    # ------------------------------------------------------------------ rounds and the timer

    def _open_round(self, number: int) -> None:
        self.round = number
        self.deadline = self.clock() + self.settings.timer if self.settings.timer else None
        self.version += 1

    def _maybe_next_round(self) -> None:
        if all(t.rounds_played >= self.round for t in self.tables):
            if self.round >= self.settings.rounds:
                self.state, self.deadline = "finished", None
                self.version += 1
            else:
                self._open_round(self.round + 1)

    def remaining(self) -> float | None:
        """Seconds left in the open round (None without a timer)."""
        if self.state == "paused":
            return self.remaining_when_paused
        if self.deadline is None:
            return None
        return max(self.deadline - self.clock(), 0.0)

    def tick(self) -> None:
        """End the open round if its timer ran out (called on every request and by the server's ticker)."""
        with self.lock:
            if self.state == "running" and self.deadline is not None and self.clock() >= self.deadline:
                self.end_round()

    # ------------------------------------------------------------------ the balanced policy

    def balanced(self) -> pd.DataFrame:
        """The balanced policy on the same market and seed (hold, demand from the scenario), every period.

        Computed when first asked for, which is at the debrief: nothing before it reads it.
        """
        with self.lock:
            if self._balanced is None:
                model = ProcurementModel(no_discount(self.scenario), rng=self.seed, record_agents_every=0)
                ledger = [step_period(model) for _ in range(model.periods)]
                self._balanced = series_of(model, ledger)
            return self._balanced

    def played_periods(self) -> int:
        """Periods played by the table that played most (the debrief compares over these)."""
        return max((t.model.period for t in self.tables), default=0)


def _number(value: object, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise GameError(f"{field} must be a number", field)
    try:
        return float(value)
    except ValueError:
        raise GameError(f"{field} must be a number, got {value!r}", field) from None


class Registry:
    """The server's sessions by code, the facilitator's secret, and which session a player token is in."""

    def __init__(self, secret: str | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.secret = secret or new_secret()
        self.clock = clock
        self.sessions: dict[str, Session] = {}
        self.current: Session | None = None
        self.tokens: dict[str, str] = {}  # player token -> session code
        self.lock = threading.Lock()

    def is_facilitator(self, given: str | None) -> bool:
        """Whether ``given`` is the facilitator's secret."""
        return same_secret(given, self.secret)

    def create(self, settings: Settings) -> Session:
        """A new session with a fresh code; it becomes the facilitator's current one."""
        with self.lock:
            session = Session(new_code(set(self.sessions)), settings, clock=self.clock)
            self.sessions[session.code] = session
            self.current = session
            return session

    def find(self, code: object) -> Session:
        """The session with ``code`` (as typed: case and spaces do not matter); GameError 404 if none."""
        text = normalise_code(code) if isinstance(code, str) else ""
        session = self.sessions.get(text) if CODE_PATTERN.match(text) else None
        if session is None:
            raise GameError("no game has this code; check the code on the facilitator's screen", "code", status=404)
        return session

    def join(self, code: object, table: object, role: object, team: object) -> tuple[str, Session, Player, bool]:
        """Join the session with ``code``; returns the new token with its session and seat."""
        session = self.find(code)
        token, player, created = session.join(table, role, team)
        with self.lock:
            self.tokens[token] = session.code
        return token, session, player, created

    def by_token(self, token: str | None) -> tuple[Session, Player]:
        """The session and seat of a player token (GameError 401 if unknown)."""
        code = self.tokens.get(token or "")
        if code is None:
            raise GameError("this device has not joined a game; join with the session code", status=401)
        session = self.sessions[code]
        return session, session.player(token)
