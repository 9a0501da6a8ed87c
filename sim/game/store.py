"""Game sessions on disk: one SQLite file per game under a data folder, rewritten in one transaction per change.

A session is saved as its settings, state, timer, seats and moves (``Session.to_dict``);
its markets are replayed from the moves when it is opened again. SQLite (the standard
library's) makes each save atomic: a crash, a closed laptop lid or a power cut leaves the
last complete save, never half of one. The files are in write-ahead-log mode with
``synchronous = NORMAL``: a save costs a fraction of a millisecond instead of two disk
flushes (about 40 ms on the development machine, which every poll in the room waited for),
it survives the server's crash or a kill at once, and a power cut can lose at most the last
saves, never the file. While the server runs SQLite keeps two side files beside a game's
file (``-wal``, ``-shm``); they are folded back when it stops. Files are named
``game-<CODE>.sqlite`` and carry procsim's SQLite application id, and only such files (with
their side files) are ever removed (by command, when older than a retention period). One
server at a time uses a data folder (a lock file), whose ``facilitator.key`` keeps the
facilitator's key across restarts (readable by its owner only).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from sim.errors import InputError
from sim.game.codes import CODE_PATTERN, new_secret

APPLICATION_ID = 0x50534D47  # "PSMG": a file procsim's game wrote
NAME = re.compile(r"^game-([A-Z0-9]{4,8})\.sqlite$")
LOCK = ".procsim-game.lock"
KEY = "facilitator.key"
SCHEMA = """
CREATE TABLE IF NOT EXISTS game (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    code TEXT NOT NULL, scenario TEXT NOT NULL, state TEXT NOT NULL,
    round INTEGER NOT NULL, rounds INTEGER NOT NULL, tables INTEGER NOT NULL,
    created REAL NOT NULL, updated REAL NOT NULL, snapshot TEXT NOT NULL
)
"""


class StoreError(Exception):
    """A session file that cannot be read or written (the message says why, without a traceback)."""


def _connect(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(path, timeout=10, isolation_level=None, check_same_thread=False)
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("PRAGMA synchronous = NORMAL")
    return connection


class Store:
    """The data folder of ``procsim game``: a session file per game, the facilitator's key, a lock."""

    def __init__(self, folder: Path, *, lock: bool = True) -> None:
        self.folder = Path(folder)
        self._lock = None
        self._open: dict[str, sqlite3.Connection] = {}  # a connection per game saved by this server
        self._guard = threading.Lock()
        if not lock:  # reading only (listing, exporting)
            return
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            probe = self.folder / f".probe-{os.getpid()}"
            probe.write_text("")
            probe.unlink()
        except OSError as exc:
            raise InputError(
                f"cannot write to this folder ({exc.strerror})", source=str(folder), field="--data"
            ) from None
        self._take_lock()

    def _take_lock(self) -> None:
        import fcntl

        handle = (self.folder / LOCK).open("a")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            raise InputError(
                "another procsim game is using this data folder; stop it first or choose another --data",
                source=str(self.folder),
                field="--data",
            ) from None
        self._lock = handle

    def close(self) -> None:
        """Close every game file (SQLite folds its side files back in) and release the data folder."""
        with self._guard:
            for connection in self._open.values():
                with contextlib.suppress(sqlite3.Error):
                    connection.close()
            self._open.clear()
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    def _db(self, code: str) -> sqlite3.Connection:
        with self._guard:
            connection = self._open.get(code)
            if connection is None:
                connection = _connect(self.path(code))
                connection.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                connection.execute(SCHEMA)
                self._open[code] = connection
            return connection

    def forget(self, code: str) -> None:
        """Remove a game's file (and its side files), closing it first."""
        with self._guard:
            connection = self._open.pop(code, None)
        if connection is not None:
            with contextlib.suppress(sqlite3.Error):
                connection.close()
        path = self.path(code)
        for name in (path.name, path.name + "-wal", path.name + "-shm"):
            (path.parent / name).unlink(missing_ok=True)

    # ------------------------------------------------------------------ the facilitator's key

    def facilitator_key(self) -> str:
        """The facilitator's key, made on first use and kept in the data folder (mode 0600)."""
        path = self.folder / KEY
        with contextlib.suppress(OSError):
            text = path.read_text(encoding="ascii").strip()
            if re.fullmatch(r"[A-Za-z0-9_\-]{32}", text):
                return text
        key = new_secret()
        tmp = path.with_name(f".{KEY}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(key + "\n")
        os.replace(tmp, path)
        return key

    # ------------------------------------------------------------------ sessions

    def path(self, code: str) -> Path:
        """The file of session ``code``."""
        if not CODE_PATTERN.match(code):
            raise StoreError(f"not a session code: {code!r}")
        return self.folder / f"game-{code}.sqlite"

    def save(self, snapshot: dict) -> None:
        """Write a session's snapshot (Session.to_dict) in one transaction (callers hold the session's lock)."""
        text = json.dumps(snapshot, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
        settings = snapshot["settings"]
        row = (
            snapshot["code"],
            settings["scenario"],
            snapshot["state"],
            snapshot["round"],
            settings["rounds"],
            settings["tables"],
            snapshot["created"],
            time.time(),
            text,
        )
        try:
            db = self._db(snapshot["code"])
            db.execute("BEGIN IMMEDIATE")
            try:
                db.execute("INSERT OR REPLACE INTO game VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?)", row)
            except sqlite3.Error:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
        except sqlite3.Error as exc:
            raise StoreError(f"cannot save session {snapshot['code']}: {exc}") from None

    def load(self, code: str) -> dict:
        """A session's snapshot."""
        return json.loads(self._read(self.path(code), "snapshot"))

    def _read(self, path: Path, columns: str) -> tuple | str:
        if not path.exists():
            raise StoreError(f"{path.name} does not exist")
        try:
            with contextlib.closing(sqlite3.connect(path, timeout=10)) as db:
                if db.execute("PRAGMA application_id").fetchone()[0] != APPLICATION_ID:
                    raise StoreError(f"{path.name} is not a procsim game file")
                row = db.execute(f"SELECT {columns} FROM game WHERE id = 1").fetchone()  # noqa: S608 - our columns
        except sqlite3.Error as exc:
            raise StoreError(f"cannot read {path.name}: {exc}") from None
        if row is None:
            raise StoreError(f"{path.name} holds no session")
        return row[0] if "," not in columns else row

    def codes(self) -> list[str]:
        """The codes of every session file in the folder."""
        return sorted(m.group(1) for p in self.folder.iterdir() if (m := NAME.match(p.name)))

    def listing(self) -> list[dict]:
        """Every session in the folder, most recently changed first (unreadable files with the reason)."""
        out = []
        for code in self.codes():
            path = self.path(code)
            try:
                row = self._read(path, "code, scenario, state, round, rounds, tables, created, updated")
            except StoreError as exc:
                out.append({"code": code, "error": str(exc), "updated": path.stat().st_mtime})
                continue
            keys = ("code", "scenario", "state", "round", "rounds", "tables", "created", "updated")
            out.append(dict(zip(keys, row, strict=True)))
        return sorted(out, key=lambda s: -s["updated"])

    def remove_older_than(self, days: float, now: float | None = None) -> list[str]:
        """Remove the session files not changed for ``days`` days (only procsim's own); returns their codes."""
        cutoff = (time.time() if now is None else now) - days * 86400
        removed = []
        for entry in self.listing():
            if "error" in entry or entry["updated"] >= cutoff:
                continue
            self.forget(entry["code"])
            removed.append(entry["code"])
        return removed


@contextlib.contextmanager
def opened(folder: Path, *, lock: bool = True) -> Iterator[Store]:
    """A store for the block (its lock released at the end)."""
    store = Store(folder, lock=lock)
    try:
        yield store
    finally:
        store.close()
