"""The fast scoring path against Keras itself (TensorFlow): same encodings, same scores.

The server reads the preprocessing constants from the ``.keras`` file and encodes rows in NumPy;
here the model's own Keras preprocessing is the oracle, on rows with missing values, unseen
categories and values far outside the training range.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lifecycle.serving.rows import ValidRows
from lifecycle.serving.scoring import build_scorer

from .harness import CATEGORICAL, FIXTURES, NUMERIC

pytestmark = pytest.mark.tf


def _rows(n: int = 400, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "age": rng.normal(45, 40, n), "hours-per-week": rng.normal(40, 100, n),
        "color": rng.choice(["red", "green", "blue", "pink", None], n).astype(object),
        "sex": rng.choice(["Female", "Male", "Other", None], n).astype(object)})
    frame.loc[::7, "age"] = np.nan
    frame.loc[::5, "hours-per-week"] = 1e30
    return frame


def _valid(frame: pd.DataFrame, numeric: list[str], categorical: list[str]) -> ValidRows:
    return ValidRows.of(frame[numeric].to_numpy(dtype=np.float64),
                        [[None if pd.isna(v) else v for v in frame[c]] for c in categorical])


def test_numpy_encoding_equals_the_keras_preprocessing_bit_for_bit():
    from lifecycle.model import encode_features, load_model

    files = {"model": (FIXTURES / "model.tflite").read_bytes(), "preprocess": (FIXTURES / "model.keras").read_bytes()}
    scorer = build_scorer("litert", files, NUMERIC, CATEGORICAL)
    assert scorer.path == "litert"
    frame = _rows()
    valid = _valid(frame, scorer.numeric, scorer.categorical)
    ours = scorer.encoder.encode(valid.numeric, valid.categorical)
    theirs = encode_features(load_model(FIXTURES / "model.keras"), frame)
    np.testing.assert_array_equal(ours, theirs)
    for i in range(len(frame)):  # the one-row path, in Python floats rounded to float32
        single = _valid(frame.iloc[[i]], scorer.numeric, scorer.categorical)
        one = scorer.encoder.encode_one(single.values, [values[0] for values in single.categorical])
        np.testing.assert_array_equal(one, theirs[[i]])


def test_fast_litert_scores_equal_the_keras_preprocessing_then_litert():
    from lifecycle.serve import make_scorer

    files = {"model": (FIXTURES / "model.tflite").read_bytes(), "preprocess": (FIXTURES / "model.keras").read_bytes()}
    scorer = build_scorer("litert", files, NUMERIC, CATEGORICAL)
    frame = _rows()
    reference = make_scorer("litert", files)(frame)
    np.testing.assert_allclose(scorer(_valid(frame, scorer.numeric, scorer.categorical)), reference, rtol=0, atol=1e-6)
    one_by_one = [scorer(_valid(frame.iloc[[i]], scorer.numeric, scorer.categorical))[0] for i in range(30)]
    np.testing.assert_allclose(one_by_one, reference[:30], rtol=0, atol=1e-6)  # the single-row interpreter


def test_a_keras_entry_is_scored_by_its_dense_layers_in_numpy():
    from lifecycle.model import load_model, score

    files = {"model": (FIXTURES / "model.keras").read_bytes()}
    scorer = build_scorer("keras", files, NUMERIC, CATEGORICAL)
    assert scorer.path == "numpy"
    frame = _rows()
    np.testing.assert_allclose(scorer(_valid(frame, scorer.numeric, scorer.categorical)),
                               score(load_model(FIXTURES / "model.keras"), frame), rtol=0, atol=1e-6)

