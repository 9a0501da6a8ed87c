"""Seats that belong to their devices: who may sit where, and which device acts for which team.

Every seat (a table's procurement or supplier side) has its own join secret, carried by the
seat's join link and QR code. A device that opens the link is seated at once; a device that
has only the room code asks for a seat and waits for the facilitator's approval. Each device
gets its own random token (kept by its browser in a cookie, so it returns to its seat); the
server keeps only a hash of it. A token acts for its own seat only. The facilitator can give
a seat to other devices (*reassign*: the seat's devices are dropped and its link changes) or
to a bot. Devices per seat, joins per room and waiting requests are capped.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import asdict, dataclass, field

from sim.game.codes import new_secret, same_secret
from sim.game.table import ROLES, GameError

MAX_DEVICES_PER_SEAT = 6
MAX_WAITING = 40
JOINS_PER_SEAT = 12  # joins per room: this many per seat (rejoins from a new device, reassignments, requests)


def token_hash(token: str) -> str:
    """What the server keeps of a device token (SHA-256, hex)."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass
class Device:
    """A device that joined: its seat, and whether it is seated, waiting for approval, refused or dropped."""

    table: int
    role: str
    status: str  # "seated", "waiting", "refused", "dropped"
    team: str = ""  # the team name it proposed while waiting
    request: int = 0  # its request number while waiting (what the facilitator sees)
    since: float = field(default_factory=time.time)


@dataclass
class Seat:
    """One side of one table: its join secret and the bot playing it, if any."""

    table: int
    role: str
    key: str = field(default_factory=new_secret)
    bot: str = ""


STATUS_MESSAGES = {
    "waiting": "the facilitator has not approved this device yet",
    "refused": "the facilitator did not approve this device; ask them, or scan your seat's own QR code",
    "dropped": "this seat was given to another device; ask the facilitator, or scan your seat's QR code again",
}


class Seats:
    """The seats of a session's tables and every device that joined them (by token hash)."""

    def __init__(self, tables: int) -> None:
        self.seats: dict[tuple[int, str], Seat] = {}
        self.devices: dict[str, Device] = {}
        self.joins = 0
        self.requests = 0
        self.resize(tables)

    # ------------------------------------------------------------------ set-up

    def resize(self, tables: int) -> None:
        """Seats for ``tables`` tables (existing seats keep their secrets)."""
        wanted = {(t, r) for t in range(tables) for r in ROLES}
        self.seats = {k: self.seats.get(k) or Seat(*k) for k in sorted(wanted)}
        for device in self.devices.values():
            if device.table >= tables and device.status in ("seated", "waiting"):
                device.status = "dropped"

    def seat(self, table: int, role: str) -> Seat:
        """The seat of ``table`` (0-based) and ``role``."""
        try:
            return self.seats[(table, role)]
        except KeyError:
            raise GameError("no such seat", "seat", 404) from None

    def by_key(self, key: object) -> Seat:
        """The seat whose join secret is ``key`` (compared in constant time); GameError 403 if none."""
        found = None
        for seat in self.seats.values():
            if same_secret(key if isinstance(key, str) else "", seat.key):
                found = seat
        if found is None:
            raise GameError(
                "this seat link is not valid (any more); ask the facilitator for your seat's QR code", "seat", 403
            )
        return found

    def seated(self, table: int, role: str) -> int:
        """How many devices sit in a seat."""
        return sum(1 for d in self.devices.values() if d.status == "seated" and (d.table, d.role) == (table, role))

    def waiting(self) -> list[Device]:
        """Devices waiting for the facilitator's approval, oldest first."""
        return sorted((d for d in self.devices.values() if d.status == "waiting"), key=lambda d: d.request)

    # ------------------------------------------------------------------ joining

    def _count_join(self) -> None:
        if self.joins >= JOINS_PER_SEAT * len(self.seats):
            raise GameError("this room has had too many joins; ask the facilitator", status=429)
        self.joins += 1

    def sit(self, seat: Seat) -> str:
        """Seat a new device (the caller checked the team name); returns its token."""
        if seat.bot:
            raise GameError("a bot plays this seat; ask the facilitator to give it to your team", "seat", 409)
        if self.seated(seat.table, seat.role) >= MAX_DEVICES_PER_SEAT:
            raise GameError(
                f"this team already plays on {MAX_DEVICES_PER_SEAT} devices; share one of them", "seat", 429
            )
        self._count_join()
        token = new_secret()
        self.devices[token_hash(token)] = Device(seat.table, seat.role, "seated")
        return token

    def ask(self, table: int, role: str, team: str) -> tuple[str, Device]:
        """A device with only the room code asks for a seat; it waits for the facilitator's approval."""
        seat = self.seat(table, role)
        if seat.bot:
            raise GameError("a bot plays this seat; ask the facilitator to give it to your team", "seat", 409)
        if len(self.waiting()) >= MAX_WAITING:
            raise GameError("too many devices are waiting for approval; ask the facilitator", status=429)
        self._count_join()
        self.requests += 1
        token = new_secret()
        device = Device(table, role, "waiting", team, self.requests)
        self.devices[token_hash(token)] = device
        return token, device

    def device(self, token: str | None) -> Device:
        """The device of a token (GameError 401 if none)."""
        device = self.devices.get(token_hash(token)) if token else None
        if device is None:
            raise GameError("this device has not joined this game; join with the session code", status=401)
        return device

    def request(self, number: object) -> Device:
        """A waiting device by its request number."""
        for device in self.waiting():
            if device.request == number:
                return device
        raise GameError("no device is waiting with this request number", "request", 404)

    # ------------------------------------------------------------------ the facilitator

    def reassign(self, table: int, role: str) -> Seat:
        """Drop every device of a seat and give it a new join secret (the old link stops working); no bot."""
        seat = self.seat(table, role)
        for device in self.devices.values():
            if (device.table, device.role) == (table, role) and device.status in ("seated", "waiting"):
                device.status = "dropped"
        seat.key, seat.bot = new_secret(), ""
        return seat

    # ------------------------------------------------------------------ saving

    def to_dict(self) -> dict:
        """Plain values to save (token hashes only)."""
        return {
            "seats": [asdict(s) for s in self.seats.values()],
            "devices": {h: asdict(d) for h, d in self.devices.items()},
            "joins": self.joins,
            "requests": self.requests,
        }

    @classmethod
    def from_dict(cls, data: dict, tables: int) -> Seats:
        """Seats saved by to_dict()."""
        seats = cls(0)
        seats.seats = {(s["table"], s["role"]): Seat(**s) for s in data["seats"]}
        seats.resize(tables)
        seats.devices = {h: Device(**d) for h, d in data["devices"].items()}
        seats.joins, seats.requests = int(data["joins"]), int(data["requests"])
        return seats
