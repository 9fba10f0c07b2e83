"""JSON Schema of the policy format, for editors (``rai policy schema``).

The schema is the pydantic schema of :class:`~governance.policy.schema.Policy` with two
additions an editor can use: ``check`` is one of the registered names, and for each check an
``if check == NAME then stage in STAGES and params: <the check's Params schema>`` clause.
"""

from __future__ import annotations

from typing import Any

from governance.checks.base import load_all
from governance.policy.schema import CLAUSE_PATTERN, Policy

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
# Filled in by the loader, never written in a file.
_LOADER_FIELDS = {"Policy": ("source", "sha256", "plugin_files"), "Rule": ("validated", "location")}


def policy_json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a policy file, including every check's params."""
    schema = Policy.model_json_schema(mode="validation")
    defs = schema.setdefault("$defs", {})
    _drop_loader_fields(schema, defs)
    rule = defs["Rule"]
    registry = load_all()
    rule["properties"]["check"]["enum"] = sorted(registry)
    rule["properties"]["maps_to"]["items"]["pattern"] = CLAUSE_PATTERN
    clauses = []
    for name in sorted(registry):
        check = registry[name]
        prefix = f"{name}."
        params = check.Params.model_json_schema(mode="validation", ref_template=f"#/$defs/{prefix}{{model}}")
        for def_name, definition in params.pop("$defs", {}).items():
            defs[prefix + def_name] = definition
        params.pop("title", None)
        clauses.append(
            {
                "if": {"properties": {"check": {"const": name}}, "required": ["check"]},
                "then": {"properties": {"stage": {"enum": list(check.stages)}, "params": params}},
            }
        )
    if clauses:
        rule["allOf"] = clauses
    # `version: 1` is accepted (and read as "1"); a float such as 1.10 is not.
    schema["properties"]["version"] = {"title": "Version", "anyOf": [{"type": "string", "minLength": 1},
                                                                     {"type": "integer"}]}
    schema["$schema"] = SCHEMA_DIALECT
    schema["title"] = "rai policy"
    return schema


def _drop_loader_fields(schema: dict[str, Any], defs: dict[str, Any]) -> None:
    for model, fields in _LOADER_FIELDS.items():
        target = schema if model == "Policy" else defs.get(model, {})
        for name in fields:
            target.get("properties", {}).pop(name, None)
            if name in target.get("required", []):
                target["required"].remove(name)
