"""Data shared by the scale tests: small prediction and drift files, written as Parquet and CSV."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

RACES = np.array(["Asian", "Black", "Other", "White"])


def predictions(rows: int, seed: int = 0) -> pd.DataFrame:
    """Labels, predictions, scores and two sensitive columns (8 groups, one of them small)."""
    rng = np.random.default_rng(seed)
    race = rng.choice(RACES, rows, p=[0.1, 0.15, 0.02, 0.73])
    sex = rng.choice(np.array(["Female", "Male"]), rows, p=[0.45, 0.55])
    y_true = (rng.random(rows) < 0.2 + 0.1 * (sex == "Male")).astype(np.int64)
    y_pred = np.where(rng.random(rows) < 0.15, 1 - y_true, y_true)
    return pd.DataFrame({"race": race, "sex": sex, "y_true": y_true, "y_pred": y_pred,
                         "score": rng.random(rows), "age": rng.integers(18, 90, rows)})


def drift_frame(rows: int, shift: float, seed: int) -> pd.DataFrame:
    """Numerical (continuous, whole, small-range) and categorical (text, int, bool) columns."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "age": rng.integers(17, 90, rows),
        "income": rng.lognormal(10 + shift, 1, rows),
        "score": rng.normal(shift, 1, rows),
        "hours": rng.integers(1, 99, rows).astype(float),
        "workclass": rng.choice(np.array(["Private", "Self-emp", "Gov", "Never-worked"]), rows),
        "sex": rng.choice(np.array(["Female", "Male"]), rows, p=[0.33 + shift, 0.67 - shift]),
        "children": rng.integers(0, 5, rows),
        "owns_home": rng.random(rows) < 0.3,
        "note": [f"n{i}" for i in range(rows)],  # free text: skipped by every engine alike
    })


def write(frame: pd.DataFrame, path: Path, row_group: int | None = None) -> Path:
    if path.suffix == ".parquet":
        frame.to_parquet(path, index=False, row_group_size=row_group)
    else:
        frame.to_csv(path, index=False)
    return path


@pytest.fixture(scope="session")
def scale_files(tmp_path_factory) -> dict[str, Path]:
    """``predictions.parquet``/``.csv`` (5,000 rows), ``reference``/``current`` drift files (3,000 rows)."""
    root = tmp_path_factory.mktemp("scale")
    out = {}
    for fmt in ("parquet", "csv"):
        out[f"predictions.{fmt}"] = write(predictions(5000), root / f"predictions.{fmt}", row_group=1000)
        out[f"reference.{fmt}"] = write(drift_frame(3000, 0.0, 1), root / f"reference.{fmt}", row_group=700)
        out[f"current.{fmt}"] = write(drift_frame(3000, 0.1, 2), root / f"current.{fmt}", row_group=700)
    return out
