"""Servers the tests start themselves: `procsim dashboard` or `procsim game` on a free local port."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """A port on 127.0.0.1 nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServerProcess:
    """``python -m sim ARGS --port P`` as a child process that a test can stop (with a signal) and start again.

    Its output goes to ``log_path`` (shown if it dies or does not answer within a minute);
    the port stays the same across restarts, as a trainer's would.
    """

    def __init__(self, args: Sequence[str], log_path: Path, *, env: dict[str, str] | None = None) -> None:
        self.args, self.log_path, self.env = list(args), log_path, env
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.proc: subprocess.Popen | None = None
        self.log = None

    def start(self) -> str:
        """Start the server and wait until it answers; returns its address."""
        self.log = self.log_path.open("a")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "sim", *self.args, "--port", str(self.port)],
            cwd=ROOT,
            env={**os.environ, **(self.env or {})},
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(self.url, timeout=2) as response:
                    if response.status == 200:
                        return self.url
            except OSError:
                pass
            assert self.proc.poll() is None, self.log_path.read_text()
            assert time.monotonic() < deadline, f"`procsim {self.args[0]}` did not start: {self.log_path.read_text()}"
            time.sleep(0.2)  # polling the server's readiness, not waiting on a page

    def stop(self, sig: int = signal.SIGTERM) -> int | None:
        """Send ``sig`` (SIGTERM: as a scheduler or a closed terminal would) and wait; returns the exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        code, self.proc = self.proc.returncode, None
        if self.log is not None:
            self.log.close()
        return code


@contextmanager
def procsim_server(args: Sequence[str], log_path: Path, *, env: dict[str, str] | None = None) -> Iterator[str]:
    """Run ``python -m sim ARGS --port P`` until the block ends; yield its address once it answers.

    Its output goes to ``log_path`` (shown if it dies or does not answer within a minute);
    it is stopped with SIGTERM, as a user's Ctrl-C or a scheduler would.
    """
    server = ServerProcess(args, log_path, env=env)
    try:
        yield server.start()
    finally:
        server.stop()


class GameAPI:
    """A game server run in this process on 127.0.0.1 (a free port), and a small JSON client for it.

    ``data`` saves the rooms in that folder (as ``procsim game --data`` does); without it
    they live in memory. Requests have a 10-second timeout; stop() ends the server.
    """

    def __init__(self, out: Path, clock=None, data: Path | None = None, settings=None) -> None:
        import threading

        import uvicorn

        from sim.game.registry import Registry
        from sim.game.server import GameServer, create_app
        from sim.game.settings import Settings
        from sim.game.store import Store

        self.store = Store(data) if data is not None else None
        self.registry = Registry(self.store, clock=clock or time.monotonic)
        self.session = self.registry.current or self.registry.create(settings or Settings(rounds=2, tables=2, timer=0))
        self.app_server = GameServer(self.registry, "http://127.0.0.1/", out)
        config = uvicorn.Config(create_app(self.app_server), host="127.0.0.1", port=0, log_level="error")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            assert time.monotonic() < deadline, "the game server did not start"
            time.sleep(0.02)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        self.base = f"http://127.0.0.1:{port}"
        self.key = {"X-Facilitator-Key": self.registry.secret}

    def call(self, path: str, body=None, headers=None, raw: bytes | None = None) -> tuple[int, dict, bytes]:
        """One request (POST when there is a body, sent as JSON unless headers say otherwise): status, JSON, bytes."""
        import json
        import urllib.error

        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        sent = {"Content-Type": "application/json"} if data is not None else {}
        request = urllib.request.Request(self.base + path, data=data, headers={**sent, **(headers or {})})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                content = response.read()
                status, kind = response.status, response.headers.get("Content-Type", "")
                self.last_headers = response.headers
        except urllib.error.HTTPError as exc:
            content, status, kind = exc.read(), exc.code, exc.headers.get("Content-Type", "")
            self.last_headers = exc.headers
        return status, (json.loads(content) if "json" in kind else {}), content

    def seat_key(self, table: int, role: str) -> str:
        """The join secret of a seat (what its QR code carries), from the facilitator's seat list."""
        status, data, _ = self.call("/api/facilitator/seats", headers=self.key)
        assert status == 200, data
        return next(s for s in data["seats"] if s["table"] == table and s["role"] == role)["link"].split("seat=")[1]

    def join(self, table: int, role: str, team: str) -> dict:
        """Join a seat with its own link; returns the device's token header."""
        status, data, _ = self.call(
            "/api/join", {"code": self.registry.current.code, "seat": self.seat_key(table, role), "team": team}
        )
        assert status == 200, data
        return {"X-Player-Token": data["token"]}

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        if self.store is not None:
            self.store.close()
