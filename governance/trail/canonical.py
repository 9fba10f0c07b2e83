"""Canonical JSON: one byte string per value, so that hashes and signatures are reproducible.

This module owns both encodings rai hashes or signs:

* :func:`jcs` is RFC 8785, the JSON Canonicalization Scheme: keys sorted by their UTF-16 code
  units, no whitespace, strings escaped only where JSON requires it, numbers written the way
  ECMAScript writes an IEEE 754 double (``1`` for ``1.0``, ``10000000000000000`` for ``1e16``,
  ``5e-7``). Any language can reproduce it, so trail entries of format v2 hash it.
* :func:`canonical_json` is the earlier, Python-specific form (``json`` with sorted keys and
  compact separators: ``1.0``, ``1e+16``, ``5e-07``). It stays for what was hashed or signed
  with it and must keep its bytes: entries of v1 trails, checkpoint messages, registry
  manifests, decision signatures and policy hashes.

Both refuse, naming the place (``payload.metrics.auc: nan is not allowed``), what JSON cannot
say: NaN and infinities (``NaN != NaN`` would make a value unequal to itself after a round
trip), keys that are not strings (``{1: "a", "1": "b"}`` would collapse to one key) and types
other than dict, list, tuple, str, int, float, bool and None. :func:`jcs` also refuses an
integer beyond ±(2**53 - 1) whose digits would change as a JSON number, which is a double.
"""

from __future__ import annotations

import json
import math
from json.encoder import encode_basestring as _quote  # JSON string escaping, exactly as RFC 8785 asks
from typing import Any

_ENCODER = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
)
MAX_EXACT_INT = 2**53 - 1


class CanonicalJSONError(ValueError):
    """A value that has no canonical JSON form; the message names where it sits."""


def canonical_json(value: Any, where: str = "value") -> str:
    """Return the Python-specific canonical JSON text of ``value`` (see the module docstring).

    Parameters
    ----------
    value : JSON-like data: dicts with string keys, lists/tuples, str, int, finite float,
        bool, None
    where : name used in error messages, e.g. ``payload``

    Raises
    ------
    CanonicalJSONError
        naming the offending location, e.g. ``payload.metrics.auc: nan is not allowed``
    """
    _check(value, where)
    return _ENCODER.encode(value)


def canonical_bytes(value: Any, where: str = "value") -> bytes:
    """:func:`canonical_json` of ``value`` encoded as UTF-8 (the bytes that get hashed)."""
    try:
        return canonical_json(value, where).encode("utf-8")
    except UnicodeEncodeError as err:  # lone surrogates cannot be UTF-8
        raise CanonicalJSONError(f"{where}: text is not valid Unicode ({err.reason})") from None


def jcs(value: Any, where: str = "value") -> str:
    """Return the RFC 8785 (JCS) text of ``value``; its UTF-8 bytes are what gets hashed.

    Raises
    ------
    CanonicalJSONError
        naming the offending location, as :func:`canonical_json` does, and for an integer that
        a JSON number cannot hold exactly, or text that is not valid Unicode (a lone surrogate)
    """
    parts: list[str] = []
    try:
        _encode(value, parts)
    except _Refused:
        _check(value, where, strict=True)  # walk again to name the place (only after a refusal)
        raise CanonicalJSONError(f"{where}: has no canonical JSON form") from None
    except RecursionError:  # a value that contains itself, or absurdly deep nesting
        raise CanonicalJSONError(f"{where}: nested too deeply (or contains itself)") from None
    return "".join(parts)


class _Refused(Exception):
    """Raised by the fast walk; the slow one then says where and why."""


def _encode(value: Any, out: list[str]) -> None:
    # Exact types first: trail payloads are plain dicts, lists, str, int and float.
    kind = type(value)
    if kind is str:
        if not value.isascii() and not _is_unicode(value):
            raise _Refused
        out.append(_quote(value))
    elif kind is dict:
        _encode_object(value, out)
    elif kind is float:
        if value - value != 0.0:  # NaN or an infinity
            raise _Refused
        out.append(format_number(value))
    elif kind is int:
        if -MAX_EXACT_INT <= value <= MAX_EXACT_INT:
            out.append(int.__repr__(value))
        else:
            out.append(_large_integer(value))
    elif kind is list or kind is tuple:
        out.append("[")
        first = True
        for item in value:
            if not first:
                out.append(",")
            first = False
            _encode(item, out)
        out.append("]")
    elif value is None:
        out.append("null")
    elif kind is bool:
        out.append("true" if value else "false")
    else:
        _encode(_plain(value), out)


def _large_integer(value: int) -> str:
    """A large integer's text, if it is already what RFC 8785 writes for the double it denotes.

    A JSON number is a double: past 2**53 doubles skip integers, and ECMAScript writes a double
    by its shortest digits (2**60 becomes 1152921504606847000). An integer whose digits would
    change is refused rather than silently altered; one that a double reads back as itself
    (10000000000000000, or any integer read from a format-2 body) passes.
    """
    try:
        text = format_number(float(value))
    except OverflowError:
        raise _Refused from None
    if text != int.__repr__(value):
        raise _Refused
    return text


def _plain(value: Any) -> Any:
    """A subclass of a JSON type (a str enum, numpy's float64) as its plain value; else refuse."""
    # The base classes' own conversions: a str-mixin enum's __str__ may say something else.
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, int):
        return int.__int__(value)
    if isinstance(value, float):
        return float.__float__(value)
    if isinstance(value, dict):
        return dict(value)
    if isinstance(value, (list, tuple)):
        return list(value)
    raise _Refused


def _encode_object(value: dict, out: list[str]) -> None:
    # RFC 8785 orders keys by UTF-16 code units; that differs from Python's code point order
    # only past the ASCII range (a character above U+FFFF against one in U+E000..U+FFFF).
    try:
        keys = sorted(value) if all(k.isascii() for k in value) else sorted(value, key=_utf16)
    except (AttributeError, TypeError):  # keys that are not strings
        raise _Refused from None
    out.append("{")
    first = True
    for key in keys:
        if not first:
            out.append(",")
        first = False
        if type(key) is not str and not isinstance(key, str) or not key.isascii() and not _is_unicode(key):
            raise _Refused
        out.append(_quote(key))
        out.append(":")
        _encode(value[key], out)
    out.append("}")


def _utf16(key: str) -> bytes:
    return key.encode("utf-16-be", "surrogatepass")


def _is_unicode(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def format_number(value: float) -> str:
    """A finite float as ECMAScript's ``Number.prototype.toString`` writes it (RFC 8785 3.2.2.3).

    Python's ``repr`` already gives the shortest digits that read back as the same double, the
    digits ECMAScript uses; only the layout differs: ECMAScript writes plain decimals from 1e-6
    up to 1e21 and drops a trailing ``.0``, and its exponents have no leading zero.
    """
    if value == 0:
        return "0"  # also -0.0
    text = float.__repr__(value)
    if "e" not in text:  # 1e-4 <= |value| < 1e16: Python's plain decimal, which ECMAScript shares
        return text[:-2] if text.endswith(".0") else text
    sign = "-" if text[0] == "-" else ""
    mantissa, exponent = text.lstrip("-").split("e")
    digits = mantissa.replace(".", "")
    point = 1 + int(exponent)  # the value is 0.DIGITS * 10**point
    if len(digits) <= point <= 21:
        return sign + digits + "0" * (point - len(digits))
    if 0 < point <= 21:
        return sign + digits[:point] + "." + digits[point:]
    if -6 < point <= 0:
        return sign + "0." + "0" * -point + digits
    shown = point - 1
    fraction = "." + digits[1:] if len(digits) > 1 else ""
    return f"{sign}{digits[0]}{fraction}e{'+' if shown > 0 else '-'}{abs(shown)}"


def _check(value: Any, where: str, strict: bool = False) -> None:
    # Walk once, so that the error names the exact place; json's own errors do not. ``strict``
    # adds what only RFC 8785 refuses (integers beyond 2**53 - 1, lone surrogates).
    if value is None or isinstance(value, bool):
        return
    if isinstance(value, str):
        if strict and not _is_unicode(value):
            raise CanonicalJSONError(f"{where}: text is not valid Unicode (a lone surrogate)")
        return
    if isinstance(value, int):
        if strict and not -MAX_EXACT_INT <= value <= MAX_EXACT_INT:
            try:
                _large_integer(int(value))
            except _Refused:
                raise CanonicalJSONError(
                    f"{where}: integer {int(value)} would change as a JSON number (a double holds every integer "
                    f"up to ±{MAX_EXACT_INT}, larger ones only in steps); record it as a string") from None
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise CanonicalJSONError(f"{where}: {value!r} is not allowed (JSON has no NaN/Infinity)")
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise CanonicalJSONError(f"{where}: key {key!r} is not a string")
            if strict and not _is_unicode(key):
                raise CanonicalJSONError(f"{where}: key {key!r} is not valid Unicode (a lone surrogate)")
            _check(item, f"{where}.{key}", strict)
        return
    if isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            _check(item, f"{where}[{i}]", strict)
        return
    raise CanonicalJSONError(
        f"{where}: {type(value).__name__} is not JSON (use str, int, float, bool, None, list, dict)"
    )
