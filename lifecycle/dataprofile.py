"""What ingest records about the data: rows, missing values, the target's balance, group sizes, features.

:func:`profile` summarises both splits for the trail and the ingest gate's reviewers;
:func:`feature_profile` describes each training feature (range or vocabulary), which serving
checks requests against.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd


def profile(splits: dict[str, pd.DataFrame], target: str, groups: dict[str, pd.DataFrame], task: str = "binary",
            classes: list[str] | None = None) -> dict[str, Any]:
    """Rows, missing values per column, the target's balance and sensitive group sizes, per split.

    ``groups`` holds each split's sensitive columns as audited (value labels and bins applied);
    the target's balance is positives and negatives (binary), rows per class (multiclass, by
    class name) or the target's mean, spread and range (regression).
    """
    out: dict[str, Any] = {"rows": {}, "missing": {}, "label_balance": {}, "groups": {}}
    for name, frame in splits.items():
        out["rows"][name] = int(len(frame))
        missing = frame.isna().sum()
        out["missing"][name] = {str(c): int(n) for c, n in missing.items() if n}
        out["label_balance"][name] = target_balance(frame[target], task, classes)
    for column in next(iter(groups.values())).columns:
        out["groups"][str(column)] = {
            name: {str(k): int(v) for k, v in frame[column].value_counts(dropna=False).items()}
            for name, frame in groups.items()
        }
    return out


def target_balance(target: pd.Series, task: str, classes: list[str] | None = None) -> dict[str, Any]:
    """How the target is spread in one split (see :func:`profile`)."""
    rows = len(target)
    if task == "regression":
        values = target.to_numpy(dtype=float)
        return {"mean": float(values.mean()) if rows else None, "std": float(values.std()) if rows else None,
                "min": float(values.min()) if rows else None, "max": float(values.max()) if rows else None}
    if task == "multiclass":
        counts = np.bincount(target.to_numpy(dtype=np.int64), minlength=len(classes or []))
        return {"classes": {str(name): int(n) for name, n in zip(classes or [], counts, strict=False)}}
    positives = int(target.sum())
    return {"positive": positives, "negative": int(rows - positives), "positive_rate": positives / rows if rows else None}


def predictions_balance(predictions: Any) -> dict[str, Any]:
    """:func:`target_balance` of a model's true and of its predicted labels: ``{"true", "predicted"}``."""
    from governance.evidence import task_of

    task = task_of(predictions)
    classes = [str(c) for c in predictions.classes] if task == "multiclass" else None
    return {side: target_balance(pd.Series(values), task, classes)
            for side, values in (("true", predictions.y_true), ("predicted", predictions.y_pred))}


#: Above this many distinct values a categorical column's categories are not listed (nor enforced).
MAX_PROFILE_CATEGORIES = 10_000


def feature_profile(train: pd.DataFrame, numeric: list[str], categorical: list[str]) -> dict[str, Any]:
    """Per training feature: numeric range or categorical vocabulary, and its missing-value count.

    Serving validates requests against it: ``{"numeric": {column: {"min", "max", "missing"}},
    "categorical": {column: {"categories" (sorted, or None when over MAX_PROFILE_CATEGORIES),
    "distinct", "missing"}}}``.
    """
    out: dict[str, Any] = {"numeric": {}, "categorical": {}}
    for column in numeric:
        values = train[column]
        finite = values[np.isfinite(values)]
        out["numeric"][column] = {"min": float(finite.min()) if len(finite) else None,
                                  "max": float(finite.max()) if len(finite) else None,
                                  "missing": int(values.isna().sum())}
    for column in categorical:
        values = train[column].dropna().astype(str)
        distinct = sorted(values.unique())
        out["categorical"][column] = {
            "categories": distinct if len(distinct) <= MAX_PROFILE_CATEGORIES else None,
            "distinct": len(distinct), "missing": int(train[column].isna().sum())}
    return out
