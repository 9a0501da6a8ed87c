"""The game server's HTTP plumbing: security headers, bounded request bodies, JSON input, errors, cookies.

Request bodies are refused from their ``Content-Length`` before anything is read, and
counted while they stream (chunked uploads), so an oversize body is never held in memory.
Every malformed request (not JSON, deeply nested, the wrong type, too large) is a 4xx
answer with a message; anything unexpected is a 500 whose message names no file (the
traceback goes to the server's terminal).
"""

from __future__ import annotations

import json
import sys
import traceback

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from sim.game.table import GameError

MAX_BODY = 16_384
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
COOKIE_DAYS = 2


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


class BodyTooLarge(GameError):
    """A request body over MAX_BODY bytes."""

    def __init__(self) -> None:
        super().__init__(f"the request is too large (at most {MAX_BODY // 1024} KB)", status=413)


class BodyLimit:
    """ASGI middleware: refuse a body over ``limit`` bytes from its headers, or as soon as it streams past it."""

    def __init__(self, app, limit: int = MAX_BODY) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        length = dict(scope.get("headers", [])).get(b"content-length")
        if length is not None:
            if not length.isdigit():
                return await refuse(send, 400, "the request's Content-Length is not a number")
            if int(length) > self.limit:
                return await refuse(send, 413, BodyTooLarge().message)
        seen = 0

        async def counted():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise BodyTooLarge
            return message

        await self.app(scope, counted, send)


async def refuse(send, status: int, message: str) -> None:
    """Answer at once with a JSON error and close the connection (the body is never read)."""
    body = json.dumps({"error": message, "field": ""}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def read_json(request: Request) -> dict:
    """The request's JSON object (at most MAX_BODY bytes, read as it streams); GameError 4xx otherwise."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/json":
        raise GameError("send the request as JSON (Content-Type: application/json)", status=415)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise BodyTooLarge
        chunks.append(chunk)
    raw = b"".join(chunks)
    try:
        data = json.loads(raw or b"{}")
    except RecursionError:
        raise GameError("the request's JSON is nested too deeply") from None
    except (ValueError, UnicodeDecodeError):
        raise GameError("the request is not valid JSON") from None
    if not isinstance(data, dict):
        raise GameError("expected a JSON object")
    return data


async def errors(request: Request, exc: Exception) -> Response:
    """A GameError as its message and status; anything else as a 500 that names no file."""
    if isinstance(exc, GameError):
        return JSONResponse({"error": exc.message, "field": exc.field}, status_code=exc.status)
    print(f"procsim game: internal error on {request.method} {request.url.path}:", file=sys.stderr)
    traceback.print_exception(exc, file=sys.stderr)
    return JSONResponse({"error": "internal error; see the server's terminal"}, status_code=500)


def cookie_name(code: str) -> str:
    """The cookie that keeps a device's token for the session ``code``."""
    return f"procsim_{code}"


def set_device_cookie(response: Response, code: str, token: str) -> None:
    """Keep the device's token in its browser: sent back only to this server, never readable by scripts."""
    response.set_cookie(
        cookie_name(code), token, max_age=COOKIE_DAYS * 86400, path="/", httponly=True, samesite="strict"
    )


def attachment(name: str) -> dict[str, str]:
    """Headers that make a browser download ``name``."""
    return {"Content-Disposition": f'attachment; filename="{name}"'}
