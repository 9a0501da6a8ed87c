"""Errors a user can fix: bad scenario files, bad values, bad command-line input.

The CLI turns an :class:`InputError` into one readable message and exit code 2;
anything else is an internal error (exit code 1).
"""

from __future__ import annotations


class InputError(Exception):
    """Invalid user input, with where it came from (file) and which field is wrong."""

    def __init__(self, message: str, *, source: str | None = None, field: str | None = None):
        self.message = message
        self.source = source
        self.field = field
        super().__init__(self.__str__())

    def __str__(self) -> str:
        where = ": ".join(p for p in (self.source, self.field) if p)
        return f"{where}: {self.message}" if where else self.message
