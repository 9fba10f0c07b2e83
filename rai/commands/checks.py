"""``rai checks``: every registered check with its stages, parameters and documentation."""

from __future__ import annotations

import json
from typing import Any

import click

from governance.checks.base import Check, load_all, origin_of
from governance.textsafe import markup
from rai.options import json_option

_TYPE_WORDS = {
    "number": "number",
    "integer": "integer",
    "string": "string",
    "boolean": "bool",
    "object": "mapping",
    "null": "null",
}


@click.command("checks")
@json_option
def checks(as_json: bool) -> None:
    """List every registered check with its stages, parameters and documentation."""
    described = [describe_check(cls) for _, cls in sorted(load_all().items())]
    if as_json:
        click.echo(json.dumps(described, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{len(described)} registered checks", show_lines=True)
    for column in ("check", "stages", "parameters", "description"):
        table.add_column(column, overflow="fold")
    for check in described:
        # Markup-escaped: a constraint such as "matching ^[a-z]+$" would otherwise read as a Rich tag.
        params = "\n".join(markup(_param_line(p)) for p in check["params"]) or "(none)"
        name = check["name"] if check["origin"] == "built-in" else f"{check['name']}\n({check['origin']})"
        table.add_row(markup(name, keep="\n"), markup(", ".join(check["stages"])), params, markup(check["doc"], keep="\n"))
    Console().print(table)


def describe_check(cls: type[Check]) -> dict[str, Any]:
    """Name, stages, documentation and parameters (from the ``Params`` JSON Schema) of a check."""
    schema = cls.Params.model_json_schema(mode="validation")
    defs = schema.get("$defs", {})
    required = set(schema.get("required", []))
    params = [
        {
            "name": name,
            "type": _type(prop, defs),
            "required": name in required,
            "default": None if name in required else prop.get("default"),
            "constraint": _constraint(prop),
            "description": prop.get("description"),
        }
        for name, prop in schema.get("properties", {}).items()
    ]
    return {"name": cls.name, "stages": list(cls.stages), "doc": cls.doc(), "params": params,
            "origin": origin_of(cls.name)}


def _param_line(p: dict[str, Any]) -> str:
    text = f"{p['name']}: {p['type']}"
    if p["constraint"]:
        text += f" {p['constraint']}"
    return text + (" (required)" if p["required"] else f" = {json.dumps(p['default'])}")


def _type(prop: dict[str, Any], defs: dict[str, Any]) -> str:
    if "$ref" in prop:
        return _type(defs.get(prop["$ref"].rsplit("/", 1)[-1], {}), defs)
    if "enum" in prop:
        return "one of " + "|".join(str(v) for v in prop["enum"])
    if "const" in prop:
        return json.dumps(prop["const"])
    if "anyOf" in prop:
        return " | ".join(_type(p, defs) for p in prop["anyOf"])
    if prop.get("type") == "array":
        return f"list[{_type(prop.get('items', {}), defs)}]"
    return _TYPE_WORDS.get(prop.get("type", ""), prop.get("type", "any"))


def _constraint(prop: dict[str, Any]) -> str:
    """Bounds as an interval (``[0, 1]``, ``> 0``), item and length limits, patterns."""
    members = [prop, *prop.get("anyOf", [])]
    words = []
    for m in members:
        lo = (
            ("[", m["minimum"])
            if "minimum" in m
            else ("(", m["exclusiveMinimum"])
            if "exclusiveMinimum" in m
            else None
        )
        hi = (
            (m["maximum"], "]")
            if "maximum" in m
            else (m["exclusiveMaximum"], ")")
            if "exclusiveMaximum" in m
            else None
        )
        if lo and hi:
            words.append(f"in {lo[0]}{lo[1]}, {hi[0]}{hi[1]}")
        elif lo:
            words.append(f"{'>=' if lo[0] == '[' else '>'} {lo[1]}")
        elif hi:
            words.append(f"{'<=' if hi[1] == ']' else '<'} {hi[0]}")
        if "minItems" in m:
            words.append(f"at least {m['minItems']} item{'' if m['minItems'] == 1 else 's'}")
        if "pattern" in m:
            words.append(f"matching {m['pattern']}")
    return ", ".join(words)
