"""Servers the tests start themselves: `procsim dashboard` or `procsim game` on a free local port."""

from __future__ import annotations

import os
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


@contextmanager
def procsim_server(args: Sequence[str], log_path: Path, *, env: dict[str, str] | None = None) -> Iterator[str]:
    """Run ``python -m sim ARGS --port P`` until the block ends; yield its address once it answers.

    Its output goes to ``log_path`` (shown if it dies or does not answer within a minute);
    it is stopped with SIGTERM, as a user's Ctrl-C or a scheduler would.
    """
    port = free_port()
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "sim", *args, "--port", str(port)],
            cwd=ROOT,
            env={**os.environ, **(env or {})},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            url, deadline = f"http://127.0.0.1:{port}/", time.monotonic() + 60
            while True:
                try:
                    with urllib.request.urlopen(url, timeout=2) as response:
                        if response.status == 200:
                            break
                except OSError:
                    pass
                assert proc.poll() is None, log_path.read_text()
                assert time.monotonic() < deadline, f"`procsim {args[0]}` did not start: {log_path.read_text()}"
                time.sleep(0.2)  # polling the server's readiness, not waiting on a page
            yield url
        finally:
            proc.terminate()
            proc.wait(timeout=20)
