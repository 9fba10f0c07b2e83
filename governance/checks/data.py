"""Data-quality checks on the ingested training frame (``ingest``) or a live batch (``monitor``).

They read the ``dataset`` evidence (a pandas DataFrame) and, for the label, ``target`` (the
name of its column, coded 0/1 by the pipeline). All statistics are single vectorized pandas
calls over the frame.
"""

from __future__ import annotations

import pandas as pd
from pydantic import Field

from governance.checks.base import Check, CheckParams, Outcome, register
from governance.display import group_label
from governance.evidence import Evidence
from governance.io import missing_column_message

STAGES = ("ingest", "monitor")


def _columns_or_raise(frame: pd.DataFrame, columns: list[str]) -> None:
    """A rule naming a column the data lacks cannot be evaluated: say which and what exists."""
    available = [str(c) for c in frame.columns]
    for name in columns:
        if name not in available:
            raise ValueError(f"dataset: {missing_column_message(name, available)}")


@register("data.required_columns")
class RequiredColumns(Check):
    """Every listed column is present in the data."""

    stages = STAGES

    class Params(CheckParams):
        columns: list[str] = Field(min_length=1)

    def evaluate(self, evidence: Evidence, params: Params) -> Outcome:
        frame = evidence.require("dataset")
        present = [str(c) for c in frame.columns]
        missing = [c for c in params.columns if c not in present]
        if missing:
            message = "; ".join(missing_column_message(c, present) for c in missing)
        else:
            message = f"all {len(params.columns)} required columns present"
        return Outcome(not missing, message, observed=missing, threshold=list(params.columns),
                       evidence={"missing": missing, "columns": present})


@register("data.missing_values")
class MissingValues(Check):
    """No column has a larger share of missing values than `max_share`."""

    stages = STAGES

    class Params(CheckParams):
        max_share: float = Field(0.05, ge=0, le=1)
        columns: list[str] | None = Field(None, min_length=1, description="Default: every column.")

    def evaluate(self, evidence: Evidence, params: Params) -> Outcome:
        frame = evidence.require("dataset")
        columns = list(params.columns) if params.columns is not None else list(frame.columns)
        _columns_or_raise(frame, columns)
        if frame.empty:
            return Outcome(False, "dataset has no rows", observed=None, threshold=params.max_share)
        shares = frame[columns].isna().mean()
        worst = float(shares.max()) if len(shares) else 0.0
        offenders = shares[shares > params.max_share].sort_values(ascending=False)
        if offenders.empty:
            message = f"largest missing-value share {worst:.2%} <= {params.max_share:.2%}"
        else:
            listed = ", ".join(f"{c} {share:.2%}" for c, share in offenders.items())
            message = f"missing-value share above {params.max_share:.2%}: {listed}"
        table = [{"column": str(c), "missing_share": float(s)} for c, s in shares.items()]
        return Outcome(offenders.empty, message, observed=worst, threshold=params.max_share,
                       evidence={"columns": table, "rows": len(frame)})


@register("data.label_balance")
class LabelBalance(Check):
    """The rarer label makes up at least `min_minority_share` of the labelled rows."""

    stages = STAGES

    class Params(CheckParams):
        min_minority_share: float = Field(0.1, gt=0, le=0.5)

    def evaluate(self, evidence: Evidence, params: Params) -> Outcome:
        frame, target = evidence.require("dataset"), evidence.require("target")
        _columns_or_raise(frame, [target])
        counts = frame[target].value_counts(dropna=True)
        labelled = int(counts.sum())
        # A single class has a minority share of 0: the other class is absent altogether.
        share = float(counts.min() / labelled) if len(counts) >= 2 else 0.0
        rows = {str(k): int(v) for k, v in counts.items()}
        if labelled == 0:
            message = f"target '{target}' has no labelled rows"
        elif len(counts) < 2:
            message = f"target '{target}' has a single class ({next(iter(rows))})"
        else:
            message = f"minority class share {share:.2%} (need >= {params.min_minority_share:.2%})"
        return Outcome(share >= params.min_minority_share, message, observed=share,
                       threshold=params.min_minority_share,
                       evidence={"counts": rows, "unlabelled": int(frame[target].isna().sum())})


@register("data.group_size")
class GroupSize(Check):
    """Every (intersectional) group of the sensitive features has at least `min_count` rows."""

    stages = STAGES

    class Params(CheckParams):
        sensitive_features: list[str] = Field(min_length=1)
        min_count: int = Field(30, ge=1)

    def evaluate(self, evidence: Evidence, params: Params) -> Outcome:
        frame = evidence.require("dataset")
        features = list(params.sensitive_features)
        _columns_or_raise(frame, features)
        if frame.empty:
            return Outcome(False, "dataset has no rows", observed=0, threshold=params.min_count)
        # dropna=False: rows with a missing sensitive value form their own group, never vanish.
        sizes = frame.groupby(features, dropna=False, observed=True).size()
        groups = [
            {"group": dict(zip(features, _as_tuple(key), strict=True)), "count": int(n),
             "too_small": bool(n < params.min_count)}
            for key, n in sizes.items()
        ]
        small = [g for g in groups if g["too_small"]]
        smallest = int(sizes.min())
        if small:
            named = ", ".join(f"{_label(g['group'])} ({g['count']})" for g in small)
            message = f"{len(small)} group(s) below {params.min_count} rows: {named}"
        else:
            message = f"all {len(groups)} groups have >= {params.min_count} rows (smallest {smallest})"
        return Outcome(not small, message, observed=smallest, threshold=params.min_count,
                       evidence={"groups": groups})


def _as_tuple(key) -> tuple:
    return key if isinstance(key, tuple) else (key,)


def _label(group: dict) -> str:
    return group_label({k: "missing" if pd.isna(v) else v for k, v in group.items()})
