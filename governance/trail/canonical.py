"""Canonical JSON: one byte string per value, so that hashes are reproducible.

Keys are sorted, separators are compact (``,`` and ``:``), text is UTF-8 without ``\\u`` escapes
for non-ASCII characters, and NaN/Infinity are refused because JSON has no such numbers (and
``NaN != NaN`` would make a value unequal to itself after a round trip). Keys must be strings:
``{1: "a", "1": "b"}`` would otherwise collapse to one key.
"""

from __future__ import annotations

import json
import math
from typing import Any

_ENCODER = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
)


class CanonicalJSONError(ValueError):
    """A value that has no canonical JSON form; the message names where it sits."""


def canonical_json(value: Any, where: str = "value") -> str:
    """Return the canonical JSON text of ``value``.

    Parameters
    ----------
    value : JSON-like data: dicts with string keys, lists/tuples, str, int, finite float,
        bool, None
    where : name used in error messages, e.g. ``payload``

    Raises
    ------
    CanonicalJSONError
        naming the offending location, e.g. ``payload.metrics.auc: NaN is not allowed``
    """
    _check(value, where)
    return _ENCODER.encode(value)


def canonical_bytes(value: Any, where: str = "value") -> bytes:
    """Canonical JSON of ``value`` encoded as UTF-8 (the bytes that get hashed)."""
    try:
        return canonical_json(value, where).encode("utf-8")
    except UnicodeEncodeError as err:  # lone surrogates cannot be UTF-8
        raise CanonicalJSONError(f"{where}: text is not valid Unicode ({err.reason})") from None


def _check(value: Any, where: str) -> None:
    # Walk once up front so that the error names the exact place; json's own errors do not.
    if value is None or isinstance(value, (str, bool, int)):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise CanonicalJSONError(f"{where}: {value!r} is not allowed (JSON has no NaN/Infinity)")
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise CanonicalJSONError(f"{where}: key {key!r} is not a string")
            _check(item, f"{where}.{key}")
        return
    if isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            _check(item, f"{where}[{i}]")
        return
    raise CanonicalJSONError(
        f"{where}: {type(value).__name__} is not JSON (use str, int, float, bool, None, list, dict)"
    )
