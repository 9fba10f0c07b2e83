"""Results for CI systems: SARIF 2.1.0, JUnit XML and GitHub Actions workflow commands.

``rai run``, ``rai audit``, ``rai policy lint`` and ``rai policy test`` take ``--format
sarif|junit|github``. Each turns what it found into :class:`CIResult` values (a finding, a lint
error, a policy test case), located where a reviewer fixes it: a rule's line in the policy file
(rules inherited from a shipped pack: the ``extends`` line), a lint error's own place, a test
case's line in its test file. The renderers here know nothing of rai's commands.

Mapping of statuses:

============  =============  ================  =========================  ==================
status        SARIF kind     SARIF level       JUnit                      GitHub
============  =============  ================  =========================  ==================
passed        pass           none              passing test case          (nothing)
failed        fail           error             ``<failure>``              ``::error``
error         fail           error             ``<error>``                ``::error``
warning       fail           warning           passing, ``<system-out>``  ``::warning``
inconclusive  review         error or warning  as failed or as warning    as failed/warning
waived        fail           note, suppressed  ``<skipped>``              ``::notice``
skipped       notApplicable  none              ``<skipped>``              (nothing)
============  =============  ================  =========================  ==================
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Any

FORMATS = ("sarif", "junit", "github")


@dataclass
class CIResult:
    """One thing checked: a rule's finding, a lint error or a policy test case."""

    name: str  # the rule id, the lint error's path, the test case's name
    status: str  # a finding status (passed, failed, ...)
    message: str
    group: str  # a JUnit suite: the stage, "policy lint", "policy test"
    blocks: bool = False
    file: str | None = None
    line: int | None = None
    col: int | None = None
    check: str | None = None
    severity: str | None = None
    description: str | None = None
    suppression: str | None = None  # why a waived finding is accepted
    properties: dict[str, Any] = field(default_factory=dict)

    @property
    def level(self) -> str:
        """``error``, ``warning``, ``notice`` or ``none``: how loudly CI reports it."""
        if self.blocks:
            return "error"
        if self.status in ("warning", "inconclusive"):
            return "warning"
        return "notice" if self.status == "waived" else "none"


def from_findings(findings: list[dict[str, Any]], policy: Any = None) -> list[CIResult]:
    """Findings (``Finding.to_dict()`` or recorded ones), located by the ``policy``'s rules."""
    rules = {rule.id: rule for rule in getattr(policy, "rules", [])}
    out = []
    for f in findings:
        rule = rules.get(f.get("rule_id"))
        where = getattr(rule, "location", None) or (None, None, None)
        waiver = f.get("waiver") or {}
        blocks = f.get("status") in ("failed", "error") or (
            f.get("status") == "inconclusive" and f.get("on_inconclusive") == "block")
        stage = f.get("stage") or "audit"
        subject = f.get("subject")
        out.append(CIResult(
            name=f"{f.get('rule_id')}" + (f" [{subject}]" if subject else ""), status=str(f.get("status")),
            message=str(f.get("message") or ""), group=stage, blocks=blocks, file=where[0], line=where[1],
            col=where[2], check=f.get("check"), severity=f.get("severity"),
            description=getattr(rule, "description", None),
            suppression=f"waived by {waiver.get('approved_by')} until {waiver.get('expires')}: {waiver.get('reason')}"
            if waiver and f.get("status") == "waived" else None,
            properties={k: f.get(k) for k in ("stage", "subject", "observed", "threshold") if f.get(k) is not None},
        ))
    return out


def from_lint(results: list[dict[str, Any]]) -> list[CIResult]:
    """``rai policy lint`` results (``{"file", "valid", "errors": [{file, line, col, path, message}]}``)."""
    out = []
    for result in results:
        for e in result["errors"]:
            out.append(CIResult(name=f"{e['file']}: {e['path'] or 'file'}", status="error", message=e["message"],
                                group="policy lint", blocks=True, file=e["file"], line=e["line"], col=e["col"]))
        if result["valid"]:
            out.append(CIResult(name=result["file"], status="passed", message="valid", group="policy lint",
                                file=result["file"]))
    return out


# --- GitHub Actions ---------------------------------------------------------------------------


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def github(results: list[CIResult]) -> str:
    """Workflow commands (``::error file=F,line=L,col=C,title=T::message``), one per result to show."""
    lines = []
    for r in results:
        if r.level == "none":
            continue
        props = []
        if r.file:
            props.append(f"file={_escape_property(_relative(r.file))}")
            props += [f"{k}={v}" for k, v in (("line", r.line), ("col", r.col)) if v is not None]
        title = f"{r.name} ({r.check})" if r.check else r.name
        props.append(f"title={_escape_property(title)}")
        lines.append(f"::{r.level} {','.join(props)}::{_escape_data(f'{r.status}: {r.message}')}")
    return "\n".join(lines) + ("\n" if lines else "")


def _relative(path: str) -> str:
    """Paths relative to the working directory (the checkout in CI), as annotations need them."""
    if os.path.isabs(path):
        try:
            rel = os.path.relpath(path)
        except ValueError:
            return path
        return rel if not rel.startswith("..") else path
    return path


# --- JUnit XML --------------------------------------------------------------------------------


def junit(results: list[CIResult], name: str = "rai") -> str:
    """A JUnit XML report: one ``<testsuite>`` per group (stage, lint, tests), one case per result."""
    root = ET.Element("testsuites", name=name)
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for group in dict.fromkeys(r.group for r in results):
        members = [r for r in results if r.group == group]
        suite = ET.SubElement(root, "testsuite", name=group)
        counts = {"tests": len(members), "failures": 0, "errors": 0, "skipped": 0}
        for r in members:
            case = ET.SubElement(suite, "testcase", name=r.name, classname=f"{name}.{group}")
            if r.file:
                case.set("file", _relative(r.file))
            if r.line is not None:
                case.set("line", str(r.line))
            kind = _junit_kind(r)
            if kind:
                counts[{"failure": "failures", "error": "errors", "skipped": "skipped"}[kind]] += 1
                ET.SubElement(case, kind, message=_xml_text(r.message), type=r.status).text = _xml_text(_detail(r))
            elif r.status != "passed":
                ET.SubElement(case, "system-out").text = _xml_text(f"{r.status}: {r.message}")
        for key, value in counts.items():
            suite.set(key, str(value))
            totals[key] += value
    for key, value in totals.items():
        root.set(key, str(value))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _junit_kind(r: CIResult) -> str | None:
    if r.status in ("waived", "skipped"):
        return "skipped"
    if not r.blocks:
        return None
    return "error" if r.status == "error" else "failure"


def _detail(r: CIResult) -> str:
    parts = [f"{r.status}: {r.message}"]
    if r.check:
        parts.append(f"check {r.check}, severity {r.severity}")
    if r.file:
        parts.append(f"at {r.file}" + (f":{r.line}" if r.line else ""))
    if r.suppression:
        parts.append(r.suppression)
    return "\n".join(parts)


def _xml_text(text: str) -> str:
    """XML 1.0 cannot hold most control characters, even escaped: they become U+FFFD."""
    return "".join(c if c in "\t\n\r" or (ord(c) >= 0x20 and not 0xD800 <= ord(c) <= 0xDFFF and c not in "\ufffe\uffff")
                   else "\ufffd" for c in text)
