"""``fairness.group_metric`` on multiclass predictions.

Oracles: every metric equals fairlearn's ``MetricFrame`` with scikit-learn's function applied
class by class on binarised labels (``y_true == c``, ``y_pred == c`` or the class's probability;
accuracy on the labels themselves), per group and for every aggregate over the groups that meet
``min_group_size``, to 1e-9; Wilson intervals equal statsmodels'. Then the rule: the worst class
decides (by the bound, then by the verdict with intervals), the favourable class alone for the
rates of being given it, baselines class by class, and a real policy through the engine.
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import MetricFrame
from statsmodels.stats.proportion import proportion_confint

from governance.baseline import Baseline
from governance.engine import evaluate
from governance.evidence import Evidence, Predictions
from governance.findings import Status
from governance.metrics.groupwise import AGGREGATES, METRICS
from governance.metrics.groupwise_classes import FAVORABLE_ONLY, class_metrics
from governance.metrics.intervals import intervals
from governance.policy.loader import load_policy

from .support import run_rule
from .test_groupwise_oracle import ORACLES, TOL

CHECK = "fairness.group_metric"
CLASSES = np.array(["A", "B", "C", "D"])
BINARY = [name for name, spec in METRICS.items() if spec.task == "binary"]


@pytest.fixture(scope="module")
def data() -> dict[str, np.ndarray]:
    """4,000 rows, four classes (D rare), sex x race with a 12-row race group excluded at 30."""
    rng = np.random.default_rng(11)
    n = 4000
    sex = rng.choice(["Female", "Male"], n, p=[0.4, 0.6])
    race = rng.choice(["White", "Black", "Asian"], n, p=[0.6, 0.3, 0.1])
    truth = rng.choice(4, n, p=[0.4, 0.3, 0.2, 0.1])
    logits = rng.normal(0, 1, (n, 4))
    logits[np.arange(n), truth] += np.where(sex == "Male", 1.6, 1.0) + np.where(race == "Black", -0.4, 0.0)
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    pred = proba.argmax(axis=1)
    # The small group: every class among its labels and its predictions, right and wrong.
    race[:12], sex[:12] = "Other", "Female"
    truth[:12], pred[:12] = np.tile([0, 1, 2, 3], 3), [0, 1, 2, 3, 1, 2, 3, 0, 0, 1, 2, 3]
    proba[:12] = np.eye(4)[pred[:12]] * 0.7 + 0.075
    return {"y_true": CLASSES[truth], "y_pred": CLASSES[pred], "proba": proba, "sex": sex, "race": race}


def predictions(data: dict, **kw) -> Predictions:
    return Predictions(data["y_true"], data["y_pred"], pd.DataFrame({"sex": data["sex"], "race": data["race"]}),
                       y_score=data["proba"], task="multiclass", **kw)


def oracle_frame(name: str, data: dict, label: str | None, features: list[str], rows=slice(None)) -> MetricFrame:
    """fairlearn's MetricFrame of ``name``: on the labels (accuracy) or on class ``label`` against the rest."""
    if label is None:
        truth, output = data["y_true"], data["y_pred"]
    else:
        truth = (data["y_true"] == label).astype(int)
        output = (data["proba"][:, list(CLASSES).index(label)] if METRICS[name].needs_scores
                  else (data["y_pred"] == label).astype(int))
    sensitive = pd.DataFrame({f: data[f] for f in features})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return MetricFrame(metrics=ORACLES[name], y_true=truth[rows], y_pred=output[rows],
                           sensitive_features=sensitive.iloc[rows] if not isinstance(rows, slice) else sensitive)


# fairlearn takes about a second per metric here (four classes, two frames each): intersectional
# groups with one excluded stay in the fast suite, the other groupings are slow.
GROUPINGS = [pytest.param(["sex", "race"], 30, id="sex+race"),
             pytest.param(["race"], 30, id="race", marks=pytest.mark.slow),
             pytest.param(["sex", "race"], 1, id="sex+race-all", marks=pytest.mark.slow)]


@pytest.mark.parametrize("features, min_group_size", GROUPINGS)
@pytest.mark.parametrize("name", BINARY)
def test_every_metric_equals_fairlearn_class_by_class(data, name, features, min_group_size):
    found = class_metrics(name, predictions(data), features, min_group_size)
    expected_labels = [None] if name == "accuracy" else list(CLASSES)
    assert [m.label for m in found.metrics] == expected_labels
    for metric in found.metrics:
        frame = oracle_frame(name, data, metric.label, features)
        by_group = frame.by_group.dropna()  # fairlearn lists the empty combination (Male, Other)
        assert len(by_group) == len(metric.value)
        for i in range(len(metric.value)):
            key = tuple(metric.group(i)[f] for f in features)
            assert metric.value[i] == pytest.approx(by_group.loc[key if len(key) > 1 else key[0]], **TOL), (name, key)
        kept_rows = np.flatnonzero(~metric.excluded[metric.group_id])
        assert len(data["y_true"]) - len(kept_rows) == (12 if min_group_size == 30 else 0)
        kept = oracle_frame(name, data, metric.label, features, kept_rows)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            theirs = {"difference": kept.difference(), "ratio": kept.ratio(), "min": kept.group_min(),
                      "max": kept.group_max()}
        for how in AGGREGATES:
            assert metric.aggregate(how) == pytest.approx(theirs[how], **TOL), (name, metric.label, how)


@pytest.mark.parametrize("name", BINARY)
def test_a_favourable_class_alone_for_the_rates_of_being_given_it(data, name):
    found = class_metrics(name, predictions(data, favorable_label="B"), ["race"], 30)
    if name == "accuracy":
        assert [m.label for m in found.metrics] == [None]
    elif name in FAVORABLE_ONLY:
        assert [m.label for m in found.metrics] == ["B"] and found.favorable_class == "B"
        expected = oracle_frame(name, data, "B", ["race"]).by_group
        np.testing.assert_allclose(found.metrics[0].value, expected.to_numpy(), rtol=1e-9)
    else:  # how well each class is predicted: every class still counts
        assert [m.label for m in found.metrics] == list(CLASSES) and found.favorable_class is None


FIXED = [("fairness.demographic_parity_difference", "selection_rate"),
         ("fairness.equal_opportunity_difference", "tpr")]


@pytest.mark.parametrize("favorable", [None, "C"])
@pytest.mark.parametrize("fixed, metric", FIXED)
def test_the_worst_class_difference_is_the_fixed_checks(data, fixed, metric, favorable):
    """With max alone, the worst class is the largest difference: the fixed checks' worst class."""
    evidence = Evidence(predictions=predictions(data, favorable_label=favorable))
    theirs = run_rule(fixed, evidence, {"sensitive_features": ["race"], "max": 1.0})
    ours = run_rule(CHECK, evidence, {"sensitive_features": ["race"], "metric": metric, "aggregate": "difference",
                                      "max": 1.0})
    assert ours.status == theirs.status == Status.PASSED
    assert ours.observed == pytest.approx(theirs.observed, **TOL)
    name = fixed.removeprefix("fairness.")
    assert ours.evidence["worst_class"] == theirs.evidence["worst_class"][name]
    assert ours.evidence["favorable_class"] == favorable
    assert len(ours.evidence["classes"]) == (4 if favorable is None else 1)


# --- the worst class against the bound ---------------------------------------------------------

def from_counts(table: dict[str, dict[tuple[str, str], int]], **kw) -> Predictions:
    """Rows of each group: ``{(label, prediction): count}``."""
    rows = [(group, truth, pred) for group, cells in table.items() for (truth, pred), k in cells.items()
            for _ in range(k)]
    group, truth, pred = (np.array(v) for v in zip(*rows, strict=True))
    return Predictions(truth, pred, pd.DataFrame({"sex": group}), task="multiclass", **kw)


# Selection rates: F predicts A 0.50, B 0.30, C 0.20; M predicts A 0.45, B 0.15, C 0.40. So the
# max over groups per class is A 0.5, B 0.3, C 0.4; the min A 0.45, B 0.15, C 0.2.
SELECTED = from_counts({"F": {("A", "A"): 50, ("B", "B"): 30, ("C", "C"): 20},
                        "M": {("A", "A"): 45, ("B", "B"): 15, ("C", "C"): 40}})
WORST = [
    ("max-alone-largest", {"aggregate": "max", "max": 0.45}, Status.FAILED, "A", 0.5),
    ("max-alone-passing", {"aggregate": "max", "max": 0.6}, Status.PASSED, "A", 0.5),
    ("min-alone-smallest", {"aggregate": "min", "min": 0.18}, Status.FAILED, "B", 0.15),
    ("both-farthest-outside", {"aggregate": "max", "min": 0.32, "max": 0.45}, Status.FAILED, "A", 0.5),
    ("both-closest-to-a-bound", {"aggregate": "max", "min": 0.27, "max": 0.55}, Status.PASSED, "B", 0.3),
    ("difference", {"aggregate": "difference", "max": 0.1}, Status.FAILED, "C", 0.2),
]


@pytest.mark.parametrize("params, status, worst, value", [w[1:] for w in WORST], ids=[w[0] for w in WORST])
def test_the_worst_class_is_the_worst_against_the_bound(params, status, worst, value):
    finding = run_rule(CHECK, Evidence(predictions=SELECTED),
                       {"sensitive_features": ["sex"], "metric": "selection_rate", "min_group_size": 10, **params})
    assert finding.status == status
    assert finding.evidence["worst_class"] == worst and finding.observed == pytest.approx(value)
    assert finding.message.startswith(f"selection_rate of class '{worst}' {params['aggregate']} {value:.4g} ")
    assert "the worst of 3 classes" in finding.message
    values = {c["class"]: c["value"] for c in finding.evidence["classes"]}
    how = {"max": max, "min": min, "difference": lambda a, b: abs(a - b)}[params["aggregate"]]
    rates = {"A": (0.5, 0.45), "B": (0.3, 0.15), "C": (0.2, 0.4)}
    assert values == pytest.approx({c: how(*r) for c, r in rates.items()})
    rows = {r["group"]["sex"]: r["value"] for r in finding.evidence["groups"]}  # the worst class's table
    assert rows == pytest.approx(dict(zip("FM", rates[worst], strict=True)))


def test_a_class_with_an_undefined_group_is_an_error_naming_both():
    predictions = from_counts({"F": {("A", "A"): 40, ("B", "A"): 10}, "M": {("A", "A"): 30, ("B", "B"): 20, ("C", "C"): 5}})
    finding = run_rule(CHECK, Evidence(predictions=predictions),
                       {"sensitive_features": ["sex"], "metric": "tpr", "aggregate": "difference", "max": 0.5,
                        "min_group_size": 10})
    assert finding.status == Status.ERROR and finding.blocks
    assert finding.message == ("cannot evaluate: tpr of class 'C' is undefined for 1 group(s) (no rows with "
                               "y_true 'C'): sex=F")


REFUSED = [
    ({"metric": "log_loss", "aggregate": "max", "max": 1.0},
     "metric 'log_loss' of multiclass predictions needs class probabilities (predictions.y_score, one column "
     "per class), which were not given"),
    ({"metric": "rmse", "aggregate": "max", "max": 1.0},
     "metric 'rmse' is a regression metric, but the predictions are multiclass classification predictions"),
    ({"metric": "selection_rate", "aggregate": "ratio", "min": 0.8},
     "the ratio of selection_rate of class 'D' is undefined: every included group's value is 0"),
]


@pytest.mark.parametrize("params, message", REFUSED)
def test_what_does_not_fit_is_refused_with_the_reason(params, message):
    predictions = Predictions(["A", "B", "C", "D"] * 20, ["A", "B", "C", "A"] * 20, pd.DataFrame({"sex": ["F", "M"] * 40}),
                              task="multiclass")
    finding = run_rule(CHECK, Evidence(predictions=predictions), {"sensitive_features": ["sex"], **params})
    assert finding.status == Status.ERROR and finding.message == f"cannot evaluate: {message}"


def test_selection_rates_need_no_labels():
    labelled = from_counts({"F": {("A", "A"): 50, ("B", "B"): 30, ("C", "C"): 20},
                            "M": {("A", "B"): 45, ("B", "B"): 15, ("C", "C"): 40}})
    unlabelled = Predictions(None, labelled.classes[labelled.y_pred], labelled.sensitive, task="multiclass")
    params = {"sensitive_features": ["sex"], "metric": "selection_rate", "aggregate": "difference", "max": 0.6}
    with_labels, without = (run_rule(CHECK, Evidence(predictions=p), params) for p in (labelled, unlabelled))
    assert with_labels.status == without.status == Status.PASSED
    assert without.evidence["classes"] == with_labels.evidence["classes"]
    needs = run_rule(CHECK, Evidence(predictions=unlabelled), {**params, "metric": "tpr"})
    assert needs.status == Status.SKIPPED and "needs labels" in needs.message


# --- confidence intervals --------------------------------------------------------------------

def wilson_oracle(data: dict, name: str, label: str | None, confidence: float) -> pd.DataFrame:
    """statsmodels' Wilson interval of each race group's rate, from counts made here with pandas."""
    truth, pred = data["y_true"], data["y_pred"]
    hits, trials = {"accuracy": (truth == pred, np.ones(len(truth))),
                    "tpr": ((truth == label) & (pred == label), truth == label),
                    "selection_rate": (pred == label, np.ones(len(truth)))}[name]
    sums = pd.DataFrame({"race": data["race"], "k": hits, "n": trials}).groupby("race")[["k", "n"]].sum()
    low, high = proportion_confint(sums["k"], sums["n"], alpha=1 - confidence, method="wilson")
    return pd.DataFrame({"low": low, "high": high}, index=sums.index)


@pytest.mark.parametrize("name, label", [("accuracy", None), ("tpr", "D"), ("selection_rate", "B")])
def test_group_intervals_are_statsmodels_wilson(data, name, label):
    found = class_metrics(name, predictions(data), ["race"], 30)
    (metric,) = [m for m in found.metrics if m.label == label]
    result = intervals(metric, "min", 0.9, 200, 0)
    expected = wilson_oracle(data, name, label, 0.9)
    for i in range(len(metric.value)):
        race = metric.group(i)["race"]
        if metric.excluded[i]:
            assert race == "Other" and np.isnan(result.low[i]) and np.isnan(result.high[i])
            continue
        assert result.low[i] == pytest.approx(expected.loc[race, "low"], rel=1e-12)
        assert result.high[i] == pytest.approx(expected.loc[race, "high"], rel=1e-12)


def tpr_counts(right: dict[str, dict[str, tuple[int, int]]]) -> Predictions:
    """``{group: {class: (rows, predicted right)}}``; a wrong prediction is the next class."""
    labels = sorted({c for classes in right.values() for c in classes})
    return from_counts({group: {(c, c): hits for c, (rows, hits) in classes.items()}
                        | {(c, labels[(labels.index(c) + 1) % len(labels)]): rows - hits for c, (rows, hits) in classes.items()}
                        for group, classes in right.items()})


GOOD = {"A": (100, 90), "C": (100, 90)}
VERDICTS = [  # tpr, the min over groups, min 0.5, 95% Wilson intervals
    ("a-class-fails", {"F": {**GOOD, "B": (100, 20)}, "M": {**GOOD, "B": (100, 90)}},
     Status.FAILED, "B", {"A": "pass", "B": "fail", "C": "pass"}),
    ("the-worst-straddles-none-fails", {"F": {**GOOD, "B": (20, 9)}, "M": {**GOOD, "B": (100, 90)}},
     Status.INCONCLUSIVE, "B", {"A": "pass", "B": "inconclusive", "C": "pass"}),
    # A has the lowest TPR (0.55) but its 4,000 rows clear the bound; B's 0.6 on 10 rows does not.
    ("a-clear-low-point-and-a-straddling-class", {"F": {"A": (2000, 1100), "B": (10, 6), "C": (100, 90)},
                                                  "M": {"A": (2000, 1100), "B": (100, 90), "C": (100, 90)}},
     Status.INCONCLUSIVE, "B", {"A": "pass", "B": "inconclusive", "C": "pass"}),
]


@pytest.mark.parametrize("table, status, worst, verdicts", [v[1:] for v in VERDICTS], ids=[v[0] for v in VERDICTS])
def test_the_class_with_the_worst_verdict_decides(table, status, worst, verdicts):
    predictions = tpr_counts(table)
    finding = run_rule(CHECK, Evidence(predictions=predictions),
                       {"sensitive_features": ["sex"], "metric": "tpr", "aggregate": "min", "min": 0.5,
                        "confidence": 0.95, "min_group_size": 10})
    assert finding.status == status and finding.evidence["worst_class"] == worst
    classes = {c["class"]: c for c in finding.evidence["classes"]}
    assert {c: entry["verdict"] for c, entry in classes.items()} == verdicts
    for label, entry in classes.items():  # min over groups of Wilson bounds, from the table's own counts
        rows, hits = zip(*(table[g][label] for g in ("F", "M")), strict=True)
        low, high = proportion_confint(np.array(hits), np.array(rows), alpha=0.05, method="wilson")
        assert entry["interval"] == pytest.approx([low.min(), high.min()], rel=1e-12)
    assert finding.evidence["confidence"]["interval"] == classes[worst]["interval"]
    assert f"tpr of class '{worst}' min" in finding.message


# --- against a baseline, class by class ---------------------------------------------------------

def three_classes(tpr: dict[str, tuple[float, float]]) -> Predictions:
    """100 rows of each class in groups F and M with the given TPR per class ``(F, M)``."""
    return tpr_counts({g: {c: (100, round(100 * rates[i])) for c, rates in tpr.items()} for i, g in enumerate("FM")})


NOW = three_classes({"A": (0.9, 0.9), "B": (0.7, 0.8), "C": (0.85, 0.9)})
THEN = three_classes({"A": (0.9, 0.85), "B": (0.8, 0.82), "C": (0.9, 0.9)})


def versus(baseline: Predictions, **params):
    evidence = Evidence(predictions=NOW, baselines={"champion": Baseline("champion", "grades", 3, baseline)})
    return run_rule(CHECK, evidence, {"sensitive_features": ["sex"], "metric": "tpr", "aggregate": "max",
                                      "min_group_size": 10, "relative_to": "champion", **params})


def test_each_class_and_group_is_compared_with_the_baselines():
    finding = versus(THEN, max_decrease=0.06)
    assert finding.status == Status.FAILED and finding.evidence["worst_class"] == "B"
    rows = {r["group"]["sex"]: r for r in finding.evidence["groups"]}
    assert rows["F"]["baseline"] == pytest.approx(0.8) and rows["F"]["change"] == pytest.approx(-0.1)
    assert rows["F"]["verdict"] == "fail" and rows["M"]["verdict"] == "pass"
    decreases = {c["class"]: c["largest_decrease"] for c in finding.evidence["classes"]}
    assert decreases == pytest.approx({"A": 0.0, "B": 0.1, "C": 0.05})
    assert "vs champion grades v3, tpr of class 'B': group by group, 1 beyond of 2 groups" in finding.message


def test_the_aggregate_of_each_class_against_the_baselines():
    finding = versus(THEN, max_decrease=0.01, compare="aggregate")
    assert finding.status == Status.FAILED and finding.evidence["worst_class"] == "B"
    assert finding.evidence["baseline"]["change"] == pytest.approx(-0.02)  # max TPR of B: 0.8, was 0.82
    assert versus(THEN, max_decrease=0.03, compare="aggregate").status == Status.PASSED


def test_a_class_the_baseline_lacks_follows_on_missing_baseline():
    two = tpr_counts({"F": {"A": (100, 90), "B": (100, 80)}, "M": {"A": (100, 85), "B": (100, 82)}})
    finding = versus(two, max_decrease=0.5)
    assert finding.status == Status.WARNING and not finding.blocks
    assert "class 'C' is not a class of grades v3 (its classes: 'A', 'B') (on_missing_baseline: warn)" in finding.message
    assert [c.get("unmatched", False) for c in finding.evidence["classes"]] == [False, False, True]
    assert versus(two, max_decrease=0.5, on_missing_baseline="block").status == Status.FAILED


def test_a_baseline_of_another_task_is_refused():
    binary = Predictions([1, 0] * 100, [1, 0] * 100, pd.DataFrame({"sex": ["F"] * 100 + ["M"] * 100}))
    finding = versus(binary, max_decrease=0.05)
    assert finding.status == Status.ERROR and finding.message == (
        "cannot evaluate: baseline grades v3: its predictions are binary, the current ones multiclass; a "
        "comparison needs predictions of the same task")


# --- a real policy through the engine ------------------------------------------------------------

POLICY = """\
policy: grading
version: 1
owner: ml@example.org
fail_on: high
rules:
  - id: accuracy-gap-by-region
    check: fairness.group_metric
    stage: evaluate
    severity: high
    params: {sensitive_features: [region], metric: accuracy, aggregate: difference, max: 0.3}
  - id: f1-gap-by-region
    check: fairness.group_metric
    stage: evaluate
    severity: high
    params: {sensitive_features: [region], metric: f1, aggregate: difference, max: 0.1, confidence: 0.95}
  - id: favourable-selection-ratio
    check: fairness.group_metric
    stage: evaluate
    severity: medium
    params: {sensitive_features: [region, sex], metric: selection_rate, aggregate: ratio, min: 0.8}
  - id: calibration-of-every-class
    check: fairness.group_metric
    stage: evaluate
    severity: low
    params: {sensitive_features: [region], metric: calibration_gap, aggregate: max, max: 0.2}
"""


def test_a_multiclass_pipeline_gate_with_a_real_policy(tmp_path):
    rng = np.random.default_rng(5)
    n = 6000
    region = rng.choice(["north", "south", "west"], n)
    sex = rng.choice(["F", "M"], n)
    grades = np.array(["fail", "pass", "merit"])
    truth = rng.choice(3, n, p=[0.3, 0.5, 0.2])
    logits = rng.normal(0, 1, (n, 3))
    logits[np.arange(n), truth] += np.where(region == "west", 0.8, 2.0)  # the model is worse in the west
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    predictions = Predictions(grades[truth], grades[proba.argmax(axis=1)], pd.DataFrame({"region": region, "sex": sex}),
                              y_score=proba, task="multiclass", classes=list(grades), favorable_label="merit")
    (tmp_path / "policy.yaml").write_text(POLICY)
    gate = evaluate(load_policy(tmp_path / "policy.yaml"), "evaluate", Evidence(predictions=predictions))
    found = {f.rule_id: f for f in gate.findings}

    accuracy = found["accuracy-gap-by-region"]
    frame = MetricFrame(metrics=ORACLES["accuracy"], y_true=grades[truth], y_pred=predictions.classes[predictions.y_pred],
                        sensitive_features=region)
    assert accuracy.status == Status.PASSED and accuracy.observed == pytest.approx(frame.difference(), **TOL)
    assert "worst_class" not in accuracy.evidence

    f1 = found["f1-gap-by-region"]  # how well each class is predicted: every class, the favourable one too
    assert f1.status == Status.FAILED and f1.blocks
    gaps = {label: MetricFrame(metrics=ORACLES["f1"], y_true=grades[truth] == label,
                               y_pred=predictions.classes[predictions.y_pred] == label,
                               sensitive_features=region).difference() for label in grades}
    worst = f1.evidence["worst_class"]
    assert worst == max(gaps, key=gaps.get) and f1.observed == pytest.approx(gaps[worst], **TOL)
    assert f1.message.startswith(f"f1 of class '{worst}' difference")

    selection = found["favourable-selection-ratio"]
    assert selection.evidence["favorable_class"] == "merit" and [c["class"] for c in selection.evidence["classes"]] == ["merit"]
    assert "class 'merit' is the favourable class, the only one compared" in selection.message

    calibration = found["calibration-of-every-class"]
    assert calibration.status == Status.PASSED and len(calibration.evidence["classes"]) == 3
    assert gate.decision == "blocked"
    json.dumps(gate.to_dict())  # every number and label of the evidence is plain JSON


def test_without_a_champion_no_class_is_compared():
    evidence = Evidence(predictions=NOW, baselines={"champion": Baseline("champion", "grades", missing="no champion yet")})
    finding = run_rule(CHECK, evidence, {"sensitive_features": ["sex"], "metric": "tpr", "aggregate": "max",
                                         "min_group_size": 10, "relative_to": "champion", "max_decrease": 0.05})
    assert finding.status == Status.WARNING
    assert finding.message == ("3 classes, none compared (max per class: 'A' 0.9, 'B' 0.8, 'C' 0.9); no baseline: "
                               "no champion yet (on_missing_baseline: warn)")


def _alternating(n: int) -> pd.DataFrame:
    return pd.DataFrame({"sex": (["F", "M"] * n)[:n]})


HOSTILE = [  # (case, predictions, params, the finding's message)
    ("no-rows", lambda: Predictions([], [], pd.DataFrame({"sex": []}), task="multiclass"),
     {"metric": "tpr", "aggregate": "difference", "max": 0.1},
     "fewer than 2 group(s) of sex have at least 30 rows (groups: none); a difference needs 2"),
    ("a-group-without-a-class", lambda: Predictions(["a", "b"] * 40, ["a", "b"] * 40, _alternating(80), task="multiclass"),
     {"metric": "tpr", "aggregate": "difference", "max": 0.1},
     "tpr of class 'a' is undefined for 1 group(s) (no rows with y_true 'a'): sex=M"),
    ("a-class-never-predicted-in-a-group", lambda: Predictions([0, 1, 2, 3] * 20, [0, 1, 2, 2] * 20, _alternating(80),
                                                               task="multiclass"),
     {"metric": "precision", "aggregate": "min", "min": 0.1},
     "precision of class 0 is undefined for 1 group(s) (no rows with y_pred 0): sex=M"),
    ("a-declared-class-that-never-occurs", lambda: Predictions(["a", "a", "b", "b"] * 20, ["a", "b", "b", "b"] * 20,
                                                               _alternating(80), task="multiclass",
                                                               classes=["a", "b", "c"]),
     {"metric": "tpr", "aggregate": "max", "max": 0.5},
     "tpr of class 'c' is undefined for 2 group(s) (no rows with y_true 'c'): sex=F; sex=M"),
]


@pytest.mark.parametrize("make, params, message", [h[1:] for h in HOSTILE], ids=[h[0] for h in HOSTILE])
def test_hostile_multiclass_evidence_never_passes(make, params, message):
    finding = run_rule(CHECK, Evidence(predictions=make()), {"sensitive_features": ["sex"], **params})
    assert finding.status == Status.ERROR and finding.blocks
    assert finding.message == f"cannot evaluate: {message}"
