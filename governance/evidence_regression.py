"""Regression outcomes as evidence: real-valued targets and predictions by sensitive group.

:class:`governance.evidence.Predictions` holds binary classification outcomes. A regression
model hands its gate a :class:`RegressionPredictions` as the ``predictions`` piece instead;
checks that understand regression (``fairness.group_metric`` with ``mae``, ``rmse``,
``mean_prediction``, ``mean_target``) read it, the others refuse it by type.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from governance.errors import UserError

if TYPE_CHECKING:
    import pandas as pd


@dataclass
class RegressionPredictions:
    """Targets and predictions of one regression model on one dataset.

    Parameters
    ----------
    y_true, y_pred : array-like of finite numbers, one per row
    sensitive : the sensitive-feature columns, aligned with the rows (as for
        :class:`~governance.evidence.Predictions`)

    Raises
    ------
    UserError
        Misaligned lengths, values that are not numbers, missing or non-finite values; one
        line naming the field.
    """

    y_true: np.ndarray
    y_pred: np.ndarray
    sensitive: pd.DataFrame

    def __post_init__(self) -> None:
        from governance import evidence_input as inp

        self.sensitive = inp.as_sensitive(self.sensitive)
        self.y_true = inp.as_regression(self.y_true, "y_true")
        self.y_pred = inp.as_regression(self.y_pred, "y_pred")
        lengths = {"y_true": len(self.y_true), "y_pred": len(self.y_pred), "sensitive": len(self.sensitive)}
        if len(set(lengths.values())) > 1:
            raise UserError("regression predictions are misaligned: "
                            + ", ".join(f"{k} has {v} rows" for k, v in lengths.items()))

    @property
    def y_score(self) -> None:
        """Regression has no classification scores."""
        return None
