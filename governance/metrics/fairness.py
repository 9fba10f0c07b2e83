"""Group fairness statistics from confusion counts per group, equal to fairlearn's numbers.

Every row is coded once into an integer group id (one code per sensitive feature, combined into
intersectional groups), then a single ``np.bincount`` yields the confusion counts ``tn, fp, fn,
tp`` of every group; all rates and disparities follow from those counts. There is no Python loop
over rows or groups, so a million rows take milliseconds.

Conventions, chosen to equal ``fairlearn.metrics`` (``MetricFrame``, ``method="between_groups"``,
``agg="worst_case"``) on the same rows:

* groups are the combinations of sensitive values that occur in the data; combinations with no
  rows (unused categories, absent intersections) are not groups, as their ``NaN`` rows in
  ``MetricFrame.by_group`` never count in fairlearn's differences and ratios either;
* a rate whose denominator is zero is ``0.0`` (a group without positive labels has ``tpr`` 0,
  one without negative labels ``fpr`` 0), as fairlearn's confusion-matrix rates report it;
* differences are ``max - min`` and ratios ``min / max`` over the groups that are not excluded;
  the demographic parity ratio is ``NaN`` when no group has a positive prediction (``0 / 0``);
* missing values in a sensitive column are an error (fairlearn refuses them too), never a
  silent group of their own;
* with a favourable label that is not the positive one (``favorable=0``: in credit, "no
  default"), every number of the table is fairlearn's with ``pos_label`` set to the favourable
  label: the selection rate is the share predicted favourable, ``tpr`` the share of truly
  favourable rows predicted favourable, and ``tp, fp, tn, fn`` count the favourable label as
  positive. Accuracy and the equalized-odds difference do not change.

Multiclass and regression predictions have their own reports
(:mod:`governance.metrics.fairness_multiclass`, :mod:`governance.metrics.fairness_regression`);
:func:`governance.metrics.fairness_tasks.report_for` picks the one that fits a
:class:`~governance.evidence.Predictions`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from governance.display import group_label
from governance.errors import UserError
from governance.findings import jsonable
from governance.metrics.performance import binary_labels
from governance.vocabulary import DEFAULT_MIN_GROUP_SIZE

SCHEMA_VERSION = 1
RATES = ("selection_rate", "accuracy", "tpr", "fpr")
COUNTS = ("tp", "fp", "tn", "fn")
METRICS = (
    "demographic_parity_difference",
    "demographic_parity_ratio",
    "equalized_odds_difference",
    "equal_opportunity_difference",
)
_TABLE_COLUMNS = ("count", *RATES, "excluded", *COUNTS)
# Above this many possible combinations the group key is compacted with np.unique instead of
# a dense bincount table (keeps memory bounded for high-cardinality sensitive columns).
_DENSE_LIMIT = 1 << 22


class GroupTable:
    """What every per-group report shares: the groups that count, the excluded ones, JSON rows.

    Subclasses are dataclasses with ``sensitive_features`` and ``groups`` (one row per group, a
    column per sensitive feature, then ``_COLUMNS``); ``_COLUMNS`` names what a JSON row carries.
    """

    sensitive_features: list[str]
    groups: pd.DataFrame
    _COLUMNS: tuple[str, ...] = ()

    @property
    def included(self) -> pd.DataFrame:
        """The rows of ``groups`` that count in ``metrics``."""
        return self.groups[~self.groups["excluded"]]

    @property
    def excluded(self) -> list[dict[str, Any]]:
        """The groups left out of ``metrics`` for having fewer than ``min_group_size`` rows."""
        return [row["group"] for row in self.group_dicts() if row["excluded"]]

    def group_dicts(self) -> list[dict[str, Any]]:
        """``groups`` as JSON rows: ``{"group": {...}, "count", ...}``."""
        keys = self.groups[self.sensitive_features].to_numpy(dtype=object).tolist()
        columns = {name: self.groups[name].tolist() for name in self._COLUMNS}
        rows = []
        for i, key in enumerate(keys):
            row = {"group": dict(zip(self.sensitive_features, key, strict=True))}
            row.update({name: values[i] for name, values in columns.items()})
            rows.append(row)
        return jsonable(rows)

    def spread(self, rate: str, metric: str | None = None) -> str:
        """``selection_rate 0.109 (sex=Female) to 0.305 (sex=Male)`` over the included groups."""
        table = self.included
        return extremes(rate, table[rate].to_numpy(), table[self.sensitive_features].to_dict("records"))


@dataclass(frozen=True)
class FairnessReport(GroupTable):
    """Per-group rates and disparity metrics of one set of binary predictions.

    Attributes
    ----------
    sensitive_features : names of the sensitive columns, in the order given
    groups : one row per group: a column per sensitive feature, then ``count``,
        ``selection_rate``, ``accuracy``, ``tpr``, ``fpr``, ``excluded`` and the confusion
        counts ``tp``, ``fp``, ``tn``, ``fn``
    metrics : the four disparity metrics over the groups that are not excluded (``NaN`` when
        fewer than one group remains)
    overall : ``count`` and the four rates over all rows, excluded groups included
    min_group_size : groups with fewer rows are excluded from ``metrics``
    favorable : ``"positive"``, or ``"negative"`` when the favourable outcome is the other label
    """

    _COLUMNS = _TABLE_COLUMNS
    sensitive_features: list[str]
    groups: pd.DataFrame
    metrics: dict[str, float]
    overall: dict[str, float]
    min_group_size: int
    favorable: str = "positive"
    task: str = "binary"

    def to_dict(self) -> dict[str, Any]:
        """The fairness JSON object (``schema_version`` 1, documented in ``docs/audit.md``)."""
        return jsonable({
            "schema_version": SCHEMA_VERSION,
            "task": self.task,
            "favorable": self.favorable,
            "sensitive_features": list(self.sensitive_features),
            "min_group_size": self.min_group_size,
            "overall": self.overall,
            "groups": self.group_dicts(),
            "metrics": self.metrics,
        })


def extremes(rate: str, values: np.ndarray, keys: list[dict[str, Any]]) -> str:
    """``tpr 0.4 (sex=F) to 0.6 (sex=M)``: the lowest and highest value and their groups."""
    low, high = int(np.argmin(values)), int(np.argmax(values))
    return (f"{rate} {values[low]:.4g} ({group_label(keys[low])}) to "
            f"{values[high]:.4g} ({group_label(keys[high])})")


def fairness_report(
    y_true: Any, y_pred: Any, sensitive: pd.DataFrame | pd.Series,
    min_group_size: int = DEFAULT_MIN_GROUP_SIZE, *, favorable: int = 1,
) -> FairnessReport:
    """Per-group rates and disparity metrics; numbers equal fairlearn's on the same rows.

    Parameters
    ----------
    y_true, y_pred : array-like of 0/1 (or bool) labels, one per row
    sensitive : one column per sensitive feature; several columns form intersectional groups
    min_group_size : groups with fewer rows are listed with ``excluded=True`` and left out of
        the metrics (never silently dropped)
    favorable : the coded label that counts as selected: 1 (the positive label, default) or 0

    Raises
    ------
    UserError
        A sensitive column holds missing values.
    ValueError
        Labels are not 0/1, lengths differ, or no sensitive column is given.
    """
    if isinstance(sensitive, pd.Series):
        sensitive = sensitive.to_frame()
    names = [str(c) for c in sensitive.columns]
    validate_frame(names, min_group_size)
    truth = _binary(y_true, "y_true", len(sensitive))
    pred = _binary(y_pred, "y_pred", len(sensitive))
    if favorable not in (0, 1):
        raise ValueError(f"favorable must be 1 (the positive label) or 0 (the other), got {favorable!r}")
    if favorable == 0:  # fairlearn with pos_label = the favourable label: count it as the positive one
        truth, pred = 1 - truth, 1 - pred

    group_id, table = encode_groups(sensitive)
    n_groups = len(next(iter(table.values())))
    cells = np.bincount(group_id * 4 + truth * 2 + pred, minlength=4 * n_groups).reshape(n_groups, 4)
    tn, fp, fn, tp = cells.T
    rates = _rates(tp, fp, tn, fn)
    excluded = rates["count"] < min_group_size

    table.update(rates)
    table.update(excluded=excluded, tp=tp, fp=fp, tn=tn, fn=fn)

    total = _rates(*(np.array([c.sum()]) for c in (tp, fp, tn, fn)))
    overall = {name: _scalar(value[0]) for name, value in total.items()}
    return FairnessReport(
        sensitive_features=names,
        groups=pd.DataFrame(table),
        metrics=_disparities(rates, ~excluded),
        overall=overall,
        min_group_size=int(min_group_size),
        favorable="positive" if favorable == 1 else "negative",
    )


def encode_groups(sensitive: pd.DataFrame) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Each row's group id and each group's value of every sensitive feature.

    Returns
    -------
    group_id : ``int64`` per row, ``0..G-1``; groups are the combinations that occur, in
        lexicographic order of the features' values (category order for categoricals)
    keys : ``{feature: object array of G values}``

    Raises
    ------
    UserError
        A sensitive column holds missing values.
    """
    names = [str(c) for c in sensitive.columns]
    codes, uniques = zip(*(_codes(sensitive.iloc[:, j], names[j]) for j in range(len(names))), strict=True)
    group_id, n_groups = _group_ids(codes, [len(u) for u in uniques], len(sensitive))
    keys = {}
    for name, code, values in zip(names, codes, uniques, strict=True):
        code_of_group = np.zeros(n_groups, dtype=np.int64)
        code_of_group[group_id] = code  # every row of a group has the same code: order is moot
        keys[name] = np.asarray(values.take(code_of_group), dtype=object)
    return group_id, keys


def validate_frame(names: list[str], min_group_size: int, columns: tuple[str, ...] = ()) -> None:
    """Refuse no features, repeated ones, a feature named like a table column, a size below 1."""
    if not names:
        raise ValueError("at least one sensitive feature is required")
    if len(set(names)) != len(names):
        raise ValueError(f"sensitive features repeat a column: {names}")
    clash = sorted(set(names) & set(columns or _TABLE_COLUMNS))
    if clash:
        raise UserError(f"sensitive column '{clash[0]}' has the name of a group-table column; rename it")
    if int(min_group_size) < 1:
        raise ValueError(f"min_group_size must be at least 1, got {min_group_size}")


def _binary(labels: Any, name: str, n_rows: int) -> np.ndarray:
    arr = binary_labels(labels, name)
    if len(arr) != n_rows:
        raise ValueError(f"{name} has {len(arr)} labels but the sensitive features have {n_rows} rows")
    return arr


def _codes(column: pd.Series, name: str) -> tuple[np.ndarray, pd.Index]:
    """Integer codes of one sensitive column and the value of each code, in group order."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        # Category order (declared or sorted when read) is the group order, as in pandas.
        codes, uniques = column.cat.codes.to_numpy(np.int64), pd.Index(column.cat.categories)
    else:
        try:
            codes, uniques = pd.factorize(column, sort=True)
        except TypeError:  # values of mixed types cannot be sorted; keep first-seen order
            codes, uniques = pd.factorize(column, sort=False)
        codes = codes.astype(np.int64, copy=False)
    missing = codes < 0
    if missing.any():
        raise UserError(
            f"sensitive column '{name}' has {int(missing.sum())} missing value(s) (first in data row "
            f"{int(missing.argmax()) + 1}); give them an explicit value such as 'unknown' or drop those rows"
        )
    return codes, pd.Index(uniques)


def _group_ids(codes, dims: list[int], n_rows: int) -> tuple[np.ndarray, int]:
    """Dense group ids ``0..G-1`` in lexicographic order of the features' codes."""
    key, size = np.zeros(n_rows, dtype=np.int64), 1
    for code, dim in zip(codes, dims, strict=True):
        if size * dim > _DENSE_LIMIT:
            uniq, key = np.unique(key, return_inverse=True)  # order-preserving compaction
            size = len(uniq)
        key, size = key * dim + code, size * dim
    if size > _DENSE_LIMIT:
        uniq, key = np.unique(key, return_inverse=True)
        return key.astype(np.int64, copy=False), len(uniq)
    present = np.bincount(key, minlength=size) > 0
    return (np.cumsum(present) - 1)[key], int(present.sum())


def _rates(tp, fp, tn, fn) -> dict[str, np.ndarray]:
    count = tp + fp + tn + fn
    return {
        "count": count,
        "selection_rate": _ratio(tp + fp, count, empty=np.nan),
        "accuracy": _ratio(tp + tn, count, empty=np.nan),
        "tpr": _ratio(tp, tp + fn, empty=0.0),  # fairlearn reports 0 for a group with no positives
        "fpr": _ratio(fp, fp + tn, empty=0.0),
    }


def _ratio(num: np.ndarray, den: np.ndarray, empty: float) -> np.ndarray:
    out = np.full(len(num), empty, dtype=float)
    np.divide(num, den, out=out, where=den > 0)
    return out


def _disparities(rates: dict[str, np.ndarray], keep: np.ndarray) -> dict[str, float]:
    if not keep.any():
        return {name: float("nan") for name in METRICS}
    spread = {k: float(rates[k][keep].max() - rates[k][keep].min()) for k in ("selection_rate", "tpr", "fpr")}
    low, high = rates["selection_rate"][keep].min(), rates["selection_rate"][keep].max()
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = float(np.float64(low) / np.float64(high))  # 0/0 is NaN, as in fairlearn
    return {
        "demographic_parity_difference": spread["selection_rate"],
        "demographic_parity_ratio": ratio,
        "equalized_odds_difference": max(spread["tpr"], spread["fpr"]),
        "equal_opportunity_difference": spread["tpr"],
    }


def _scalar(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value
