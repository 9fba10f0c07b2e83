"""Group fairness of multiclass predictions: accuracy per group, one-vs-rest rates per class.

For a class ``k``, a row is *selected* when it is predicted ``k`` and *positive* when its label
is ``k``. Per group the report gives the row count and the accuracy; per group and class the
selection rate, TPR and FPR with their one-vs-rest confusion counts ``tp, fp, tn, fn``. These
equal fairlearn's ``MetricFrame`` with ``selection_rate``, ``true_positive_rate`` and
``false_positive_rate`` on ``(y_true == k, y_pred == k)`` (and ``accuracy_score`` on the labels),
with fairlearn's conventions: a rate whose denominator is zero is 0 (a group without rows of
class ``k`` has TPR 0 for ``k``).

Disparity metrics take the worst class, over the groups that are not excluded:

* ``demographic_parity_difference``: the largest, over classes, of max - min selection rate;
* ``demographic_parity_ratio``: the smallest, over classes, of min / max selection rate;
  classes that no included group is predicted (``0 / 0``) do not count, and with none left the
  ratio is ``NaN``;
* ``equalized_odds_difference``: the largest, over classes, of the larger of the TPR and FPR
  differences;
* ``equal_opportunity_difference``: the largest, over classes, of the TPR difference.

``worst_class`` names the class behind each number. With a favourable class
(``Predictions(favorable_label=...)``), the four metrics are that class's alone.

One ``np.bincount`` per quantity over ``group * K + class`` gives every group's and class's
counts at once: memory is groups x classes, never rows x classes, and there is no Python loop
over rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from governance.findings import jsonable
from governance.metrics.fairness import (
    COUNTS,
    METRICS,
    SCHEMA_VERSION,
    GroupTable,
    encode_groups,
    extremes,
    validate_frame,
)
from governance.vocabulary import DEFAULT_MIN_GROUP_SIZE

CLASS_RATES = ("selection_rate", "tpr", "fpr")
_GROUP_COLUMNS = ("count", "accuracy", "excluded")


@dataclass(frozen=True)
class MulticlassFairnessReport(GroupTable):
    """Per-group accuracy, per-class one-vs-rest rates and worst-class disparity metrics.

    Attributes
    ----------
    sensitive_features : names of the sensitive columns, in the order given
    classes : the class labels, in code order
    groups : one row per group: a column per sensitive feature, ``count``, ``accuracy``, ``excluded``
    by_class : one row per group and class: the sensitive features, ``class``, the rates
        ``selection_rate``, ``tpr``, ``fpr`` and the counts ``tp``, ``fp``, ``tn``, ``fn``
    metrics : the four disparity metrics over the included groups, worst class (``NaN`` if undefined)
    worst_class : the class label behind each metric (``None`` where undefined)
    overall : ``count``, ``accuracy`` and ``classes`` (the per-class rates over all rows)
    min_group_size : groups with fewer rows are excluded from ``metrics``
    favorable_class : the favourable class, or ``None`` (every class counts)
    """

    _COLUMNS = _GROUP_COLUMNS

    sensitive_features: list[str]
    classes: list[Any]
    groups: pd.DataFrame
    by_class: pd.DataFrame
    metrics: dict[str, float]
    worst_class: dict[str, Any]
    overall: dict[str, Any]
    min_group_size: int
    favorable_class: Any = None
    task: str = "multiclass"

    def group_dicts(self) -> list[dict[str, Any]]:
        """``groups`` as JSON rows, each with its ``classes`` list of one-vs-rest rates and counts."""
        per_class = _class_rows(self.by_class, len(self.groups), len(self.classes))
        keys = self.groups[self.sensitive_features].to_numpy(dtype=object).tolist()
        rows = []
        for i, key in enumerate(keys):
            row = {"group": dict(zip(self.sensitive_features, key, strict=True))}
            row.update({name: self.groups[name].iat[i] for name in _GROUP_COLUMNS})
            row["classes"] = per_class[i]
            rows.append(row)
        return jsonable(rows)

    def spread(self, rate: str, metric: str | None = None) -> str:
        """``selection_rate of class 'B' 0.1 (sex=F) to 0.3 (sex=M)``: the worst class of ``metric``."""
        label = self.favorable_class if self.favorable_class is not None else self.worst_class.get(metric or "")
        if label is None:
            label = self.classes[0]
        table = self.by_class[self.by_class["class"] == label]
        table = table[~self.groups["excluded"].to_numpy()]
        keys = table[self.sensitive_features].to_dict("records")
        return extremes(f"{rate} of class {_plain(label)!r}", table[rate].to_numpy(), keys)

    def to_dict(self) -> dict[str, Any]:
        """The fairness JSON object for multiclass predictions (documented in ``docs/audit.md``)."""
        return jsonable({
            "schema_version": SCHEMA_VERSION,
            "task": self.task,
            "classes": list(self.classes),
            "favorable_class": self.favorable_class,
            "sensitive_features": list(self.sensitive_features),
            "min_group_size": self.min_group_size,
            "overall": self.overall,
            "groups": self.group_dicts(),
            "metrics": self.metrics,
            "worst_class": self.worst_class,
        })


def multiclass_fairness_report(y_true: Any, y_pred: Any, classes: Any, sensitive: pd.DataFrame,
                               min_group_size: int = DEFAULT_MIN_GROUP_SIZE,
                               favorable: int | None = None) -> MulticlassFairnessReport:
    """Per-group accuracy and per-class rates of class codes; numbers equal fairlearn's.

    Parameters
    ----------
    y_true, y_pred : ``int64`` class codes (indexes into ``classes``), one per row
    classes : the class labels
    sensitive : one column per sensitive feature; several columns form intersectional groups
    min_group_size : groups with fewer rows are listed with ``excluded=True``, left out of metrics
    favorable : the code of the favourable class, or ``None`` for the worst class

    Raises
    ------
    UserError
        A sensitive column holds missing values.
    ValueError
        Codes outside ``classes``, lengths that differ, or no sensitive column.
    """
    names = [str(c) for c in sensitive.columns]
    validate_frame(names, min_group_size, (*_GROUP_COLUMNS, "classes", "class"))
    labels = list(np.asarray(classes, dtype=object))
    truth, pred = (_codes(v, name, len(labels), len(sensitive)) for v, name in ((y_true, "y_true"), (y_pred, "y_pred")))
    group_id, keys = encode_groups(sensitive)
    n_groups = len(next(iter(keys.values())))
    counts = _counts(group_id, truth, pred, n_groups, len(labels))
    excluded = counts["count"] < min_group_size
    groups = pd.DataFrame({**keys, "count": counts["count"], "accuracy": counts["accuracy"], "excluded": excluded})
    everyone = _counts(np.zeros(len(truth), dtype=np.int64), truth, pred, 1, len(labels))
    chosen = np.arange(len(labels)) if favorable is None else np.array([int(favorable)])
    metrics, worst = _disparities(counts, ~excluded, chosen)
    return MulticlassFairnessReport(
        sensitive_features=names, classes=labels, groups=groups, by_class=_long(keys, labels, counts),
        metrics=metrics, worst_class={k: None if v is None else labels[v] for k, v in worst.items()},
        overall={"count": int(everyone["count"][0]), "accuracy": float(everyone["accuracy"][0]),
                 "classes": _class_rows(_long({}, labels, everyone), 1, len(labels))[0]},
        min_group_size=int(min_group_size), favorable_class=None if favorable is None else labels[int(favorable)],
    )


def _codes(values: Any, name: str, n_classes: int, n_rows: int) -> np.ndarray:
    codes = np.asarray(values)
    if codes.ndim != 1 or codes.dtype.kind not in "iu":
        raise ValueError(f"{name} must hold class codes (integers), got dtype {codes.dtype}")
    if len(codes) != n_rows:
        raise ValueError(f"{name} has {len(codes)} labels but the sensitive features have {n_rows} rows")
    if len(codes) and (codes.min() < 0 or codes.max() >= n_classes):
        raise ValueError(f"{name} holds codes outside 0..{n_classes - 1}")
    return codes.astype(np.int64, copy=False)


def one_vs_rest_counts(group_id: np.ndarray, truth: np.ndarray, pred: np.ndarray, n_groups: int,
                       k: int) -> tuple[np.ndarray, ...]:
    """``count`` (rows per group, ``(G,)``) and the one-vs-rest ``tp, fp, fn, tn`` of every group
    and class (``(G, K)``), from three ``bincount`` passes over the rows."""
    size = n_groups * k
    count = np.bincount(group_id, minlength=n_groups)
    by_truth, by_pred = group_id * k + truth, group_id * k + pred
    support = np.bincount(by_truth, minlength=size).reshape(n_groups, k)
    predicted = np.bincount(by_pred, minlength=size).reshape(n_groups, k)
    tp = np.bincount(by_truth[truth == pred], minlength=size).reshape(n_groups, k)
    fp, fn = predicted - tp, support - tp
    return count, tp, fp, fn, count[:, None] - tp - fp - fn


def _counts(group_id: np.ndarray, truth: np.ndarray, pred: np.ndarray, n_groups: int, k: int) -> dict[str, np.ndarray]:
    """Rows per group and, per group and class, the one-vs-rest counts and rates (``(G, K)``)."""
    count, tp, fp, fn, tn = one_vs_rest_counts(group_id, truth, pred, n_groups, k)
    support, predicted = tp + fn, tp + fp
    return {
        "count": count, "accuracy": _ratio(tp.sum(axis=1), count, np.nan),
        "selection_rate": _ratio(predicted, count[:, None], np.nan),
        "tpr": _ratio(tp, support, 0.0), "fpr": _ratio(fp, fp + tn, 0.0),  # 0 when undefined, as fairlearn
        "tp": tp, "fp": fp, "tn": tn, "fn": fn,
    }


def _ratio(num: np.ndarray, den: np.ndarray, empty: float) -> np.ndarray:
    num, den = np.broadcast_arrays(num, den)
    out = np.full(num.shape, empty, dtype=float)
    np.divide(num, den, out=out, where=den > 0)
    return out


def _disparities(counts: dict[str, np.ndarray], keep: np.ndarray, chosen: np.ndarray) -> tuple[dict, dict]:
    """The four metrics over the kept groups and the chosen classes, and the class behind each."""
    if not keep.any():
        return {name: float("nan") for name in METRICS}, {name: None for name in METRICS}
    rates = {r: counts[r][keep][:, chosen] for r in CLASS_RATES}
    spread = {r: v.max(axis=0) - v.min(axis=0) for r, v in rates.items()}
    low, high = rates["selection_rate"].min(axis=0), rates["selection_rate"].max(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = low / high  # 0/0 (a class no group is predicted) is NaN and does not count
    odds = np.maximum(spread["tpr"], spread["fpr"])
    metrics, worst = {}, {}
    for name, values, pick in (("demographic_parity_difference", spread["selection_rate"], np.argmax),
                               ("demographic_parity_ratio", ratio, np.argmin),
                               ("equalized_odds_difference", odds, np.argmax),
                               ("equal_opportunity_difference", spread["tpr"], np.argmax)):
        defined = ~np.isnan(values)
        if not defined.any():
            metrics[name], worst[name] = float("nan"), None
            continue
        candidates = np.flatnonzero(defined)
        best = candidates[int(pick(values[candidates]))]
        metrics[name], worst[name] = float(values[best]), int(chosen[best])
    return metrics, worst


def _long(keys: dict[str, np.ndarray], labels: list[Any], counts: dict[str, np.ndarray]) -> pd.DataFrame:
    """One row per group and class (groups outer, classes inner)."""
    n_groups, k = counts["tp"].shape
    table = {name: np.repeat(values, k) for name, values in keys.items()}
    table["class"] = np.tile(np.asarray(labels, dtype=object), n_groups)
    for name in (*CLASS_RATES, *COUNTS):
        table[name] = counts[name].reshape(-1)
    return pd.DataFrame(table)


def _class_rows(by_class: pd.DataFrame, n_groups: int, k: int) -> list[list[dict[str, Any]]]:
    """The ``classes`` list of each group's JSON row."""
    columns = {name: by_class[name].tolist() for name in ("class", *CLASS_RATES, *COUNTS)}
    rows = [{name: values[i] for name, values in columns.items()} for i in range(n_groups * k)]
    return [rows[g * k:(g + 1) * k] for g in range(n_groups)]


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value
