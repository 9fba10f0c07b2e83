"""The model carries its preprocessing: raw rows in, and the LiteRT-convertible core sees the same encoding."""

from __future__ import annotations

import numpy as np
import pytest

from lifecycle.model import (
    MISSING_TOKEN,
    core_model,
    encode_features,
    load_model,
    preprocess_model,
    save_model,
    score,
)

pytestmark = pytest.mark.tf


def test_raw_rows_score_as_encoded_features_through_the_core(trained, adult_small):
    rows = adult_small.test
    encoded = encode_features(trained.model, rows)
    through_core = np.asarray(core_model(trained.model)(encoded)).reshape(-1)
    assert encoded.dtype == np.float32 and encoded.shape[0] == len(rows)
    np.testing.assert_allclose(score(trained.model, rows), through_core, rtol=0, atol=1e-6)


def test_encoding_is_fitted_on_training_rows(trained, adult_small):
    numeric = encode_features(trained.model, adult_small.train)[:, : len(adult_small.numeric_features)]
    # Normalized with training statistics: mean 0, std 1 (NaN imputed as the mean would stay 0).
    np.testing.assert_allclose(numeric.mean(axis=0), 0, atol=1e-4)
    np.testing.assert_allclose(numeric.std(axis=0), 1, atol=1e-3)
    lookup = preprocess_model(trained.model).get_layer("lookup_workclass")
    assert MISSING_TOKEN in lookup.get_vocabulary()  # Adult's "?" workclass is its own category


def test_missing_and_unseen_values_still_score(trained, adult_small):
    rows = adult_small.test.head(3).copy()
    rows.loc[0, "age"] = np.nan
    rows.loc[1, "workclass"] = None
    rows.loc[2, "occupation"] = "Astronaut"  # never seen in training: the out-of-vocabulary slot
    scores = score(trained.model, rows)
    assert np.isfinite(scores).all() and ((scores >= 0) & (scores <= 1)).all()


def test_saved_model_loads_as_plain_keras_and_scores_the_same(trained, adult_small, tmp_path):
    path = save_model(trained.model, tmp_path / "model.keras")
    loaded = load_model(path)
    layers = [*loaded.layers, *preprocess_model(loaded).layers, *core_model(loaded).layers]
    assert {type(layer).__module__.split(".")[0] for layer in layers} == {"tf_keras"}
    np.testing.assert_array_equal(score(loaded, adult_small.test), score(trained.model, adult_small.test))
