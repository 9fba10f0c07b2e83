"""``rai.Predictions`` of every task: what construction yields, and one exact line for every bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import rai
from governance.evidence_input import MAX_CLASSES

S3 = {"sex": ["f", "m", "f"]}
S4 = {"sex": ["f", "m", "f", "m"]}


# --- what construction yields ------------------------------------------------------------------


def test_binary_is_the_default_and_unchanged():
    built = rai.Predictions([1, 0, 1], [0, 0, 1], S3)
    assert built.task == "binary" and built.favorable_code == 1 and built.classes is None
    assert built.y_true.tolist() == [1, 0, 1] and built.y_true.dtype == np.int64


@pytest.mark.parametrize("labels, kwargs, favorable", [
    ([1, 0, 1], {"favorable_label": 0}, 0),
    ([1, 0, 1], {"favorable_label": 1}, 1),
    ([True, False, True], {"favorable_label": False}, 0),
    ([1, 0, 1], {"favorable_label": "0"}, 0),  # text from a file or a command line
    (["default", "repaid", "default"], {"pos_label": "default", "favorable_label": "repaid"}, 0),
    (["default", "repaid", "default"], {"pos_label": "default", "favorable_label": "default"}, 1),
    (["default", "repaid", "default"], {"pos_label": "default"}, 1),
])
def test_binary_favourable_label(labels, kwargs, favorable):
    built = rai.Predictions(labels, labels, S3, **kwargs)
    assert built.favorable_code == favorable
    assert built.y_true.tolist() == [1, 0, 1]  # coding stays: 1 is the positive label


def test_multiclass_codes_and_classes():
    built = rai.Predictions(["b", "c", "a"], ["b", "a", "a"], S3, task="multiclass")
    assert built.classes.tolist() == ["a", "b", "c"]
    assert built.y_true.tolist() == [1, 2, 0] and built.y_pred.tolist() == [1, 0, 0]
    assert built.favorable_code is None


def test_multiclass_whole_numbers_are_classes_and_text_names_them():
    built = rai.Predictions([3.0, 1.0, 2.0], [1, 1, 2], S3, task="multiclass", favorable_label="2")
    assert built.classes.tolist() == [1, 2, 3] and built.favorable_code == 1


def test_multiclass_given_classes_order_the_score_columns():
    proba = [[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.3, 0.3, 0.4]]
    built = rai.Predictions(["z", "y", "y"], ["z", "y", "x"], S3, task="multiclass", classes=["z", "y", "x", "w"],
                            y_score=np.column_stack([proba, np.zeros(3)]))
    assert built.classes.tolist() == ["z", "y", "x", "w"] and built.y_pred.tolist() == [0, 1, 2]
    assert built.y_score.shape == (3, 4)


def test_regression_values():
    built = rai.Predictions([1.5, 2, 3], pd.Series([1, 2, 2.5]), S3, task="regression")
    assert built.y_true.dtype == np.float64 and built.y_pred.tolist() == [1.0, 2.0, 2.5]
    assert built.favorable_code is None and built.y_score is None


@pytest.mark.parametrize("task, y_true, y_pred, new, score", [
    ("binary", [1, 0, 1], [1, 0, 0], [0, 0, 1], [0.1, 0.2, 0.9]),
    ("multiclass", ["a", "b", "c"], ["a", "b", "b"], [2, 2, 0], None),
    ("regression", [1.0, 2.0, 3.0], [1.0, 2.0, 2.0], [0.5, 2.5, 3.5], None),
])
def test_with_outputs_keeps_rows_labels_and_groups(task, y_true, y_pred, new, score):
    parent = rai.Predictions(y_true, y_pred, S3, task=task)
    variant = parent.with_outputs(new, score)
    assert variant.y_pred.tolist() == new and np.array_equal(variant.y_true, parent.y_true)
    assert variant.task == task and variant.sensitive is parent.sensitive
    assert parent.y_pred.tolist() != new  # the parent is untouched


def test_with_outputs_refuses_codes_of_no_class():
    parent = rai.Predictions(["a", "b", "c"], ["a", "b", "b"], S3, task="multiclass")
    with pytest.raises(rai.UserError, match=r"y_pred: labels 3 are not among classes \(0, 1, 2\)"):
        parent.with_outputs([0, 1, 3])


# --- bad input: one exact line each ------------------------------------------------------------

PROBA = [[0.5, 0.5, 0.0], [0.2, 0.3, 0.5], [1.0, 0.0, 0.0]]
BAD = [
    # the task itself
    (([1, 0, 1], [1, 0, 1], S3), {"task": "regresion"},
     "task: must be one of binary, multiclass, regression, got 'regresion'"),
    (([1, 0, 1], [1, 0, 1], S3), {"task": None}, "task: must be one of binary, multiclass, regression, got None"),
    # binary: targets that are not binary are named, never binarised
    (([0, 1, 2, 6], [0, 1, 1, 0], S4), {},
     "y_true: labels must be 0/1, got 2, 6; pass pos_label to say which value is positive; a target that is not "
     "binary needs task multiclass or regression"),
    (([50000, 20000, 130000], [50000, 50000, 20000], S3), {"pos_label": 50000},
     "y_true: more than two labels (50000, 20000, 130000); binary labels are expected; a target that is not binary "
     "needs task multiclass or regression"),
    (([0.5, 1.0, 0.0], [0, 1, 0], S3), {},
     "y_true: labels must be 0/1, got 0.5; pass pos_label to say which value is positive; a target that is not "
     "binary needs task multiclass or regression"),
    (([1, 0, 1], [1, 0, 1], S3), {"classes": [0, 1]}, "classes does not apply to task 'binary'"),
    (([1, 0, 1], [1, 0, 1], S3), {"favorable_label": "yes"}, "favorable_label: 'yes' is not a label (labels: 0, 1)"),
    ((["y", "n", "y"], ["y", "n", "n"], S3), {"pos_label": "y", "favorable_label": "maybe"},
     "favorable_label: 'maybe' is neither pos_label 'y' nor the other label (labels: 'y', 'n')"),
    # multiclass
    (([0.5, 1, 2.25], [0, 1, 2], S3), {"task": "multiclass"},
     "y_true: multiclass labels must be classes, got numbers with a fraction (0.5, 2.25); a numeric target needs "
     "task regression"),
    ((["a", None, "b"], ["a", "b", "b"], S3), {"task": "multiclass"},
     "y_true: 1 missing label(s); labels must all be present"),
    (([1.0, np.inf, 2.0], [1, 2, 2], S3), {"task": "multiclass"}, "y_true: 1 missing or non-finite label(s)"),
    ((["a", "b", "c"], ["a", "b", "d"], S3), {"task": "multiclass", "classes": ["a", "b", "c"]},
     "y_pred: labels 'd' are not among classes ('a', 'b', 'c')"),
    ((["a", "b", "c"], ["a", "b", "c"], S3), {"task": "multiclass", "classes": ["a", "b", "c", "a"]},
     "classes: labels repeat ('a')"),
    ((np.arange(MAX_CLASSES + 1), np.arange(MAX_CLASSES + 1), {"g": np.zeros(MAX_CLASSES + 1)}), {"task": "multiclass"},
     f"y_true, y_pred: {MAX_CLASSES + 1} distinct labels; a multiclass target has at most {MAX_CLASSES} classes "
     "(a numeric target needs task regression)"),
    ((["a", "b", "c"], ["a", "b", "c"], S3), {"task": "multiclass", "pos_label": "a"},
     "pos_label does not apply to task 'multiclass'"),
    ((["a", "b", "c"], ["a", "b", "c"], S3), {"task": "multiclass", "favorable_label": "x"},
     "favorable_label: 'x' is not a class (classes: 'a', 'b', 'c')"),
    ((["a", "b", "c"], ["a", "b", "c"], S3), {"task": "multiclass", "y_score": [[0.5, 0.5]] * 3},
     "y_score: expected one column of probabilities per class (3), got shape (3, 2)"),
    ((["a", "b", "c"], ["a", "b", "c"], S3), {"task": "multiclass", "y_score": [PROBA[0], [0.2, 0.2, 0.1], PROBA[2]]},
     "y_score: each row's probabilities must sum to 1; row 1 sums to 0.5"),
    ((["a", "b", "c"], ["a", "b", "c"], S3), {"task": "multiclass", "y_score": [[1.5, -0.5, 0.0]] + PROBA[1:]},
     "y_score: scores must be probabilities in [0, 1]; row 0 is not"),
    ((["a", "b", "c"], ["a", "b", "c"], S3), {"task": "multiclass", "y_score": PROBA[:2] + [[np.nan, 0.5, 0.5]]},
     "y_score: 1 row(s) with missing or non-finite scores (first at row 2)"),
    ((["a", "b", "c"], ["a", "b", "c"], {"sex": ["f", "m"]}), {"task": "multiclass"},
     "predictions are misaligned: y_true has 3 rows, y_pred has 3 rows, sensitive has 2 rows"),
    # groups: never missing, in any task
    (([1, 0, 1], [1, 0, 1], {"sex": ["f", None, "m"]}), {},
     "sensitive: column 'sex' has 1 missing value(s) (first at row 1); every row needs a known group: fill or "
     "drop them first"),
    (([1.0, 2.0, 3.0], [1.0, 2.0, 3.0], {"age": [30, 40, np.nan]}), {"task": "regression"},
     "sensitive: column 'age' has 1 missing value(s) (first at row 2); every row needs a known group: fill or "
     "drop them first"),
    # regression
    ((["a", "b", "a"], [1.0, 2.0, 3.0], S3), {"task": "regression"},
     "y_true: regression values must be numbers, got 'a', 'b' (<U1); class labels need task binary or multiclass"),
    (([True, False, True], [1.0, 2.0, 3.0], S3), {"task": "regression"},
     "y_true: regression values must be numbers, got True, False (bool); class labels need task binary or multiclass"),
    (([1.0, 2.0, 3.0], [1.0, np.inf, 3.0], S3), {"task": "regression"},
     "y_pred: 1 missing or non-finite value(s) (first at row 1)"),
    (([1.0, 2.0, 3.0], [1.0, 2.0, 3.0], S3), {"task": "regression", "favorable_label": 1},
     "favorable_label does not apply to task 'regression'"),
    (([1.0, 2.0, 3.0], [1.0, 2.0, 3.0], S3), {"task": "regression", "y_score": [0.1, 0.2, 0.3]},
     "y_score does not apply to task 'regression'"),
    (([1.0, 2.0, 3.0], [1.0, 2.0, 3.0], S3), {"task": "regression", "pos_label": 1},
     "pos_label does not apply to task 'regression'"),
]


@pytest.mark.parametrize("args, kwargs, message", BAD, ids=[m[:60] for *_, m in BAD])
def test_bad_predictions_are_one_exact_line(args, kwargs, message):
    with pytest.raises(rai.UserError) as caught:
        rai.Predictions(*args, **kwargs)
    assert str(caught.value) == message


def test_the_documented_binary_behaviour_stays():
    """Booleans, 0/1 and text labels with pos_label as before; scores 1-D."""
    built = rai.Predictions(np.array([True, False]), [1, 0], ["a", "b"], y_score=[0.9, 0.2])
    assert built.y_true.tolist() == [1, 0] and built.y_score.tolist() == [0.9, 0.2]
    assert list(built.sensitive.columns) == ["sensitive"]
