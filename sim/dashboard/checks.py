"""Every value the dashboard's page sends, checked on the server before it is used, and errors as plain messages.

A widget's value arrives over the page's websocket and can be anything a crafted message
says: a scenario is taken only by a listed name (the bundled ones, those in the allowed
folder ``PROCSIM_SCENARIOS``, or the one named on the command line), a choice only from its
list, a number only within its range. A refused value is a message on the page; the market
on screen stays as it was. No message names a file on the server.
"""

from __future__ import annotations

import math
import os
import re
from typing import Any

from sim.dashboard.session import Lever
from sim.errors import InputError, excerpt
from sim.inputs.loading import list_scenarios

MAX_SPEED = 60  # periods a second at the fastest setting
PATH = re.compile(r"(?<![\w.])(?:[A-Za-z]:|\.{1,2})?(?:[\\/][^\s\\/:'\"]+)*[\\/]([^\s\\/:'\"]+)")


def default_scenario() -> str:
    """The scenario the dashboard starts with: the command line's (PROCSIM_SCENARIO), else the squeeze."""
    return os.environ.get("PROCSIM_SCENARIO", "procurement_squeeze")


def allowed_scenarios() -> list[str]:
    """The scenarios the page may choose: bundled, in the allowed folder, and the command line's."""
    names = [n for n, _, _ in list_scenarios()]
    start = default_scenario()
    return names if start in names else [*names, start]


def scenario(name: object) -> str:
    """A scenario the page chose, if it is one of the allowed; ValueError otherwise (nothing is opened)."""
    if not isinstance(name, str) or name not in allowed_scenarios():
        raise ValueError("Unknown scenario: choose one from the list")
    return name


def choice(by_label: dict[str, str], text: object, what: str) -> str:
    """The code name of a choice shown by its label; ValueError if the label is not in the list."""
    if not isinstance(text, str) or text not in by_label:
        raise ValueError(f"{what}: choose one from the list")
    return by_label[text]


def lever_value(lever: Lever, raw: object, choices: list[str] | None = None) -> Any:
    """A lever's value from its widget, within its range (or list); ValueError with a message otherwise."""
    if choices is not None:
        if raw not in choices:
            raise ValueError(f"{lever.label}: choose one from the list")
        return raw
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        raise ValueError(f"{lever.label} must be a number")
    value = float(raw)
    assert lever.low is not None and lever.high is not None  # noqa: S101 - numeric levers have a range
    if not math.isfinite(value) or not lever.low <= value <= lever.high:
        raise ValueError(f"{lever.label} must be between {lever.low:g} and {lever.high:g}")
    return int(value) if lever.path == "suppliers.count" else value


def whole(text: object, what: str, low: int, high: int) -> int:
    """A whole number typed into the page, or ValueError with a message for the page."""
    shown = excerpt(text, 20)
    try:
        value = int(str(text).strip()[:30])
    except ValueError:
        raise ValueError(f"{what} must be a whole number between {low} and {high}, got {shown}") from None
    if not low <= value <= high:
        raise ValueError(f"{what} must be between {low} and {high}, got {value}")
    return value


def speed(raw: object) -> int:
    """The play speed from its slider (periods a second)."""
    return whole(raw, "The speed", 1, MAX_SPEED)


def message(exc: BaseException) -> str:
    """What the page says about an error: its message with any file path cut to the file's name, no traceback."""
    if isinstance(exc, ValueError | InputError):
        text = str(exc)
    else:
        text = f"something went wrong ({type(exc).__name__}); the market on screen is unchanged"
    return PATH.sub(lambda m: m.group(1), text)[:500]
