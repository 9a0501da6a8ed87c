"""Single values as people type them: numbers and percentages, levers, money amounts and names.

Numbers pasted from a spreadsheet keep their local separators: ``1.250.000`` and
``1,250,000``, ``2.500,75`` and ``2,500.75``, ``12,5%``, ``1 250 000``. Each is read where
only one reading is possible; where two are (``2,500``: two thousand five hundred, or two
and a half?) the value is refused with both readings and how to write the one meant.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from typing import Annotated, Any

from pydantic import (
    BeforeValidator,
    PlainSerializer,
)

from sim.engine.schedule import Schedule
from sim.errors import excerpt


def _number(value: Any) -> float:
    """A number, accepting percent strings such as ``"45%"`` (= 0.45)."""
    if isinstance(value, bool):
        raise ValueError("expected a number, got true/false")
    if isinstance(value, str):
        text = value.strip().replace("_", "")
        try:
            return float(text[:-1]) / 100.0 if text.endswith("%") else float(text)
        except ValueError:
            raise ValueError(f"expected a number or a percentage such as 8%, got {excerpt(value)}") from None
    if isinstance(value, int | float):
        return float(value)
    raise ValueError(f"expected a number, got {excerpt(value)}")


def _whole(value: Any) -> Any:
    """A whole number: true/false are refused (YAML would make them 1/0), 12.0 and "1_000" accepted."""
    if isinstance(value, bool):
        raise ValueError("expected a whole number (integer), got true/false")
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip().replace("_", ""))
        except ValueError:
            raise ValueError(f"expected a whole number (integer), got {excerpt(value)}") from None
    return value


# An integer field that refuses booleans (pydantic's lax mode would read true as 1).
Int = Annotated[int, BeforeValidator(_whole)]


def _bounded(value: float, lo: float, hi: float, pct: bool) -> float:
    if value != value or not lo <= value <= hi:  # NaN fails too
        hint = " (write 45% or 0.45 for forty-five percent)" if pct and value > hi and value <= 100 * hi else ""
        raise ValueError(f"must be between {lo:g} and {hi:g}, got {value:g}{hint}")
    return value


def _parse_number(value: Any, lo: float, hi: float, pct: bool) -> float:
    return _bounded(_number(value), lo, hi, pct)


def _parse_lever(value: Any, lo: float, hi: float, pct: bool, allow: tuple[Any, ...] = ()) -> Any:
    if value in allow:
        return value
    if isinstance(value, Schedule):
        points = value.as_dict()
    elif isinstance(value, Mapping):
        points = value
    else:
        return _parse_number(value, lo, hi, pct)
    parsed: dict[int, float] = {}
    for period, v in points.items():
        try:
            if isinstance(period, bool | float):
                raise TypeError
            start = int(period)
        except (TypeError, ValueError):
            raise ValueError(f"schedule keys are periods (whole numbers), got {excerpt(period)}") from None
        if start < 0:
            raise ValueError(f"schedule periods start at 0, got {start}")
        try:
            parsed[start] = _parse_number(v, lo, hi, pct)
        except ValueError as exc:
            raise ValueError(f"at period {start}: {exc}") from None
    try:
        return Schedule.from_mapping(parsed)
    except ValueError as exc:
        raise ValueError(str(exc)) from None


def _dump_lever(value: Any) -> Any:
    return value.as_dict() if isinstance(value, Schedule) else value


@dataclass(frozen=True)
class Bounds:
    """Documented range of a numeric field (read by the schema reference and property tests)."""

    lo: float
    hi: float
    lever: bool
    pct: bool


def _parse_optional(value: Any, lo: float, hi: float, pct: bool, allow: tuple[Any, ...]) -> Any:
    return value if value in allow else _parse_number(value, lo, hi, pct)


def Number(lo: float, hi: float, *, pct: bool = False, allow: tuple[Any, ...] = ()) -> Any:  # noqa: N802
    """A plain number within ``[lo, hi]`` (percent strings accepted); ``allow`` passes extra values through."""
    if allow:
        return Annotated[
            Any,
            BeforeValidator(partial(_parse_optional, lo=lo, hi=hi, pct=pct, allow=allow)),
            Bounds(lo, hi, False, pct),
        ]
    return Annotated[float, BeforeValidator(partial(_parse_number, lo=lo, hi=hi, pct=pct)), Bounds(lo, hi, False, pct)]


def Lever(lo: float, hi: float, *, pct: bool = False, allow: tuple[Any, ...] = ()) -> Any:  # noqa: N802
    """A number within ``[lo, hi]``, or a schedule ``{period: value}`` of such numbers.

    ``allow`` lists extra values passed through unchanged (``None`` for "use the preset",
    ``"baseline"`` for a target taken from the cost structure).
    """
    return Annotated[
        Any,
        BeforeValidator(partial(_parse_lever, lo=lo, hi=hi, pct=pct, allow=allow)),
        PlainSerializer(_dump_lever),
        Bounds(lo, hi, True, pct),
    ]


def _suggest(word: str, choices: Any) -> str:
    close = difflib.get_close_matches(str(word)[:100], list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


MAX_NAME = 100


FORMULA_START = ("=", "+", "-", "@")
# Invisible characters that change what a name looks like without being seen (zero-width, bidi overrides...).
INVISIBLE = {"Cc", "Cf", "Co", "Cs", "Cn", "Zl", "Zp"}


def clean_name(value: str) -> str:
    """A name as typed, normalised (NFC, so ``é`` typed two ways is one name) and stripped of outer spaces."""
    return unicodedata.normalize("NFC", value).strip()


def hidden_character(text: str) -> str | None:
    """A description of the first invisible or control character in ``text`` (None when there is none)."""
    for position, char in enumerate(text, start=1):
        if unicodedata.category(char) in INVISIBLE:
            name = unicodedata.name(char, "a control character")
            return f"U+{ord(char):04X} ({name.lower()}) at character {position}"
    return None


def check_name(value: str) -> str:
    """An account or segment name: printable, at most 100 characters, not read as a spreadsheet formula (NFC)."""
    text = clean_name(value)
    if not text:
        raise ValueError("must not be empty")
    if len(text) > MAX_NAME:
        raise ValueError(f"must be at most {MAX_NAME} characters, got {len(text)}")
    if any(ord(c) < 32 or ord(c) == 127 for c in text):
        raise ValueError("must not contain control characters (tabs, line breaks)")
    hidden = hidden_character(text)
    if hidden:
        raise ValueError(f"must not contain invisible characters; found {hidden}; retype the name")
    if text.startswith(FORMULA_START):
        raise ValueError(f"must not start with {' '.join(FORMULA_START)} (a spreadsheet would run it as a formula)")
    if ";" in text:
        raise ValueError("must not contain ';' (it separates peers)")
    return text


def name_text(value: Any) -> Any:
    """A name cell as text: a whole number such as a customer number 12345 (read as 12345.0 by Excel) is ``"12345"``."""
    if isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, int | float):
        return str(value)
    return value


# --------------------------------------------------------------------------- numbers with local separators

GROUPING = " \u00a0\u202f\u2009'\u2019"  # spaces (also no-break and thin) and apostrophes between thousands
CURRENCY_SIGNS = "€$£¥"
_SCALE = {
    "": 1.0,
    "k": 1e3,
    "m": 1e6,
    "mn": 1e6,
    "mio": 1e6,
    "b": 1e9,
    "bn": 1e9,
    "mrd": 1e9,
}
_SIGNED = re.compile(r"^(?P<sign>[+-]?)(?P<body>.*)$", re.S)
_SUFFIXED = re.compile(r"^(?P<num>.*?\d)\s*(?P<suffix>[A-Za-z]{1,3})\.?$", re.S)


def decimal_text(text: str) -> float:
    """A number written with any usual separators; ``ValueError`` (saying why) when it is not one or is ambiguous.

    ``1.250.000`` = ``1,250,000`` = ``1 250 000`` = 1250000; ``2.500,75`` = ``2,500.75`` = 2500.75;
    ``12,5`` = 12.5. A single separator followed by exactly three digits (``2,500``, ``1.250``) could be
    either, and is refused.
    """
    match = _SIGNED.match(text.strip())
    sign, body = (-1.0 if match["sign"] == "-" else 1.0), match["body"].strip()
    if not body:
        raise ValueError("expected a number")
    if not any(c in body for c in f".,{GROUPING}"):
        try:
            return sign * float(body)  # plain digits, or 1e6
        except ValueError:
            raise ValueError("expected a number") from None
    grouping = [c for c in GROUPING if c in body]
    if grouping:  # spaces or apostrophes separate thousands; what follows the last group is the decimal part
        if len(grouping) > 1 or not re.fullmatch(rf"\d{{1,3}}(?:{re.escape(grouping[0])}\d{{3}})+(?:[.,]\d+)?", body):
            raise ValueError("the digits are not grouped by three")
        return sign * float(body.replace(grouping[0], "").replace(",", "."))
    dots, commas = body.count("."), body.count(",")
    if dots and commas:
        decimal = "." if body.rfind(".") > body.rfind(",") else ","
        thousands = "," if decimal == "." else "."
        if not re.fullmatch(rf"\d{{1,3}}(?:{re.escape(thousands)}\d{{3}})*{re.escape(decimal)}\d+", body):
            raise ValueError(f"{thousands!r} must separate groups of three digits before the decimal {decimal!r}")
        return sign * float(body.replace(thousands, "").replace(decimal, "."))
    mark = "." if dots else ","
    if body.count(mark) > 1:
        if not re.fullmatch(rf"\d{{1,3}}(?:{re.escape(mark)}\d{{3}})+", body):
            raise ValueError(f"{mark!r} appears more than once, so it separates thousands, but not in groups of three")
        return sign * float(body.replace(mark, ""))
    whole, _, part = body.partition(mark)
    if not re.fullmatch(r"\d*", whole) or not re.fullmatch(r"\d+", part):
        raise ValueError("expected a number")
    if len(part) != 3 or whole in ("", "0"):
        return sign * float(f"{whole or 0}.{part}")
    minus = "-" if sign < 0 else ""
    as_thousands, as_decimal = f"{minus}{whole}{part}", f"{minus}{whole}.{part}".rstrip("0").rstrip(".")
    shown = f"{match['sign']}{body}"
    raise ValueError(
        f"{shown!r} is ambiguous: {as_thousands} ({mark!r} separating thousands) or {as_decimal} (decimal "
        f"{'comma' if mark == ',' else 'point'}); write {as_thousands} or {as_decimal} (no thousands separator, "
        "a decimal point)"
    )


def number_text(value: Any, *, percent: bool = False, money: bool = False) -> Any:
    """A number cell as people write it; text is read with :func:`decimal_text` (numbers pass through).

    ``percent`` reads ``12,5%`` or ``4,5 %`` as 0.125 and 0.045 (a number without ``%`` is
    taken as it is, 0.04 for 4%); ``money`` allows a currency sign and ``k``/``M``/``bn``
    (``Mio``, ``Mrd``) after the number. Raises ``ValueError`` saying what is wrong.
    """
    if not isinstance(value, str):
        return value
    text = value.strip().replace("_", "")
    if money:
        text = text.strip(CURRENCY_SIGNS + " \u00a0")
    scale = 1.0
    if percent and text.endswith("%"):
        text, scale = text[:-1].rstrip(), 0.01
    elif money:
        suffixed = _SUFFIXED.match(text)
        if suffixed and suffixed["suffix"].lower() in _SCALE:
            text, scale = suffixed["num"], _SCALE[suffixed["suffix"].lower()]
    return decimal_text(text) * scale


def amount(value: Any) -> Any:
    """A money amount: a number, ``12,500,000``, ``12.500.000``, ``12.5M`` or ``800k`` (other text is left as it is)."""
    try:
        return number_text(value, money=True)
    except ValueError:
        return value
