"""``performance.metric`` and ``performance.error`` against a registered baseline, for every task.

The baselines here are built in memory (the registry side is ``tests/lifecycle/test_baseline.py``,
two real models ``tests/pipeline/test_champion_tf.py``); every number is checked against
scikit-learn's metric on the same predictions.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm

from governance.baseline import Baseline
from governance.evidence import Evidence, Predictions
from governance.policy.loader import lint_policy
from governance.vocabulary import Status

from .support import run_rule

SHA = "ab" * 32
RNG = np.random.default_rng(7)
SEX = pd.DataFrame({"sex": RNG.choice(["F", "M"], 400)})
TRUTH = RNG.integers(0, 2, 400)


def binary(error_rate: float, seed: int = 1) -> Predictions:
    """Predictions of ``TRUTH`` wrong on about ``error_rate`` of the rows, with scores that agree."""
    wrong = np.random.default_rng(seed).random(400) < error_rate
    predicted = np.where(wrong, 1 - TRUTH, TRUTH)
    return Predictions(TRUTH, predicted, SEX, y_score=np.where(predicted == 1, 0.8, 0.2))


def against(current: Predictions, baseline: Predictions | None, *, rescored: Predictions | None = None,
            problem: str | None = None, missing: str | None = None, key: str = "champion") -> Evidence:
    found = Baseline(key, "credit", None if missing and baseline is None and rescored is None else 4, baseline, missing,
                     SHA, rescored, problem)
    return Evidence(predictions=current, baselines={key: found})


def accuracy_rule(**params) -> dict:
    return {"metric": "accuracy", "relative_to": "champion", "max_decrease": 0.05, **params}


def test_a_drop_within_max_decrease_passes_and_beyond_fails_with_both_numbers():
    good, worse, similar = binary(0.10), binary(0.25, seed=2), binary(0.12, seed=3)
    passed = run_rule("performance.metric", against(similar, good), accuracy_rule())
    assert passed.status == Status.PASSED, passed.message
    failed = run_rule("performance.metric", against(worse, good), accuracy_rule(min=0.5))
    now, then = skm.accuracy_score(TRUTH, worse.y_pred), skm.accuracy_score(TRUTH, good.y_pred)
    assert failed.status == Status.FAILED
    assert failed.evidence["value"] == pytest.approx(now)
    assert failed.evidence["baseline"] == {
        "relative_to": "champion", "model": "credit", "version": 4, "model_sha256": SHA, "source": "recorded",
        "rows": 400, "value": pytest.approx(then), "change": pytest.approx(now - then), "verdict": "fail"}
    assert failed.observed == {"value": pytest.approx(now), "baseline": pytest.approx(then),
                               "change": pytest.approx(now - then)}
    assert failed.threshold == {"min": 0.5, "max_decrease": 0.05}
    assert failed.message == (f"accuracy {now:.4g} within min 0.5; vs champion credit v4 (recorded, 400 rows): "
                              f"accuracy {then:.4g}, change {now - then:+.4g} beyond max_decrease 0.05")


def test_rescore_reads_the_rescored_predictions_and_says_so():
    recorded, rescored, current = binary(0.30, seed=4), binary(0.10), binary(0.11, seed=5)
    finding = run_rule("performance.metric", against(current, recorded, rescored=rescored),
                       accuracy_rule(max_decrease=0.02, rescore=True))
    assert finding.evidence["baseline"]["source"] == "rescored"
    assert finding.evidence["baseline"]["value"] == pytest.approx(skm.accuracy_score(TRUTH, rescored.y_pred))
    # against the recorded numbers the same model would have looked much better
    assert run_rule("performance.metric", against(current, recorded, rescored=rescored),
                    accuracy_rule(max_decrease=0.02)).status == Status.PASSED


def test_a_model_that_could_not_be_rescored_is_an_error_never_a_pass():
    finding = run_rule("performance.metric", against(binary(0.1), binary(0.1), problem="the rows lack its feature "
                                                     "column(s) 'age'"), accuracy_rule(rescore=True), severity="low")
    assert finding.status == Status.ERROR and finding.blocks
    assert finding.message.endswith("rescore: credit v4 could not be re-scored on the current evaluation rows: "
                                    "the rows lack its feature column(s) 'age'")


@pytest.mark.parametrize("on_missing, status", [("pass", Status.PASSED), ("warn", Status.WARNING),
                                                ("block", Status.FAILED)])
def test_no_champion_yet_follows_on_missing_baseline(on_missing, status):
    evidence = against(binary(0.1), None, missing="no registered version of 'credit' has passed its gates yet")
    finding = run_rule("performance.metric", evidence, accuracy_rule(on_missing_baseline=on_missing, rescore=True),
                       severity="low")
    assert finding.status == status
    assert finding.evidence["baseline"]["missing"] == "no registered version of 'credit' has passed its gates yet"
    assert finding.message.endswith("no baseline: no registered version of 'credit' has passed its gates yet "
                                    f"(on_missing_baseline: {on_missing})")


def test_an_absolute_failure_fails_even_without_a_baseline():
    evidence = against(binary(0.4), None, missing="no registered version of 'credit' has passed its gates yet")
    finding = run_rule("performance.metric", evidence, accuracy_rule(min=0.9, on_missing_baseline="pass"))
    assert finding.status == Status.FAILED and "below min 0.9" in finding.message


def test_relative_change_and_the_undefined_case():
    good, worse = binary(0.10), binary(0.25, seed=2)
    params = {"metric": "f1", "relative_to": {"version": 2}, "max_relative_change": 0.1}
    finding = run_rule("performance.metric", against(worse, good, key="version 2"), params)
    now, then = skm.f1_score(TRUTH, worse.y_pred), skm.f1_score(TRUTH, good.y_pred)
    assert finding.evidence["baseline"]["relative_change"] == pytest.approx((now - then) / then)
    assert finding.status == Status.FAILED and "beyond max_relative_change 0.1" in finding.message
    silent = Predictions(TRUTH, np.zeros(400, dtype=int), SEX)  # f1 0: no predicted positives
    undefined = run_rule("performance.metric", against(worse, silent, key="version 2"), params)
    assert undefined.status == Status.ERROR
    assert "the relative change of f1 is undefined: the baseline's value is 0" in undefined.message


def test_a_baseline_without_scores_cannot_give_roc_auc():
    no_scores = Predictions(TRUTH, binary(0.1).y_pred, SEX)
    finding = run_rule("performance.metric", against(binary(0.1), no_scores),
                       {"metric": "roc_auc", "relative_to": "champion", "max_decrease": 0.05})
    assert finding.status == Status.ERROR
    assert "baseline credit v4: missing evidence 'predictions.y_score': roc_auc needs prediction scores" in finding.message


def test_a_gate_without_baselines_is_an_error_naming_the_piece():
    finding = run_rule("performance.metric", Evidence(predictions=binary(0.1)), accuracy_rule())
    assert finding.status == Status.ERROR and "missing evidence 'baselines'" in finding.message


# --- every task ----------------------------------------------------------------------------------

CLASSES = ["a", "b", "c"]


def multiclass(error_rate: float, seed: int) -> Predictions:
    rng = np.random.default_rng(seed)
    truth = np.random.default_rng(0).integers(0, 3, 300)
    predicted = np.where(rng.random(300) < error_rate, (truth + 1) % 3, truth)
    proba = np.full((300, 3), 0.1) + 0.7 * np.eye(3)[predicted]
    names = np.array(CLASSES)
    return Predictions(names[truth], names[predicted], SEX.iloc[:300], task="multiclass", classes=CLASSES,
                       y_score=proba)


@pytest.mark.parametrize("check, metric, reference", [
    ("performance.metric", "accuracy", skm.accuracy_score),
    ("performance.metric", "macro_f1", lambda t, p: skm.f1_score(t, p, average="macro")),
    ("performance.metric", "balanced_accuracy", skm.balanced_accuracy_score),
])
def test_multiclass_baselines_equal_scikit_learn(check, metric, reference):
    current, champion = multiclass(0.3, 1), multiclass(0.1, 2)
    params = {"metric": metric, "relative_to": "champion", "max_decrease": 0.05}
    finding = run_rule(check, against(current, champion), params)
    now, then = reference(current.y_true, current.y_pred), reference(champion.y_true, champion.y_pred)
    assert (finding.evidence["value"], finding.evidence["baseline"]["value"]) == (pytest.approx(now), pytest.approx(then))
    assert finding.status == Status.FAILED and finding.evidence["task"] == "multiclass"


def test_multiclass_log_loss_against_a_baseline():
    current, champion = multiclass(0.3, 1), multiclass(0.1, 2)
    finding = run_rule("performance.error", against(current, champion),
                       {"metric": "log_loss", "relative_to": "champion", "max_increase": 0.01})
    then = skm.log_loss(champion.y_true, champion.y_score, labels=[0, 1, 2])
    assert finding.evidence["baseline"]["value"] == pytest.approx(then)
    assert finding.status == Status.FAILED


@pytest.mark.parametrize("metric, reference", [
    ("mae", skm.mean_absolute_error), ("rmse", skm.root_mean_squared_error),
])
def test_regression_errors_may_rise_at_most_max_increase(metric, reference):
    target = np.random.default_rng(3).normal(40, 10, 400)
    champion = Predictions(target, target + np.random.default_rng(4).normal(0, 2, 400), SEX, task="regression")
    current = champion.with_outputs(target + np.random.default_rng(5).normal(0, 3, 400))
    now, then = reference(target, current.y_pred), reference(target, champion.y_pred)
    params = {"metric": metric, "relative_to": "champion"}
    loose = run_rule("performance.error", against(current, champion), {**params, "max_increase": 2.0})
    tight = run_rule("performance.error", against(current, champion), {**params, "max_increase": 0.2, "max": 100})
    assert loose.status == Status.PASSED and tight.status == Status.FAILED
    assert tight.evidence["baseline"]["change"] == pytest.approx(now - then)
    assert tight.threshold == {"max": 100, "max_increase": 0.2}


def test_r2_against_a_regression_baseline():
    target = np.random.default_rng(3).normal(40, 10, 400)
    champion = Predictions(target, target + np.random.default_rng(4).normal(0, 2, 400), SEX, task="regression")
    current = champion.with_outputs(target + np.random.default_rng(5).normal(0, 8, 400))
    finding = run_rule("performance.metric", against(current, champion),
                       {"metric": "r2", "relative_to": "champion", "max_decrease": 0.1})
    then = skm.r2_score(target, champion.y_pred)
    assert finding.evidence["baseline"]["value"] == pytest.approx(then) and finding.status == Status.FAILED


def test_a_baseline_of_another_task_is_an_error_naming_it():
    target = np.arange(400.0)
    regression = Predictions(target, target, SEX, task="regression")
    finding = run_rule("performance.metric", against(binary(0.1), regression), accuracy_rule())
    assert finding.status == Status.ERROR
    assert "baseline credit v4: metric 'accuracy' does not apply to regression predictions" in finding.message


# --- bad parameters: one located line each -------------------------------------------------------

HEAD = "policy: p\nversion: '1'\nowner: o\nrules:\n  - id: perf\n    check: {check}\n    stage: evaluate\n" \
       "    severity: high\n    params: "
LINT = [
    ("performance.metric", "{metric: accuracy, rescore: true, min: 0.7}",
     "9:13: rules[0].params: rescore needs relative_to (champion or {version: N}): it re-scores that model"),
    ("performance.metric", "{metric: accuracy, relative_to: champion, max_decrease: 5}",
     "9:13: rules[0].params: max_decrease: must be a number in [0, 1] for accuracy, whose values lie in [0, 1], got 5"),
    ("performance.metric", "{metric: accuracy, relative_to: champion, max_decrease: -0.1}",
     "9:69: rules[0].params.max_decrease: must be a number >= 0, got -0.1"),
    ("performance.metric", "{metric: accuracy, relative_to: champion, max_increase: .nan}",
     "9:69: rules[0].params.max_increase: must be a finite number >= 0, got nan"),
    ("performance.metric", "{metric: accuracy, relative_to: champion, max_relative_change: '10%'}",
     "9:76: rules[0].params.max_relative_change: must be a number >= 0, got '10%'"),
    ("performance.metric", "{metric: accuracy, relative_to: champion}",
     "9:13: rules[0].params: relative_to needs max_decrease, max_increase or max_relative_change"),
    ("performance.metric", "{metric: accuracy, max_decrease: 0.1}",
     "9:13: rules[0].params: max_decrease needs relative_to (champion or {version: N})"),
    ("performance.metric", "{metric: accuracy, relative_to: {version: 0}, max_decrease: 0.1}",
     "9:45: rules[0].params.relative_to: version must be a registered version number (1, 2, ...), got 0"),
    ("performance.metric", "{metric: accuracy, relative_to: latest, max_decrease: 0.1}",
     "9:45: rules[0].params.relative_to: must be champion or {version: N}, got 'latest'"),
    ("performance.metric", "{metric: accuracy, relative_to: champion, max_decrease: 0.1, rescore: 'yes'}",
     "9:83: rules[0].params.rescore: must be true or false, got 'yes'"),
    ("performance.metric", "{metric: accuracy}",
     "9:13: rules[0].params: give at least one of min and max, or relative_to with max_decrease, max_increase or "
     "max_relative_change"),
    ("performance.error", "{metric: mae}",
     "9:13: rules[0].params: give max, or relative_to with max_decrease, max_increase or max_relative_change"),
    ("fairness.group_metric",
     "{sensitive_features: [sex], metric: fnr, aggregate: max, relative_to: champion, max_increase: 2}",
     "9:13: rules[0].params: max_increase: must be a number in [0, 1] for the max of fnr, whose values lie in "
     "[0, 1], got 2"),
    ("fairness.group_metric", "{sensitive_features: [sex], metric: fnr, aggregate: max, max: 0.1, rescore: true}",
     "9:13: rules[0].params: rescore needs relative_to (champion or {version: N}): it re-scores that model"),
]


@pytest.mark.parametrize("check, params, expected", LINT, ids=[e[2].split(": ", 2)[-1][:40] for e in LINT])
def test_bad_parameters_are_one_located_line(tmp_path, check, params, expected):
    path = tmp_path / "p.yaml"
    path.write_text(HEAD.format(check=check) + params + "\n")
    (error,) = lint_policy(path)
    assert str(error) == f"{path}:{expected}"


def test_relative_error_rules_need_no_absolute_max():
    target = np.arange(400.0)
    same = Predictions(target, target + 1, SEX, task="regression")
    finding = run_rule("performance.error", against(same, same), {"metric": "mae", "relative_to": "champion",
                                                                   "max_increase": 0.0})
    assert finding.status == Status.PASSED and finding.evidence["baseline"]["change"] == 0
    assert finding.message == "mae 1; vs champion credit v4 (recorded, 400 rows): mae 1, change +0 within max_increase 0.0"
