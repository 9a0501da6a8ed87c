"""A game session: its tables, seats, rounds, timer, practice round, undo and debrief state.

Rounds are the same for the whole room. While round r is open each table plays it as soon
as both its teams (or bots) have moved; when every table has played it, the next round
opens. The facilitator's timer (or *End round*) settles the tables still waiting, a missing
move repeating the team's last one. A practice round is played the same way and then
forgotten: every table starts again from the same market. Every change bumps ``version``
(polling pages fetch a view only when something happened) and is handed to ``saver``, which
writes the session to its file (:mod:`.store`) before the change is answered. All methods
take the session's lock.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

from sim.engine.model import ProcurementModel
from sim.errors import InputError
from sim.game import bots
from sim.game.seats import MAX_DEVICES_PER_SEAT, STATUS_MESSAGES, Device, Seats
from sim.game.settings import Settings, clean_name, number, whole
from sim.game.table import ROLES, GameError, Moves, Table, game_scenario, series_of, step_period
from sim.inputs.schema import Scenario
from sim.runs.runner import no_discount

STATES = ("lobby", "running", "paused", "finished", "debrief")
FORMAT = 1  # of a saved session (to_dict)


@dataclass(eq=False)
class Session:
    """One game for a room: settings, tables, seats, state, the current round and its timer."""

    code: str
    settings: Settings
    clock: Callable[[], float] = time.monotonic
    state: str = "lobby"
    round: int = 0  # the round open now (1-based); 0 in the lobby
    question: int = 0  # the debrief question on screen
    version: int = 0
    practice: bool = False  # the open round is the practice round (it does not count)
    practiced: bool = False
    created: float = field(default_factory=time.time)
    tables: list[Table] = field(default_factory=list)
    seats: Seats = field(default_factory=lambda: Seats(0))
    deadline: float | None = None
    remaining_when_paused: float | None = None
    undo: dict | None = None  # what the facilitator's last End round / Reveal / New session can undo
    saver: Callable[[Session], None] | None = None
    lock: threading.RLock = field(default_factory=threading.RLock)
    _balanced: pd.DataFrame | None = None
    _scenario: Scenario | None = None
    first_period: pd.Series | None = None  # a table's first period before any concession (fixes the pages' axes)

    def __post_init__(self) -> None:
        self.configure(self.settings, save=False)

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

    def changed(self) -> None:
        """Record a change: a new version, saved before anyone is answered."""
        self.version += 1
        if self.saver is not None:
            self.saver(self)

    def configure(self, settings: Settings, save: bool = True) -> None:
        """Apply settings in the lobby: new markets for every table; teams keep their seats."""
        with self.lock:
            if self.state != "lobby" or self.practice:
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
            self.seats.resize(settings.tables)
            self._balanced, self.undo = None, None
            if save:
                self.changed()

    # ------------------------------------------------------------------ devices and seats

    def _team(self, table: Table, role: str, team: object) -> str:
        name = clean_name(team, "team name", "team")
        taken = {n.casefold() for t in self.tables for r, n in t.teams.items() if n and (t, r) != (table, role)}
        if name.casefold() in taken:
            raise GameError(f"another team is already called {name!r}; choose another name", "team")
        return name

    def join(self, seat_key: object, team: object = None) -> tuple[str, Device, bool]:
        """Seat a device with its seat's join secret; returns (token, device, whether it named the team).

        The first device in a seat names the team; later devices join that team (a team may
        play on several devices) and any of them can submit the team's move.
        """
        with self.lock:
            if self.state == "debrief":
                raise GameError("this game is over", status=409)
            seat = self.seats.by_key(seat_key)
            table = self.tables[seat.table]
            created = table.teams[seat.role] is None
            name = self._team(table, seat.role, team) if created else None
            token = self.seats.sit(seat)
            if name is not None:
                table.teams[seat.role] = name
            self.undo = None
            self.changed()
            return token, self.seats.device(token), created

    def ask(self, table: object, role: object, team: object) -> tuple[str, Device]:
        """A device with only the room code asks for a seat; it plays once the facilitator approves."""
        with self.lock:
            if self.state == "debrief":
                raise GameError("this game is over", status=409)
            if role not in ROLES:
                raise GameError("choose procurement or supplier", "role")
            index = whole(table, "The table", "table", 1, len(self.tables)) - 1
            seated = self.tables[index].teams[str(role)]
            name = seated or self._team(self.tables[index], str(role), team)
            token, device = self.seats.ask(index, str(role), name)
            self.changed()
            return token, device

    def device(self, token: str | None) -> Device:
        """The seated device of a token; GameError 401/403 if unknown, waiting, refused or dropped."""
        device = self.seats.device(token)
        if device.status != "seated":
            raise GameError(STATUS_MESSAGES[device.status], status=403 if device.status == "waiting" else 401)
        return device

    def approve(self, request: object) -> None:
        """Seat a waiting device where it asked to sit (naming the team if the seat has none)."""
        with self.lock:
            device = self.seats.request(whole(request, "The request", "request", 1, 10**9))
            table = self.tables[device.table]
            seat = self.seats.seat(device.table, device.role)
            if seat.bot:
                raise GameError("a bot plays this seat; reassign it first", "request", 409)
            if self.seats.seated(device.table, device.role) >= MAX_DEVICES_PER_SEAT:
                raise GameError("this team already plays on the most devices a seat may have", "request", 409)
            if table.teams[device.role] is None:
                table.teams[device.role] = self._team(table, device.role, device.team)
            device.status = "seated"
            self.undo = None
            self.changed()

    def refuse(self, request: object) -> None:
        """Refuse a waiting device."""
        with self.lock:
            self.seats.request(whole(request, "The request", "request", 1, 10**9)).status = "refused"
            self.changed()

    def _seat_of(self, table: object, role: object) -> tuple[Table, str]:
        if role not in ROLES:
            raise GameError("choose procurement or supplier", "role")
        return self.tables[whole(table, "The table", "table", 1, len(self.tables)) - 1], str(role)

    def reassign(self, table: object, role: object) -> None:
        """Give a seat to other devices: its devices (or bot) leave it and its join link changes."""
        with self.lock:
            seat_table, role = self._seat_of(table, role)
            seat = self.seats.seat(seat_table.index, role)
            if seat.bot or (self.state == "lobby" and not self.practiced):
                seat_table.teams[role] = None  # the next team names it
            self.seats.reassign(seat_table.index, role)
            self.undo = None
            self.changed()

    def set_bot(self, table: object, role: object, name: object) -> None:
        """Let a bot (a procurement style or supplier strategy) play an empty seat."""
        with self.lock:
            if self.state == "debrief":
                raise GameError("this game is over", status=409)
            seat_table, role = self._seat_of(table, role)
            if name not in bots.bot_names(role):
                raise GameError(f"choose one of {', '.join(bots.bot_names(role))}", "bot")
            if self.seats.seated(seat_table.index, role):
                raise GameError("a team plays this seat; reassign it first", "bot", 409)
            seat = self.seats.seat(seat_table.index, role)
            seat.bot = str(name)
            seat_table.teams[role] = bots.team_name(seat.bot)
            self.undo = None
            self._bots_move()
            self.changed()

    # ------------------------------------------------------------------ moves

    def submit(self, device: Device, move: object) -> None:
        """A team's move for the open round; the table plays as soon as both moves are in."""
        with self.lock:
            self._tick()
            if self.state != "running":
                raise GameError(
                    {
                        "lobby": "the game has not started yet",
                        "paused": "the facilitator has paused the game",
                    }.get(self.state, "the game is over"),
                    status=409,
                )
            if not isinstance(move, dict):
                raise GameError("expected the move as an object")
            self._check_identity(device, move)
            table = self.tables[device.table]
            if table.rounds_played >= self.round:
                raise GameError("your table has played this round; wait for the other tables", status=409)
            if device.role == "procurement":
                table.submit_demand(number(move.get("demand"), "demand"))
            else:
                table.submit_answer(move.get("answer"), number(move.get("points", 0.0), "points"))
            self.undo = None
            self._bots_move()
            self.changed()

    def _check_identity(self, device: Device, move: dict) -> None:
        """A move that names a seat must name the device's own (a token acts only for its own team)."""
        table, role = move.get("table"), move.get("role")
        if table is not None and table != device.table + 1:
            raise GameError("this device plays at another table; it can move only for its own team", "table", 403)
        if role is not None and role != device.role:
            raise GameError(f"this device plays for {device.role}; it can move only for its own team", "role", 403)

    def _bots_move(self) -> None:
        """Bots make their moves in the open round; tables whose moves are all in play (rounds may follow)."""
        while self.state == "running":
            before = self.round
            for table in self.tables:
                if table.rounds_played >= self.round:
                    continue
                buyer = self.seats.seat(table.index, "procurement").bot
                seller = self.seats.seat(table.index, "supplier").bot
                if buyer and table.demand is None:
                    table.submit_demand(bots.procurement_demand(table, buyer, self.scenario), buyer)
                if seller and table.demand is not None and table.answer is None:
                    table.submit_bot_answer(seller)
                if table.ready:
                    table.play()
            self._maybe_next_round()
            if self.round == before or self.state != "running":
                return

    # ------------------------------------------------------------------ the facilitator

    def start(self, practice: bool = False) -> None:
        """Open round 1, or the practice round (from the lobby)."""
        with self.lock:
            if self.state != "lobby" or self.practice:
                raise GameError("the game has already started", status=409)
            self.state, self.practice, self.undo = "running", bool(practice), None
            self._open_round(1)
            self._bots_move()
            self.changed()

    def pause(self) -> None:
        """Freeze the timer and refuse moves until resume()."""
        with self.lock:
            self._tick()
            if self.state != "running":
                raise GameError("only a running game can be paused", status=409)
            self.remaining_when_paused = self.remaining()
            self.state, self.deadline, self.undo = "paused", None, None
            self.changed()

    def resume(self) -> None:
        """Go on after pause(), with the time that was left."""
        with self.lock:
            if self.state != "paused":
                raise GameError("the game is not paused", status=409)
            self.state, self.undo = "running", None
            if self.remaining_when_paused is not None:
                self.deadline = self.clock() + self.remaining_when_paused
            self.remaining_when_paused = None
            self.changed()

    def end_round(self) -> None:
        """Settle the open round at every table still waiting (missing moves repeat the last ones); undoable."""
        with self.lock:
            if self.state not in ("running", "paused"):
                raise GameError("no round is open", status=409)
            record = {
                "action": "end_round",
                "label": f"End round {self.round}",
                "round": self.round,
                "state": self.state,
                "remaining": self.remaining(),
                "pending": [t.pending() for t in self.tables],
                "played": [t.rounds_played for t in self.tables],
            }
            practice = self.practice
            self._settle_round()
            self.undo = None if practice else record
            self.changed()

    def _settle_round(self) -> None:
        for table in self.tables:
            if table.rounds_played < self.round:
                table.play()
        self.state = "running"
        self.remaining_when_paused = None
        self._maybe_next_round()
        self._bots_move()

    def reveal(self) -> None:
        """Show the debrief to everyone: the balanced policy, the hidden variables, the ranking; undoable."""
        with self.lock:
            if self.state == "lobby" or self.practice or not any(t.rounds_played for t in self.tables):
                raise GameError("play at least one round before the debrief", status=409)
            if self.state == "debrief":
                return
            record = {"action": "reveal", "label": "Reveal the debrief", "state": self.state}
            record["remaining"] = self.remaining()
            self.state, self.deadline, self.question = "debrief", None, 0
            self.remaining_when_paused = None
            self.undo = record
            self.changed()

    def show_question(self, index: object) -> None:
        """Put debrief question ``index`` (1-based) on every screen."""
        from sim.game.debrief import QUESTIONS

        with self.lock:
            if self.state != "debrief":
                raise GameError("the questions come with the debrief", status=409)
            self.question = whole(index, "The question", "question", 1, len(QUESTIONS)) - 1
            self.changed()

    def undo_last(self) -> str:
        """Undo the last End round or Reveal (if nothing happened since); returns what was undone."""
        with self.lock:
            record = self.undo
            if record is None or record["action"] not in ("end_round", "reveal"):
                raise GameError("there is nothing to undo", status=409)
            if record["action"] == "end_round":
                # tables settled by End round, and bot tables that then played the next round, go back
                for index, played in enumerate(record["played"]):
                    old = self.tables[index]
                    if old.rounds_played != played:
                        table = old.rebuilt(self.scenario, played)
                        table.practice_log = old.practice_log
                        self.tables[index] = table
                for table, pending in zip(self.tables, record["pending"], strict=True):
                    table.restore_pending(pending)
                self.round = record["round"]
            self.state, self.deadline, self.remaining_when_paused = record["state"], None, None
            self._restore_timer(record["remaining"])
            self.undo = None
            self.changed()
            return record["label"]

    # ------------------------------------------------------------------ rounds and the timer

    def _open_round(self, number: int) -> None:
        self.round = number
        self.deadline = self.clock() + self.settings.timer if self.settings.timer else None

    def _maybe_next_round(self) -> None:
        if not all(t.rounds_played >= self.round for t in self.tables):
            return
        if self.practice:
            self._end_practice()
        elif self.round >= self.settings.rounds:
            self.state, self.deadline = "finished", None
        else:
            self._open_round(self.round + 1)

    def _end_practice(self) -> None:
        """The practice round is over: each table keeps its result to show and starts again from period 0."""
        fresh = []
        for table in self.tables:
            again = table.rebuilt(self.scenario, 0)
            again.practice_log = list(table.log)
            fresh.append(again)
        self.tables = fresh
        self.state, self.round, self.deadline = "lobby", 0, None
        self.practice, self.practiced = False, True

    def _restore_timer(self, remaining: float | None) -> None:
        if self.state == "paused":
            self.remaining_when_paused = remaining
        elif self.state == "running" and remaining is not None:
            self.deadline = self.clock() + remaining

    def remaining(self) -> float | None:
        """Seconds left in the open round (None without a timer)."""
        if self.state == "paused":
            return self.remaining_when_paused
        if self.deadline is None or self.state != "running":
            return None
        return max(self.deadline - self.clock(), 0.0)

    def tick(self) -> None:
        """End the open round if its timer ran out (called on every request and by the server's ticker)."""
        with self.lock:
            if self._tick():
                self.changed()

    def _tick(self) -> bool:
        if self.state == "running" and self.deadline is not None and self.clock() >= self.deadline:
            self._settle_round()
            self.undo = None
            return True
        return False

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

    def tables_in(self) -> int:
        """Tables that have played the open round."""
        return sum(1 for t in self.tables if t.rounds_played >= self.round) if self.round else 0

    # ------------------------------------------------------------------ saving

    def to_dict(self) -> dict:
        """Everything needed to resume the session: settings, state, timer, seats and every move.

        The markets are not saved: they are replayed from the moves (same seed, same moves,
        same figures).
        """
        from sim.version import __version__

        with self.lock:
            return {
                "format": FORMAT,
                "procsim": __version__,
                "code": self.code,
                "created": self.created,
                "settings": self.settings.as_dict(),
                "state": self.state,
                "round": self.round,
                "question": self.question,
                "version": self.version,
                "practice": self.practice,
                "practiced": self.practiced,
                "remaining": self.remaining(),
                "tables": [
                    {
                        "teams": dict(t.teams),
                        "moves": [Moves.of(row).as_dict() for row in t.log],
                        "pending": t.pending(),
                        "practice_log": t.practice_log,
                    }
                    for t in self.tables
                ],
                "seats": self.seats.to_dict(),
            }

    @classmethod
    def from_dict(cls, data: dict, clock: Callable[[], float] = time.monotonic) -> Session:
        """A session saved by to_dict(), its markets replayed from the moves; the timer goes on where it stopped."""
        if data.get("format") != FORMAT:
            raise GameError(f"this session was saved in format {data.get('format')!r}, not {FORMAT}")
        settings = Settings.of(data["settings"])
        session = cls(data["code"], settings, clock=clock, created=float(data["created"]))
        for table, saved in zip(session.tables, data["tables"], strict=True):
            table.teams = {role: saved["teams"].get(role) for role in ROLES}
            for moves in saved["moves"]:
                table.play(Moves.of(moves))
            table.restore_pending(saved["pending"])
            table.practice_log = list(saved.get("practice_log", []))
        session.seats = Seats.from_dict(data["seats"], settings.tables)
        session.state, session.round, session.question = data["state"], int(data["round"]), int(data["question"])
        session.practice, session.practiced = bool(data["practice"]), bool(data["practiced"])
        session.version = int(data.get("version", 0)) + 1  # pages that poll with an older version get a new view
        session._restore_timer(data.get("remaining"))
        return session
