"""Policy tests: a policy's expected decisions on small fixture evidence, run like unit tests.

A test file (``policy-test.yaml``) names a policy and its cases. Each case gives a stage, the
evidence of that stage from small CSV/Parquet/JSON fixture files beside the test file (or
inline), and what the gate must decide::

    policy: rai:default          # a shipped pack, or a path relative to this file
    today: 2025-06-01            # optional: the day waivers are judged on
    cases:
      - name: a-biased-model-blocks
        stage: evaluate
        evidence:
          predictions: {file: biased.csv, y_true: y, y_pred: pred, y_score: score, sensitive: [sex]}
          metadata: {file: card.json}          # or the mapping itself
        expect:
          decision: blocked
          findings: {equal-opportunity: failed, accuracy-floor: passed}

:func:`run_test_file` returns each case's mismatches (empty: the case holds). A test file that
does not load, names a rule the policy lacks or a fixture that does not exist raises a
:class:`~governance.errors.LocatedError` at that place.
"""

from __future__ import annotations

import datetime as dt
import difflib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from governance.errors import LocatedError, UserError
from governance.packs import is_pack_ref
from governance.vocabulary import STAGES, Status
from governance.yamlsafe import Document, load_document
from governance.yamlvalidate import validate

TEST_FILE = "policy-test.yaml"
Stage = Literal[STAGES]  # type: ignore[valid-type]
StatusName = Literal["passed", "failed", "warning", "error", "skipped", "waived", "inconclusive"]
_PREDICTIONS = ("predictions", "parent_predictions")
_TABLES = ("dataset", "reference", "current")
_COLUMNS = ("prediction_reference", "prediction_current")
_MAPPINGS = ("privacy", "metadata", "lineage", "model_stats", "parent_stats")
assert set(STAGES) == set(Stage.__args__)  # noqa: S101  (one vocabulary)
assert {s.value for s in Status} == set(StatusName.__args__)  # noqa: S101


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class PredictionsFixture(_Strict):
    """Labels, predictions, optional scores and the sensitive columns, from one file."""

    file: str = Field(min_length=1)
    y_true: str
    y_pred: str
    y_score: str | None = None
    sensitive: list[str] = Field(default_factory=list)
    pos_label: str | int | bool | None = None


class TableFixture(_Strict):
    file: str = Field(min_length=1)
    columns: list[str] | None = None


class ColumnFixture(_Strict):
    file: str = Field(min_length=1)
    column: str


class EvidenceFixture(_Strict):
    """The evidence of one gate, by the names of :mod:`governance.evidence`."""

    predictions: PredictionsFixture | None = None
    parent_predictions: PredictionsFixture | None = None
    dataset: TableFixture | None = None
    reference: TableFixture | None = None
    current: TableFixture | None = None
    prediction_reference: ColumnFixture | None = None
    prediction_current: ColumnFixture | None = None
    target: str | None = None
    privacy: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None
    lineage: dict[str, Any] | None = None
    model_stats: dict[str, Any] | None = None
    parent_stats: dict[str, Any] | None = None
    approvals: list[dict[str, Any]] | dict[str, Any] | None = None
    sensitive_features: list[str] | None = None


class Expectation(_Strict):
    decision: Literal["passed", "blocked"] | None = None
    findings: dict[str, StatusName] = Field(default_factory=dict)


class Case(_Strict):
    name: str = Field(min_length=1)
    stage: Stage
    evidence: EvidenceFixture = Field(default_factory=EvidenceFixture)
    expect: Expectation
    today: dt.date | None = None


class TestFile(_Strict):
    policy: str = Field(min_length=1)
    today: dt.date | None = None
    cases: list[Case] = Field(min_length=1)


@dataclass
class CaseResult:
    """One case: where it is written and what differed from its expectation (nothing: it holds)."""

    name: str
    stage: str
    file: str
    line: int
    col: int
    mismatches: list[str] = field(default_factory=list)
    decision: str | None = None

    @property
    def passed(self) -> bool:
        return not self.mismatches


def find_test_files(path: str | Path) -> list[Path]:
    """``path`` itself if it is a file, else every ``policy-test.yaml`` under it, sorted."""
    path = Path(path)
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise UserError(f"{path}: no such file or directory")
    found = sorted(path.rglob(TEST_FILE))
    if not found:
        raise UserError(f"{path}: no {TEST_FILE} under it (a policy's tests live in files of that name)")
    return found


def run_test_file(path: str | Path) -> list[CaseResult]:
    """Run every case of the test file at ``path``.

    Raises
    ------
    LocatedError
        The file, its policy or a fixture cannot be used; one line at the place to fix.
    """
    from governance.engine import evaluate
    from governance.policy.loader import load_policy

    doc = load_document(path)
    spec = validate(doc, TestFile, data=_with_dates(doc.data))
    policy_ref = spec.policy if is_pack_ref(spec.policy) else _beside(doc, spec.policy)
    try:
        policy = load_policy(policy_ref)
    except LocatedError as err:
        raise doc.error(("policy",), f"the policy does not load: {err}") from None
    results = []
    for i, case in enumerate(spec.cases):
        _check_rule_ids(doc, i, case, policy)
        evidence = _evidence(doc, i, case.evidence)
        gate = evaluate(policy, case.stage, evidence, today=case.today or spec.today)
        line, col = doc.position(("cases", i))
        results.append(CaseResult(case.name, case.stage, doc.file, line, col, _compare(case, gate), gate.decision))
    return results


def _with_dates(data: dict[str, Any]) -> dict[str, Any]:
    """Dates are text in the strict YAML; pydantic's strict mode wants date objects."""
    def day(value: Any) -> Any:
        try:
            return dt.date.fromisoformat(value) if isinstance(value, str) else value
        except ValueError:
            return value

    out = dict(data)
    if "today" in out:
        out["today"] = day(out["today"])
    if isinstance(out.get("cases"), list):
        out["cases"] = [{**c, "today": day(c["today"])} if isinstance(c, dict) and "today" in c else c
                        for c in out["cases"]]
    return out


def _beside(doc: Document, ref: str) -> str:
    return os.path.normpath(os.path.join(os.path.dirname(doc.file), ref))


def _check_rule_ids(doc: Document, i: int, case: Case, policy: Any) -> None:
    ids = [rule.id for rule in policy.rules]
    for rule_id in case.expect.findings:
        if rule_id not in ids:
            close = difflib.get_close_matches(rule_id, ids, n=1, cutoff=0.6)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            raise doc.error(("cases", i, "expect", "findings", rule_id),
                            f"the policy has no rule '{rule_id}'{hint}", key=True)


def _compare(case: Case, gate: Any) -> list[str]:
    """Readable differences: ``decision: expected blocked, got passed``, one line per rule."""
    out = []
    if case.expect.decision is not None and gate.decision != case.expect.decision:
        blocking = ", ".join(f.rule_id for f in gate.blocking) or "no rule"
        out.append(f"decision: expected {case.expect.decision}, got {gate.decision} (blocking: {blocking})")
    found = {f.rule_id: f for f in gate.findings}
    for rule_id, status in case.expect.findings.items():
        finding = found.get(rule_id)
        if finding is None:
            out.append(f"{rule_id}: expected {status}, but the rule does not run at stage '{case.stage}'")
        elif finding.status.value != status:
            out.append(f"{rule_id}: expected {status}, got {finding.status.value}: {finding.message}")
    return out


def _evidence(doc: Document, i: int, fixture: EvidenceFixture) -> Any:
    from governance.api import build_evidence

    pieces: dict[str, Any] = {}
    for name in EvidenceFixture.model_fields:
        value = getattr(fixture, name)
        if value is None:
            continue
        loc = ("cases", i, "evidence", name)
        try:
            pieces[name] = _piece(doc, loc, name, value)
        except LocatedError:
            raise
        except UserError as err:
            raise doc.error(loc, str(err)) from None
    try:
        return build_evidence(pieces)
    except UserError as err:
        raise doc.error(("cases", i, "evidence"), str(err)) from None


def _piece(doc: Document, loc: tuple, name: str, value: Any) -> Any:
    from governance.evidence import Predictions
    from governance.io import read_table

    if name in _PREDICTIONS:
        path = _fixture(doc, loc, value.file)
        columns = [value.y_true, value.y_pred, *([value.y_score] if value.y_score else []), *value.sensitive]
        frame = read_table(path, columns, categorical=value.sensitive)
        return Predictions(frame[value.y_true], frame[value.y_pred], frame[value.sensitive],
                           y_score=frame[value.y_score] if value.y_score else None, pos_label=value.pos_label)
    if name in _TABLES:
        return read_table(_fixture(doc, loc, value.file), value.columns)
    if name in _COLUMNS:
        return read_table(_fixture(doc, loc, value.file), [value.column])[value.column]
    if name in _MAPPINGS or name == "approvals":
        if isinstance(value, dict) and set(value) == {"file"}:
            return _json(doc, loc, value["file"])
        return value
    return value


def _fixture(doc: Document, loc: tuple, ref: str) -> str:
    path = _beside(doc, ref)
    if not os.path.isfile(path):
        raise doc.error(loc + ("file",), f"fixture '{ref}' does not exist (looked for {path})")
    return path


def _json(doc: Document, loc: tuple, ref: str) -> Any:
    from governance.smallfile import read_file_bytes
    from governance.strictjson import loads

    path = _fixture(doc, loc, ref)
    try:
        return loads(read_file_bytes(path, path).decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as err:
        raise doc.error(loc + ("file",), f"fixture '{ref}' is not valid JSON: {err}") from None
