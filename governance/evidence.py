"""Evidence: the contract between lifecycle stages (or ``rai audit``) and the checks.

A stage hands the gate an :class:`Evidence` holding named pieces. Checks ask for the pieces they
need with :meth:`Evidence.require`; a missing piece raises :class:`MissingEvidence`, which the
engine turns into an ``error`` finding (fail closed).

Well-known pieces (producers must use these names and types):

``predictions`` : :class:`Predictions`
    Labels (or regression targets), predictions, optional scores and the sensitive-feature
    columns of one model; ``Predictions.task`` says binary, multiclass or regression.
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
``baselines`` : ``dict[str, governance.baseline.Baseline]``
    The registered models that ``relative_to`` rules compare with (added by ``rai run`` and
    ``rai.start_run`` runs when a rule asks for one).
``model_stats`` / ``parent_stats`` : ``dict``
    At ``optimize``: ``{"size_bytes", "latency_ms"}`` of the variant and of its parent.
``sensitive_features`` : ``list[str]``
    The run's sensitive features (the spec's, ``--sensitive``): rules that name none use them;
    without this piece, the columns of ``predictions.sensitive`` are the run's.
``missing_labels`` : ``str``
    The rows' outcomes are not known (a live batch without its target column, a window of the
    prediction log no outcome is joined to yet): the name of the absent target column. The
    ``predictions`` then carry no labels (``y_true`` is ``None``); only label-free checks see
    them, and the engine records every other rule as needing labels, as the policy's
    ``on_missing_labels`` says (:func:`missing_labels`).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from governance.errors import MissingEvidence, UserError
from governance.vocabulary import TASKS

if TYPE_CHECKING:  # pandas costs ~0.3 s to import; `rai policy lint` never needs it
    import pandas as pd


@dataclass
class Predictions:
    """Outcomes of one model on one dataset: binary (the default), multiclass or regression.

    Parameters
    ----------
    y_true, y_pred : array-like, one label (or, for regression, one number) per row
        (numpy, list, pandas or pyarrow). Binary: 0/1 integers or booleans; other labels
        (``">50K"``, ``"default"``) need ``pos_label``. Multiclass: any class labels (text,
        integers, whole numbers). Regression: finite numbers. ``y_true`` may be ``None``: the
        rows' outcomes are not known yet (live data), and only label-free numbers (selection
        rates, mean scores, mean predictions) can be computed from them.
    sensitive : the sensitive-feature columns, aligned with the labels
        A ``pandas.DataFrame`` (one column per feature; several form intersectional groups), a
        ``Series``, a ``{name: values}`` mapping, a pyarrow ``Table``, or a 1-D array (named
        ``sensitive``).
    y_score : scores, optional
        Binary: finite positive-class scores, one per row. Multiclass: class probabilities,
        shape (rows, classes), columns in the order of ``classes``. Regression: none.
    pos_label : the label value that means positive, when binary labels are not 0/1
    task : ``"binary"`` (default), ``"multiclass"`` or ``"regression"`` (keyword only)
    favorable_label : the outcome the people concerned want (keyword only)
        Decides what "selection" means in parity metrics. Binary: ``pos_label`` (the default) or
        the other label; in credit, where "default" is the positive class, the favourable
        outcome is the other label. Multiclass: one class, whose one-vs-rest rates the parity
        metrics then compare (default: every class, the worst counts). Regression: none.
    classes : multiclass only: every class the model knows, in score-column order
        (default: the labels that occur, sorted)
    value_labels : ``{column: {value: label}}``, readable names for sensitive values
        (``{"sex": {1: "male", 2: "female"}}``); see :mod:`governance.groups`
    bins : ``{column: [edges]}``, numeric sensitive columns cut into bands
        (``{"age": [0, 25, 40, 60, 120]}`` gives ``0-25``, ``25-40``, ...)

    After construction ``y_true`` (unless ``None``) and ``y_pred`` hold 0/1 ``int64`` (binary; 1 is positive),
    ``int64`` indexes into ``classes`` (multiclass) or ``float64`` (regression); ``y_score`` is
    ``float64`` (or ``None``); ``sensitive`` is a ``DataFrame`` with a fresh ``RangeIndex``, labelled
    and binned columns as ordered categoricals; ``favorable_code`` is the coded label that counts
    as selected (binary: 1 or 0; multiclass: a class index or ``None``; regression: ``None``).

    Raises
    ------
    UserError
        Misaligned lengths, labels that do not fit the task (named, never silently binarised),
        missing or non-finite labels or scores, options that do not apply to the task, bins that
        do not cover a column, labels for values that do not occur, or a type that is not
        array-like; one line naming the field.
    """

    y_true: np.ndarray | None
    y_pred: np.ndarray
    sensitive: pd.DataFrame
    y_score: np.ndarray | None = None
    pos_label: Any = None
    task: str = field(default="binary", kw_only=True)
    favorable_label: Any = field(default=None, kw_only=True)
    classes: Any = field(default=None, kw_only=True)
    value_labels: Mapping[str, Mapping[Any, str]] | None = field(default=None, kw_only=True)
    bins: Mapping[str, Any] | None = field(default=None, kw_only=True)
    favorable_code: int | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        from governance import evidence_input as inp
        from governance.groups import apply_groups

        _refuse_options(self)
        self.sensitive = apply_groups(inp.as_sensitive(self.sensitive), self.value_labels, self.bins)
        labelled = self.y_true is not None
        truth = self.y_true if labelled else self.y_pred  # without labels, coded alongside the predictions only
        if self.task == "binary":
            self.favorable_code = inp.binary_favorable(truth, self.y_pred, self.pos_label, self.favorable_label)
            truth = inp.as_binary(truth, "y_true", self.pos_label)
            self.y_pred = inp.as_binary(self.y_pred, "y_pred", self.pos_label)
            if self.y_score is not None:
                self.y_score = inp.as_scores(self.y_score, "y_score")
        elif self.task == "multiclass":
            truth, self.y_pred, self.classes = inp.as_multiclass(self.y_true, self.y_pred, self.classes)
            self.favorable_code = _class_index(self.classes, self.favorable_label)
            if self.y_score is not None:
                self.y_score = inp.as_score_matrix(self.y_score, "y_score", len(self.classes))
        else:
            truth = inp.as_regression(truth, "y_true")
            self.y_pred = inp.as_regression(self.y_pred, "y_pred")
        self.y_true = truth if labelled else None
        _aligned(self)

    @property
    def labelled(self) -> bool:
        """Whether the rows' outcomes (``y_true``) are known."""
        return self.y_true is not None

    def with_outputs(self, y_pred: Any, y_score: Any = None) -> Predictions:
        """Another model's predictions on the same rows: same labels, groups, task and classes.

        ``y_pred`` is coded as this object's ``y_pred`` is (0/1, class indexes, or numbers), so a
        converted model's outputs can be compared with its parent's.
        """
        from governance import evidence_input as inp

        other = copy.copy(self)
        if self.task == "binary":
            other.y_pred = inp.as_binary(y_pred, "y_pred")
            other.y_score = None if y_score is None else inp.as_scores(y_score, "y_score")
        elif self.task == "multiclass":
            codes = np.arange(len(self.classes))
            other.y_pred = inp.as_multiclass(None, y_pred, codes)[1]
            other.y_score = None if y_score is None else inp.as_score_matrix(y_score, "y_score", len(codes))
        else:
            if y_score is not None:
                raise UserError(TASK_OPTION.format(option="y_score", task=self.task))
            other.y_pred = inp.as_regression(y_pred, "y_pred")
        _aligned(other)
        return other


def task_of(predictions: Any) -> str:
    """``binary``, ``multiclass`` or ``regression``: what a ``predictions`` piece holds."""
    from governance.evidence_regression import RegressionPredictions

    if isinstance(predictions, RegressionPredictions):
        return "regression"
    return getattr(predictions, "task", "binary")


TASK_OPTION = "{option} does not apply to task '{task}'"
UNKNOWN_TASK = "task: must be one of {tasks}, got {got!r}"


def _refuse_options(p: Predictions) -> None:
    """Options of another task are mistakes, not defaults to ignore."""
    if not isinstance(p.task, str) or p.task not in TASKS:
        raise UserError(UNKNOWN_TASK.format(tasks=", ".join(TASKS), got=p.task))
    wrong = {"binary": ("classes",), "multiclass": ("pos_label",),
             "regression": ("pos_label", "favorable_label", "classes", "y_score")}[p.task]
    for option in wrong:
        if getattr(p, option) is not None:
            raise UserError(TASK_OPTION.format(option=option, task=p.task))


def _class_index(classes: np.ndarray, favorable: Any) -> int | None:
    if favorable is None:
        return None
    from governance.evidence_input import canonical, show

    for i, label in enumerate(classes):
        if label == favorable or canonical(label) == canonical(favorable):
            return i
    raise UserError(f"favorable_label: {favorable!r} is not a class (classes: {show(classes)})")


def _aligned(p: Predictions) -> None:
    lengths = {"y_pred": len(p.y_pred), "sensitive": len(p.sensitive)}
    if p.y_true is not None:
        lengths = {"y_true": len(p.y_true), **lengths}
    if p.y_score is not None:
        lengths["y_score"] = len(p.y_score)
    if len(set(lengths.values())) > 1:
        raise UserError("predictions are misaligned: " + ", ".join(f"{k} has {v} rows" for k, v in lengths.items()))


#: The pieces that hold the rows' labels: rules that read them need labels.
LABEL_PIECES = ("predictions", "target")


def missing_labels(evidence: Evidence) -> str | None:
    """What the rows lack when their outcomes are not known: ``column Y absent`` (the
    ``missing_labels`` piece), or ``the predictions carry none`` for ``predictions`` given
    without ``y_true``; ``None`` when the rows are labelled (or carry no predictions at all)."""
    column = evidence.get("missing_labels")
    if column is not None:
        return f"column {column} absent"
    predictions = evidence.get("predictions")
    unlabelled = isinstance(predictions, Predictions) and not predictions.labelled
    return "the predictions carry none" if unlabelled else None


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
