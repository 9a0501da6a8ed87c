"""The game's HTTP server: a JSON API, two plain pages and their scripts (starlette on uvicorn).

Every request says who it is: a player by the token it got when it joined
(``X-Player-Token``), the facilitator by the secret printed at start-up
(``X-Facilitator-Key``). Each answer is built by :mod:`.views` for that role only. Pages
are static files with no inline script, served with a Content-Security-Policy that allows
scripts from this server only, and they insert user text as text, never as HTML.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import deque
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from sim.errors import InputError
from sim.game import debrief, qr, views
from sim.game.session import Registry, Session, Settings
from sim.game.table import GameError
from sim.inputs.loading import list_scenarios
from sim.reports.files import default_out

STATIC = Path(__file__).resolve().parent / "static"
MAX_BODY = 16_384
WRONG_CODES_PER_MINUTE = 20
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


class SecurityHeaders:
    """ASGI middleware: the headers above on every response."""

    def __init__(self, app) -> None:
        self.app = app
        self.raw = [(k.lower().encode(), v.encode()) for k, v in HEADERS.items()]

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def with_headers(message) -> None:
            if message["type"] == "http.response.start":
                names = {k for k, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [h for h in self.raw if h[0] not in names]
            await send(message)

        await self.app(scope, receive, with_headers)


class GameServer:
    """The registry of sessions and the request handlers around it."""

    def __init__(
        self, registry: Registry, join_base: str, out: Path | None = None, scenarios: tuple[str, ...] = ()
    ) -> None:
        self.registry = registry
        self.scenarios = scenarios  # allowed beside the bundled ones: the command line's
        self.join_base = join_base.rstrip("/") + "/"
        self.out = out or Path("results") / "game"
        self.wrong_codes: dict[str, deque[float]] = {}

    def join_url(self, session: Session) -> str:
        """The address a player opens (the QR code's), with the session code filled in."""
        return f"{self.join_base}?code={session.code}"

    # ------------------------------------------------------------------ helpers

    @staticmethod
    async def body(request: Request) -> dict:
        raw = await request.body()
        if len(raw) > MAX_BODY:
            raise GameError("the request is too large", status=413)
        try:
            data = json.loads(raw or b"{}")
        except (ValueError, UnicodeDecodeError):
            raise GameError("the request is not valid JSON") from None
        if not isinstance(data, dict):
            raise GameError("expected a JSON object")
        return data

    def facilitator(self, request: Request) -> Session:
        if not self.registry.is_facilitator(request.headers.get("x-facilitator-key")):
            raise GameError("wrong facilitator key: use the one printed when the server started", status=403)
        session = self.registry.current
        assert session is not None  # noqa: S101 - invariant: the server starts with a session
        return session

    @staticmethod
    def since(request: Request) -> int | None:
        try:
            return int(request.query_params["since"])
        except (KeyError, ValueError):
            return None

    @staticmethod
    def envelope(session: Session, body: bytes | None) -> Response:
        """``{"version", "remaining", "view"}``; no view when the page already has this version."""
        remaining = session.remaining()
        head = json.dumps({"version": session.version, "remaining": remaining})[:-1]
        content = head.encode() + (b', "view": ' + body if body is not None else b"") + b"}"
        return Response(content, media_type="application/json")

    def _throttle(self, request: Request) -> None:
        host = request.client.host if request.client else "?"
        now = time.monotonic()
        recent = self.wrong_codes.setdefault(host, deque())
        while recent and now - recent[0] > 60:
            recent.popleft()
        if len(recent) >= WRONG_CODES_PER_MINUTE:
            raise GameError("too many wrong codes from this device; wait a minute", status=429)

    def _wrong_code(self, request: Request) -> None:
        host = request.client.host if request.client else "?"
        self.wrong_codes.setdefault(host, deque()).append(time.monotonic())

    def _find(self, request: Request, code: object) -> Session:
        self._throttle(request)
        try:
            return self.registry.find(code)
        except GameError:
            self._wrong_code(request)
            raise

    # ------------------------------------------------------------------ players

    async def lobby(self, request: Request) -> Response:
        session = self._find(request, request.path_params["code"])
        with session.lock:
            session.tick()
            return JSONResponse(views.lobby_view(session))

    async def join(self, request: Request) -> Response:
        data = await self.body(request)
        session = self._find(request, data.get("code"))
        token, player, created = await anyio.to_thread.run_sync(
            session.join, data.get("table"), data.get("role"), data.get("team")
        )
        self.registry.tokens[token] = session.code
        table = session.tables[player.table]
        return JSONResponse(
            {
                "token": token,
                "table": table.name,
                "role": player.role,
                "team": table.teams[player.role],
                "created": created,
            }
        )

    def _me(self, request: Request) -> Response:
        session, player = self.registry.by_token(request.headers.get("x-player-token"))
        session.tick()
        if self.since(request) == session.version:
            return self.envelope(session, None)
        return self.envelope(session, views.player_view(session, player))

    async def me(self, request: Request) -> Response:
        return await anyio.to_thread.run_sync(self._me, request)

    async def move(self, request: Request) -> Response:
        data = await self.body(request)
        session, player = self.registry.by_token(request.headers.get("x-player-token"))
        await anyio.to_thread.run_sync(session.submit, player, data)
        return self.envelope(session, await anyio.to_thread.run_sync(views.player_view, session, player))

    async def handout(self, request: Request) -> Response:
        session, _player = self.registry.by_token(request.headers.get("x-player-token"))
        if session.state != "debrief":
            raise GameError("the handout comes with the debrief", status=409)
        body, media = await anyio.to_thread.run_sync(debrief.export_file, session, "debrief.html")
        return Response(body, media_type=media, headers=_attachment("debrief.html"))

    # ------------------------------------------------------------------ the facilitator

    def _console(self, request: Request) -> Response:
        session = self.facilitator(request)
        session.tick()
        if self.since(request) == session.version:
            return self.envelope(session, None)
        return self.envelope(session, views.facilitator_view(session))

    async def console(self, request: Request) -> Response:
        return await anyio.to_thread.run_sync(self._console, request)

    async def room(self, request: Request) -> Response:
        """What does not change between polls: the code, join address, its QR code and the scenarios."""
        session = self.facilitator(request)
        url = self.join_url(session)
        return JSONResponse(
            {
                "code": session.code,
                "join_url": url,
                "qr": qr.svg(url),
                "scenarios": [n for n, _, _ in list_scenarios()]
                + [s for s in self.scenarios if s not in {n for n, _, _ in list_scenarios()}],
            }
        )

    async def settings(self, request: Request) -> Response:
        session = self.facilitator(request)
        settings = Settings.parse(await self.body(request), self.scenarios)
        await anyio.to_thread.run_sync(session.configure, settings)
        return self.envelope(session, views.facilitator_view(session))

    async def new_session(self, request: Request) -> Response:
        self.facilitator(request)
        settings = Settings.parse(await self.body(request), self.scenarios)
        session = await anyio.to_thread.run_sync(self.registry.create, settings)
        return self.envelope(session, views.facilitator_view(session))

    async def action(self, request: Request) -> Response:
        session = self.facilitator(request)
        data = await self.body(request)
        name = data.get("action")
        actions = {
            "start": session.start,
            "pause": session.pause,
            "resume": session.resume,
            "end_round": session.end_round,
            "reveal": session.reveal,
            "question": lambda: session.show_question(data.get("question")),
        }
        if name not in actions:
            raise GameError(f"unknown action {name!r}", "action")
        await anyio.to_thread.run_sync(actions[name])
        return self.envelope(session, await anyio.to_thread.run_sync(views.facilitator_view, session))

    async def export(self, request: Request) -> Response:
        session = self.facilitator(request)
        if session.state != "debrief":
            raise GameError("export comes with the debrief; reveal it first", status=409)
        folder = default_out(f"game-{session.code}", session.seed, root=self.out)
        try:
            path = await anyio.to_thread.run_sync(debrief.export, session, folder)
        except InputError as exc:
            raise GameError(str(exc), status=500) from None
        return JSONResponse({"folder": str(path.resolve()), "files": sorted(p.name for p in path.iterdir())})

    async def download(self, request: Request) -> Response:
        session = self.facilitator(request)
        if session.state != "debrief":
            raise GameError("downloads come with the debrief; reveal it first", status=409)
        name = request.path_params["name"]
        try:
            body, media = await anyio.to_thread.run_sync(debrief.export_file, session, name)
        except KeyError:
            raise GameError(f"no export called {name!r}", status=404) from None
        return Response(body, media_type=media, headers=_attachment(name))

    # ------------------------------------------------------------------ the timer

    async def ticker(self) -> None:
        """End rounds whose timer ran out, even when no device is polling."""
        while True:
            await asyncio.sleep(0.5)
            session = self.registry.current
            if session is not None and session.state == "running" and session.deadline is not None:
                await anyio.to_thread.run_sync(session.tick)


def _attachment(name: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{name}"'}


def _page(name: str):
    async def page(_request: Request) -> Response:
        return FileResponse(STATIC / name, media_type="text/html")

    return page


async def _errors(request: Request, exc: Exception) -> Response:
    if isinstance(exc, GameError):
        return JSONResponse({"error": exc.message, "field": exc.field}, status_code=exc.status)
    return JSONResponse({"error": "internal error; see the server's terminal"}, status_code=500)


def create_app(server: GameServer):
    """The ASGI app: pages, scripts and the JSON API around ``server``'s registry."""

    @contextlib.asynccontextmanager
    async def lifespan(_app) -> AsyncIterator[None]:
        task = asyncio.create_task(server.ticker())
        try:
            yield
        finally:
            task.cancel()

    app = Starlette(
        routes=[
            Route("/", _page("player.html")),
            Route("/facilitator", _page("facilitator.html")),
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
            Route("/api/session/{code}", server.lobby),
            Route("/api/join", server.join, methods=["POST"]),
            Route("/api/me", server.me),
            Route("/api/move", server.move, methods=["POST"]),
            Route("/api/handout", server.handout),
            Route("/api/facilitator", server.console),
            Route("/api/facilitator/room", server.room),
            Route("/api/facilitator/settings", server.settings, methods=["POST"]),
            Route("/api/facilitator/new", server.new_session, methods=["POST"]),
            Route("/api/facilitator/action", server.action, methods=["POST"]),
            Route("/api/facilitator/export", server.export, methods=["POST"]),
            Route("/api/facilitator/file/{name}", server.download),
        ],
        exception_handlers={GameError: _errors, Exception: _errors},
        lifespan=lifespan,
    )
    return SecurityHeaders(app)


LOOPBACK = ("127.0.0.1", "localhost", "::1")


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
    if host in ("0.0.0.0", "::", ""):  # noqa: S104 - naming the address, not binding
        host = lan_address() or "127.0.0.1"
    elif host in LOOPBACK:
        host = "127.0.0.1"
    return f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"


def serve(settings: Settings, host: str, port: int, out: Path, echo=print) -> None:
    """Create a session with ``settings``, listen, print how to join (code, address, QR, facilitator link), serve.

    The socket listens before anything is printed, so a device (or a script) that acts on
    the printed address is never refused.
    """
    import socket

    import uvicorn

    registry = Registry()
    session = registry.create(settings)
    server = GameServer(registry, join_base(host, port), out, (settings.scenario,))
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    url = server.join_url(session)
    local = "127.0.0.1" if host in ("0.0.0.0", "::", "") or host in LOOPBACK else host  # noqa: S104 - as above
    echo(
        f"procsim game: session code {session.code}  ({settings.scenario}, {settings.rounds} rounds, "
        f"{settings.tables} tables; change them on the facilitator page)"
    )
    echo(f"Players join at {url}")
    echo(qr.terminal(url), end="")
    if host in LOOPBACK:
        echo("Only this machine can join: use --host 0.0.0.0 to let the room's devices join over the Wi-Fi.")
    echo("Facilitator page (the key is printed only this once; keep it private):")
    echo(f"  http://{local}:{port}/facilitator#key={registry.secret}")
    echo("Ctrl-C stops the server.", flush=True)
    config = uvicorn.Config(
        create_app(server), log_level="warning", access_log=False, timeout_graceful_shutdown=3, lifespan="on"
    )
    try:
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()
