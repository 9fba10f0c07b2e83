"""Fairness of binary predictions from mergeable counts: any number of rows, batch by batch.

A :class:`FairnessCounts` holds, for every group of the sensitive features, how many rows have
each pair of (true label, predicted label) values, as the values appear in the data. Counts of
two parts of a dataset add up (:meth:`FairnessCounts.merge`), so a stream of record batches or a
Spark aggregation yields the same counts as the whole file. :meth:`FairnessCounts.report` then
codes the labels as 0/1 with the rules of :func:`governance.io.binary_coding` (applied to the
labels of the whole dataset) and hands the confusion counts to the formulas of
:mod:`governance.metrics.fairness`, so every number equals the in-memory report's.

Groups are sorted by their values (by type and text when values of several types cannot be
compared), or in a categorical column's declared order: the in-memory report's order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from governance.errors import UserError
from governance.io import binary_coding
from governance.metrics.fairness import FairnessReport, _disparities, _rates
from governance.metrics.partials import canonical_order

_TABLE_COLUMNS = ("count", "selection_rate", "accuracy", "tpr", "fpr", "excluded", "tp", "fp", "tn", "fn")
#: Label values kept for the message about too many; past them a batch fails at once, so that a
#: column of scores passed as labels cannot fill the memory.
_MAX_KEPT_LABELS = 1000


@dataclass
class FairnessCounts:
    """Rows per (group, true label, predicted label), and what the labels and groups hold."""

    features: list[str]
    cells: dict[tuple, int] = field(default_factory=dict)
    labels: dict[str, dict[Any, None]] = field(default_factory=dict)
    declared_order: dict[str, list] = field(default_factory=dict)
    rows: int = 0

    def add(self, groups: Sequence[tuple], y_true: Sequence, y_pred: Sequence, counts: Sequence[int]) -> None:
        """Add ``counts[i]`` rows of group ``groups[i]`` with labels ``y_true[i], y_pred[i]``."""
        for group, truth, pred, count in zip(groups, y_true, y_pred, counts, strict=True):
            key = (tuple(group), truth, pred)
            self.cells[key] = self.cells.get(key, 0) + int(count)
            self.rows += int(count)

    def note_labels(self, name: str, values: Sequence) -> None:
        """Record the distinct values of ``y_true`` or ``y_pred`` a batch holds, in its order."""
        seen = self.labels.setdefault(name, {})
        for value in values:
            if len(seen) > _MAX_KEPT_LABELS:
                break
            seen.setdefault(value, None)

    def merge(self, other: FairnessCounts) -> FairnessCounts:
        """The counts of this part followed by ``other`` (same features)."""
        out = FairnessCounts(list(self.features), dict(self.cells), {k: dict(v) for k, v in self.labels.items()},
                             dict(self.declared_order) or dict(other.declared_order), self.rows)
        for (group, truth, pred), count in other.cells.items():
            out.add([group], [truth], [pred], [count])
        for name, values in other.labels.items():
            out.note_labels(name, list(values))
        return out

    def label_values(self, name: str) -> list:
        """Distinct values of ``y_true`` or ``y_pred``, in first-seen order."""
        return list(self.labels.get(name, {}))

    def report(self, min_group_size: int, columns: tuple[str, str], pos_label: str | None,
               where: str) -> FairnessReport:
        """The fairness report; ``columns`` names the label columns and ``where`` the dataset in errors."""
        if self.rows == 0:
            raise UserError(f"{where}: no rows")
        coding = [binary_coding(self.label_values(name), column, pos_label, where)
                  for name, column in zip(("y_true", "y_pred"), columns, strict=True)]
        groups = self._ordered_groups()
        index = {group: i for i, group in enumerate(groups)}
        cells = np.zeros((len(groups), 4), dtype=np.int64)  # tn, fp, fn, tp as in fairness_report
        for (group, truth, pred), count in self.cells.items():
            cells[index[group], coding[0][truth] * 2 + coding[1][pred]] += count
        return report_from_cells(self.features, groups, cells, min_group_size)

    def _ordered_groups(self) -> list[tuple]:
        groups = list(dict.fromkeys(group for group, _, _ in self.cells))
        ranks = []
        for j, name in enumerate(self.features):
            values = list(dict.fromkeys(group[j] for group in groups))
            declared = [v for v in self.declared_order.get(name, []) if v in set(values)]
            order = declared + canonical_order([v for v in values if v not in set(declared)])
            ranks.append({value: i for i, value in enumerate(order)})
        return sorted(groups, key=lambda group: tuple(rank[v] for rank, v in zip(ranks, group, strict=True)))


def check_labels(counts: FairnessCounts, columns: tuple[str, str], where: str) -> None:
    """Refuse a label column with too many values to keep, as soon as a batch shows them.

    A column with a few labels too many is reported after the whole dataset is read, with the
    in-memory audit's message (which gives the exact number, and lets missing values be named
    first, as in memory).
    """
    for name, column in zip(("y_true", "y_pred"), columns, strict=True):
        labels = counts.label_values(name)
        if len(labels) > _MAX_KEPT_LABELS:
            shown = ", ".join(repr(v) for v in labels[:5])
            raise UserError(f"{where}: column '{column}' has more than {_MAX_KEPT_LABELS} distinct labels "
                            f"({shown}, ...); a binary audit needs two")


def report_from_cells(features: list[str], groups: list[tuple], cells: np.ndarray, min_group_size: int) -> FairnessReport:
    """A :class:`FairnessReport` from per-group ``tn, fp, fn, tp`` counts (the fairness module's formulas)."""
    clash = sorted(set(features) & set(_TABLE_COLUMNS))
    if clash:
        raise UserError(f"sensitive column '{clash[0]}' has the name of a group-table column; rename it")
    tn, fp, fn, tp = cells.T
    rates = _rates(tp, fp, tn, fn)
    excluded = rates["count"] < min_group_size
    table: dict[str, Any] = {}
    for j, name in enumerate(features):
        column = np.empty(len(groups), dtype=object)
        column[:] = [group[j] for group in groups]
        table[name] = column
    table.update(rates)
    table.update(excluded=excluded, tp=tp, fp=fp, tn=tn, fn=fn)
    total = _rates(*(np.array([c.sum()]) for c in (tp, fp, tn, fn)))
    overall = {name: value[0].item() for name, value in total.items()}
    return FairnessReport(sensitive_features=list(features), groups=pd.DataFrame(table),
                          metrics=_disparities(rates, ~excluded), overall=overall, min_group_size=int(min_group_size))
