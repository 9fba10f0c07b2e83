"""evidently 0.7 as the oracle of the drift tests: run its reports and read back its numbers.

Also the Adult frames the drift tests share (as read by ``governance.io``, and a shifted copy).

Each helper returns rows keyed like rai's drift rows: ``{"method", "statistic", "threshold",
"drifted"}`` per column, where ``method`` is evidently's stattest name and ``drifted`` the status
of evidently's own per-column test (FAIL means drift).
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from evidently import Report
from evidently.legacy.calculations import stattests as evidently_stattests
from evidently.metrics import ValueDrift
from evidently.presets import DataDriftPreset

ADULT = Path(__file__).resolve().parents[2] / "examples" / "adult-income" / "data"

# evidently reports a method it chose by its display name ("K-S p_value") and a method it was
# given by the name it was given ("ks"); both map to the name.
_NAMES = {
    test.display_name: test.name
    for test in vars(evidently_stattests).values() if isinstance(test, evidently_stattests.StatTest)
}


def _run(reference: pd.DataFrame, current: pd.DataFrame, metrics: list) -> tuple[list[dict], dict[str, bool]]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        snapshot = Report(metrics, include_tests=True).run(current, reference).dict()
    failed = {t["metric_config"]["metric_id"]: t["status"] == "FAIL" for t in snapshot["tests"]}
    return snapshot["metrics"], failed


def _row(metric: dict[str, Any], failed: dict[str, bool]) -> dict[str, Any]:
    config = metric["config"]
    return {
        "column": config["column"],
        "method": _NAMES.get(config["method"], config["method"]),
        "statistic": metric["value"],
        "threshold": config["threshold"],
        "drifted": failed[metric["id"]],
    }


def preset(reference: pd.DataFrame, current: pd.DataFrame, **options: Any) -> tuple[dict[str, dict], float, bool]:
    """``DataDriftPreset(**options)``: rows by column, the drifted share and the dataset drift."""
    metrics, failed = _run(reference, current, [DataDriftPreset(**options)])
    rows, share, dataset_drift = {}, None, None
    for metric in metrics:
        if metric["config"]["type"].endswith("ValueDrift"):
            row = _row(metric, failed)
            rows[row["column"]] = row
        elif metric["config"]["type"].endswith("DriftedColumnsCount"):
            share, dataset_drift = metric["value"]["share"], failed[metric["id"]]
    return rows, share, dataset_drift


def value_drift(reference: pd.DataFrame, current: pd.DataFrame, specs: list[dict[str, Any]]) -> list[dict]:
    """One ``ValueDrift(**spec)`` per spec (``column``, optional ``method`` and ``threshold``), in order."""
    metrics, failed = _run(reference, current, [ValueDrift(**spec) for spec in specs])
    return [_row(metric, failed) for metric in metrics]


def same_number(ours: float | None, theirs: float, rel: float = 1e-9) -> bool:
    """Equal to ``rel`` (relative), or both undefined (NaN in evidently, NaN or null in rai)."""
    if theirs is None or math.isnan(theirs):
        return ours is None or math.isnan(ours)
    return ours == pytest.approx(theirs, rel=rel, abs=0)


def assert_rows_equal(ours: dict[str, Any], theirs: dict[str, Any]) -> None:
    """Method, threshold and drift flag identical; statistic equal to 1e-9 relative."""
    got = (ours["method"], ours["threshold"], ours["drifted"])
    assert got == (theirs["method"], theirs["threshold"], theirs["drifted"]), (ours["column"], ours, theirs)
    assert same_number(ours["statistic"], theirs["statistic"]), (ours["column"], ours, theirs)


# --- shared data -----------------------------------------------------------------------------


def read_adult(name: str, missing_marker: bool = False) -> pd.DataFrame:
    """An Adult split as ``governance.io`` reads it; optionally with ``?`` read as missing."""
    return pd.read_csv(ADULT / name, skipinitialspace=True, na_values=["?"] if missing_marker else None)


def shifted(frame: pd.DataFrame) -> pd.DataFrame:
    """The Adult test split moved: older, longer hours, categories relabelled among themselves."""
    out = frame.copy()
    out["age"] += 10
    out["hours-per-week"] = out["hours-per-week"] * 1.3
    out["education-num"] += 2
    out["fnlwgt"] = out["fnlwgt"] * 1.6
    for column in ("workclass", "occupation", "relationship", "marital-status", "race"):
        values = sorted(out[column].dropna().unique())
        out[column] = out[column].map(dict(zip(values, values[1:] + values[:1], strict=True)))
    return out
