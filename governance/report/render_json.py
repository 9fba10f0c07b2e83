"""JSON rendering and reading of reports, described by the published ``report.schema.json``.

The JSON file is the machine-readable report: other tools consume it (its ``schema_version``
follows semantic versioning: new optional fields raise the minor version, anything else the major)
and ``rai report verify`` checks it against the trail.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from governance import strictjson
from governance.errors import UserError
from governance.report.document import KIND, SCHEMA_VERSION

NOT_A_REPORT = "{path}: not a rai JSON report ({why})"


def render_json(doc: dict[str, Any]) -> str:
    """The report as indented JSON text (UTF-8, no NaN), ending in a newline."""
    return json.dumps(doc, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def load_report(path: str | Path) -> dict[str, Any]:
    """Read a JSON report; UserError (one line) if unreadable, not JSON or not a report we know."""
    path = Path(path)
    try:
        # Strict: a repeated key (``"decision"`` twice) would mean one thing here and another
        # to a first-wins reader; NaN and absurd nesting are no report either.
        doc = strictjson.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as err:
        raise UserError(NOT_A_REPORT.format(path=path, why=f"cannot read it: {err}")) from None
    except json.JSONDecodeError as err:
        raise UserError(NOT_A_REPORT.format(path=path, why=f"invalid JSON at line {err.lineno}, column {err.colno}")) from None
    except strictjson.StrictJSONError as err:
        raise UserError(NOT_A_REPORT.format(path=path, why=str(err))) from None
    if not isinstance(doc, dict) or doc.get("kind") != KIND:
        raise UserError(NOT_A_REPORT.format(path=path, why=f"'kind' is not '{KIND}'"))
    major = str(doc.get("schema_version", "")).split(".")[0]
    if major != SCHEMA_VERSION.split(".")[0]:
        raise UserError(NOT_A_REPORT.format(
            path=path, why=f"schema_version {doc.get('schema_version')!r}; this rai reads {SCHEMA_VERSION}"))
    return doc
