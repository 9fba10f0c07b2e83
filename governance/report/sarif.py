"""SARIF 2.1.0 (OASIS) output of rai's results, for code scanning and auditors' tools.

One run of the tool ``rai``; every :class:`~governance.report.ci.CIResult` becomes one result:
its rule (a policy rule id, ``policy-lint`` or ``policy-test``) is described once in
``tool.driver.rules``; passing and not-applicable results are kept (``kind`` ``pass`` and
``notApplicable``), so the file records everything that was checked, not only what failed.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from governance import __version__
from governance.report.ci import CIResult, _relative

SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
_KIND = {"passed": "pass", "skipped": "notApplicable", "inconclusive": "review"}


def sarif(results: list[CIResult], *, exit_code: int | None = None) -> dict[str, Any]:
    """The SARIF log (a JSON-able dict) of ``results``; ``exit_code`` is the command's."""
    rules: dict[str, dict[str, Any]] = {}
    out = []
    for r in results:
        rule_id = _rule_id(r)
        if rule_id not in rules:
            rules[rule_id] = _descriptor(rule_id, r, len(rules))
        out.append(_result(r, rule_id, rules[rule_id]["_index"]))
    driver = {"name": "rai", "version": __version__,
              "rules": [{k: v for k, v in d.items() if k != "_index"} for d in rules.values()]}
    run: dict[str, Any] = {"tool": {"driver": driver}, "results": out, "columnKind": "unicodeCodePoints"}
    if exit_code is not None:
        run["invocations"] = [{"executionSuccessful": exit_code in (0, 1), "exitCode": exit_code}]
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}


def _rule_id(r: CIResult) -> str:
    if r.group in ("policy lint", "policy test"):
        return r.group.replace(" ", "-")
    return r.name.split(" [", 1)[0]


def _descriptor(rule_id: str, r: CIResult, index: int) -> dict[str, Any]:
    text = r.description or (f"{r.check}: {rule_id}" if r.check else rule_id)
    descriptor: dict[str, Any] = {"id": rule_id, "shortDescription": {"text": text}, "_index": index}
    if r.check:
        descriptor["name"] = r.check
        descriptor["properties"] = {"check": r.check, "severity": r.severity,
                                    "tags": [r.check.split(".", 1)[0]]}
    return descriptor


def _result(r: CIResult, rule_id: str, index: int) -> dict[str, Any]:
    level = {"error": "error", "warning": "warning", "notice": "note"}.get(r.level, "none")
    kind = _KIND.get(r.status, "fail")
    result: dict[str, Any] = {"ruleId": rule_id, "ruleIndex": index, "kind": kind, "level": level,
                              "message": {"text": f"{r.status}: {r.message}" if r.message else r.status}}
    if r.file:
        location: dict[str, Any] = {"artifactLocation": {"uri": _uri(r.file)}}
        if r.line:
            location["region"] = {"startLine": r.line, **({"startColumn": r.col} if r.col else {})}
        result["locations"] = [{"physicalLocation": location}]
    if r.suppression:
        result["suppressions"] = [{"kind": "external", "status": "accepted", "justification": r.suppression}]
    props = {"status": r.status, **({"severity": r.severity} if r.severity else {}), **r.properties}
    result["properties"] = {k: v for k, v in props.items() if v is not None}
    return result


def _uri(path: str) -> str:
    """A relative path as a relative URI reference; anything else as a ``file:`` URI."""
    shown = _relative(path)
    if os.path.isabs(shown) or shown.startswith(".."):
        return Path(os.path.abspath(path)).as_uri()
    return Path(shown).as_posix().replace("%", "%25").replace(" ", "%20").replace("#", "%23").replace("?", "%3F")
