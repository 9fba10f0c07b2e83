"""Turn pydantic validation errors into one-line, located messages about a YAML document.

Messages describe what is allowed, from the model's own annotations and constraints, then what
was found: ``must be a number in [0, 1], got 1.5``, ``must be one of low, medium, high,
critical, got 'hihg'``, ``unknown key 'sevrity'; did you mean 'severity'?``. Use through
:mod:`governance.yamlsafe` (``validate`` / ``try_validate``).
"""

from __future__ import annotations

import datetime as dt
import difflib
import enum
import math
import re
import types
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeVar, Union, get_args, get_origin

import annotated_types as at
from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationError

from governance.errors import LocatedError

if TYPE_CHECKING:
    from governance.yamlsafe import Document, Loc

M = TypeVar("M", bound=BaseModel)
# Values longer than these are described, not repeated, so an error stays one readable line.
_LONG_INT = 10**20
_LONG_TEXT = 200
_NUMERAL = re.compile(r"^\s*[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?\s*$")
_FROM_DOCUMENT: Any = object()

# pydantic error types whose message is "must be <what the annotation allows>, got <input>".
_EXPECTATION_ERRORS = (
    "_type",
    "_parsing",
    "int_from_float",
    "greater_than",
    "less_than",
    "literal_error",
    "enum",
    "finite_number",
    "date_",
    "datetime_",
    "model_attributes_type",
    "is_instance_of",
)


class ClosedModel(BaseModel):
    """A section of a YAML document whose keys are all declared: an unknown key is refused, and
    its message names the closest declared one (``unknown key 'sevrity'; did you mean 'severity'?``)."""

    model_config = ConfigDict(extra="forbid")


def refusing(problem: Any) -> AfterValidator:
    """A field validator raising what ``problem(value)`` says is wrong (``None``: the value is fine).

    For ``Annotated[str, refusing(name_problem)]``: the ``*_problem`` functions own the rule and
    its one-line message, and the loaders locate the message at the field.
    """

    def check(value: Any) -> Any:
        message = problem(value)
        if message:
            raise ValueError(message)
        return value

    return AfterValidator(check)


def validate(doc: Document, model: type[M], path_prefix: Loc = (), data: Any = _FROM_DOCUMENT) -> M:
    """Validate the value at ``path_prefix`` (or ``data``) with ``model``; raise the first error.

    Raises
    ------
    LocatedError
        ``FILE:LINE:COL: path: message`` for the first problem found.
    """
    instance, errors = try_validate(doc, model, path_prefix, data)
    if errors:
        raise errors[0]
    return instance  # type: ignore[return-value]


def try_validate(
    doc: Document, model: type[M], path_prefix: Loc = (), data: Any = _FROM_DOCUMENT
) -> tuple[M | None, list[LocatedError]]:
    """Validate like :func:`validate` but return ``(instance or None, every error found)``."""
    prefix = tuple(path_prefix)
    value = doc.get(prefix) if data is _FROM_DOCUMENT else data
    try:
        return model.model_validate(value), []
    except ValidationError as err:
        return None, located_errors(doc, model, err, prefix)


def located_errors(
    doc: Document, model: type[BaseModel], err: ValidationError, prefix: Loc
) -> list[LocatedError]:
    """One :class:`LocatedError` per distinct problem in ``err``, in document order."""
    out: dict[tuple[str, str], LocatedError] = {}
    for item in err.errors(include_url=False):
        loc = tuple(item["loc"])
        ann, info, depth = _walk(model, loc)
        if depth < len(loc) and _is_union(ann):  # one error per union member: report once
            loc, item = loc[:depth], {**item, "type": "union"}
        located = _locate(doc, model, prefix, loc, item, ann, info)
        out.setdefault((located.path, located.message), located)
    return sorted(out.values(), key=lambda e: (e.line or 0, e.col or 0))


def _locate(doc, model, prefix, loc, item, ann, info) -> LocatedError:
    kind = item["type"]
    if kind == "missing":
        return doc.error(prefix + loc[:-1], f"missing required key '{loc[-1]}'")
    if kind == "extra_forbidden":
        return doc.error(prefix + loc, _unknown_key(model, loc), key=True)
    return doc.error(prefix + loc, _message(item, ann, info))


def _unknown_key(model: type[BaseModel], loc: Loc) -> str:
    parent, _, _ = _walk(model, loc[:-1])
    return unknown_key_message(_unwrap(parent)[0], str(loc[-1]))


def unknown_key_message(model: Any, key: str) -> str:
    """``unknown key 'x'; did you mean 'y'?`` (or the allowed keys) for a key ``model`` lacks."""
    allowed = []
    if isinstance(model, type) and issubclass(model, BaseModel):
        # Fields excluded from dumps (filled in by loaders) are not part of the file format.
        allowed = [name for name, f in model.model_fields.items() if not f.exclude]
    close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
    if close:
        return f"unknown key '{key}'; did you mean '{close[0]}'?"
    return f"unknown key '{key}' (allowed: {', '.join(allowed)})" if allowed else f"unknown key '{key}'"


def _message(item: dict, ann: Any, info: Any) -> str:
    kind, value, ctx = item["type"], item.get("input"), item.get("ctx") or {}
    got = describe_value(value)
    if kind in ("value_error", "assertion_error") and "error" in ctx:
        return str(ctx["error"])
    if kind == "string_too_short" and ctx.get("min_length") == 1:
        return "must not be empty"
    if kind in ("too_short", "string_too_short"):
        return (
            f"must have at least {_count(ctx.get('min_length'), kind)}, got {ctx.get('actual_length', got)}"
        )
    if kind in ("too_long", "string_too_long"):
        return f"must have at most {_count(ctx.get('max_length'), kind)}, got {ctx.get('actual_length', got)}"
    if kind == "string_pattern_mismatch":
        return f"must match the pattern {ctx.get('pattern')}, got {got}"
    expected = expected_text(ann, info) if ann is not None else None
    if expected and (kind == "union" or any(k in kind for k in _EXPECTATION_ERRORS)):
        if kind == "finite_number":
            expected = expected.replace("a number", "a finite number", 1)
        return f"must be {expected}, got {got}{_quoting_hint(expected, value)}"
    text = item["msg"].replace("Input should be", "must be").replace("Value error, ", "")
    return f"{text[:1].lower()}{text[1:]}, got {got}"


def _quoting_hint(expected: str, value: Any) -> str:
    """YAML reads ``1.0`` as a number and ``'1.0'`` as text; say which quoting fixes it."""
    if expected == "a string" and isinstance(value, (int, float)):
        return "; put it in quotes"
    if expected.startswith(("a number", "an integer")) and isinstance(value, str) and _NUMERAL.match(value):
        return "; write it without quotes"
    return ""


def _count(n: Any, kind: str) -> str:
    unit = "character" if kind.startswith("string") else "item"
    return f"{n} {unit}{'' if n == 1 else 's'}"


def describe_value(value: Any) -> str:
    """How a found value is shown after ``got``: ``'text'``, ``1.5``, ``true``, ``null``, ``a list``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int) and abs(value) >= _LONG_INT:
        return f"an integer of {_digits(value)} digits"  # str() refuses past 4300 digits
    if isinstance(value, (int, float)):
        return repr(value)  # as typed: 1.0 stays 1.0, so "got 1" never hides a float
    if isinstance(value, str):
        return repr(value) if len(value) <= _LONG_TEXT else f"a text of {len(value)} characters"
    if isinstance(value, (list, tuple)):
        return "a list" if value else "an empty list"
    if isinstance(value, dict):
        return "a mapping" if value else "an empty mapping"
    return repr(value)


def _digits(value: int) -> int:
    """Decimal digits of ``value`` without ``str()``, which refuses integers past 4300 digits."""
    magnitude = abs(value)
    digits = max(1, int(magnitude.bit_length() * math.log10(2)))
    while 10**digits <= magnitude:  # the estimate is at most one digit short
        digits += 1
    return digits


def _number(x: Any) -> str:
    if isinstance(x, float) and x.is_integer() and abs(x) < 1e15:
        return str(int(x))
    return str(x)


def expected_text(ann: Any, info: Any = None) -> str:
    """Plain words for what ``ann`` (with ``info``'s constraints) accepts."""
    ann, metadata = _unwrap(ann)
    metadata = list(metadata) + list(getattr(info, "metadata", []) or [])
    if get_origin(ann) is Literal:
        return "one of " + ", ".join(str(_plain(a)) for a in get_args(ann))
    if isinstance(ann, type) and issubclass(ann, enum.Enum):
        return "one of " + ", ".join(str(m.value) for m in ann)
    if _is_union(ann):
        members = [_unwrap(a)[0] for a in get_args(ann) if a is not type(None)]
        if all(get_origin(m) is Literal for m in members):
            return "one of " + ", ".join(str(_plain(a)) for m in members for a in get_args(m))
        words = [expected_text(m) for m in members]
        return ", ".join(words[:-1]) + " or " + words[-1]
    if ann is bool:
        return "true or false"
    if ann in (int, float):
        return ("an integer" if ann is int else "a number") + _range(metadata)
    if ann is str:
        return "a string"
    if ann is dt.date:
        return "an ISO date (YYYY-MM-DD)"
    origin = get_origin(ann) or ann
    if origin in (list, tuple, set, frozenset):
        return "a list"
    if origin is dict or (isinstance(origin, type) and issubclass(origin, BaseModel)):
        return "a mapping"
    return getattr(ann, "__name__", str(ann))


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, enum.Enum) else value


def _range(metadata: list) -> str:
    lo = hi = None
    flat = [x for m in metadata for x in (getattr(m, "metadata", None) or [m])]
    for m in flat:
        if isinstance(m, at.Ge):
            lo = f"[{_number(m.ge)}"
        elif isinstance(m, at.Gt):
            lo = f"({_number(m.gt)}"
        elif isinstance(m, at.Le):
            hi = f"{_number(m.le)}]"
        elif isinstance(m, at.Lt):
            hi = f"{_number(m.lt)})"
    if lo and hi:
        return f" in {lo}, {hi}"
    if lo:
        return (" >= " if lo[0] == "[" else " > ") + lo[1:]
    if hi:
        return (" <= " if hi[-1] == "]" else " < ") + hi[:-1]
    return ""


def _is_union(ann: Any) -> bool:
    return get_origin(ann) in (Union, types.UnionType)


def _unwrap(ann: Any) -> tuple[Any, list]:
    """Strip ``Annotated`` and ``Optional``; return the bare annotation and its metadata."""
    metadata: list = []
    while True:
        if get_origin(ann) is Annotated:
            args = get_args(ann)
            ann, metadata = args[0], metadata + list(args[1:])
        elif _is_union(ann) and type(None) in get_args(ann) and len(get_args(ann)) == 2:
            ann = next(a for a in get_args(ann) if a is not type(None))
        else:
            return ann, metadata


def _walk(model: type[BaseModel], loc: Loc) -> tuple[Any, Any, int]:
    """Follow ``loc`` through ``model``'s annotations: ``(annotation, FieldInfo, parts used)``."""
    ann: Any = model
    info = None
    for depth, part in enumerate(loc):
        bare, _ = _unwrap(ann)
        origin = get_origin(bare)
        if isinstance(bare, type) and issubclass(bare, BaseModel) and isinstance(part, str):
            info = bare.model_fields.get(part)
            if info is None:
                return bare, None, depth
            ann = info.annotation
        elif origin in (list, tuple, set, frozenset) and isinstance(part, int):
            ann, info = (get_args(bare) or (Any,))[0], None
        elif origin is dict and isinstance(part, str):
            ann, info = (get_args(bare) or (Any, Any))[-1], None
        else:
            return ann, info, depth
    return ann, info, len(loc)
