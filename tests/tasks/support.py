"""Shared data for the task tests: the bundled Adult splits and models of every task trained on them."""

from __future__ import annotations

import warnings
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

DATA = Path(__file__).resolve().parents[2] / "examples" / "adult-income" / "data"
NUMERIC = ["age", "education-num", "capital-gain", "capital-loss", "hours-per-week"]


@lru_cache(maxsize=1)
def adult_split() -> tuple[pd.DataFrame, pd.DataFrame]:
    read = dict(skipinitialspace=True)
    return pd.read_csv(DATA / "adult.data.csv.gz", **read), pd.read_csv(DATA / "adult.test.csv.gz", **read)


@lru_cache(maxsize=1)
def adult_tasks() -> pd.DataFrame:
    """The Adult test split with predictions of three models trained on the training split.

    ``bin_true``/``bin_pred``/``bin_score``: income above 50K (binary); ``rel_true``/``rel_pred``
    and ``rel_proba_<k>``: the ``relationship`` column (6 classes); ``hours_true``/``hours_pred``:
    hours worked per week (regression).
    """
    from sklearn.linear_model import LinearRegression, LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    train, test = adult_split()
    out = test.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        binary = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500))
        binary.fit(train[NUMERIC], train["Y"].str.startswith(">50K"))
        out["bin_score"] = binary.predict_proba(test[NUMERIC])[:, 1]
        out["bin_pred"] = (out["bin_score"] >= 0.5).astype(int)
        out["bin_true"] = test["Y"].str.startswith(">50K").astype(int)
        multi = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500))
        multi.fit(train[NUMERIC], train["relationship"])
        out["rel_true"], out["rel_pred"] = test["relationship"], multi.predict(test[NUMERIC])
        proba = multi.predict_proba(test[NUMERIC])
        for k, label in enumerate(multi.classes_):
            out[f"rel_proba_{label}"] = proba[:, k]
        features = ["age", "education-num", "capital-gain", "capital-loss"]
        regression = LinearRegression().fit(train[features], train["hours-per-week"])
        out["hours_true"] = test["hours-per-week"].astype(float)
        out["hours_pred"] = regression.predict(test[features])
    return out


def proba_columns(frame: pd.DataFrame) -> list[str]:
    return sorted(c for c in frame.columns if c.startswith("rel_proba_"))


def random_multiclass(seed: int) -> tuple[np.ndarray, np.ndarray, pd.DataFrame, int]:
    """Labels of 2 to 5 classes (some rare), two sensitive features, and a minimum group size."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(20, 600))
    k = int(rng.integers(2, 6))
    weights = rng.dirichlet(np.full(k, 0.7))
    labels = np.array(["c0", "c1", "c2", "c3", "c4"])[:k]
    y_true = rng.choice(labels, n, p=weights)
    y_pred = np.where(rng.random(n) < 0.6, y_true, rng.choice(labels, n))
    sensitive = pd.DataFrame({"a": rng.choice(["p", "q", "r", "s"], n, p=[0.55, 0.3, 0.1, 0.05]),
                              "b": rng.integers(0, 3, n)})
    return y_true, y_pred, sensitive, int(rng.integers(1, 25))


def random_regression(seed: int) -> tuple[np.ndarray, np.ndarray, pd.DataFrame, int]:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(20, 600))
    sensitive = pd.DataFrame({"a": rng.choice(["p", "q", "r", "s"], n, p=[0.55, 0.3, 0.1, 0.05]),
                              "b": rng.integers(0, 3, n)})
    y_true = rng.normal(40, 12, n).round(int(rng.integers(0, 3)))
    y_pred = y_true + rng.normal(0, 1 + 3 * (sensitive["a"] == "q").to_numpy(), n)
    return y_true, y_pred, sensitive, int(rng.integers(1, 25))


def rows_of_included_groups(report, sensitive: pd.DataFrame) -> np.ndarray:
    """Which rows belong to a group the report compared (not excluded)."""
    included = report.included[report.sensitive_features].astype(object)
    rows = sensitive.astype(object).merge(included.drop_duplicates(), how="left", indicator=True)
    return (rows["_merge"] == "both").to_numpy()


def group_key(row: dict, features: list[str]):
    """The index of a ``MetricFrame.by_group`` row for one of our groups."""
    return tuple(row[f] for f in features) if len(features) > 1 else row[features[0]]


def run_rule(check: str, evidence, params: dict | None = None, stage: str | None = None):
    """The finding of a one-rule policy binding ``check`` at ``stage`` (default: its first stage)."""
    from governance.checks.base import get_check
    from governance.engine import evaluate
    from governance.policy.schema import Policy, Rule

    stage = stage or get_check(check).stages[0]
    rule = Rule(id="rule-under-test", check=check, stage=stage, severity="high", params=params or {})
    (finding,) = evaluate(Policy(policy="test", version="1", owner="tests", rules=[rule]), stage, evidence).findings
    return finding
