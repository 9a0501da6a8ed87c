"""Errors a user can fix: bad scenario files, bad values, bad command-line input.

The CLI turns an :class:`InputError` into one readable message and exit code 2;
anything else is an internal error (exit code 1). Messages quote user values only
through :func:`excerpt`, which is short, bounded in work and free of control characters,
so a hostile value (a billion-laughs alias, a megabyte string, a terminal escape) can
neither blow up nor take over the message.
"""

from __future__ import annotations

import reprlib
from typing import Any

EXCERPT_CHARS = 60

_REPR = reprlib.Repr()
_REPR.maxlevel = 2
_REPR.maxlist = _REPR.maxtuple = _REPR.maxset = _REPR.maxdict = 4
_REPR.maxstring = EXCERPT_CHARS
_REPR.maxother = EXCERPT_CHARS
_REPR.maxlong = 40


def clean(text: str, limit: int = 200) -> str:
    """``text`` with control characters escaped (no terminal escapes, no line breaks), cut at ``limit``."""
    out = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text[: limit + 1])
    return out if len(out) <= limit else out[: limit - 3] + "..."


def excerpt(value: Any, limit: int = EXCERPT_CHARS) -> str:
    """A short, escaped representation of a user value for an error message (bounded work)."""
    try:
        text = _REPR.repr(value)
    except Exception:  # noqa: BLE001 - a value whose repr fails still gets a message
        text = f"<{type(value).__name__}>"
    return clean(text, limit)


class InputError(Exception):
    """Invalid user input, with where it came from (file) and which field is wrong."""

    def __init__(self, message: str, *, source: str | None = None, field: str | None = None):
        self.message = message
        self.source = source
        self.field = field
        super().__init__(self.__str__())

    def __str__(self) -> str:
        parts = [clean(str(p)) for p in (self.source, self.field) if p]
        where = ": ".join(parts)
        message = clean(str(self.message), 2000)
        return f"{where}: {message}" if where else message
