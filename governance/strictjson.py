"""Reading JSON that a decision depends on: one meaning per document, or a located refusal.

``json.loads`` keeps the *last* of two equal keys while other readers keep the first, so
``{"decision": "blocked", "decision": "passed"}`` says one thing to rai and another to a
reviewer's tool; it also accepts ``NaN`` and ``Infinity``, which are not JSON, and a document
nested a hundred thousand levels deep ends in ``RecursionError``. :func:`loads` refuses all of
these with a :class:`StrictJSONError` naming the place (``verdict.decision``).
"""

from __future__ import annotations

import json
from typing import Any

MAX_DEPTH = 64  # rai's documents nest about ten levels; far deeper is never one of them


class StrictJSONError(ValueError):
    """The text is not JSON rai accepts; ``str()`` is one line naming the place."""


class _Repeated(dict):
    """An object in which ``key`` appeared more than once (found again after parsing, by path)."""

    key: str


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out and not isinstance(out, _Repeated):
            out = _Repeated(out)
            out.key = key
        out[key] = value
    return out


def _constant(name: str) -> float:
    raise StrictJSONError(f"{name} is not a JSON number")


def loads(text: str, max_depth: int = MAX_DEPTH) -> Any:
    """Parse ``text``; :class:`StrictJSONError` for repeated keys, NaN/Infinity, deep nesting.

    Other syntax errors raise :class:`json.JSONDecodeError` as usual (line and column).
    """
    try:
        doc = json.loads(text, object_pairs_hook=_pairs, parse_constant=_constant)
    except RecursionError:
        raise StrictJSONError(f"nested more than {max_depth} levels deep") from None
    except json.JSONDecodeError:
        raise
    except ValueError as err:  # an integer of more digits than Python converts, NaN, ...
        if isinstance(err, StrictJSONError):
            raise
        raise StrictJSONError(str(err).strip().splitlines()[0]) from None
    _check_shape(doc, max_depth)
    return doc


def _check_shape(doc: Any, max_depth: int) -> None:
    """Walk the document without recursion: a repeated key or a level too deep is named by path."""
    stack: list[tuple[Any, str, int]] = [(doc, "", 0)]
    while stack:
        value, path, depth = stack.pop()
        if depth > max_depth:
            raise StrictJSONError(f"{path or 'the document'}: nested more than {max_depth} levels deep")
        if isinstance(value, _Repeated):
            where = f"{path}.{value.key}" if path else value.key
            raise StrictJSONError(f"{where}: key appears more than once in one object "
                                  "(JSON readers disagree on which value counts)")
        if isinstance(value, dict):
            stack.extend((v, f"{path}.{k}" if path else k, depth + 1) for k, v in reversed(value.items()))
        elif isinstance(value, list):
            stack.extend((v, f"{path}[{i}]", depth + 1) for i, v in reversed(list(enumerate(value))))
