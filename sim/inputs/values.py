"""Single values as people type them: numbers and percentages, levers, money amounts and names."""

from __future__ import annotations

import difflib
import re
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


def check_name(value: str) -> str:
    """An account or segment name: printable, at most 100 characters, not read as a spreadsheet formula."""
    text = value.strip()
    if not text:
        raise ValueError("must not be empty")
    if len(text) > MAX_NAME:
        raise ValueError(f"must be at most {MAX_NAME} characters, got {len(text)}")
    if any(ord(c) < 32 or ord(c) == 127 for c in text):
        raise ValueError("must not contain control characters (tabs, line breaks)")
    if text.startswith(FORMULA_START):
        raise ValueError(f"must not start with {' '.join(FORMULA_START)} (a spreadsheet would run it as a formula)")
    if ";" in text:
        raise ValueError("must not contain ';' (it separates peers)")
    return text


_AMOUNT = re.compile(r"^(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)\s*(?P<suffix>[kKmMbB]|bn)?$")


_SCALE = {"": 1.0, "k": 1e3, "K": 1e3, "m": 1e6, "M": 1e6, "b": 1e9, "B": 1e9, "bn": 1e9}


def amount(value: Any) -> Any:
    """A money amount: a number, ``12,500,000``, ``12.5M`` or ``800k`` (other text is left for the validator)."""
    if not isinstance(value, str):
        return value
    match = _AMOUNT.match(value.strip().replace("_", ""))
    if not match:
        return value
    return float(match["num"].replace(",", "")) * _SCALE[match["suffix"] or ""]
