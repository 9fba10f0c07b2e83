"""The OpenAPI 3.1 document of a served model, generated from its feature schema and profile.

A row's schema lists every feature with its JSON type, its training range or categories (as
documentation: values outside the range are accepted and flagged), and forbids other keys, as
the validator does. With ``--unseen-category reject`` the categories become an ``enum``.
"""

from __future__ import annotations

from typing import Any

from lifecycle.deploy import RegistryEntry
from lifecycle.serving.profile import FeatureProfile
from lifecycle.serving.rows import FLOAT32_MAX, RowValidator

_SHOWN_CATEGORIES = 50


def build_openapi(entry: RegistryEntry, validator: RowValidator, profile: FeatureProfile, settings: Any,
                  decision: dict[str, Any]) -> dict[str, Any]:
    """The document served at ``GET /openapi.json``; ``decision`` is the JSON Schema of one row's
    answer, which depends on the model's task (:mod:`lifecycle.serving.decisions`)."""
    error = {"$ref": "#/components/schemas/Error"}
    json_of = lambda schema: {"content": {"application/json": {"schema": schema}}}  # noqa: E731
    answers = {str(code): {"description": text, **json_of(error)} for code, text in (
        (400, "invalid body or row (the message names the field)"), (404, "another model or version was asked for"),
        (408, "the body did not arrive in time"), (413, "body or batch too large"),
        (503, "the entry no longer verifies, or the prediction log cannot record"))}
    rows = {"type": "array", "minItems": 1, "maxItems": settings.max_rows, "items": {"$ref": "#/components/schemas/Row"}}
    request = {"oneOf": [
        {"type": "object", "required": ["rows"], "additionalProperties": False,
         "properties": {"rows": rows, "model": {"const": entry.name}, "version": {"const": entry.version}}},
        {"type": "object", "required": ["row"], "additionalProperties": False,
         "properties": {"row": {"$ref": "#/components/schemas/Row"}, "model": {"const": entry.name},
                        "version": {"const": entry.version}}},
        rows]}
    return {
        "openapi": "3.1.0",
        "info": {"title": f"{entry.name} v{entry.version}", "version": str(entry.version),
                 "description": f"rai serving {entry.name} v{entry.version} (model sha256 {entry.body.get('model_sha256')})"},
        "paths": {
            "/predict": {"post": {"summary": "Score one row or a batch; every decision is logged",
                                  "requestBody": {"required": True, **json_of(request)},
                                  "responses": {"200": {"description": "decisions",
                                                        **json_of({"$ref": "#/components/schemas/Decisions"})},
                                                **answers}}},
            "/health": {"get": {"summary": "Liveness and integrity", "responses": {"200": {"description": "serving"},
                                                                                  "503": {"description": "refusing"}}}},
            "/model": {"get": {"summary": "The signed registry manifest", "responses": {"200": {"description": "manifest"}}}},
            "/metrics": {"get": {"summary": "Prometheus metrics", "responses": {"200": {"description": "text format"}}}},
        },
        "components": {"schemas": {"Row": row_schema(validator, profile), "Decisions": _decisions(decision),
                                   "Error": {"type": "object", "required": ["error"],
                                             "properties": {"error": {"type": "string"},
                                                            "request_id": {"type": "string"}}}}},
    }


def row_schema(validator: RowValidator, profile: FeatureProfile) -> dict[str, Any]:
    """JSON Schema of one request row."""
    markers = sorted(validator.markers)
    properties: dict[str, Any] = {}
    for column in validator.numeric:
        p = profile.numeric[column]
        number = {"type": "number", "minimum": -FLOAT32_MAX, "maximum": FLOAT32_MAX}
        properties[column] = {"anyOf": [number, {"type": "null"}] + ([{"enum": markers}] if markers else []),
                              "description": f"training range [{p.low}, {p.high}]; values outside are flagged"}
    for column in validator.categorical:
        categories = profile.categorical[column].categories
        listed = sorted(categories) if categories is not None else []
        text: dict[str, Any] = {"type": "string"}
        if validator.unseen == "reject" and categories is not None:
            text = {"enum": listed + markers}
        properties[column] = {"anyOf": [text, {"type": "integer"}, {"type": "null"}],
                              "description": _categories(listed, validator.unseen),
                              **({"examples": listed[:_SHOWN_CATEGORIES]} if listed else {})}
    for column in validator.extra:
        properties[column] = {"anyOf": [{"type": "string"}, {"type": "integer"}, {"type": "null"}],
                              "description": "sensitive attribute (not a model input): kept in the prediction log"}
    required = validator.numeric + validator.categorical
    return {"type": "object", "required": required, "additionalProperties": False, "properties": properties}


def _categories(listed: list[str], unseen: str) -> str:
    what = {"flag": "flagged and scored as the model's unknown category", "missing": "flagged and scored as missing",
            "reject": "refused (400)"}[unseen]
    return f"{len(listed)} training categories; others are {what}" if listed else "any text"


def _decisions(decision: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "required": ["request_id", "model", "version", "predictions"], "properties": {
        "request_id": {"type": "string"}, "model": {"type": "string"}, "version": {"type": "integer"},
        "client_request_id": {"type": "string"}, "predictions": {"type": "array", "items": decision}}}
