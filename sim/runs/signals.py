"""Stopping cleanly: SIGTERM (``timeout``, batch schedulers, ``kill``) is handled like Ctrl-C.

Without this, SIGTERM ends the process at once: no cleanup of half-written folders, no
word on how to resume a sweep, and worker processes left behind. With it, SIGTERM raises
:class:`Terminated` (a ``KeyboardInterrupt``), so every ``finally`` runs and the CLI exits
with 143 (128 + SIGTERM) after saying what happened; Ctrl-C exits with 130. Worker
processes call :func:`die_with_parent`, so they end with the driver even when it is
killed with SIGKILL, which no handler can catch.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from types import FrameType

EXIT_INTERRUPTED = 130  # 128 + SIGINT
EXIT_TERMINATED = 143  # 128 + SIGTERM
PR_SET_PDEATHSIG = 1  # linux/prctl.h


class Terminated(KeyboardInterrupt):
    """The process received SIGTERM."""


def exit_code(exc: KeyboardInterrupt) -> int:
    return EXIT_TERMINATED if isinstance(exc, Terminated) else EXIT_INTERRUPTED


def _raise_terminated(signum: int, _frame: FrameType | None) -> None:
    raise Terminated(f"signal {signum}")


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Within the block, SIGTERM raises :class:`Terminated` in the main thread (elsewhere: no change)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def die_with_parent() -> None:
    """Make this (worker) process end when its parent does, however the parent ends.

    On Linux the kernel sends SIGKILL when the parent exits (prctl PR_SET_PDEATHSIG); on
    every platform a daemon thread also checks once a second whether the process has been
    re-parented (its parent died) and exits if so.
    """
    parent = os.getppid()
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)
    threading.Thread(target=_watch, args=(parent,), name="procsim-parent-watch", daemon=True).start()


def _watch(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(1)
