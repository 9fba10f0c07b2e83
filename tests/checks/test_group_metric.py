"""``fairness.group_metric``: errors that block, lint messages, confidence-aware verdicts, baselines.

The passing and failing table is in ``cases.py`` (run by the completeness test and, through the
engine, by ``test_fairness.py``); the metric oracles are in ``test_groupwise_oracle.py`` and the
interval oracles in ``test_intervals.py``.
"""

from __future__ import annotations

import tracemalloc

import numpy as np
import pandas as pd
import pytest

from governance.baseline import Baseline
from governance.engine import evaluate
from governance.errors import UserError
from governance.evidence import Evidence, Predictions
from governance.evidence_regression import RegressionPredictions
from governance.findings import Status
from governance.policy.loader import lint_policy
from governance.policy.schema import Policy, Rule

from .cases import confusion_predictions
from .support import run_rule

CHECK = "fairness.group_metric"
MALE = (30, 10, 50, 10)  # tp, fp, tn, fn: FNR 0.25, precision 0.75


def counts(female: tuple[int, int, int, int], scale: int = 1, male: tuple = MALE) -> Predictions:
    """Men and women with confusion counts ``male`` and ``female``, each multiplied by ``scale``."""
    times = lambda c: tuple(scale * x for x in c)  # noqa: E731
    return confusion_predictions({("Male",): times(male), ("Female",): times(female)})


def rule(**params) -> dict:
    return {"sensitive_features": ["sex"], "metric": "fnr", "aggregate": "difference", **params}


# --- values a rule cannot trust are errors, never passes -----------------------------------------

SEX = pd.DataFrame({"sex": ["F"] * 40 + ["M"] * 40})
ERRORS = [
    ("group-without-positives", Evidence(predictions=Predictions([0] * 40 + [1, 0] * 20, [0] * 80, SEX)),
     rule(metric="tpr", max=0.1), "tpr is undefined for 1 group(s) (no rows with y_true 1): sex=F"),
    ("regression-metric-on-labels", Evidence(predictions=counts((28, 10, 52, 10))),
     rule(metric="rmse", max=1.0), "metric 'rmse' is a regression metric, but the predictions are binary"),
    ("label-metric-on-regression", Evidence(predictions=RegressionPredictions(np.arange(80.0), np.arange(80.0), SEX)),
     rule(metric="accuracy", max=0.1), "metric 'accuracy' is a binary metric, but the predictions are regression"),
    ("scores-missing", Evidence(predictions=counts((28, 10, 52, 10))),
     rule(metric="log_loss", aggregate="max", max=1.0), "metric 'log_loss' needs prediction scores (predictions.y_score)"),
    ("scores-not-probabilities", Evidence(predictions=Predictions([0, 1] * 40, [0, 1] * 40, SEX, y_score=np.linspace(-1, 2, 80))),
     rule(metric="brier_score", aggregate="max", max=0.3), "needs scores that are probabilities in [0, 1]; y_score ranges from -1 to 2"),
    ("unknown-column", Evidence(predictions=counts((28, 10, 52, 10))),
     {**rule(max=0.1), "sensitive_features": ["gender"]}, "predictions.sensitive: no column 'gender' (columns: sex)"),
    ("one-group-left", Evidence(predictions=counts((2, 1, 1, 1))),
     rule(max=0.1), "fewer than 2 group(s) of sex have at least 30 rows (groups: sex=Female (5), sex=Male (100))"),
    ("ratio-of-zeros", Evidence(predictions=Predictions([1, 0] * 40, [0] * 80, SEX)),
     rule(metric="selection_rate", aggregate="ratio", min=0.8), "the ratio of selection_rate is undefined"),
    ("no-rows", Evidence(predictions=Predictions([], [], pd.DataFrame({"sex": []}))),
     rule(max=0.1), "fewer than 2 group(s) of sex have at least 30 rows (groups: none)"),
    ("no-baseline-lookup", Evidence(predictions=counts((28, 10, 52, 10))),
     rule(relative_to="champion", max_increase=0.1), "missing evidence 'baselines'"),
    ("baseline-zero-relative", Evidence(predictions=counts((28, 10, 52, 10)), baselines={
        "champion": Baseline("champion", "credit", 2, counts((28, 10, 52, 0), male=(30, 10, 50, 0)))}),
     rule(aggregate="max", relative_to="champion", max_relative_change=0.1),
     "the relative change of fnr is undefined for sex=Female: the baseline's value is 0"),
    ("baseline-undefined-group", Evidence(predictions=counts((28, 10, 52, 10)), baselines={
        "champion": Baseline("champion", "credit", 2, counts((0, 10, 52, 0)))}),
     rule(aggregate="max", relative_to="champion", max_increase=0.1),
     "baseline credit v2: fnr is undefined for 1 group(s) (no rows with y_true 1): sex=Female"),
]


@pytest.mark.parametrize("evidence, params, message", [e[1:] for e in ERRORS], ids=[e[0] for e in ERRORS])
def test_untrusted_values_are_blocking_errors_that_say_why(evidence, params, message):
    finding = run_rule(CHECK, evidence, params, severity="low")
    assert finding.status == Status.ERROR and finding.blocks
    assert message in finding.message


def test_a_missing_sensitive_value_never_passes():
    """Refused where the groups are formed: building the predictions, or at the latest the rule."""
    sex = pd.DataFrame({"sex": ["F", None] * 40})
    try:
        predictions = Predictions([0, 1] * 40, [0, 1] * 40, sex)
    except UserError as err:
        assert "column 'sex' has 40 missing value(s)" in str(err)
        return
    finding = run_rule(CHECK, Evidence(predictions=predictions), rule(max=0.1), severity="low")
    assert finding.status == Status.ERROR and finding.blocks
    assert "column 'sex' has 40 missing value(s)" in finding.message


# --- bad parameters: one located line each -------------------------------------------------------

HEAD = ("policy: p\nversion: '1'\nowner: o\nrules:\n  - id: gm\n    check: fairness.group_metric\n"
        "    stage: evaluate\n    severity: high\n    params: ")
LINT = [
    ("{sensitive_features: [sex], metric: fnrr, aggregate: difference, max: 0.1}",
     "9:49: rules[0].params.metric: unknown metric 'fnrr'; did you mean 'fnr', 'tnr', 'fpr'? (metrics: "
     "selection_rate, accuracy, balanced_accuracy, tpr, fnr, fpr, tnr, precision, npv, f1, log_loss, brier_score, "
     "calibration_gap, mean_score, mae, rmse, mean_prediction, mean_target)"),
    ("{sensitive_features: [sex], metric: mean_prediction, aggregate: ratio, min: 0.8}",
     "9:13: rules[0].params: aggregate 'ratio' does not fit metric 'mean_prediction', whose values may be "
     "negative; use difference, min, max"),
    ("{sensitive_features: [sex], metric: fnr, aggregate: difference, max: 1.5}",
     "9:13: rules[0].params: max: must be a number in [0, 1] for the difference of fnr, got 1.5"),
    ("{sensitive_features: [sex], metric: fnr, aggregate: difference, max: 0.1, confidence: 1.0}",
     "9:99: rules[0].params.confidence: must be a number in (0, 1), got 1.0"),
    ("{sensitive_features: [sex], metric: fnr, aggregate: max, relative_to: {version: 0}, max_increase: 0.1}",
     "9:83: rules[0].params.relative_to: version must be a registered version number (1, 2, ...), got 0"),
    ("{sensitive_features: [sex], metric: fnr, aggregate: max, relative_to: latest, max_increase: 0.1}",
     "9:83: rules[0].params.relative_to: must be champion or {version: N}, got 'latest'"),
    ("{sensitive_features: [sex], metric: fnr, aggregate: max, max_increase: 0.1}",
     "9:13: rules[0].params: max_increase needs relative_to (champion or {version: N})"),
    ("{sensitive_features: [sex], metric: fnr, aggregate: max}",
     "9:13: rules[0].params: give min and/or max, or relative_to with max_decrease, max_increase or "
     "max_relative_change"),
    ("{sensitive_features: [sex], metric: fnr, aggregate: max, max: 0.1, on_inconclusive: block}",
     "9:13: rules[0].params: on_inconclusive needs confidence (without it a rule is never inconclusive)"),
    ("{sensitive_features: [sex], metric: fnr, aggregate: max, max: 0.1, confidence: .nan}",
     "9:92: rules[0].params.confidence: must be a finite number in (0, 1), got nan"),
    # hostile values
    ("{sensitive_features: [sex], metric: fnr, aggregate: max, max: .inf}",
     "9:75: rules[0].params.max: must be a finite number, got inf"),
    ("{sensitive_features: [sex], metric: fnr, aggregate: max, max: 0.1, confidence: 0.9, seed: 1180591620717411303424}",
     "9:103: rules[0].params.seed: must be an integer of at most 9007199254740991 (2**53 - 1), got an integer of 22 digits"),
    ("{sensitive_features: [sex], metric: fnr, aggregate: max, relative_to: {version: 1180591620717411303424}, max_increase: 0.1}",
     "9:83: rules[0].params.relative_to: version must be a registered version number (1, 2, ...), got an integer of 22 digits"),
    ("{sensitive_features: [sex], metric: fnr, aggregate: max, relative_to: {version: true}, max_increase: 0.1}",
     "9:83: rules[0].params.relative_to: version must be a registered version number (1, 2, ...), got true"),
    ("{sensitive_features: [sex], metric: fnr, aggregate: max, max: 0.1, confidence: 0.9, bootstrap_samples: 1.0e+9}",
     "9:116: rules[0].params.bootstrap_samples: must be an integer in [100, 100000], got 1000000000.0"),
    ("{sensitive_features: [sex], metric: [fnr], aggregate: max, max: 0.1}",
     "9:49: rules[0].params.metric: must be a string, got a list"),
    ("{sensitive_features: [sex], metric: fnr, aggregate: max, max: '0.1'}",
     "9:75: rules[0].params.max: must be a number, got '0.1'; write it without quotes"),
    ("{sensitive_features: [sex], metric: fnr, aggregate: max, relative_to: [champion], max_increase: 0.1}",
     "9:83: rules[0].params.relative_to: must be champion or {version: N}, got a list"),
    ("{sensitive_features: [sex], metric: fnr, aggregate: max, max: 0.1, confidence: true}",
     "9:92: rules[0].params.confidence: must be a number in (0, 1), got true"),
]


@pytest.mark.parametrize("params, expected", LINT, ids=[e[1].split(": ", 2)[-1][:40] for e in LINT])
def test_bad_parameters_are_one_located_line(tmp_path, params, expected):
    path = tmp_path / "p.yaml"
    path.write_text(HEAD + params + "\n")
    (error,) = lint_policy(path)
    assert str(error) == f"{path}:{expected}"


# --- confidence-aware verdicts --------------------------------------------------------------------

# FNR 0.25 vs 0.30: a gap of 0.05 under max 0.1, measured on 40 positives per group or on 4,000.
SMALL, LARGE = counts((28, 10, 50, 12)), counts((28, 10, 50, 12), scale=100)
CONFIDENT = rule(max=0.1, confidence=0.95)


def test_a_gap_on_few_rows_is_inconclusive_and_on_many_rows_passes():
    assert run_rule(CHECK, Evidence(predictions=SMALL), rule(max=0.1)).status == Status.PASSED  # point estimate
    small = run_rule(CHECK, Evidence(predictions=SMALL), CONFIDENT)
    assert small.status == Status.INCONCLUSIVE and "straddles max 0.1" in small.message
    low, high = small.evidence["confidence"]["interval"]
    assert low < 0.1 < high
    large = run_rule(CHECK, Evidence(predictions=LARGE), CONFIDENT)
    assert large.status == Status.PASSED and "clears max 0.1" in large.message
    assert large.evidence["confidence"]["interval"][1] < 0.1


@pytest.mark.parametrize("severity, on_inconclusive, blocks", [
    ("high", None, True), ("medium", None, False), ("high", "warn", False), ("low", "block", True),
])
def test_what_an_inconclusive_finding_does_is_the_rules_choice(severity, on_inconclusive, blocks):
    params = {**CONFIDENT, **({"on_inconclusive": on_inconclusive} if on_inconclusive else {})}
    finding = run_rule(CHECK, Evidence(predictions=SMALL), params, severity=severity)  # fail_on: high
    assert finding.status == Status.INCONCLUSIVE and finding.blocks is blocks
    assert finding.to_dict()["on_inconclusive"] == ("block" if blocks else "warn")


def test_only_inconclusive_findings_carry_on_inconclusive():
    assert "on_inconclusive" not in run_rule(CHECK, Evidence(predictions=LARGE), CONFIDENT).to_dict()


def test_a_waiver_covers_an_inconclusive_finding():
    policy = Policy.model_validate({
        "policy": "p", "version": "1", "owner": "o",
        "rules": [{"id": "gm", "check": CHECK, "stage": "evaluate", "severity": "high", "params": CONFIDENT}],
        "waivers": [{"rule": "gm", "reason": "r", "approved_by": "a", "expires": "2999-01-01"}]})
    result = evaluate(policy, "evaluate", Evidence(predictions=SMALL))
    assert result.findings[0].status == Status.WAIVED and not result.blocked


def test_evidence_carries_each_groups_interval_and_minimum_detectable_effect():
    small, large = (run_rule(CHECK, Evidence(predictions=p), CONFIDENT).evidence for p in (SMALL, LARGE))
    for evidence in (small, large):
        for row in evidence["groups"]:
            low, high = row["interval"]
            assert low < row["value"] < high and row["mde"] > 0
        assert evidence["confidence"]["group_method"] == "wilson"
        assert evidence["confidence"]["aggregate_method"] == "percentile bootstrap"
    # Ten times the rows: intervals and detectable effects shrink by about sqrt(100) = 10.
    ratio = small["groups"][0]["mde"] / large["groups"][0]["mde"]
    assert 9 < ratio < 11


def test_a_gap_wholly_beyond_the_bound_fails_confidently():
    far = counts((10, 10, 65, 15), scale=10)  # FNR 0.25 vs 0.6
    finding = run_rule(CHECK, Evidence(predictions=far), CONFIDENT)
    assert finding.status == Status.FAILED and "lies beyond max 0.1" in finding.message


def test_thousands_of_intersectional_groups_stay_within_bounded_memory():
    rng = np.random.default_rng(5)
    n = 200_000
    sensitive = pd.DataFrame({"a": rng.integers(0, 100, n), "b": rng.integers(0, 40, n)})  # 4,000 groups
    truth = rng.integers(0, 2, n)
    predictions = Predictions(truth, truth ^ (rng.random(n) < 0.2), sensitive, y_score=rng.random(n))
    for metric, status in (("f1", Status.FAILED), ("brier_score", Status.PASSED)):
        params = {"sensitive_features": ["a", "b"], "metric": metric, "aggregate": "difference", "max": 0.5,
                  "confidence": 0.9, "bootstrap_samples": 300}
        tracemalloc.start()
        try:
            finding = run_rule(CHECK, Evidence(predictions=predictions), params)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert finding.status == status, finding.message
        assert len(finding.evidence["groups"]) == 4000
        assert all("interval" in row for row in finding.evidence["groups"] if not row["excluded"])
        assert peak < 160 * 2**20  # the bootstrap draws in chunks of CHUNK numbers, not rows x replicates


def test_min_and_max_aggregates_take_the_groups_bounds():
    finding = run_rule(CHECK, Evidence(predictions=LARGE), rule(aggregate="max", max=0.35, confidence=0.9))
    rows = finding.evidence["groups"]
    assert finding.evidence["confidence"]["interval"] == [max(r["interval"][0] for r in rows),
                                                         max(r["interval"][1] for r in rows)]
    assert finding.status == Status.PASSED


# --- thresholds against a baseline ----------------------------------------------------------------

CLOSE, FAR = (28, 10, 52, 10), (10, 10, 65, 15)
SHA = "5e" * 32  # the baseline model's hash, as its manifest names it


def against(current: Predictions, baseline: Predictions | None, missing: str | None = None) -> Evidence:
    found = Baseline("champion", "credit", 3 if baseline is not None else None, baseline, missing,
                     model_sha256=SHA if baseline is not None else None)
    return Evidence(predictions=current, baselines={"champion": found})


@pytest.mark.parametrize("on_missing, status", [
    ("pass", Status.PASSED), ("warn", Status.WARNING), ("block", Status.FAILED),
])
def test_no_champion_yet_follows_on_missing_baseline(on_missing, status):
    evidence = against(counts(CLOSE), None, "no registered model 'credit' has passed its gates yet")
    params = rule(aggregate="max", relative_to="champion", max_increase=0.02, on_missing_baseline=on_missing)
    finding = run_rule(CHECK, evidence, params, severity="low")
    assert finding.status == status
    assert "no baseline: no registered model 'credit' has passed its gates yet" in finding.message
    assert finding.evidence["baseline"]["missing"].startswith("no registered model")


def test_group_by_group_the_finding_shows_both_numbers():
    finding = run_rule(CHECK, against(counts(FAR), counts(CLOSE)),
                       rule(aggregate="max", relative_to="champion", max_increase=0.02))
    assert finding.status == Status.FAILED
    female = next(r for r in finding.evidence["groups"] if r["group"] == {"sex": "Female"})
    assert female["baseline"] == pytest.approx(10 / 38) and female["value"] == pytest.approx(0.6)
    assert female["change"] == pytest.approx(0.6 - 10 / 38) and female["verdict"] == "fail"
    assert "vs champion credit v3: group by group, 1 beyond of 2 groups for max_increase 0.02 (sex=Female)" in finding.message
    assert finding.evidence["baseline"] == {"relative_to": "champion", "model": "credit", "version": 3, "model_sha256": SHA,
                                            "source": "recorded", "rows": 200, "compare": "groups"}
    assert finding.observed["largest_increase"] == pytest.approx(0.6 - 10 / 38)


def test_accuracy_may_not_drop_more_than_max_decrease():
    params = {**rule(metric="accuracy", aggregate="min"), "relative_to": "champion", "max_decrease": 0.05}
    assert run_rule(CHECK, against(counts(CLOSE), counts(CLOSE)), params).status == Status.PASSED
    dropped = run_rule(CHECK, against(counts((11, 10, 65, 14)), counts(CLOSE)), params)  # women: 0.80 -> 0.76
    assert dropped.status == Status.PASSED  # a drop under 0.05 is allowed
    worse = run_rule(CHECK, against(counts((5, 15, 60, 20)), counts(CLOSE)), params)  # 0.80 -> 0.65
    assert worse.status == Status.FAILED and worse.observed["largest_decrease"] == pytest.approx(0.15)


def test_relative_change_and_the_aggregate_mode():
    params = rule(aggregate="difference", relative_to={"version": 3}, max_relative_change=0.5, compare="aggregate")
    evidence = Evidence(predictions=counts(FAR), baselines={"version 3": Baseline("version 3", "credit", 3, counts(CLOSE))})
    finding = run_rule(CHECK, evidence, params)
    gap_then, gap_now = 10 / 38 - 0.25, 0.6 - 0.25
    assert finding.evidence["baseline"]["baseline"] == pytest.approx(gap_then)
    assert finding.evidence["baseline"]["relative_change"] == pytest.approx((gap_now - gap_then) / gap_then)
    assert finding.status == Status.FAILED and "the difference changed" in finding.message


def test_a_group_the_baseline_lacks_follows_on_missing_baseline():
    current = confusion_predictions({("Male",): MALE, ("Female",): CLOSE, ("Other",): CLOSE})
    finding = run_rule(CHECK, against(current, counts(CLOSE)),
                       rule(aggregate="max", relative_to="champion", max_increase=0.02))
    assert finding.status == Status.WARNING
    assert finding.evidence["baseline"]["unmatched_groups"] == [{"sex": "Other"}]
    assert "1 group(s) have no baseline value in credit v3 (absent or under min_group_size): sex=Other" in finding.message


def test_changes_on_small_groups_are_inconclusive_with_confidence():
    params = rule(aggregate="max", relative_to="champion", max_increase=0.1, confidence=0.95)
    small = run_rule(CHECK, against(counts((28, 10, 50, 12)), counts(CLOSE)), params)
    assert small.status == Status.INCONCLUSIVE
    female = next(r for r in small.evidence["groups"] if r["group"] == {"sex": "Female"})
    low, high = female["change_interval"]
    assert low < female["change"] < high and low < 0.1 < high
    large = run_rule(CHECK, against(counts((28, 10, 50, 12), 100), counts(CLOSE, 100)), params)
    assert large.status == Status.PASSED


def test_a_rule_at_a_gate_without_baselines_is_an_error_naming_the_piece():
    policy = Policy(policy="p", version="1", owner="o", rules=[
        Rule(id="gm", check=CHECK, stage="evaluate", severity="low",
             params=rule(aggregate="max", relative_to="champion", max_increase=0.02))])
    (finding,) = evaluate(policy, "evaluate", Evidence(predictions=counts(CLOSE))).findings
    assert finding.status == Status.ERROR and "'baselines'" in finding.message
