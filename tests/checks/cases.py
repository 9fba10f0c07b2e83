"""The shared table of check cases: every registered check, at least one pass and one fail.

EVERY CHECK FAMILY ADDS ITS CASES HERE. When you register a check, add an entry

    CASES["family.check_name"] = [(case_id, evidence_factory, params, expected_ok), ...]

with at least one case where the check holds (``expected_ok`` True) and one where it does not
(False). ``evidence_factory`` is a zero-argument callable returning a fresh
:class:`~governance.evidence.Evidence` (frames are mutable; cases must not share them);
``params`` is the rule's ``params`` mapping as a policy would give it. ``test_completeness.py``
walks the registry and fails for a check without both kinds of case, and runs every case through
the check's ``Params`` and ``evaluate``. Cases the check cannot evaluate at all (missing
evidence, which the engine turns into an ``error`` finding) belong in the family's own tests.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from governance.baseline import Baseline
from governance.evidence import Evidence, Predictions
from governance.evidence_regression import RegressionPredictions
from governance.metrics.privacy import dp_sgd_epsilon, dp_sgd_steps

Case = tuple[str, Callable[[], Evidence], dict[str, Any], bool]
CASES: dict[str, list[Case]] = {}

SHA_A = "a" * 64
SHA_B = "0123456789abcdef" * 4


# --- privacy --------------------------------------------------------------------------------


def dp_record(noise: float = 1.0, examples: int = 32561, batch_size: int = 256, epochs: float = 10,
              delta: float = 1e-5, **overrides: Any) -> dict[str, Any]:
    """A consistent DP-SGD record, as the train stage writes it (epsilon from our accounting)."""
    rate, steps = batch_size / examples, dp_sgd_steps(examples, batch_size, epochs)
    record = {
        "dp": True, "epsilon": dp_sgd_epsilon(noise, rate, steps, delta), "delta": delta,
        "noise_multiplier": noise, "l2_norm_clip": 1.0, "sampling_rate": rate, "steps": steps,
        "epochs": epochs, "batch_size": batch_size, "examples": examples, "accountant": "rdp",
    }
    return {**record, **overrides}


def _privacy(**kwargs: Any) -> Callable[[], Evidence]:
    return lambda: Evidence(privacy=dp_record(**kwargs))


def _no_dp() -> Evidence:
    return Evidence(privacy={"dp": False})


CASES["privacy.dp_required"] = [
    ("dp-on", _privacy(), {}, True),
    ("dp-off", _no_dp, {}, False),
]
CASES["privacy.epsilon_budget"] = [
    ("adult-noise-1.0-within-8", _privacy(noise=1.0), {"max_epsilon": 8.0}, True),
    ("adult-noise-2.0-within-1-pld", _privacy(noise=2.0), {"max_epsilon": 1.0, "accountant": "pld"}, True),
    ("adult-noise-0.5-over-8", _privacy(noise=0.5, epochs=15), {"max_epsilon": 8.0}, False),
    ("delta-over-budget", _privacy(delta=1e-3), {"max_epsilon": 8.0, "max_delta": 1e-5}, False),
    ("no-dp", _no_dp, {"max_epsilon": 8.0}, False),
    ("recorded-epsilon-tampered", _privacy(epsilon=0.5), {"max_epsilon": 8.0}, False),
    ("steps-understated", _privacy(steps=100), {"max_epsilon": 8.0}, False),
]


# --- accountability -------------------------------------------------------------------------


def _metadata(**fields: Any) -> Callable[[], Evidence]:
    return lambda: Evidence(metadata=fields)


CARD = {"owner": "credit-risk team", "intended_use": "pre-screening", "limitations": ["US census 1994 data"]}

CASES["accountability.metadata_present"] = [
    ("all-default-fields", _metadata(**CARD), {}, True),
    ("custom-fields", _metadata(owner="a", contact="b@example.org"), {"fields": ["owner", "contact"]}, True),
    ("empty-limitations", _metadata(**{**CARD, "limitations": []}), {}, False),
    ("blank-owner", _metadata(**{**CARD, "owner": "  "}), {}, False),
    ("owner-absent", _metadata(intended_use="x", limitations=["y"]), {}, False),
]


def _approvals(*entries: tuple[str, str, str]) -> Callable[[], Evidence]:
    return lambda: Evidence(approvals=[
        {"role": role, "decision": decision, "actor": actor, "time": "2025-01-01T00:00:00Z", "comment": ""}
        for role, decision, actor in entries
    ])


CASES["accountability.approvals"] = [
    ("one-role-approved", _approvals(("risk-officer", "approve", "ana")), {"roles": ["risk-officer"]}, True),
    ("two-distinct-approvers", _approvals(("owner", "approve", "ana"), ("owner", "approve", "bo")),
     {"roles": ["owner"], "min_approvals": 2}, True),
    ("same-actor-twice", _approvals(("owner", "approve", "ana"), ("owner", "approve", "ana")),
     {"roles": ["owner"], "min_approvals": 2}, False),
    ("role-missing", _approvals(("owner", "approve", "ana")), {"roles": ["owner", "risk-officer"]}, False),
    ("rejected", _approvals(("owner", "approve", "ana"), ("owner", "reject", "bo")), {"roles": ["owner"]}, False),
    ("none", _approvals(), {"roles": ["owner"]}, False),
]


def _lineage(datasets: dict[str, Any] | None, model: Any) -> Callable[[], Evidence]:
    return lambda: Evidence(lineage={"datasets": datasets or {}, "model": model})


CASES["accountability.lineage_recorded"] = [
    ("both", _lineage({"train": SHA_A, "test": SHA_B}, SHA_B), {}, True),
    ("datasets-only-required", _lineage({"train": SHA_A}, None), {"require": ["datasets"]}, True),
    ("model-missing", _lineage({"train": SHA_A}, None), {}, False),
    ("dataset-hash-short", _lineage({"train": "abc123"}, SHA_B), {}, False),
    ("no-datasets", _lineage({}, SHA_B), {"require": ["datasets"]}, False),
]


# --- data -----------------------------------------------------------------------------------


def frame(n: int = 200, missing_age: int = 0, positives: int = 60, seed: int = 0) -> pd.DataFrame:
    """A small Adult-like frame: ``income`` coded 0/1, ``sex`` and ``race`` groups."""
    rng = np.random.default_rng(seed)
    data = pd.DataFrame({
        "age": rng.integers(18, 80, n).astype(float),
        "sex": np.where(np.arange(n) % 2 == 0, "Male", "Female"),
        "race": np.where(np.arange(n) % 10 == 0, "Other", "White"),
        "income": (np.arange(n) < positives).astype(int),
    })
    data.loc[data.index < missing_age, "age"] = np.nan
    return data


def _dataset(**kwargs: Any) -> Callable[[], Evidence]:
    return lambda: Evidence(dataset=frame(**kwargs), target="income")


CASES["data.required_columns"] = [
    ("present", _dataset(), {"columns": ["age", "sex", "income"]}, True),
    ("misspelt", _dataset(), {"columns": ["age", "gender"]}, False),
]
CASES["data.missing_values"] = [
    ("complete", _dataset(), {}, True),
    ("under-share", _dataset(missing_age=10), {"max_share": 0.05}, True),
    ("over-share", _dataset(missing_age=11), {"max_share": 0.05}, False),
    ("other-columns-only", _dataset(missing_age=100), {"columns": ["sex", "race"]}, True),
]
CASES["data.label_balance"] = [
    ("balanced-enough", _dataset(positives=60), {"min_minority_share": 0.3}, True),
    ("minority-too-small", _dataset(positives=10), {}, False),
    ("single-class", _dataset(positives=0), {}, False),
]
CASES["data.group_size"] = [
    ("sex-groups-large", _dataset(), {"sensitive_features": ["sex"], "min_count": 100}, True),
    ("intersection-small", _dataset(), {"sensitive_features": ["sex", "race"], "min_count": 30}, False),
]


# --- optimize -------------------------------------------------------------------------------


def predictions(y_true: np.ndarray, y_pred: np.ndarray, sex: np.ndarray) -> Predictions:
    return Predictions(y_true=y_true, y_pred=y_pred, sensitive=pd.DataFrame({"sex": sex}))


def paired(flip_variant: int = 0, flip_female_positives: int = 0, n: int = 400) -> Evidence:
    """Parent right on every row; the variant flips ``flip_variant`` rows of both groups and
    ``flip_female_positives`` true positives of women to negatives (a gap the parent lacks)."""
    y_true = (np.arange(n) % 4 == 0).astype(int)
    sex = np.where(np.arange(n) % 3 == 0, "Female", "Male")
    y_variant = y_true.copy()
    y_variant[1:1 + flip_variant] ^= 1
    female_pos = np.flatnonzero((sex == "Female") & (y_true == 1))[:flip_female_positives]
    y_variant[female_pos] = 0
    return Evidence(parent_predictions=predictions(y_true, y_true.copy(), sex),
                    predictions=predictions(y_true, y_variant, sex))


def _stats(size: float, latency: float) -> Callable[[], Evidence]:
    return lambda: Evidence(model_stats={"size_bytes": size, "latency_ms": latency},
                            parent_stats={"size_bytes": 1000.0, "latency_ms": 2.0})


CASES["optimize.accuracy_drop"] = [
    ("identical", lambda: paired(), {}, True),
    ("drop-1-row-of-400", lambda: paired(flip_variant=4), {"max": 0.01}, True),
    ("drop-3-points", lambda: paired(flip_variant=12), {"max": 0.01}, False),
]
CASES["optimize.fairness_gap_increase"] = [
    ("no-change", lambda: paired(), {"metric": "equal_opportunity_difference", "sensitive_features": ["sex"]}, True),
    ("tpr-gap-widens", lambda: paired(flip_female_positives=10),
     {"metric": "equal_opportunity_difference", "sensitive_features": ["sex"], "max": 0.02}, False),
    ("parity-gap-widens", lambda: paired(flip_female_positives=10),
     {"metric": "demographic_parity_difference", "sensitive_features": ["sex"], "max": 0.02}, False),
]
CASES["optimize.size_ratio"] = [
    ("quarter-size", _stats(250, 2.0), {}, True),
    ("barely-smaller", _stats(900, 2.0), {"max": 0.5}, False),
]
CASES["optimize.latency_ratio"] = [
    ("faster", _stats(250, 1.0), {}, True),
    ("much-slower", _stats(250, 5.0), {"max": 2.0}, False),
]


# --- fairness and performance ---------------------------------------------------------------


def confusion_predictions(groups: dict[tuple[str, ...], tuple[int, int, int, int]],
                          features: tuple[str, ...] = ("sex",), scores: bool = False) -> Predictions:
    """Predictions whose group ``key`` (one value per feature) has counts ``(tp, fp, tn, fn)``.

    With ``scores``, each row's score is 0.9 for a positive prediction and 0.1 otherwise.
    """
    y_true, y_pred, keys = [], [], []
    for key, (tp, fp, tn, fn) in groups.items():
        for truth, pred, times in ((1, 1, tp), (0, 1, fp), (0, 0, tn), (1, 0, fn)):
            y_true += [truth] * times
            y_pred += [pred] * times
            keys += [key] * times
    sensitive = pd.DataFrame(keys, columns=list(features))
    y_score = np.where(np.array(y_pred) == 1, 0.9, 0.1) if scores else None
    return Predictions(y_true=np.array(y_true), y_pred=np.array(y_pred), sensitive=sensitive, y_score=y_score)


def _confusion(groups, features=("sex",), scores=False) -> Callable[[], Evidence]:
    return lambda: Evidence(predictions=confusion_predictions(groups, features, scores))


# Selection rates 0.40 vs 0.38 (close) or 0.40 vs 0.20 (far); TPR 0.75 vs 0.74 or 0.75 vs 0.40.
_MALE = {("Male",): (30, 10, 50, 10)}
_CLOSE = _confusion({**_MALE, ("Female",): (28, 10, 52, 10)})
_FAR = _confusion({**_MALE, ("Female",): (10, 10, 65, 15)})
# A 5-row group selected every time: excluded at the default min_group_size (30), decisive at 1.
_TINY = _confusion({**_MALE, ("Female",): (28, 10, 52, 10), ("Other",): (2, 3, 0, 0)})
_INTERSECTIONAL = _confusion({
    ("Male", "White"): (30, 10, 50, 10), ("Male", "Black"): (29, 10, 51, 10),
    ("Female", "White"): (40, 14, 36, 10), ("Female", "Black"): (8, 4, 78, 10),
}, features=("sex", "race"))  # by sex alone 0.395 vs 0.33; by sex and race 0.54 vs 0.12
_SEX = {"sensitive_features": ["sex"]}

CASES["fairness.demographic_parity_difference"] = [
    ("close-rates", _CLOSE, _SEX, True),
    ("far-rates", _FAR, _SEX, False),
    ("far-rates-loose-max", _FAR, {**_SEX, "max": 0.25}, True),
    ("tiny-group-excluded", _TINY, _SEX, True),
    ("tiny-group-counted", _TINY, {**_SEX, "min_group_size": 1}, False),
    ("sex-alone-passes", _INTERSECTIONAL, _SEX, True),
    ("intersection-fails", _INTERSECTIONAL, {"sensitive_features": ["sex", "race"]}, False),
]
CASES["fairness.demographic_parity_ratio"] = [
    ("close-rates", _CLOSE, _SEX, True),
    ("four-fifths-violated", _FAR, _SEX, False),
    ("half-allowed", _FAR, {**_SEX, "min": 0.5}, True),
    ("intersection-fails", _INTERSECTIONAL, {"sensitive_features": ["sex", "race"]}, False),
]
CASES["fairness.equalized_odds_difference"] = [
    ("close-rates", _CLOSE, _SEX, True),
    ("tpr-gap", _FAR, _SEX, False),
    ("fpr-gap-only", _confusion({**_MALE, ("Female",): (30, 30, 30, 10)}), _SEX, False),
]
CASES["fairness.equal_opportunity_difference"] = [
    ("close-rates", _CLOSE, _SEX, True),
    ("fpr-gap-only", _confusion({**_MALE, ("Female",): (30, 30, 30, 10)}), _SEX, True),
    ("tpr-gap", _FAR, _SEX, False),
]
CASES["fairness.group_metric_min"] = [
    ("accuracy-high", _CLOSE, {**_SEX, "metric": "accuracy", "min": 0.75}, True),
    ("tpr-low-for-women", _FAR, {**_SEX, "metric": "tpr", "min": 0.6}, False),
    ("selection-rate-floor", _FAR, {**_SEX, "metric": "selection_rate", "min": 0.25}, False),
    ("intersection-tpr", _INTERSECTIONAL, {"sensitive_features": ["sex", "race"], "metric": "tpr", "min": 0.5}, False),
]
CASES["performance.metric"] = [
    ("accuracy-above-min", _CLOSE, {"metric": "accuracy", "min": 0.75}, True),
    ("f1-below-min", _FAR, {"metric": "f1", "min": 0.7}, False),
    ("recall-within-bounds", _CLOSE, {"metric": "recall", "min": 0.5, "max": 0.9}, True),
    ("precision-above-max", _CLOSE, {"metric": "precision", "max": 0.5}, False),
    ("balanced-accuracy", _FAR, {"metric": "balanced_accuracy", "min": 0.6}, True),
    ("roc-auc-above-min", _confusion(_MALE | {("Female",): (28, 10, 52, 10)}, scores=True),
     {"metric": "roc_auc", "min": 0.7}, True),
    ("roc-auc-below-min", _confusion(_MALE | {("Female",): (10, 10, 65, 15)}, scores=True),
     {"metric": "roc_auc", "min": 0.8}, False),
]


def _regression_pair(women_error: float) -> Callable[[], Evidence]:
    """Regression parent off by 1 on every row; its variant off by ``women_error`` for women."""
    def make() -> Evidence:
        target = np.tile(np.arange(10.0), 20)
        sex = np.where(np.arange(200) % 2 == 0, "Female", "Male")
        parent = Predictions(target, target + 1.0, pd.DataFrame({"sex": sex}), task="regression")
        return Evidence(parent_predictions=parent,
                        predictions=parent.with_outputs(target + np.where(sex == "Female", women_error, 1.0)))
    return make


CASES["performance.error"] = [
    ("mae-within-max", _regression_pair(1.0), {"metric": "mae", "max": 1.5}, True),
    ("rmse-above-max", _regression_pair(3.0), {"metric": "rmse", "max": 1.5}, False),  # sqrt(5)
    ("log-loss-within-max", _confusion(_MALE | {("Female",): (28, 10, 52, 10)}, scores=True),
     {"metric": "log_loss", "max": 0.6}, True),  # 0.8 * -log(0.9) + 0.2 * -log(0.1) = 0.545
]
CASES["optimize.error_increase"] = [
    ("same-error", _regression_pair(1.0), {"metric": "mae", "max": 0.1}, True),
    ("women-error-triples", _regression_pair(3.0), {"metric": "mae", "max": 0.5}, False),  # 1 -> 2
    ("mae-gap-unchanged", _regression_pair(1.0), {"metric": "mae_difference", "sensitive_features": ["sex"],
                                                  "max": 0.1}, True),
    ("mae-gap-widens", _regression_pair(3.0), {"metric": "mae_difference", "sensitive_features": ["sex"],
                                               "max": 0.5}, False),  # 0 -> 2
]


# --- group metric (any metric of the table, aggregated; intervals; baselines) ---------------


def _regression(shift_women: float) -> Callable[[], Evidence]:
    """Targets 0..9 repeated; predictions off by 1 for men and ``shift_women`` for women."""
    def make() -> Evidence:
        target = np.tile(np.arange(10.0), 20)
        sex = np.where(np.arange(200) % 2 == 0, "Female", "Male")
        error = np.where(sex == "Female", shift_women, 1.0)
        return Evidence(predictions=RegressionPredictions(target, target + error, pd.DataFrame({"sex": sex})))

    return make


def _against(current: dict, champion: dict) -> Callable[[], Evidence]:
    """Current confusion counts, and a champion's recorded predictions with ``champion`` counts."""
    return lambda: Evidence(predictions=confusion_predictions(current), baselines={
        "champion": Baseline("champion", "credit", 3, confusion_predictions(champion))})


_FAR_COUNTS = {**_MALE, ("Female",): (10, 10, 65, 15)}  # FNR 0.25 vs 0.6; precision 0.75 vs 0.5
_CLOSE_COUNTS = {**_MALE, ("Female",): (28, 10, 52, 10)}  # FNR 0.25 vs 0.263
_FNR = {**_SEX, "metric": "fnr", "aggregate": "difference", "max": 0.1}
CASES["fairness.group_metric"] = [
    ("fnr-close", _CLOSE, _FNR, True),
    ("fnr-far", _FAR, _FNR, False),
    ("fnr-far-confidently", _confusion({k: tuple(3 * c for c in v) for k, v in _FAR_COUNTS.items()}),
     {**_FNR, "confidence": 0.95}, False),
    ("precision-ratio-close", _CLOSE, {**_SEX, "metric": "precision", "aggregate": "ratio", "min": 0.8}, True),
    ("precision-ratio-far", _FAR, {**_SEX, "metric": "precision", "aggregate": "ratio", "min": 0.8}, False),
    ("tiny-group-excluded", _TINY, {**_SEX, "metric": "selection_rate", "aggregate": "difference", "max": 0.1}, True),
    ("tiny-group-counted", _TINY,
     {**_SEX, "metric": "selection_rate", "aggregate": "difference", "max": 0.1, "min_group_size": 1}, False),
    ("intersection-tpr-floor", _INTERSECTIONAL,
     {"sensitive_features": ["sex", "race"], "metric": "tpr", "aggregate": "min", "min": 0.5}, False),
    ("calibration-gap-small", _confusion(_FAR_COUNTS, scores=True),
     {**_SEX, "metric": "calibration_gap", "aggregate": "max", "max": 0.05}, True),
    ("brier-too-high", _confusion(_FAR_COUNTS, scores=True),
     {**_SEX, "metric": "brier_score", "aggregate": "max", "max": 0.2}, False),
    ("mae-equal", _regression(-1.0), {**_SEX, "metric": "mae", "aggregate": "difference", "max": 0.1}, True),
    ("mae-gap", _regression(3.0), {**_SEX, "metric": "mae", "aggregate": "difference", "max": 0.5}, False),
    ("fnr-as-champion", _against(_CLOSE_COUNTS, _CLOSE_COUNTS),
     {**_SEX, "metric": "fnr", "aggregate": "max", "relative_to": "champion", "max_increase": 0.02}, True),
    ("fnr-worse-than-champion", _against(_FAR_COUNTS, _CLOSE_COUNTS),
     {**_SEX, "metric": "fnr", "aggregate": "max", "relative_to": "champion", "max_increase": 0.02}, False),
]


# --- drift ----------------------------------------------------------------------------------


def drift_frame(n: int = 2000, shift: float = 0.0, seed: int = 0) -> pd.DataFrame:
    """Two numerical and two categorical features; ``shift`` moves every one of them."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "age": rng.normal(40 + 10 * shift, 10, n),
        "hours": rng.normal(40 + 8 * shift, 8, n),
        "sex": rng.choice(["Male", "Female"], n, p=[0.67 - 0.4 * shift, 0.33 + 0.4 * shift]),
        "race": rng.choice(["White", "Black", "Other"], n, p=[0.8 - 0.5 * shift, 0.1 + 0.3 * shift, 0.1 + 0.2 * shift]),
    })


def _drift(shift: float = 0.0, shifted_columns: tuple[str, ...] | None = None) -> Callable[[], Evidence]:
    """Reference and current frames; the current one shifted (only in ``shifted_columns``, if given)."""

    def make() -> Evidence:
        reference, current = drift_frame(seed=1), drift_frame(seed=2)
        moved = drift_frame(shift=shift, seed=2)
        for column in shifted_columns or moved.columns:
            current[column] = moved[column]
        return Evidence(reference=reference, current=current)

    return make


def _scores(shift: float) -> Callable[[], Evidence]:
    def make() -> Evidence:
        rng = np.random.default_rng(3)
        return Evidence(prediction_reference=pd.Series(rng.beta(2, 5, 3000), name="score"),
                        prediction_current=pd.Series(rng.beta(2 + 3 * shift, 5, 3000), name="score"))

    return make


CASES["drift.dataset"] = [
    ("same-distribution", _drift(), {}, True),
    ("one-of-four-shifted", _drift(1.0, ("age",)), {}, True),
    ("all-shifted", _drift(1.0), {}, False),
    ("one-of-four-at-quarter-share", _drift(1.0, ("age",)), {"drift_share": 0.25}, False),
    ("shifted-column-left-out", _drift(1.0, ("age",)), {"columns": ["hours", "sex", "race"]}, True),
    ("psi-override", _drift(1.0), {"stattest": "psi", "stattest_threshold": 0.2}, False),
]
CASES["drift.column"] = [
    ("unshifted-columns", _drift(1.0, ("age",)), {"columns": ["hours", "sex"]}, True),
    ("shifted-column", _drift(1.0, ("age",)), {"columns": ["hours", "age"]}, False),
    ("ks-override-small-shift", _drift(0.02, ("age",)), {"columns": ["age"], "stattest": "ks"}, True),
    ("categorical-shift", _drift(1.0, ("race",)), {"columns": ["race"], "stattest": "psi"}, False),
]
CASES["drift.prediction"] = [
    ("same-scores", _scores(0.0), {}, True),
    ("scores-shifted", _scores(1.0), {}, False),
    ("ks-shifted", _scores(0.5), {"stattest": "ks"}, False),
]
