"""Serving the game: the data folder, the rooms resumed or created, the address players open, a clean stop.

``procsim game`` listens before it prints anything (a device that acts on the printed
address is never refused), saves every room at each change and once more when it stops
(Ctrl-C or SIGTERM, after which the command exits with 130 or 143).
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from sim.game import qr
from sim.game.registry import Registry
from sim.game.server import GameServer, create_app
from sim.game.settings import Settings
from sim.game.store import Store

LOOPBACK = ("127.0.0.1", "localhost", "::1")
ANY = ("0.0.0.0", "::", "")  # noqa: S104 - naming the addresses, not binding


def lan_address() -> str | None:
    """This machine's address on the local network, as other devices reach it (None if unknown).

    Connecting a UDP socket sends nothing: it only asks the system which interface would
    route to a (documentation-range) address.
    """
    import socket

    with contextlib.suppress(OSError), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.connect(("192.0.2.1", 9))
        address = sock.getsockname()[0]
        if not address.startswith("127."):
            return address
    return None


def join_base(host: str, port: int) -> str:
    """The address players open: the LAN address when serving on every interface."""
    if host in ANY:
        host = lan_address() or "127.0.0.1"
    elif host in LOOPBACK:
        host = "127.0.0.1"
    return f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"


def describe(entry: dict) -> str:
    """A room in one line: code, scenario, where it is."""
    if "error" in entry:
        return f"{entry['code']}: {entry['error']}"
    where = {"lobby": "in the lobby", "finished": "all rounds played", "debrief": "at the debrief"}.get(
        entry["state"], f"{entry['state']}, round {entry['round']} of {entry['rounds']}"
    )
    return f"{entry['code']}  {entry['scenario']}, {entry['tables']} tables, {where}"


def serve(
    settings: Settings,
    host: str,
    port: int,
    out: Path,
    data: Path,
    *,
    new: bool = False,
    open_code: str | None = None,
    echo=print,
) -> int:
    """Resume the rooms saved in ``data`` (or create one with ``settings``), listen, print how to join, serve.

    Returns how many rooms were saved when the server stopped; a stop by Ctrl-C or SIGTERM
    is re-raised (KeyboardInterrupt) after every room is saved.
    """
    import socket

    import uvicorn

    store = Store(data)
    try:
        registry = Registry(store)
        resumed = list(registry.resumed)
        if open_code:
            registry.open(open_code)
        if new or registry.current is None:
            registry.create(settings)
        session = registry.current
        assert session is not None  # noqa: S101 - created above if none was resumed
        server = GameServer(registry, join_base(host, port), out, (settings.scenario,))
        sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(2048)
        url = server.join_url(session)
        local = "127.0.0.1" if host in ANY or host in LOOPBACK else host
        if resumed:
            echo(f"procsim game: resumed {len(resumed)} room(s) saved in {data}:")
            for room in registry.listing():
                if room["code"] in {s.code for s in resumed}:
                    echo(f"  {describe(room)}")
        s = session.settings
        echo(
            f"procsim game: session code {session.code}  ({s.scenario}, {s.rounds} rounds, "
            f"{s.tables} tables; change them on the facilitator page)"
        )
        echo(f"Players join at {url}")
        echo(qr.terminal(url), end="")
        if host in LOOPBACK:
            echo("Only this machine can join: use --host 0.0.0.0 to let the room's devices join over the Wi-Fi.")
        echo("Facilitator page (keep the key private; it stays the same for this data folder):")
        echo(f"  http://{local}:{port}/facilitator#key={registry.secret}")
        echo(f"Every room is saved in {data} as it changes. Ctrl-C stops the server.", flush=True)
        config = uvicorn.Config(
            create_app(server), log_level="warning", access_log=False, timeout_graceful_shutdown=3, lifespan="on"
        )
        try:
            uvicorn.Server(config).run(sockets=[sock])
        finally:
            sock.close()
            registry.save_all()
        return len(registry.sessions)
    finally:
        store.close()
