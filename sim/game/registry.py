"""The server's rooms: every session by code, the facilitator's key and current room, devices by token.

With a data folder (:class:`~sim.game.store.Store`) every session is saved at each change
and the rooms of an earlier run are resumed when the server starts again: those still in
play are opened at once (timers go on where they stopped), finished ones when asked for.
*New session* opens a room beside the current one, which keeps running.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable

from sim.game.codes import CODE_PATTERN, new_code, new_secret, normalise_code, same_secret
from sim.game.seats import Device, token_hash
from sim.game.session import Session
from sim.game.settings import Settings
from sim.game.store import Store, StoreError
from sim.game.table import GameError


class Registry:
    """Sessions by code (loaded from the data folder when needed), the facilitator's secret, the current room."""

    def __init__(
        self, store: Store | None = None, secret: str | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.store = store
        self.secret = secret or (store.facilitator_key() if store else new_secret())
        self.clock = clock
        self.sessions: dict[str, Session] = {}
        self.known: set[str] = set()
        self.tokens: dict[str, str] = {}  # device token hash -> session code
        self.current: Session | None = None
        self.problem = ""  # the last save that failed, for the facilitator's console
        self.lock = threading.RLock()
        self.resumed: list[Session] = []
        if store is not None:
            self._resume()

    def _resume(self) -> None:
        """Index every saved session; open those still in play; the most recent becomes current."""
        assert self.store is not None  # noqa: S101 - only called with a store
        self.known |= set(self.store.codes())  # no new room takes the name of any file there, readable or not
        listing = [entry for entry in self.store.listing() if "error" not in entry]
        for entry in listing:
            code = entry["code"]
            self.known.add(code)
            try:
                snapshot = self.store.load(code)
            except (StoreError, ValueError):
                continue
            for digest in snapshot["seats"]["devices"]:
                self.tokens[digest] = code
        for entry in reversed(listing):  # oldest first: the most recent ends up current
            if entry["state"] == "debrief":
                continue
            try:
                self.resumed.append(self.find(entry["code"]))
            except GameError as exc:
                print(f"procsim game: {exc.message}", file=sys.stderr)
        if self.resumed:
            self.current = self.resumed[-1]

    # ------------------------------------------------------------------ saving

    def save(self, session: Session) -> None:
        """Write ``session`` to its file (a failure is reported on the console; the room plays on)."""
        if self.store is None:
            return
        try:
            self.store.save(session.to_dict())
        except StoreError as exc:
            self.problem = f"{exc}; the game goes on, but is not saved until this is fixed"
            print(f"procsim game: {self.problem}", file=sys.stderr)
        else:
            self.problem = ""

    def save_all(self) -> int:
        """Save every open session (at shutdown, and the timers' heartbeat); returns how many."""
        with self.lock:
            sessions = list(self.sessions.values())
        for session in sessions:
            with session.lock:
                self.save(session)
        return len(sessions)

    def _adopt(self, session: Session) -> Session:
        session.saver = self.save
        self.sessions[session.code] = session
        self.known.add(session.code)
        for digest in session.seats.devices:
            self.tokens[digest] = session.code
        return session

    # ------------------------------------------------------------------ rooms

    def is_facilitator(self, given: str | None) -> bool:
        """Whether ``given`` is the facilitator's secret."""
        return same_secret(given, self.secret)

    def create(self, settings: Settings) -> Session:
        """A new room with a fresh code beside the others; it becomes the facilitator's current one."""
        with self.lock:
            session = Session(new_code(self.known | set(self.sessions)), settings, clock=self.clock)
            previous = self.current
            if previous is not None:
                session.undo = {"action": "new_session", "label": "New session", "previous": previous.code}
            self._adopt(session)
            self.save(session)
            self.current = session
            return session

    def discard(self, session: Session) -> Session:
        """Undo New session: remove the room it opened (nobody joined it yet); the previous room is current again."""
        with self.lock, session.lock:
            record = session.undo
            if record is None or record["action"] != "new_session":
                raise GameError("there is nothing to undo", status=409)
            previous = self.find(record["previous"])
            del self.sessions[session.code]
            self.known.discard(session.code)
            if self.store is not None:
                self.store.forget(session.code)
            self.current = previous
            return previous

    def find(self, code: object) -> Session:
        """The session with ``code`` (as typed: case and spaces do not matter), opened if saved; GameError 404 if none."""
        text = normalise_code(code) if isinstance(code, str) else ""
        if not CODE_PATTERN.match(text):
            raise GameError("no game has this code; check the code on the facilitator's screen", "code", status=404)
        with self.lock:
            session = self.sessions.get(text)
            if session is None and text in self.known and self.store is not None:
                try:
                    session = self._adopt(Session.from_dict(self.store.load(text), clock=self.clock))
                except (StoreError, ValueError, KeyError) as exc:
                    raise GameError(f"session {text} cannot be opened: {exc}", "code", status=500) from None
        if session is None:
            raise GameError("no game has this code; check the code on the facilitator's screen", "code", status=404)
        return session

    def open(self, code: object) -> Session:
        """Make a room (a running one or a saved one) the facilitator's current room."""
        session = self.find(code)
        with self.lock:
            self.current = session
        return session

    def listing(self) -> list[dict]:
        """Every room, saved or open, most recently changed first (for the console and ``--list-sessions``)."""
        with self.lock:
            saved = {e["code"]: e for e in self.store.listing()} if self.store is not None else {}
            for code, session in self.sessions.items():
                saved.setdefault(code, {"code": code, "created": session.created, "updated": session.created})
                saved[code].update(
                    {
                        "scenario": session.settings.scenario,
                        "state": session.state,
                        "round": session.round,
                        "rounds": session.settings.rounds,
                        "tables": session.settings.tables,
                    }
                )
            current = self.current.code if self.current is not None else None
            return [{**e, "current": e["code"] == current} for e in sorted(saved.values(), key=lambda e: -e["updated"])]

    # ------------------------------------------------------------------ devices

    def join(self, code: object, seat_key: object, team: object) -> tuple[str, Session, Device, bool]:
        """Seat a device with its seat's link; returns its token with the session, device and whether it named the team."""
        session = self.find(code)
        token, device, created = session.join(seat_key, team)
        with self.lock:
            self.tokens[token_hash(token)] = session.code
        return token, session, device, created

    def ask(self, code: object, table: object, role: object, team: object) -> tuple[str, Session, Device]:
        """A device with only the room code asks for a seat (the facilitator approves it)."""
        session = self.find(code)
        token, device = session.ask(table, role, team)
        with self.lock:
            self.tokens[token_hash(token)] = session.code
        return token, session, device

    def by_token(self, token: str | None) -> tuple[Session, Device]:
        """The session and seated device of a token (GameError 401/403 if unknown or not seated)."""
        code = self.tokens.get(token_hash(token)) if token else None
        if code is None:
            raise GameError("this device has not joined a game; join with the session code", status=401)
        session = self.find(code)
        return session, session.device(token)

    def heartbeat(self, save: bool = False) -> None:
        """Tick every open room's timer; with ``save``, save the running ones (a crash then loses a few seconds of a timer)."""
        with self.lock:
            sessions = list(self.sessions.values())
        for session in sessions:
            session.tick()
            if save and session.state == "running" and session.deadline is not None:
                with session.lock:
                    self.save(session)
