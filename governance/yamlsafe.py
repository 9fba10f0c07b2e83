"""Strict YAML loading with line-numbered, one-line errors (policies, pipeline specs).

Configuration files are read with the YAML 1.2 *core schema* only: plain scalars become null,
booleans (``true``/``false``), integers, floats (``1e-5`` included) or strings; nothing else is
constructed. Anything that could make a file mean something other than what it shows is
refused with ``FILE:LINE:COL: path: message``:

- duplicate keys, anchors and aliases, explicit tags (``!!python/object``, ``!foo``, ``!!str``),
- complex (non-scalar) keys, more than one document, nesting deeper than 64 levels,
- files over 1 MiB, anything but a regular file (a FIFO, a device, a directory: see
  :mod:`governance.smallfile`), files that are not UTF-8, empty files and non-mapping top levels,
- escapes (``"\\0"``, ``"\\e"``, ``"\\ud800"``) giving a character the file itself may not hold,
- integers beyond the largest float (about 1.8e308; Python cannot even convert the longest).

Usage::

    doc = load_document("pipeline.yaml")            # raises LocatedError
    spec = validate(doc, PipelineSpec)               # governance.yamlvalidate: pydantic errors -> LocatedError
    model, errors = try_validate(doc, Params, ("rules", 2, "params"))   # collect them all

Positions are 1-based. :meth:`Document.position` maps a location tuple (a pydantic ``loc``
or a path such as ``("rules", 2, "params", "max")``) to the nearest node that exists in the
file: a missing key is reported at its parent mapping.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.resolver import BaseResolver
from yaml.scanner import Scanner

from governance.errors import LocatedError
from governance.smallfile import MAX_BYTES, read_file_bytes

MAX_DEPTH = 64
# The largest finite float: an integer beyond it is no number any check could compare.
LARGEST_NUMBER = int(sys.float_info.max)
_LARGEST_DIGITS = len(str(LARGEST_NUMBER))

Loc = tuple[Any, ...]

_NULL = "tag:yaml.org,2002:null"
_BOOL = "tag:yaml.org,2002:bool"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_STR = "tag:yaml.org,2002:str"
# What PyYAML's reader refuses in a file; an escape sequence may not produce it either.
_NON_PRINTABLE = re.compile("[^\x09\x0A\x0D\x20-\x7E\x85\xA0-\uD7FF\uE000-\uFFFD\U00010000-\U0010FFFF]")


class _CoreResolver(BaseResolver):
    """Implicit types of the YAML 1.2 core schema (no ``yes``/``no`` booleans, no dates)."""


for _tag, _pattern, _first in (
    (_NULL, r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    (_BOOL, r"^(?:true|True|TRUE|false|False|FALSE)$", list("tTfF")),
    (_INT, r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", list("-+0123456789")),
    (
        _FLOAT,
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
        list("-+.0123456789"),
    ),
):
    _CoreResolver.add_implicit_resolver(_tag, re.compile(_pattern), _first)


class _Refused(Exception):
    """Raised while composing: a construct the strict loader does not accept."""

    def __init__(self, mark: yaml.Mark, loc: Loc, message: str):
        super().__init__(message)
        self.mark, self.loc, self.message = mark, loc, message


class _StrictComposer(Reader, Scanner, Parser, Composer, _CoreResolver):
    """PyYAML's composer, refusing anchors, aliases, tags and deep nesting as it goes."""

    def __init__(self, text: str):
        Reader.__init__(self, text)
        Scanner.__init__(self)
        Parser.__init__(self)
        Composer.__init__(self)
        _CoreResolver.__init__(self)
        self.loc_stack: list[Loc] = []

    def compose_node(self, parent: Node | None, index: Any) -> Node:
        loc = self._child_loc(parent, index)
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            raise _Refused(
                event.start_mark, loc, f"aliases ('*{event.anchor}') are not allowed; repeat the value"
            )
        if event.anchor is not None:
            raise _Refused(
                event.start_mark, loc, f"anchors ('&{event.anchor}') are not allowed; repeat the value"
            )
        tag = getattr(event, "tag", None)
        if tag is not None:
            raise _Refused(
                event.start_mark, loc, f"tag '{_short_tag(tag)}' is not allowed; write a plain value"
            )
        if len(self.loc_stack) >= MAX_DEPTH:
            raise _Refused(event.start_mark, loc, f"nesting deeper than {MAX_DEPTH} levels")
        self.loc_stack.append(loc)
        try:
            return super().compose_node(parent, index)
        finally:
            self.loc_stack.pop()

    def _child_loc(self, parent: Node | None, index: Any) -> Loc:
        if parent is None:
            return ()
        here = self.loc_stack[-1]
        if isinstance(index, Node):  # a mapping value; ``index`` is its key node
            return here + (index.value,)
        if index is None:  # a mapping key
            return here
        return here + (index,)


def _short_tag(tag: str) -> str:
    return "!!" + tag[len("tag:yaml.org,2002:") :] if tag.startswith("tag:yaml.org,2002:") else tag


@dataclass
class Document:
    """A strictly loaded YAML mapping: plain Python ``data`` plus the position of every node."""

    file: str
    data: dict[str, Any]
    values: dict[Loc, tuple[int, int]] = field(default_factory=dict, repr=False)
    keys: dict[Loc, tuple[int, int]] = field(default_factory=dict, repr=False)

    def position(self, loc: Loc, *, key: bool = False) -> tuple[int, int]:
        """1-based ``(line, col)`` of the deepest existing node on ``loc``.

        With ``key=True`` the position of the mapping key is preferred (for unknown keys).
        """
        loc = tuple(loc)
        if key and loc in self.keys:
            return self.keys[loc]
        return self.values[self.existing(loc)]

    def existing(self, loc: Loc) -> Loc:
        """The longest prefix of ``loc`` that names a node present in the file."""
        loc = tuple(loc)
        while loc not in self.values:
            loc = loc[:-1]
        return loc

    def get(self, loc: Loc, default: Any = None) -> Any:
        """The plain value at ``loc``, or ``default`` when the path does not exist."""
        value: Any = self.data
        for part in loc:
            try:
                value = value[part]
            except (KeyError, IndexError, TypeError):
                return default
        return value

    def error(self, loc: Loc, message: str, *, key: bool = False) -> LocatedError:
        """A :class:`LocatedError` about ``loc``, placed at its deepest existing node.

        The path shown is ``loc`` itself, so a key missing from an absent mapping still names
        that mapping (``rules[0].params``) while pointing at the rule that lacks it.
        """
        line, col = self.position(loc, key=key)
        return LocatedError(self.file, line, col, format_path(loc), message)


_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


def format_path(loc: Loc) -> str:
    """``("rules", 2, "params", "max")`` -> ``rules[2].params.max``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _IDENT.match(str(part)):
            out += f".{part}" if out else str(part)
        else:
            out += f"[{str(part)!r}]"
    return out


def load_document(path: str | Path) -> Document:
    """Read ``path`` strictly; raise :class:`LocatedError` on anything refused."""
    file = str(path)
    text = _read_text(Path(path), file)
    try:
        root = _StrictComposer(text).get_single_node()
    except _Refused as err:
        raise LocatedError(
            file, err.mark.line + 1, err.mark.column + 1, format_path(err.loc), err.message
        ) from None
    except yaml.MarkedYAMLError as err:
        raise _syntax_error(file, err) from None
    except yaml.reader.ReaderError as err:
        line, col = _offset_position(text, err.position)
        raise LocatedError(
            file, line, col, "", f"control character U+{err.character:04X} is not allowed in YAML"
        ) from None
    if root is None:
        raise LocatedError(file, 1, 1, "", "file is empty; expected a mapping of keys")
    if not isinstance(root, MappingNode):
        raise LocatedError(file, *_mark(root), "", f"top level must be a mapping of keys, got {_kind(root)}")
    doc = Document(file=file, data={})
    doc.data = _build(root, (), doc)
    return doc


def _read_text(path: Path, file: str) -> str:
    raw = read_file_bytes(path, file)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = raw.count(b"\n", 0, err.start) + 1
        col = err.start - (raw.rfind(b"\n", 0, err.start) + 1) + 1
        raise LocatedError(
            file, line, col, "", f"file is not UTF-8 text (byte 0x{raw[err.start]:02x})"
        ) from None


def _syntax_error(file: str, err: yaml.MarkedYAMLError) -> LocatedError:
    mark = err.problem_mark or err.context_mark
    problem = err.problem or err.context or "invalid YAML"
    if err.context == "but found another document" or problem == "but found another document":
        problem = "only one YAML document is allowed per file ('---' starts another)"
    elif err.context:
        problem = f"{err.context.rstrip()}: {problem}" if not problem.startswith(err.context) else problem
    line, col = (mark.line + 1, mark.column + 1) if mark else (None, None)
    return LocatedError(file, line, col, "", f"YAML syntax error: {problem}")


def _offset_position(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def _mark(node: Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def _kind(node: Node) -> str:
    """What a node is, never what it says: the file may not be the one the user meant to share."""
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    return "a single value" if node.value else "nothing"


def _build(node: Node, loc: Loc, doc: Document) -> Any:
    doc.values[loc] = _mark(node)
    if isinstance(node, SequenceNode):
        return [_build(item, loc + (i,), doc) for i, item in enumerate(node.value)]
    if isinstance(node, MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                raise LocatedError(
                    doc.file,
                    *_mark(key_node),
                    format_path(loc),
                    "mapping keys must be plain words, not lists or mappings",
                )
            key = key_node.value
            _check_text(key, key_node, loc, doc)
            if key in out:
                first = doc.keys[loc + (key,)][0]
                raise LocatedError(
                    doc.file,
                    *_mark(key_node),
                    format_path(loc + (key,)),
                    f"duplicate key '{key}' (first defined on line {first})",
                )
            doc.keys[loc + (key,)] = _mark(key_node)
            out[key] = _build(value_node, loc + (key,), doc)
        return out
    if node.tag == _INT:
        return _integer(node, loc, doc)
    if node.tag == _STR:
        _check_text(node.value, node, loc, doc)
    return _scalar(node)


def _check_text(text: str, node: Node, loc: Loc, doc: Document) -> None:
    """Escapes (``"\\0"``, ``"\\ud800"``) must not give what the file itself may not contain."""
    bad = _NON_PRINTABLE.search(text)
    if bad is None:
        return
    code = ord(bad.group())
    what = "lone surrogate" if 0xD800 <= code <= 0xDFFF else "control character"
    raise LocatedError(doc.file, *_mark(node), format_path(loc), f"{what} U+{code:04X} is not allowed in YAML")


def _integer(node: ScalarNode, loc: Loc, doc: Document) -> int:
    """The integer ``node`` spells, refused beyond the largest float (``int()`` of a very long
    numeral raises ``ValueError``; larger values are no more usable)."""
    text = node.value
    sign, digits = (-1 if text[0] == "-" else 1), text.lstrip("+-")
    base = {"0o": 8, "0x": 16}.get(digits[:2], 10)
    numeral = (digits[2:] if base != 10 else digits).lstrip("0")
    # Bases 8 and 16 convert in linear time and without a length limit; base 10 does not.
    value = sign * int(numeral or "0", base) if base != 10 or len(numeral) <= _LARGEST_DIGITS else None
    if value is None or abs(value) > LARGEST_NUMBER:
        raise LocatedError(doc.file, *_mark(node), format_path(loc),
                           f"integer of {len(numeral)} digits is too large (the largest number is 1.8e308)")
    return value


def _scalar(node: ScalarNode) -> Any:
    value = node.value
    if node.tag == _NULL:
        return None
    if node.tag == _BOOL:
        return value.lower() == "true"
    if node.tag == _FLOAT:
        lowered = value.lower().lstrip("+")
        if lowered in (".inf", "-.inf", ".nan"):
            return float(lowered.replace(".", ""))
        return float(value)
    return value


__all__ = ["Document", "MAX_BYTES", "format_path", "load_document"]
