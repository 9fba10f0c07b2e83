"""Group fairness of regression predictions: error and level per group, and their gaps.

Per group: the row count, the mean prediction, the mean target, the mean absolute error (MAE)
and the root mean squared error (RMSE), each equal to fairlearn's ``MetricFrame`` with
scikit-learn's ``mean_absolute_error`` and ``root_mean_squared_error`` (and the means of
``y_pred`` and ``y_true``). The per-row terms are those of the group-metric table
(:data:`governance.metrics.groupwise.METRICS`), summed per group by one weighted
``np.bincount`` each: no Python loop over rows or groups.

Disparity metrics, over the groups that are not excluded:

* ``mae_difference``: max - min of the groups' MAE;
* ``mae_ratio``: min / max of the groups' MAE (``NaN`` when every MAE is 0);
* ``rmse_difference``: max - min of the groups' RMSE;
* ``mean_prediction_difference``: max - min of the groups' mean prediction (the gap in what
  the model predicts for each group, whatever the targets).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from governance.findings import jsonable
from governance.metrics.fairness import SCHEMA_VERSION, GroupTable, encode_groups, validate_frame
from governance.metrics.groupwise import METRICS as TABLE
from governance.vocabulary import DEFAULT_MIN_GROUP_SIZE

VALUES = ("mean_prediction", "mean_target", "mae", "rmse")
METRICS = ("mae_difference", "mae_ratio", "rmse_difference", "mean_prediction_difference")
_GROUP_COLUMNS = ("count", *VALUES, "excluded")


@dataclass(frozen=True)
class RegressionFairnessReport(GroupTable):
    """Per-group errors and levels of one set of regression predictions, and their gaps.

    Attributes
    ----------
    sensitive_features : names of the sensitive columns, in the order given
    groups : one row per group: a column per sensitive feature, ``count``, ``mean_prediction``,
        ``mean_target``, ``mae``, ``rmse``, ``excluded``
    metrics : ``mae_difference``, ``mae_ratio``, ``rmse_difference``,
        ``mean_prediction_difference`` over the included groups (``NaN`` if undefined)
    overall : ``count`` and the four values over all rows
    min_group_size : groups with fewer rows are excluded from ``metrics``
    """

    _COLUMNS = _GROUP_COLUMNS

    sensitive_features: list[str]
    groups: pd.DataFrame
    metrics: dict[str, float]
    overall: dict[str, float]
    min_group_size: int
    task: str = "regression"

    def to_dict(self) -> dict[str, Any]:
        """The fairness JSON object for regression predictions (documented in ``docs/audit.md``)."""
        return jsonable({
            "schema_version": SCHEMA_VERSION,
            "task": self.task,
            "sensitive_features": list(self.sensitive_features),
            "min_group_size": self.min_group_size,
            "overall": self.overall,
            "groups": self.group_dicts(),
            "metrics": self.metrics,
        })


def regression_fairness_report(y_true: Any, y_pred: Any, sensitive: pd.DataFrame,
                               min_group_size: int = DEFAULT_MIN_GROUP_SIZE) -> RegressionFairnessReport:
    """Per-group MAE, RMSE, mean prediction and mean target, and their gaps; equal to fairlearn's.

    Parameters
    ----------
    y_true, y_pred : finite numbers, one per row
    sensitive : one column per sensitive feature; several columns form intersectional groups
    min_group_size : groups with fewer rows are listed with ``excluded=True``, left out of metrics

    Raises
    ------
    UserError
        A sensitive column holds missing values.
    ValueError
        Values that are not finite numbers, lengths that differ, or no sensitive column.
    """
    names = [str(c) for c in sensitive.columns]
    validate_frame(names, min_group_size, _GROUP_COLUMNS)
    truth, pred = (_numbers(v, name, len(sensitive)) for v, name in ((y_true, "y_true"), (y_pred, "y_pred")))
    group_id, keys = encode_groups(sensitive)
    n_groups = len(next(iter(keys.values())))
    values = _values(group_id, truth, pred, n_groups)
    excluded = values["count"] < min_group_size
    everyone = _values(np.zeros(len(truth), dtype=np.int64), truth, pred, 1)
    return RegressionFairnessReport(
        sensitive_features=names, groups=pd.DataFrame({**keys, **values, "excluded": excluded}),
        metrics=_disparities(values, ~excluded),
        overall={name: float(v[0]) if name != "count" else int(v[0]) for name, v in everyone.items()},
        min_group_size=int(min_group_size),
    )


def _numbers(values: Any, name: str, n_rows: int) -> np.ndarray:
    array = np.asarray(values)
    if array.ndim != 1 or array.dtype.kind not in "iuf":
        raise ValueError(f"{name} must hold numbers, got dtype {array.dtype}")
    if len(array) != n_rows:
        raise ValueError(f"{name} has {len(array)} values but the sensitive features have {n_rows} rows")
    array = array.astype(np.float64, copy=False)
    if not np.isfinite(array).all():
        raise ValueError(f"{name} holds missing or non-finite values")
    return array


def _values(group_id: np.ndarray, truth: np.ndarray, pred: np.ndarray, n_groups: int) -> dict[str, np.ndarray]:
    """Rows per group and each group's value of :data:`VALUES`, from the table's per-row terms."""
    count = np.bincount(group_id, minlength=n_groups)
    out: dict[str, np.ndarray] = {"count": count}
    with np.errstate(invalid="ignore", divide="ignore"):  # every group has rows; the guard is for none
        for name in VALUES:
            spec = TABLE[name]
            terms = spec.terms(truth, pred)
            sums = np.column_stack([np.bincount(group_id, weights=t, minlength=n_groups) for t in terms.T])
            out[name] = spec.finish(sums / count[:, None])
    return out


def _disparities(values: dict[str, np.ndarray], keep: np.ndarray) -> dict[str, float]:
    if not keep.any():
        return {name: float("nan") for name in METRICS}
    mae, rmse, level = (values[k][keep] for k in ("mae", "rmse", "mean_prediction"))
    high = mae.max()
    return {
        "mae_difference": float(high - mae.min()),
        "mae_ratio": float(mae.min() / high) if high > 0 else float("nan"),
        "rmse_difference": float(rmse.max() - rmse.min()),
        "mean_prediction_difference": float(level.max() - level.min()),
    }
