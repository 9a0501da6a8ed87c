"""The studio's HTTP server: one page, its script, and a small JSON API (starlette on uvicorn, as the game).

``GET /`` is the page; ``/api/scenarios`` and ``/api/form`` describe what can be asked;
``POST /api/accounts`` takes an accounts file as the request body (bounded: refused from
its Content-Length or while it streams); ``POST /api/ask`` answers a what-if; and
``/api/answers/ID/FILE`` downloads its report.html, report.xlsx or scenario.yaml. A bad
upload or field is answered with ``{"error", "field"}`` (HTTP 400/413), never a crash.
The answer's HTML fragments are the report's own (every user text escaped); the page
inserts charts as images and the rest as that escaped HTML, under a CSP that runs
scripts from this server only.
"""

from __future__ import annotations

import base64
import json
import sys
import tempfile
import time
import traceback
import urllib.parse
from pathlib import Path
from typing import Any

import anyio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from sim.errors import InputError
from sim.game.server import SecurityHeaders
from sim.inputs.loading import list_scenarios, load_scenario
from sim.studio.forms import Question, form_of, numbers, question
from sim.studio.workspace import MAX_UPLOAD, Answer, Workspace

STATIC = Path(__file__).resolve().parent / "static"
MAX_JSON = 65_536
DEFAULT_SCENARIO = "baseline"
CHARTS = ("cost", "parts", "curve", "followers", "overview")
# The comparison's rows: the same line of different answers (whatever account each granted).
ROWS = {
    "total": "your profit, change over the horizon",
    "granted": "of which: the granted account",
    "parity": "of which: accounts that obtained parity",
    "moved": "of which: accounts lost or won",
    "rest": "of which: the rest of your market",
    "per_year": "your profit, change per year (average)",
    "npv": "net present value (now)",
    "target_value": "the granted account: value to it, change",
}
DOWNLOADS = {
    "report.html": "text/html; charset=utf-8",
    "report.xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "scenario.yaml": "application/yaml; charset=utf-8",
}


class Refused(Exception):
    """A request the studio answers with a message (status 400, or 413 when too large)."""

    def __init__(self, message: str, field: str | None = None, status: int = 400):
        super().__init__(message)
        self.message, self.field, self.status = message, field, status


def refused(exc: InputError) -> Refused:
    """An input error as the page shows it: the file (if any) and the message, under its field."""
    where = f"{exc.source}: " if exc.source and exc.source not in ("--grant", "--set", "--base-set") else ""
    return Refused(f"{where}{exc.message}", exc.field)


async def _bounded(request: Request, limit: int, what: str) -> bytes:
    """The request body, refused from its Content-Length or as soon as it streams past ``limit`` bytes."""
    length = request.headers.get("content-length")
    too_big = Refused(f"{what} is larger than {limit / 1e6:g} MB, the limit here", "file", 413)
    if length is not None:
        try:
            if int(length) > limit:
                raise too_big
        except ValueError:
            raise Refused("a bad Content-Length header") from None
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > limit:
            raise too_big
    return bytes(data)


async def _json(request: Request) -> dict[str, Any]:
    raw = await _bounded(request, MAX_JSON, "the request")
    try:
        data = json.loads(raw or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise Refused("the request is not valid JSON") from None
    if not isinstance(data, dict):
        raise Refused("expected a JSON object")
    return data


class Studio:
    """The request handlers around a :class:`Workspace`."""

    def __init__(self, workspace: Workspace, scenarios: tuple[str, ...] = ()) -> None:
        self.workspace = workspace
        self.extra = scenarios  # allowed beside the bundled ones: the command line's

    def names(self) -> list[str]:
        bundled = [name for name, _, _ in list_scenarios()]
        return bundled + [s for s in self.extra if s not in bundled]

    def scenario_name(self, value: Any) -> str:
        name = str(value or DEFAULT_SCENARIO)
        if name not in self.names():
            raise Refused(f"no scenario called {name[:60]!r} here", "scenario")
        return name

    def load(self, name: str, upload: Any = None, overrides: dict[str, Any] | None = None):
        """The scenario with the uploaded accounts and the form's numbers (``you.`` ones split you off)."""
        from sim.whatif.you import with_you, you_settings

        kept = self.workspace.upload(upload)
        own, mine = you_settings(overrides or {})
        if kept is not None:
            own["accounts_file"] = str(kept.path)
        try:
            scenario = load_scenario(name, own)
            return (with_you(scenario, mine) if mine else scenario), kept
        except InputError as exc:
            if kept is not None and exc.source and str(kept.path) in exc.source:
                exc.source = kept.name
            if exc.field and any(exc.field.endswith(path.rsplit(".", 1)[-1]) for path in own):
                exc.field = next(path for path in own if exc.field.endswith(path.rsplit(".", 1)[-1]))
            raise

    # ------------------------------------------------------------------ the API

    async def scenarios(self, _request: Request) -> Response:
        listed = {name: text for name, text, _ in list_scenarios()}
        return JSONResponse(
            {
                "scenarios": [{"name": n, "description": listed.get(n, "")} for n in self.names()],
                "default": DEFAULT_SCENARIO if DEFAULT_SCENARIO in listed else self.names()[0],
            }
        )

    def _form(self, name: str, upload: Any) -> dict[str, Any]:
        scenario, kept = self.load(name, upload)
        return {
            "scenario": name,
            "description": scenario.description,
            "currency": scenario.currency,
            "fields": form_of(scenario),
            "accounts": [
                {"name": a.name, "segment": a.segment, "current_discount": a.current_discount}
                for a in scenario.accounts
            ],
            "segments": [g.name for g in scenario.customers],
            "upload": None if kept is None else {"id": kept.id, "name": kept.name},
        }

    async def form(self, request: Request) -> Response:
        name = self.scenario_name(request.query_params.get("scenario"))
        return JSONResponse(await anyio.to_thread.run_sync(self._form, name, request.query_params.get("upload")))

    async def accounts(self, request: Request) -> Response:
        name = urllib.parse.unquote(request.headers.get("x-file-name", "accounts.csv"))[:200]
        data = await _bounded(request, MAX_UPLOAD, "the file")
        upload = await anyio.to_thread.run_sync(self.workspace.add_upload, name, data)
        return JSONResponse(
            {
                "id": upload.id,
                "name": upload.name,
                "accounts": [
                    {"name": a.name, "segment": a.segment, "current_discount": a.current_discount}
                    for a in upload.accounts
                ],
            }
        )

    def _ask(self, name: str, upload: Any, submitted: Any, asked: Question) -> Answer:
        from sim.whatif.answer import ask
        from sim.whatif.output import charts_of
        from sim.whatif.questions import plan

        scenario, _ = self.load(name, upload)
        overrides, years = numbers(scenario, submitted or {})
        if years is not None:
            overrides["periods"] = years * scenario.periods_per_year
        base, _ = self.load(name, upload, overrides)
        with self.workspace.lock:
            result = ask(
                base, base, plan(base, [asked.grant], asked.find), replicates=asked.replicates, rate=asked.rate
            )
        charts = charts_of(result)
        command = f"procsim whatif scenario.yaml {asked.command}"
        return self.workspace.add_answer(result, charts, base.to_yaml(), command)

    async def ask(self, request: Request) -> Response:
        data = await _json(request)
        name = self.scenario_name(data.get("scenario"))
        asked = question(data.get("question") or {})
        start = time.perf_counter()
        answer = await anyio.to_thread.run_sync(self._ask, name, data.get("upload"), data.get("numbers"), asked)
        return JSONResponse(_payload(answer, time.perf_counter() - start))

    def _file(self, answer: Answer, name: str) -> bytes:
        from sim.whatif.book import whatif_workbook
        from sim.whatif.output import medians
        from sim.whatif.page import whatif_report

        if name not in answer.files:
            if name == "report.html":
                answer.files[name] = whatif_report(answer.result, answer.charts).encode("utf-8")
            elif name == "report.xlsx":
                with tempfile.TemporaryDirectory(dir=self.workspace.folder) as folder:
                    path = Path(folder) / "report.xlsx"
                    whatif_workbook(answer.result, path, medians(answer.result))
                    answer.files[name] = path.read_bytes()
            else:
                answer.files[name] = answer.scenario_yaml.encode("utf-8")
        return answer.files[name]

    async def download(self, request: Request) -> Response:
        answer = self.workspace.answer(request.path_params["id"])
        name = request.path_params["name"]
        if answer is None or name not in DOWNLOADS:
            raise Refused("no such answer or file (answers are kept while the studio runs)", status=404)
        body = await anyio.to_thread.run_sync(self._file, answer, name)
        headers = {"Content-Disposition": f'attachment; filename="{name}"'}
        return Response(body, media_type=DOWNLOADS[name], headers=headers)


def _title(result: Any) -> str:
    """A short name for an answer in the list: what was granted and the numbers that differ from the scenario's."""
    from sim.whatif.words import grant_words

    parts = [grant_words(g) for g in result.answer.get("grants") or []]
    curve = result.summary.get("curve")
    if curve:
        levels = curve["levels"]
        parts = [f"{curve['target']} {100 * levels[0]:g}-{100 * levels[-1]:g}%"]
    for path, value in result.base.overrides.items():
        if path == "accounts_file":
            continue
        if path == "periods":
            parts.append(f"{value / result.base.periods_per_year:g} years")
            continue
        name = path.rsplit(".", 1)[-1]
        parts.append(f"{'your ' if path.startswith('you.') else ''}{name}={_short(value)}")
    return "; ".join(parts)[:200]


def _short(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_short(v)}" for k, v in value.items()) + "}"
    if isinstance(value, float):
        return f"{100 * value:g}%"
    return str(value)


def _payload(answer: Answer, seconds: float) -> dict[str, Any]:
    """The answer as the page shows it: the words, the lines, the report's HTML fragments, the charts."""
    from sim.whatif.page import account_rows_html, answer_html, curve_html, followers_html, years_html
    from sim.whatif.words import answer_lines

    result = answer.result
    s = result.summary
    currency = s["currency"]
    charts = {
        name: "data:image/svg+xml;base64," + base64.b64encode(answer.charts[name].encode("utf-8")).decode("ascii")
        for name in CHARTS
        if name in answer.charts
    }
    return {
        "id": answer.id,
        "title": _title(result),
        "scenario": s["scenario"],
        "text": s["answer"]["text"],
        "curve_text": (s.get("curve") or {}).get("text"),
        "lines": [
            {
                "key": ln.key,
                "label": ln.label.strip(),
                "row": ROWS.get(ln.key, ln.label.strip()),
                "value": ln.value_text(currency),
                "range": ln.range_text(currency),
            }
            for ln in answer_lines(s["answer"])
        ],
        "html": {
            "answer": answer_html(s),
            "years": years_html(s["answer"], currency),
            "followers": followers_html(s["answer"]),
            "curve": curve_html(s["curve"], currency) if s.get("curve") else "",
            "accounts": account_rows_html(result.accounts, currency, len(result.seeds)),
        },
        "charts": charts,
        "seconds": round(seconds, 2),
        "command": answer.command,
        "downloads": [f"/api/answers/{answer.id}/{name}" for name in DOWNLOADS],
    }


async def _errors(request: Request, exc: Exception) -> Response:
    if isinstance(exc, InputError):
        exc = refused(exc)
    if isinstance(exc, Refused):
        return JSONResponse({"error": exc.message, "field": exc.field}, status_code=exc.status)
    traceback.print_exception(exc, file=sys.stderr)
    return JSONResponse({"error": "internal error; see the studio's terminal", "field": None}, status_code=500)


def _page(_request: Request) -> Response:
    return FileResponse(STATIC / "studio.html", media_type="text/html")


def create_app(studio: Studio):
    """The ASGI app: the page, its files and the JSON API around ``studio``."""

    async def page(request: Request) -> Response:
        return _page(request)

    app = Starlette(
        routes=[
            Route("/", page),
            Route("/favicon.ico", lambda _request: Response(status_code=204)),
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
            Route("/api/scenarios", studio.scenarios),
            Route("/api/form", studio.form),
            Route("/api/accounts", studio.accounts, methods=["POST"]),
            Route("/api/ask", studio.ask, methods=["POST"]),
            Route("/api/answers/{id}/{name}", studio.download),
        ],
        exception_handlers={Exception: _errors, InputError: _errors, Refused: _errors},
    )
    return SecurityHeaders(app)


def warm_up() -> None:
    """Load the engine and its compiled passes once, so the first answer is as quick as the next."""
    from sim.whatif.answer import ask
    from sim.whatif.questions import plan

    scenario = load_scenario(DEFAULT_SCENARIO, {"periods": 8, "customers.count": 20, "outlook_periods": 10})
    ask(scenario, scenario, plan(scenario, []), replicates=2)


def serve(host: str, port: int, scenarios: tuple[str, ...] = (), echo=print) -> None:
    """Listen on host:port, say where, and serve until Ctrl-C (the socket listens before anything is printed)."""
    import socket

    import uvicorn

    workspace = Workspace()
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    try:
        warm_up()
        shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host  # noqa: S104 - naming the address, not binding
        echo(f"procsim studio: open http://{shown}:{port}/ (Ctrl-C to stop)", flush=True)
        config = uvicorn.Config(
            create_app(Studio(workspace, scenarios)),
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=3,
            lifespan="off",
        )
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()
        workspace.close()
