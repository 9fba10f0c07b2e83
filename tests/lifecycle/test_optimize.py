"""LiteRT: every mode converts, its interpreter tracks the Keras model, int8 is small and close."""

from __future__ import annotations

import numpy as np
import pytest

from lifecycle.evaluate import evaluate_model, predict
from lifecycle.model import encode_features, save_model, score
from lifecycle.optimize import (
    MODES,
    LiteRTModel,
    benchmark_latency,
    convert,
    representative_rows,
)

pytestmark = pytest.mark.tf

# Largest |LiteRT score - Keras score| allowed per mode, and the least share of equal decisions.
TOLERANCE = {
    "float32": (1e-5, 1.0),
    "float16": (5e-3, 0.995),
    "dynamic_range": (0.05, 0.98),
    "int8": (0.1, 0.98),
}


@pytest.fixture(scope="module")
def converted(trained, adult_small):
    calibration = representative_rows(encode_features(trained.model, adult_small.train), 300, seed=0)
    return {mode: convert(trained.model, mode, calibration) for mode in MODES}


@pytest.mark.parametrize("mode", MODES)
def test_interpreter_scores_track_the_keras_model(mode, converted, trained, adult_small):
    runner = LiteRTModel(converted[mode])
    encoded = encode_features(trained.model, adult_small.test)
    keras_scores, lite_scores = score(trained.model, adult_small.test), runner(encoded)
    max_diff, agreement = TOLERANCE[mode]
    assert lite_scores.shape == keras_scores.shape
    assert np.abs(lite_scores - keras_scores).max() <= max_diff
    assert ((lite_scores >= 0.5) == (keras_scores >= 0.5)).mean() >= agreement
    # Batches of any size: one row at a time gives what the whole batch gave.
    np.testing.assert_allclose([runner(row[None, :])[0] for row in encoded[:5]], lite_scores[:5], atol=1e-6)


def test_int8_is_three_times_smaller_and_within_a_point(converted, trained, adult_small, tmp_path):
    parent = evaluate_model(trained.model, adult_small)
    int8 = LiteRTModel(converted["int8"])
    variant = evaluate_model(lambda rows: int8(encode_features(trained.model, rows)), adult_small)
    accuracy = {name: (p.y_pred == p.y_true).mean() for name, p in (("parent", parent), ("int8", variant))}
    assert abs(accuracy["int8"] - accuracy["parent"]) <= 0.01
    assert len(converted["float32"]) / int8.size_bytes >= 3
    keras_bytes = save_model(trained.model, tmp_path / "model.keras").stat().st_size  # what the registry stores
    assert keras_bytes > len(converted["float32"])  # the .keras file adds vocabularies
    assert variant.sensitive.equals(parent.sensitive)


def test_conversion_is_reproducible_and_int8_needs_calibration(converted, trained):
    assert convert(trained.model, "dynamic_range") == converted["dynamic_range"]
    with pytest.raises(ValueError, match="int8 conversion needs representative rows"):
        convert(trained.model, "int8")
    with pytest.raises(ValueError, match="unknown LiteRT mode 'int4'"):
        convert(trained.model, "int4")


def test_latency_is_measured_per_call(converted, trained, adult_small):
    encoded = encode_features(trained.model, adult_small.test)
    timing = benchmark_latency(LiteRTModel(converted["int8"]), encoded, batch_size=1, repeats=20, warmup=2)
    assert timing["batch_size"] == 1 and 0 < timing["latency_ms"] <= timing["p95_ms"]


def test_predict_thresholds_scores(trained, adult_small):
    y_score, y_pred = predict(trained.model, adult_small.test, threshold=0.3)
    assert y_pred.dtype == np.int64 and set(np.unique(y_pred)) <= {0, 1}
    np.testing.assert_array_equal(y_pred, (y_score >= 0.3).astype(int))
