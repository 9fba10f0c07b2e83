"""The streaming engine: fairness and drift audits of datasets of any size, in bounded memory.

Each record batch becomes partial aggregates (:mod:`governance.metrics.fairness_partials`,
:mod:`governance.metrics.partials`), merged as the batches go by; the reports are computed
from the merged partials by the same code as in memory, so the numbers are the in-memory
engine's. Memory is bounded by the batch size and the partials' cap, never by the row count.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from governance.engines.columns import factorize, numbers, pandas_dtypes, partial_of
from governance.errors import UserError
from governance.io import missing_column_message
from governance.metrics.counted import SKETCH_BINS, Histograms, binned
from governance.metrics.drift import (
    DriftInputs,
    DriftOptions,
    DriftReport,
    HistogramRequest,
    prediction_from_partials,
    report_from_partials,
    wanted_columns,
)
from governance.metrics.fairness import FairnessReport
from governance.metrics.fairness_partials import FairnessCounts, check_labels
from governance.metrics.partials import DEFAULT_CAP, ColumnPartial, merge
from governance.stream import DEFAULT_BATCH_ROWS, Dataset, Progress

# Above this many (group x label x label) cells a batch is counted with np.unique, not bincount.
_DENSE_CELLS = 1 << 22


@dataclass
class _Missing:
    """Missing values per column: how many, and where the first one is."""

    counts: dict[str, int] = field(default_factory=dict)
    first: dict[str, tuple[str, int]] = field(default_factory=dict)

    def note(self, column: str, missing: np.ndarray, where: str, offset: int) -> None:
        n = int(missing.sum())
        if n:
            self.counts[column] = self.counts.get(column, 0) + n
            self.first.setdefault(column, (where, offset + int(missing.argmax()) + 1))

    def raise_first(self, columns: Sequence[str]) -> None:
        for column in columns:
            if column in self.counts:
                where, row = self.first[column]
                raise UserError(f"{where}: column '{column}' has {self.counts[column]} missing value(s) "
                                f"(first in data row {row}); fill or drop them first")


def stream_fairness(dataset: Dataset, y_true: str, y_pred: str, features: list[str], *, y_score: str | None = None,
                    pos_label: str | None = None, min_group_size: int = 1, batch_rows: int = DEFAULT_BATCH_ROWS,
                    progress: bool | None = None) -> FairnessReport:
    """The fairness report of a dataset of predictions, read in record batches.

    Equal to ``rai audit fairness``'s in-memory report on the same rows (the same checks of
    labels, missing values and scores, the same messages).
    """
    labels = [y_true, y_pred]
    columns = list(dict.fromkeys(labels + ([y_score] if y_score else []) + features))
    dataset.require(columns)
    counts, missing, scores = FairnessCounts(list(features)), _Missing(), _Scores()
    if dataset.arrow_schema is not None:
        counts.declared_order = _declared(dataset, features)
    with Progress(f"reading {dataset.name}", dataset.total_rows(), progress) as bar:
        for batch in dataset.batches(columns, batch_rows, dictionary=features, text=features):
            where = dataset.where(batch.file)
            coded = {name: factorize(_column(batch.data, name)) for name in dict.fromkeys(labels + features)}
            for name, (codes, _, has_missing) in coded.items():
                if has_missing:
                    missing.note(name, codes < 0, where, batch.offset)
            if y_score:
                scores.note(_column(batch.data, y_score), batch.offset, where, missing, y_score)
            _count_batch(counts, coded, labels, features)
            check_labels(counts, (y_true, y_pred), dataset.name)
            bar.advance(batch.rows)
    missing.raise_first(list(dict.fromkeys(labels + ([y_score] if y_score else []) + features)))
    report = counts.report(min_group_size, (y_true, y_pred), pos_label, dataset.name)
    scores.check(dataset.name, y_score)
    return report


def _column(data, name: str):
    return data.column(name) if hasattr(data, "num_rows") else data[name]


def _declared(dataset: Dataset, features: list[str]) -> dict[str, list]:
    import pyarrow as pa

    out = {}
    for name in features:
        kind = dataset.arrow_schema.field(name).type
        if pa.types.is_dictionary(kind) and kind.ordered:
            import pyarrow.parquet as pq

            first = next(pq.ParquetFile(dataset.files[0]).iter_batches(columns=[name], batch_size=1), None)
            out[name] = first.column(0).dictionary.to_pylist() if first is not None else []
    return out


def _count_batch(counts: FairnessCounts, coded: dict, labels: list[str], features: list[str]) -> None:
    """Rows per (group, true, predicted) of one batch: one bincount over combined codes."""
    order = features + labels
    sizes = [max(len(coded[name][1]), 1) for name in order]
    if float(np.prod(sizes, dtype=np.float64)) <= _DENSE_CELLS:
        combined = np.zeros(len(coded[order[0]][0]), dtype=np.int64)
        for name, size in zip(order, sizes, strict=True):
            codes, _, has_missing = coded[name]
            combined *= size
            combined += np.maximum(codes, 0) if has_missing else codes  # missing values fail the audit later
        cells = np.bincount(combined)
        present = np.flatnonzero(cells)
        digits, found = np.unravel_index(present, sizes), cells[present]
    else:  # many groups: count the distinct rows of codes instead of a dense table
        codes = [np.maximum(coded[name][0], 0) for name in order]
        rows, found = np.unique(np.stack(codes, axis=1), axis=0, return_counts=True)
        digits = rows.T
    values = []
    for name, digit in zip(order, digits, strict=True):
        uniques = coded[name][1]
        values.append([uniques[i] for i in digit.tolist()] if uniques else digit.tolist())
    counts.add(list(zip(*values[: len(features)], strict=True)), values[-2], values[-1], found.tolist())
    for name, key, seen in zip(labels, ("y_true", "y_pred"), values[-2:], strict=True):
        counts.note_labels(key, _first_seen(coded[name], seen, counts.labels.get(key, {})))


def _first_seen(coded, present: list, known) -> list:
    """The labels of a batch not noted before, in the order of their first row (as pandas lists them)."""
    codes, uniques, _ = coded
    new = [v for v in dict.fromkeys(present) if v not in known]
    if len(new) <= 1:
        return new
    index = {value: i for i, value in enumerate(uniques)}
    return sorted(new, key=lambda v: int(np.argmax(codes == index[v])))


@dataclass
class _Scores:
    """What the in-memory audit checks of a score column: numbers, present, finite."""

    kind_error: str | None = None
    bad: int = 0
    first_bad: int | None = None

    def note(self, column, offset: int, where: str, missing: _Missing, name: str) -> None:
        values, kind = numbers(column)
        if values is None:
            self.kind_error = self.kind_error or str(getattr(column, "dtype", "object"))
            return
        missing.note(name, np.isnan(values), where, offset)
        bad = ~np.isfinite(values)
        if bad.any():
            self.first_bad = self.first_bad if self.first_bad is not None else offset + int(bad.argmax())
            self.bad += int(bad.sum())

    def check(self, where: str, name: str | None) -> None:
        if self.kind_error:
            raise UserError(f"{where}: column '{name}' must hold numeric scores, got {self.kind_error}")
        if self.bad:
            raise UserError(f"y_score: {self.bad} missing or non-finite score(s) (first at row {self.first_bad})")


def stream_drift(reference: Dataset, current: Dataset, options: DriftOptions, *, prediction: str | None = None,
                 batch_rows: int = DEFAULT_BATCH_ROWS, cap: int | None = DEFAULT_CAP,
                 progress: bool | None = None) -> tuple[DriftReport, dict | None]:
    """The drift report (and the prediction row) of two datasets read in record batches."""
    names = (reference.name, current.name)
    wanted = wanted_columns(list(reference.columns), list(current.columns), options, names)
    if prediction is not None:
        for dataset in (reference, current):
            if prediction not in dataset.columns:
                raise UserError(f"{dataset.name}: --prediction: {missing_column_message(prediction, dataset.columns)}")
        if options.columns is None or prediction not in options.columns:  # model outputs are not features
            wanted = [c for c in wanted if c != prediction]
    to_read = list(dict.fromkeys(wanted + ([prediction] if prediction else [])))
    parts = [_partials(dataset, to_read, batch_rows, cap, progress) for dataset in (reference, current)]
    inputs = DriftInputs(parts[0], parts[1], cap, lambda requests: _second_pass(reference, current, requests,
                                                                                 batch_rows, progress))
    report = report_from_partials(inputs, wanted, options, names)
    row = None
    if prediction is not None:
        row = prediction_from_partials(inputs, prediction, options.stattest, options.threshold, names=names)
    return report, row


def _partials(dataset: Dataset, columns: list[str], batch_rows: int, cap: int | None,
              progress: bool | None) -> dict[str, ColumnPartial]:
    dtypes = pandas_dtypes(dataset.arrow_schema) if dataset.arrow_schema is not None else {}
    text = [c for c in columns if dtypes.get(c) in ("object", "category")]
    out = {name: ColumnPartial() for name in columns}
    rows = 0
    with Progress(f"reading {dataset.name}", dataset.total_rows(), progress) as bar:
        for batch in dataset.batches(columns, batch_rows, dictionary=text):
            for name in columns:
                part = partial_of(_column(batch.data, name), dtypes.get(name), cap, counted=not out[name].overflow)
                out[name] = merge(out[name], part, cap)
            rows += batch.rows
            bar.advance(batch.rows)
    if rows == 0:
        raise UserError(f"{dataset.name}: no rows")
    return out


def _second_pass(reference: Dataset, current: Dataset, requests: dict[str, HistogramRequest], batch_rows: int,
                 progress: bool | None) -> dict[str, Histograms]:
    """Histograms of the requested numerical columns: one more read of both datasets."""
    sides = []
    for dataset in (reference, current):
        found: dict[str, dict[int, list]] = {c: {} for c in requests}
        with Progress(f"binning {dataset.name}", dataset.total_rows(), progress) as bar:
            for batch in dataset.batches(list(requests), batch_rows):
                for name, request in requests.items():
                    values, _ = numbers(_column(batch.data, name))
                    values = values[np.isfinite(values)]
                    for bins in request.bins:
                        counts, offsets = binned(values, bins, request.low, request.high)
                        total = found[name].setdefault(bins, [np.zeros(bins, np.int64), np.zeros(bins)])
                        total[0] += counts
                        total[1] += offsets
                bar.advance(batch.rows)
        sides.append(found)
    out = {}
    for name, request in requests.items():
        ref, cur = sides[0][name], sides[1][name]
        hist = Histograms(request.low, request.high, {b: (ref[b][0], cur[b][0]) for b in request.bins})
        if request.offsets:
            hist.offsets = (ref[SKETCH_BINS][1], cur[SKETCH_BINS][1])
        out[name] = hist
    return out
