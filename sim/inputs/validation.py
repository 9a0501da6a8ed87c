"""pydantic's validation errors as one plain message per field, with 'did you mean' suggestions."""

from __future__ import annotations

import re
from typing import Any

from pydantic import (
    BaseModel,
    ValidationError,
)

from sim.errors import InputError, excerpt
from sim.inputs.schema import Strict
from sim.inputs.values import _suggest


def _field_names(model: type[BaseModel]) -> list[str]:
    return list(model.model_fields)


def _model_at(loc: list[str], root: type[BaseModel]) -> type[BaseModel] | None:
    """The pydantic model a location points into (for 'did you mean' suggestions)."""
    model: type[BaseModel] | None = root
    for part in loc:
        if model is None:
            return None
        field = model.model_fields.get(part)
        if field is None:
            return None
        ann = field.annotation
        nested = [a for a in getattr(ann, "__args__", (ann,)) if isinstance(a, type) and issubclass(a, BaseModel)]
        model = nested[0] if nested else (ann if isinstance(ann, type) and issubclass(ann, BaseModel) else None)
    return model


def _translate(exc: ValidationError, model: type[BaseModel], prefix: str) -> list[tuple[str, str]]:
    """Pydantic errors as (field path, plain message) pairs, with suggestions for typos."""
    out = []
    for err in exc.errors():
        loc = [str(p) for p in err["loc"] if not isinstance(p, int)]
        loc = [
            p
            for p in loc
            if not (
                p.startswith(("function-", "literal[", "tuple[", "list[", "dict["))
                or p in {"float", "int", "str", "bool", "list", "dict"}
                or p in {"constrained-float", "constrained-int", "none"}
                or (p[:1].isupper() and p.isidentifier())  # a model's name inside a union (Range, ...)
            )
        ]
        path = ".".join([prefix, *loc]) if prefix else ".".join(loc)
        kind = err["type"]
        if kind == "extra_forbidden":
            parent = _model_at(loc[:-1], model)
            known = _field_names(parent) if parent else []
            hint = _suggest(loc[-1], known)
            msg = (
                f"unknown field{hint}"
                if hint
                else "unknown field" + (f"; known fields: {', '.join(known)}" if known else "")
            )
        elif kind == "value_error":
            msg = str(err["ctx"]["error"]) if "ctx" in err else err["msg"]
        elif kind == "missing" and err["loc"] and isinstance(err["loc"][-1], int):
            msg = "too few values in the list"
        elif kind == "missing":
            msg = "required field is missing"
        elif kind == "literal_error":
            msg = f"{err['msg'].replace('Input should be', 'must be')}, got {excerpt(err['input'])}"
        else:
            msg = re.sub(r" or instance of \w+", "", err["msg"].replace("Input should be", "must be"))
            if "input" in err and not isinstance(err["input"], dict | list):
                msg += f", got {excerpt(err['input'])}"
        out.append((path, msg))
    # In a union (a list or a range) every branch reports; the type mismatch of the branch
    # the value did not mean is noise next to what is wrong inside the branch it did mean.
    specific = [p for p in out if not p[1].startswith("must be a valid")]
    return specific + [p for p in out if p not in specific] if specific else out


def _validate_section(model: type[Strict], data: Any, source: str, prefix: str) -> Strict:
    if not isinstance(data, dict):
        raise InputError("expected a mapping of fields", source=source, field=prefix)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = _translate(exc, model, prefix)
        field, msg = problems[0]
        more = (
            f" (and {len(problems) - 1} more problem{'s' if len(problems) > 2 else ''}: "
            + "; ".join(f"{f}: {m}" for f, m in problems[1:4])
            + ")"
            if len(problems) > 1
            else ""
        )
        raise InputError(msg + more, source=source, field=field) from None
