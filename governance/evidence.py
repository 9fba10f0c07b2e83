"""Evidence: the contract between lifecycle stages (or ``rai audit``) and the checks.

A stage hands the gate an :class:`Evidence` holding named pieces. Checks ask for the pieces they
need with :meth:`Evidence.require`; a missing piece raises :class:`MissingEvidence`, which the
engine turns into an ``error`` finding (fail closed).

Well-known pieces (producers must use these names and types):

``predictions`` : :class:`Predictions`
    Labels, predictions, optional scores and the sensitive-feature columns of one model.
``parent_predictions`` : :class:`Predictions`
    At ``optimize``: the parent (unconverted) model's predictions on the same rows.
``reference`` / ``current`` : ``pandas.DataFrame``
    Feature frames for data drift (train vs test at ``ingest``; training vs live at ``monitor``).
``prediction_reference`` / ``prediction_current`` : ``pandas.Series``
    Model outputs (scores or labels) for prediction drift.
``dataset`` : ``pandas.DataFrame`` and ``target`` : ``str``
    The ingested training frame and its target column, for ``data.*`` checks.
``privacy`` : ``dict``
    ``{"dp": bool, "epsilon", "delta", "noise_multiplier", "l2_norm_clip", "sampling_rate",
    "steps", "epochs", "batch_size", "examples", "accountant"}`` (only ``dp`` when DP is off);
    optionally ``"microbatches"`` (fewer than ``batch_size`` halves the noise that counts),
    ``"epsilon_pld"`` and ``"target_epsilon"``. Checks recompute epsilon from the parameters
    (:func:`governance.metrics.privacy.record_epsilon`); a recorded epsilon must agree with it.
``metadata`` : ``dict``
    Model-card fields: ``owner``, ``intended_use``, ``out_of_scope_uses``, ``limitations``, ...
``approvals`` : ``list[dict]``
    Recorded approvals of this run: ``{"role", "decision", "actor", "time", "comment"}``.
``lineage`` : ``dict``
    ``{"datasets": {name: sha256}, "model": sha256 | None, ...}``.
``model_stats`` / ``parent_stats`` : ``dict``
    At ``optimize``: ``{"size_bytes", "latency_ms"}`` of the variant and of its parent.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from governance.errors import MissingEvidence, UserError

if TYPE_CHECKING:  # pandas costs ~0.3 s to import; `rai policy lint` never needs it
    import pandas as pd


@dataclass
class Predictions:
    """Binary-classification outcomes of one model on one dataset.

    Parameters
    ----------
    y_true, y_pred : array-like, one label per row (numpy, list, pandas or pyarrow)
        0/1 integers or booleans; other labels (``">50K"``, ``"default"``) need ``pos_label``.
    sensitive : the sensitive-feature columns, aligned with the labels
        A ``pandas.DataFrame`` (one column per feature; several form intersectional groups), a
        ``Series``, a ``{name: values}`` mapping, a pyarrow ``Table``, or a 1-D array (named
        ``sensitive``).
    y_score : array-like of finite positive-class scores, optional
    pos_label : the label value that means positive, when labels are not 0/1

    After construction ``y_true`` and ``y_pred`` hold 0/1 ``int64``, ``y_score`` ``float64``
    (or ``None``) and ``sensitive`` a ``DataFrame`` with a fresh ``RangeIndex``.

    Raises
    ------
    UserError
        Misaligned lengths, labels that are not 0/1 (without ``pos_label``), missing or
        non-finite labels or scores, or a type that is not array-like; one line naming the field.
    """

    y_true: np.ndarray
    y_pred: np.ndarray
    sensitive: pd.DataFrame
    y_score: np.ndarray | None = None
    pos_label: Any = None

    def __post_init__(self) -> None:
        from governance import evidence_input as inp

        self.sensitive = inp.as_frame(self.sensitive, "sensitive")
        self.y_true = inp.as_binary(self.y_true, "y_true", self.pos_label)
        self.y_pred = inp.as_binary(self.y_pred, "y_pred", self.pos_label)
        if self.y_score is not None:
            self.y_score = inp.as_scores(self.y_score, "y_score")
        lengths = {"y_true": len(self.y_true), "y_pred": len(self.y_pred), "sensitive": len(self.sensitive)}
        if self.y_score is not None:
            lengths["y_score"] = len(self.y_score)
        if len(set(lengths.values())) > 1:
            raise UserError("predictions are misaligned: " + ", ".join(f"{k} has {v} rows" for k, v in lengths.items()))


class Evidence:
    """Named pieces of evidence for one gate; see the module docstring for the names."""

    def __init__(self, **pieces: Any):
        self._pieces = {k: v for k, v in pieces.items() if v is not None}

    def require(self, name: str) -> Any:
        """Return piece ``name`` or raise :class:`MissingEvidence`."""
        try:
            return self._pieces[name]
        except KeyError:
            raise MissingEvidence(name) from None

    def get(self, name: str, default: Any = None) -> Any:
        return self._pieces.get(name, default)

    def __contains__(self, name: str) -> bool:
        return name in self._pieces

    def __iter__(self) -> Iterator[str]:
        return iter(self._pieces)

    def with_(self, **pieces: Any) -> Evidence:
        """A copy with some pieces added or replaced."""
        return Evidence(**{**self._pieces, **pieces})
