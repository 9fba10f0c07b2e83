"""The gate engine: run a policy's rules for one stage against evidence and decide.

Fail closed: a check that raises, whose evidence is missing, or whose observed value or
threshold is not a finite number (anywhere inside it) yields an ``error`` finding, and an
``error`` always blocks. A failed rule blocks when its severity is at or above the
policy's ``fail_on``; below it, the failure is a ``warning``. An active waiver turns a failure
into ``waived``; an expired one is ignored and the finding says so. An ``inconclusive`` outcome
(a confidence interval that straddles the threshold) blocks or warns as the rule's
``on_inconclusive`` says, by default like a failure of the rule's severity.

Rows without labels (the ``missing_labels`` evidence, or predictions without ``y_true``): a rule
whose check is label-free for its parameters runs on them; any other rule sees no
``predictions`` nor ``target``, and when it asks for them it is not an error but a finding that
it "needs labels (column Y absent)", skipped, warned or blocking as the policy's
``on_missing_labels`` says.
"""

from __future__ import annotations

import datetime as dt
import math
import numbers
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from governance.checks.base import RUN_FEATURES, Outcome, get_check, takes_run_features
from governance.errors import MissingEvidence, UserError
from governance.evidence import LABEL_PIECES, Evidence, missing_labels
from governance.findings import Finding, GateResult
from governance.policy.schema import Policy, Rule
from governance.vocabulary import Status

NEEDS_LABELS = "needs labels ({absent}): not run on these rows (on_missing_labels: {how})"


def evaluate(
    policy: Policy,
    stage: str,
    evidence: Evidence,
    *,
    rules: Iterable[Rule] | None = None,
    today: dt.date | None = None,
    subject: str | None = None,
) -> GateResult:
    """Evaluate ``policy``'s rules for ``stage`` (or the given ``rules``) and return the gate result."""
    selected = list(rules) if rules is not None else policy.rules_for(stage)
    findings = [_run_rule(policy, rule, stage, evidence, today, subject) for rule in selected]
    return GateResult(stage=stage, findings=findings, subject=subject)


def _failure(err: Exception) -> str:
    """Why a rule could not be decided: the check's own reason (a ValueError or UserError saying
    what in the evidence it cannot use), or the exception of a check that broke."""
    if isinstance(err, (ValueError, UserError)) and not isinstance(err, ValidationError):
        return f"cannot evaluate: {err}"
    return f"check raised {type(err).__name__}: {err}"


def _run_rule(policy, rule, stage, evidence, today, subject) -> Finding:
    base = dict(
        rule_id=rule.id, check=rule.check, stage=stage, severity=rule.severity,
        maps_to=list(rule.maps_to), subject=subject,
    )
    absent = missing_labels(evidence)
    try:
        check_cls = get_check(rule.check)
        params = rule.validated if rule.validated is not None else _params(policy, rule, check_cls, evidence)
        seen = evidence  # rows without labels: only a label-free rule sees their predictions
        if absent is not None and not check_cls.runs_without_labels(params):
            seen = evidence.with_(**dict.fromkeys(LABEL_PIECES))
        outcome = check_cls().evaluate(seen, params)
        if not isinstance(outcome, Outcome):
            raise TypeError(f"check returned {type(outcome).__name__}, not Outcome")
    except MissingEvidence as err:
        if absent is not None and err.name in LABEL_PIECES:
            return _needs_labels(policy, rule, Finding(**base, status=Status.SKIPPED, message=""), absent, today)
        return Finding(**base, status=Status.ERROR, message=f"{err} at stage '{stage}'")
    except Exception as err:  # fail closed: a broken check blocks, it never passes
        return Finding(**base, status=Status.ERROR, message=_failure(err))

    finding = Finding(
        **base, status=Status.PASSED, message=outcome.message, observed=outcome.observed,
        threshold=outcome.threshold, evidence=outcome.evidence,
    )
    untrusted = next((name for name in ("observed", "threshold") if not_finite(getattr(outcome, name))), None)
    if untrusted:  # NaN compares false with everything: whatever ``ok`` says was never decided
        finding.status = Status.ERROR
        finding.message = f"{untrusted} is not a finite number, so the rule cannot be decided: {outcome.message}"
    elif outcome.ok is None:
        finding.status = Status.SKIPPED
    elif not outcome.ok:
        _apply_failure(policy, rule, finding, today, outcome)
    return finding


def _needs_labels(policy: Policy, rule: Rule, finding: Finding, absent: str, today: dt.date | None) -> Finding:
    """A rule that needs labels, on rows without them: not run; skipped, or a failure that warns
    or blocks, as the policy's ``on_missing_labels`` says (a waiver covers it as any failure)."""
    how = policy.on_missing_labels
    finding.message = NEEDS_LABELS.format(absent=absent, how=how)
    finding.evidence = {"needs_labels": absent, "on_missing_labels": how}
    if how != "skip":
        _apply_failure(policy, rule, finding, today, Outcome(False, finding.message, blocks=how == "block"))
    return finding


def _params(policy: Policy, rule: Rule, check_cls: Any, evidence: Evidence) -> Any:
    """A rule's parameters, with the policy's or the run's sensitive features when it names none."""
    data = dict(rule.params)
    if takes_run_features(check_cls, rule.params):
        data[RUN_FEATURES] = list(policy.sensitive_features or run_sensitive_features(evidence))
    return check_cls.Params(**data)


def run_sensitive_features(evidence: Evidence) -> list[str]:
    """The run's sensitive features: the ``sensitive_features`` evidence (a spec's, ``--sensitive``),
    else the sensitive columns of the ``predictions``.

    Raises
    ------
    MissingEvidence
        Neither is there: the rule cannot know which groups to compare.
    """
    features = evidence.get(RUN_FEATURES)
    if features:
        return [str(name) for name in features]
    predictions = evidence.get("predictions")
    if predictions is not None and len(predictions.sensitive.columns):
        return [str(name) for name in predictions.sensitive.columns]
    raise MissingEvidence(RUN_FEATURES, "the rule takes the run's sensitive features; name them in the spec "
                          "(data.sensitive_features), with --sensitive, in rai.Predictions(sensitive=...) "
                          "or in the policy's sensitive_features")


def not_finite(value: Any) -> bool:
    """Whether ``value`` is, or holds (in lists and mappings, numpy values included), a NaN or infinity."""
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        value = value.tolist()  # numpy scalars and arrays become Python numbers and lists
    if isinstance(value, Decimal):
        return not value.is_finite()
    if isinstance(value, numbers.Real) and not isinstance(value, int):  # float, Fraction
        try:
            return not math.isfinite(value)
        except OverflowError:  # a Fraction beyond any float
            return True
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, (list, tuple, set, frozenset)):
        return any(not_finite(item) for item in value)
    return False


def _apply_failure(policy: Policy, rule: Rule, finding: Finding, today: dt.date | None, outcome: Outcome) -> None:
    waiver = policy.waiver_for(rule.id)
    if waiver is not None and waiver.active(today):
        finding.status = Status.WAIVED
        finding.waiver = waiver.model_dump(mode="json")
        finding.message += f" (waived by {waiver.approved_by} until {waiver.expires}: {waiver.reason})"
        return
    if waiver is not None:
        finding.message += f" (waiver by {waiver.approved_by} expired on {waiver.expires}; ignored)"
    blocks = rule.severity.rank >= policy.fail_on.rank if outcome.blocks is None else outcome.blocks
    if outcome.inconclusive:  # neither shown to hold nor to fail: the rule says what that does
        finding.status, finding.on_inconclusive = Status.INCONCLUSIVE, "block" if blocks else "warn"
    else:
        finding.status = Status.FAILED if blocks else Status.WARNING
