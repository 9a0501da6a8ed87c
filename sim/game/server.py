"""The game's HTTP API and pages (starlette on uvicorn): what each request may do, and for whom.

Every request says who it is: a device by its token (the cookie set when it joined, or the
``X-Player-Token`` header for scripts), the facilitator by the key printed at start-up
(``X-Facilitator-Key``). A device acts only for its own seat. Each answer is built by
:mod:`.views` for that role only. Pages are static files with no inline script, served with
a Content-Security-Policy that allows scripts from this server only, and they insert user
text as text, never as HTML. How requests are bounded is in :mod:`.web`; serving in
:mod:`.serve`.
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
from sim.game.registry import Registry
from sim.game.seats import Device, token_hash
from sim.game.session import Session
from sim.game.settings import Settings
from sim.game.table import GameError
from sim.game.web import BodyLimit, SecurityHeaders, attachment, cookie_name, errors, read_json, set_device_cookie
from sim.inputs.loading import list_scenarios
from sim.reports.files import default_out

STATIC = Path(__file__).resolve().parent / "static"
WRONG_CODES_PER_MINUTE = 20
HEARTBEAT_SECONDS = 5.0


class GameServer:
    """The registry of rooms and the request handlers around it."""

    def __init__(
        self, registry: Registry, join_base: str, out: Path | None = None, scenarios: tuple[str, ...] = ()
    ) -> None:
        self.registry = registry
        self.scenarios = scenarios  # allowed beside the bundled ones: the command line's
        self.join_base = join_base.rstrip("/") + "/"
        self.out = out or Path("results") / "game"
        self.wrong_codes: dict[str, deque[float]] = {}

    def join_url(self, session: Session, seat_key: str | None = None) -> str:
        """The address a player opens (the QR code's), with the session code (and a seat's secret) filled in."""
        return f"{self.join_base}?code={session.code}" + (f"&seat={seat_key}" if seat_key else "")

    # ------------------------------------------------------------------ helpers

    def facilitator(self, request: Request) -> Session:
        if not self.registry.is_facilitator(request.headers.get("x-facilitator-key")):
            raise GameError("wrong facilitator key: use the one printed when the server started", status=403)
        session = self.registry.current
        if session is None:
            raise GameError("no room is open; start a new session", status=409)
        return session

    @staticmethod
    def since(request: Request) -> int | None:
        try:
            return int(request.query_params["since"][:20])
        except (KeyError, ValueError):
            return None

    def envelope(self, session: Session, body: bytes | None, extra: dict | None = None) -> Response:
        """``{"code", "version", "remaining", ..., "view"}``; no view when the page already has this version."""
        head = {"code": session.code, "version": session.version, "remaining": session.remaining(), **(extra or {})}
        text = json.dumps(head)[:-1]
        content = text.encode() + (b', "view": ' + body if body is not None else b"") + b"}"
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

    def _guarded(self, request: Request, find):
        """``find()``, counting a wrong code or seat link against the device's address (throttled)."""
        self._throttle(request)
        try:
            return find()
        except GameError as exc:
            if exc.status in (403, 404):
                self._wrong_code(request)
            raise

    def _find(self, request: Request, code: object) -> Session:
        return self._guarded(request, lambda: self.registry.find(code))

    def _cookie_device(self, request: Request, session: Session) -> tuple[str | None, Device | None]:
        """The token this browser keeps for ``session`` and its device (None if it has none)."""
        token = request.cookies.get(cookie_name(session.code))
        device = session.seats.devices.get(token_hash(token)) if token else None
        return token, device

    def player(self, request: Request) -> tuple[Session, Device]:
        """The session and seated device a request acts for: its token header, or its cookie for ``?code=``."""
        token = request.headers.get("x-player-token")
        if token or not request.query_params.get("code"):
            return self.registry.by_token(token)
        session = self._find(request, request.query_params.get("code", ""))
        token, _device = self._cookie_device(request, session)
        return session, session.device(token)

    # ------------------------------------------------------------------ players

    async def lobby(self, request: Request) -> Response:
        """The join page's view of a room: its tables, this device's seat (cookie) and the seat a link opens."""
        session = self._find(request, request.path_params["code"])
        key = request.query_params.get("seat")
        seat = self._guarded(request, lambda: session.seats.by_key(key)) if key else None
        with session.lock:
            session.tick()
            view = views.lobby_view(session)
            _token, device = self._cookie_device(request, session)
            view["me"] = None if device is None else {"status": device.status, "request": device.request}
            if seat is not None:
                table = session.tables[seat.table]
                view["seat"] = {
                    "table": seat.table + 1,
                    "table_name": table.name,
                    "role": seat.role,
                    "team": table.teams[seat.role],
                    "bot": bool(seat.bot),
                }
            return JSONResponse(view)

    async def join(self, request: Request) -> Response:
        """Seat a device with its seat's link, or ask for a seat with the room code only; the token goes in a cookie."""
        data = await read_json(request)
        session = self._find(request, data.get("code"))
        _old, device = self._cookie_device(request, session)
        if device is not None and device.status in ("seated", "waiting"):
            raise GameError("this device has joined this game already; reload the page to return to it", status=409)
        if data.get("seat") is not None:
            token, session, device, created = await anyio.to_thread.run_sync(
                lambda: self._guarded(
                    request, lambda: self.registry.join(session.code, data.get("seat"), data.get("team"))
                )
            )
        else:
            token, session, device = await anyio.to_thread.run_sync(
                self.registry.ask, session.code, data.get("table"), data.get("role"), data.get("team")
            )
            created = False
        table = session.tables[device.table]
        response = JSONResponse(
            {
                "token": token,
                "code": session.code,
                "status": device.status,
                "request": device.request,
                "table": table.name,
                "role": device.role,
                "team": table.teams[device.role] or device.team,
                "created": created,
            }
        )
        set_device_cookie(response, session.code, token)
        return response

    def _me(self, request: Request) -> Response:
        token = request.headers.get("x-player-token")
        if token or not request.query_params.get("code"):
            session, device = self.registry.by_token(token)
        else:
            session = self._find(request, request.query_params.get("code", ""))
            token, device = self._cookie_device(request, session)
            if device is not None and device.status == "waiting":
                return JSONResponse(
                    {"code": session.code, "version": None, "waiting": views.waiting_view(session, device)}
                )
            device = session.device(token)
        session.tick()
        if self.since(request) == session.version:
            return self.envelope(session, None)
        return self.envelope(session, views.player_view(session, device))

    async def me(self, request: Request) -> Response:
        return await anyio.to_thread.run_sync(self._me, request)

    async def move(self, request: Request) -> Response:
        data = await read_json(request)
        session, device = self.player(request)
        await anyio.to_thread.run_sync(session.submit, device, data)
        return self.envelope(session, await anyio.to_thread.run_sync(views.player_view, session, device))

    async def seat_qr(self, request: Request) -> Response:
        """The link and QR code of this device's own seat, for a teammate's device."""
        session, device = self.player(request)
        url = self.join_url(session, session.seats.seat(device.table, device.role).key)
        return JSONResponse({"link": url, "qr": await anyio.to_thread.run_sync(qr.svg, url)})

    async def handout(self, request: Request) -> Response:
        session, _device = self.player(request)
        if session.state != "debrief":
            raise GameError("the handout comes with the debrief", status=409)
        body, media = await anyio.to_thread.run_sync(debrief.export_file, session, "debrief.html")
        return Response(body, media_type=media, headers=attachment("debrief.html"))

    # ------------------------------------------------------------------ the facilitator

    def _console(self, request: Request) -> Response:
        session = self.facilitator(request)
        session.tick()
        extra = {"problem": self.registry.problem}
        if self.since(request) == session.version and request.query_params.get("code") == session.code:
            return self.envelope(session, None, extra)
        return self.envelope(session, views.facilitator_view(session), extra)

    async def console(self, request: Request) -> Response:
        return await anyio.to_thread.run_sync(self._console, request)

    async def room(self, request: Request) -> Response:
        """What does not change between polls: the code, join address, its QR code, the scenarios and bots."""
        session = self.facilitator(request)
        url = self.join_url(session)
        bundled = [n for n, _, _ in list_scenarios()]
        return JSONResponse(
            {
                "code": session.code,
                "join_url": url,
                "qr": qr.svg(url),
                "scenarios": bundled + [s for s in self.scenarios if s not in bundled],
            }
        )

    def _seats(self, session: Session) -> list[dict]:
        out = []
        for (index, role), seat in session.seats.seats.items():
            url = self.join_url(session, seat.key)
            table = session.tables[index]
            out.append(
                {
                    "table": index + 1,
                    "table_name": table.name,
                    "role": role,
                    "team": table.teams[role],
                    "bot": seat.bot,
                    "link": url,
                    "qr": qr.svg(url, scale=4),
                }
            )
        return out

    async def seats(self, request: Request) -> Response:
        """Every seat's own join link and QR code (to print, or to show a team)."""
        session = self.facilitator(request)
        return JSONResponse({"code": session.code, "seats": await anyio.to_thread.run_sync(self._seats, session)})

    async def sessions(self, request: Request) -> Response:
        """Every room, open or saved: code, scenario, state, rounds, when it last changed."""
        self.facilitator(request)
        return JSONResponse({"sessions": await anyio.to_thread.run_sync(self.registry.listing)})

    async def open_session(self, request: Request) -> Response:
        """Make a room (one still playing, or a past one from the data folder) the console's room."""
        self.facilitator(request)
        data = await read_json(request)
        session = await anyio.to_thread.run_sync(self.registry.open, data.get("code"))
        return self.envelope(session, views.facilitator_view(session))

    async def settings(self, request: Request) -> Response:
        session = self.facilitator(request)
        settings = Settings.parse(await read_json(request), self.scenarios)
        await anyio.to_thread.run_sync(session.configure, settings)
        return self.envelope(session, views.facilitator_view(session))

    async def new_session(self, request: Request) -> Response:
        """A new room beside the current one (which keeps running); undoable until someone joins it."""
        self.facilitator(request)
        settings = Settings.parse(await read_json(request), self.scenarios)
        session = await anyio.to_thread.run_sync(self.registry.create, settings)
        return self.envelope(session, views.facilitator_view(session))

    def _undo(self, session: Session) -> Session:
        if session.undo is not None and session.undo["action"] == "new_session":
            return self.registry.discard(session)
        session.undo_last()
        return session

    def _approve_all(self, session: Session) -> None:
        problems = []
        for device in session.seats.waiting():
            try:
                session.approve(device.request)
            except GameError as exc:
                problems.append(f"request {device.request}: {exc.message}")
        if problems:
            raise GameError("; ".join(problems), "request", 409)

    async def action(self, request: Request) -> Response:
        session = self.facilitator(request)
        data = await read_json(request)
        name = data.get("action")
        actions = {
            "start": session.start,
            "practice": lambda: session.start(practice=True),
            "pause": session.pause,
            "resume": session.resume,
            "end_round": session.end_round,
            "reveal": session.reveal,
            "question": lambda: session.show_question(data.get("question")),
            "approve": lambda: session.approve(data.get("request")),
            "refuse": lambda: session.refuse(data.get("request")),
            "approve_all": lambda: self._approve_all(session),
            "reassign": lambda: session.reassign(data.get("table"), data.get("role")),
            "bot": lambda: session.set_bot(data.get("table"), data.get("role"), data.get("bot")),
            "undo": lambda: self._undo(session),
        }
        if not isinstance(name, str) or name not in actions:
            raise GameError("unknown action", "action")
        result = await anyio.to_thread.run_sync(actions[name])
        if isinstance(result, Session):
            session = result
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
            raise GameError("no export has this name", status=404) from None
        return Response(body, media_type=media, headers=attachment(name))

    # ------------------------------------------------------------------ the timers

    async def ticker(self) -> None:
        """End rounds whose timer ran out, even when no device is polling; save running rooms' timers now and then."""
        last_save = time.monotonic()
        while True:
            await asyncio.sleep(0.5)
            save = time.monotonic() - last_save >= HEARTBEAT_SECONDS
            if save:
                last_save = time.monotonic()
            await anyio.to_thread.run_sync(self.registry.heartbeat, save)


def _page(name: str):
    async def page(_request: Request) -> Response:
        return FileResponse(STATIC / name, media_type="text/html")

    return page


def create_app(server: GameServer):
    """The ASGI app: pages, scripts and the JSON API around ``server``'s registry."""

    @contextlib.asynccontextmanager
    async def lifespan(_app) -> AsyncIterator[None]:
        task = asyncio.create_task(server.ticker())
        try:
            yield
        finally:
            task.cancel()
            await anyio.to_thread.run_sync(server.registry.save_all)

    app = Starlette(
        routes=[
            Route("/", _page("player.html")),
            Route("/facilitator", _page("facilitator.html")),
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
            Route("/api/session/{code}", server.lobby),
            Route("/api/join", server.join, methods=["POST"]),
            Route("/api/me", server.me),
            Route("/api/me/qr", server.seat_qr),
            Route("/api/move", server.move, methods=["POST"]),
            Route("/api/handout", server.handout),
            Route("/api/facilitator", server.console),
            Route("/api/facilitator/room", server.room),
            Route("/api/facilitator/seats", server.seats),
            Route("/api/facilitator/sessions", server.sessions),
            Route("/api/facilitator/open", server.open_session, methods=["POST"]),
            Route("/api/facilitator/settings", server.settings, methods=["POST"]),
            Route("/api/facilitator/new", server.new_session, methods=["POST"]),
            Route("/api/facilitator/action", server.action, methods=["POST"]),
            Route("/api/facilitator/export", server.export, methods=["POST"]),
            Route("/api/facilitator/file/{name}", server.download),
        ],
        exception_handlers={GameError: errors, Exception: errors},
        lifespan=lifespan,
    )
    return SecurityHeaders(BodyLimit(app))
