"""Session codes people can read out and type, and unguessable secrets for tokens.

A code is six characters from an alphabet without look-alikes (no 0/O/Q, 1/I/L, 2/Z,
5/S, 6/G, 8/B), so it survives being read aloud or copied from a projector.
"""

from __future__ import annotations

import hmac
import re
import secrets

ALPHABET = "ACDEFHJKMNPRTUVWXY3479"
CODE_LENGTH = 6
CODE_PATTERN = re.compile(f"^[{ALPHABET}]{{4,8}}$")


def new_code(taken: set[str] | frozenset[str] = frozenset()) -> str:
    """A fresh session code, not in ``taken``."""
    while True:
        code = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
        if code not in taken:
            return code


def normalise_code(text: str) -> str:
    """What a player typed, as a code: capitals, no spaces or dashes."""
    return re.sub(r"[\s\-]", "", str(text)).upper()


def new_secret() -> str:
    """A secret for the facilitator or a player token (24 random bytes, URL-safe)."""
    return secrets.token_urlsafe(24)


def same_secret(given: str | None, expected: str) -> bool:
    """Whether ``given`` is ``expected``, compared in constant time."""
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())
