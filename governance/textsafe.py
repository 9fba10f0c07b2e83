"""Values from data files, policies and reports, made safe to show on a terminal.

A column name, a group value, a rule id or a message can hold anything a file can: terminal
escape sequences (``ESC [ 2 J`` clears the screen, ``ESC ] 8`` plants a hyperlink, OSC 52 writes
the clipboard), carriage returns and newlines that forge a line such as ``decision: pass``,
Unicode direction overrides that reorder what is shown, and Rich markup (``[link=...]``) that the
terminal renderer would obey. Every ``rai`` command shows such values through one of these
helpers:

* :func:`printable` for plain output (``click.echo``): control, direction-override and
  line-separator characters become visible escapes (``\\x1b``, ``\\n``, ``\\u202e``);
* :func:`markup` for text printed with Rich: :func:`printable`, then Rich's markup escaping;
* :func:`json_printable` for JSON documents printed on a terminal (escapes that JSON reads back
  as the same value).

The module imports nothing outside the standard library (Rich only when :func:`markup` is
called), so any layer may use it without slowing start-up.
"""

from __future__ import annotations

import re
from typing import Any

# C0 controls (ESC, CR, LF, BEL, ...), DEL and the C1 controls (0x9b is a one-byte CSI), the
# Unicode direction marks, embeddings, overrides and isolates, the line/paragraph separators, and
# lone surrogates (which cannot even be encoded for the terminal).
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2028\u2029\u2066-\u2069"
                     "\ud800-\udfff]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _shown(match: re.Match[str]) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def printable(value: Any, keep: str = "") -> str:
    """``str(value)`` with every character that could steer a terminal shown as an escape.

    Parameters
    ----------
    value : anything; ``str()`` of it is shown
    keep : characters to leave as they are (``"\\n"`` for multi-line text such as Markdown)

    Examples
    --------
    >>> printable("sex\\x1b[2J")
    'sex\\\\x1b[2J'
    >>> printable("a\\nb", keep="\\n")
    'a\\nb'
    """
    text = str(value)
    if keep:
        return _UNSAFE.sub(lambda m: m.group() if m.group() in keep else _shown(m), text)
    return _UNSAFE.sub(_shown, text)


def json_printable(text: str) -> str:
    """JSON text with each such character written as a ``\\uXXXX`` escape: the same JSON value.

    ``json.dumps(..., ensure_ascii=False)`` escapes C0 controls but leaves C1 controls, direction
    overrides and lone surrogates as they are.
    """
    # Newlines and tabs outside strings are JSON's own whitespace; inside strings json.dumps
    # has escaped them already.
    return _UNSAFE.sub(lambda m: m.group() if m.group() in "\n\r\t" else f"\\u{ord(m.group()):04x}", text)


def markup(value: Any, keep: str = "") -> str:
    """:func:`printable` text that Rich prints literally: markup such as ``[bold]`` is escaped."""
    from rich.markup import escape  # only commands that print with Rich load it

    return escape(printable(value, keep))
