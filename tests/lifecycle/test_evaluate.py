"""Evaluate: test-set predictions aligned with labels and sensitive columns, from any scorer."""

from __future__ import annotations

import numpy as np
import pytest

from lifecycle.evaluate import accuracy, evaluate_model
from lifecycle.model import score

pytestmark = pytest.mark.tf


def test_predictions_carry_labels_scores_and_groups(trained, adult_small):
    predictions = evaluate_model(trained.model, adult_small)
    test = adult_small.test
    np.testing.assert_array_equal(predictions.y_true, test["Y"].to_numpy())
    np.testing.assert_array_equal(predictions.y_score, score(trained.model, test))
    assert list(predictions.sensitive.columns) == ["sex", "race"]
    assert predictions.sensitive["sex"].tolist() == test["sex"].tolist()
    assert accuracy(predictions) == (predictions.y_pred == predictions.y_true).mean()
    assert accuracy(predictions) > 1 - test["Y"].mean()  # beats always predicting the majority class
