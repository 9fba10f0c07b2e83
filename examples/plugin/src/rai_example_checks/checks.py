"""Checks of the example plugin. rai imports this module through the ``rai.checks`` entry point.

A plugin check is written exactly like one of rai's own: ``@register`` with a name (use your own
prefix, here ``example.``), a docstring saying what must hold, the ``stages`` at which its
evidence exists, a ``Params`` model (every rule's ``params`` are validated by it, lint messages
and the JSON Schema come from it) and ``evaluate``. ``cases`` gives the completeness test a
passing and a failing case; ``audits`` lets ``rai audit fairness`` run its rules.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pydantic import Field

from governance.checks.base import Check, CheckParams, Outcome, register
from governance.evidence import Evidence, Predictions


@register("example.selection_rate_floor")
class SelectionRateFloor(Check):
    """Every sensitive group of at least `min_group_size` rows is selected at a rate of at least `min`."""

    stages = ("evaluate", "optimize", "monitor")
    audits = ("fairness",)

    class Params(CheckParams):
        sensitive_features: list[str] = Field(min_length=1, description="Columns forming the groups.")
        min: float = Field(0.1, ge=0, le=1, description="Lowest selection rate allowed for a group.")
        min_group_size: int = Field(30, ge=1, description="Smaller groups are listed, not judged.")

    def evaluate(self, evidence: Evidence, params: Params) -> Outcome:
        predictions = evidence.require("predictions")
        groups = predictions.sensitive[params.sensitive_features].astype(str)
        table = (pd.DataFrame({"selected": predictions.y_pred}).join(groups)
                 .groupby(params.sensitive_features, observed=True)["selected"].agg(["size", "mean"]))
        judged = table[table["size"] >= params.min_group_size]
        rows = [{"group": " / ".join(np.atleast_1d(key)), "count": int(row["size"]),
                 "selection_rate": float(row["mean"]), "excluded": bool(row["size"] < params.min_group_size)}
                for key, row in table.iterrows()]
        if judged.empty:
            raise ValueError(f"no group of {', '.join(params.sensitive_features)} has {params.min_group_size} rows")
        worst = float(judged["mean"].min())
        where = " / ".join(np.atleast_1d(judged["mean"].idxmin()))
        message = f"lowest selection rate {worst:.4g} ({where}); the floor is {params.min}"
        return Outcome(worst >= params.min, message, observed=worst, threshold=params.min,
                       evidence={"groups": rows, "sensitive_features": list(params.sensitive_features)})

    @classmethod
    def cases(cls):
        return [
            ("every-group-selected", lambda: _evidence(0.5, 0.3), {"sensitive_features": ["sex"]}, True),
            ("one-group-rarely-selected", lambda: _evidence(0.5, 0.05), {"sensitive_features": ["sex"]}, False),
        ]


def _evidence(rate_f: float, rate_m: float, n: int = 100) -> Evidence:
    """``n`` rows of each sex, the first ``rate * n`` of each selected."""
    y_pred = np.r_[np.arange(n) < rate_f * n, np.arange(n) < rate_m * n].astype(int)
    sex = pd.DataFrame({"sex": ["F"] * n + ["M"] * n})
    return Evidence(predictions=Predictions(y_true=y_pred, y_pred=y_pred, sensitive=sex))
