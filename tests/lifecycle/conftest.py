"""Fixtures of the lifecycle stage tests: a small slice of the bundled Adult data, one trained model."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from lifecycle.spec import DataSpec, ModelSpec

ADULT = Path(__file__).resolve().parents[2] / "examples" / "adult-income" / "data"


@pytest.fixture(scope="session")
def adult_dir(tmp_path_factory) -> Path:
    """The first 2,000 training and 1,000 test rows of Adult, as the original CSV text."""
    out = tmp_path_factory.mktemp("adult")
    for source, rows, target in (
        ("adult.data.csv.gz", 2000, "train.csv"),
        ("adult.test.csv.gz", 1000, "test.csv"),
    ):
        frame = pd.read_csv(ADULT / source, nrows=rows, dtype=str, keep_default_na=False)
        frame.to_csv(out / target, index=False)
    return out


@pytest.fixture(scope="session")
def adult_spec() -> DataSpec:
    return DataSpec(
        train="train.csv",
        test="test.csv",
        target="Y",
        positive_label=">50K",
        label_strip=".",
        sensitive_features=["sex", "race"],
        drop_columns=["fnlwgt"],
    )


@pytest.fixture(scope="session")
def adult_small(adult_dir, adult_spec):
    from lifecycle.data import load_dataset

    return load_dataset(adult_spec, adult_dir)


SMALL_MODEL = ModelSpec(hidden_units=[64, 32], epochs=2, batch_size=128, learning_rate=3e-3)


@pytest.fixture(scope="session")
def trained(adult_small):
    """A non-private model trained for two epochs (shared by the model, evaluate and optimize tests)."""
    from lifecycle.train import train

    return train(adult_small, SMALL_MODEL, seed=7)
