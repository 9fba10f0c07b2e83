"""How a served model's outputs become decisions, per task: what each row's answer and log record say.

* ``binary``: ``score`` is the positive-class probability, ``label`` 1 at or above the entry's
  threshold, else 0. Answer ``{"score", "label", "flags"}``.
* ``multiclass``: the class probabilities, renormalised as the audited predictions were
  (:func:`lifecycle.outputs.class_probabilities`); ``label`` is the most probable class as the
  schema's ``classes`` name it, ``score`` its probability. Answer ``{"label", "score",
  "probabilities": {class: p}, "flags"}``; the log keeps ``probabilities`` as a list in
  ``classes`` order.
* ``regression``: the output is the prediction. Answer ``{"prediction", "flags"}``; the log
  keeps it as ``score``, with ``label`` null.

Every value is checked finite first (:class:`NoDecision` names the first row that is not). The
answer's pieces are written out here, the record's in :mod:`lifecycle.serving.service`: each
piece is a number, ``null`` or JSON-encoded once when the server starts.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from governance.errors import UserError

TASKS = ("binary", "multiclass", "regression")
_STRICT = json.JSONEncoder(allow_nan=False, ensure_ascii=True, separators=(",", ":"))


class NoDecision(ValueError):
    """The model gave no usable output for row ``row``: no decision may be made."""

    def __init__(self, row: int):
        super().__init__(f"no finite output for row {row}")
        self.row = row


@dataclass
class Decided:
    """One request's decisions, row by row.

    ``scores``: each row's score (the prediction of a regression) as JSON text, written the same
    in the answer and in the log; ``labels``: each row's log ``label`` as JSON text (or an int,
    whose text it is);
    ``counted``: what ``rai_decisions_total`` counts per row (empty for regression);
    ``probabilities``: multiclass, each row's class probabilities as JSON numbers, in class order.
    """

    scores: list[str]
    labels: list[Any]
    counted: list[Any]
    probabilities: list[list[str]] | None = None


def task_of(body: dict[str, Any], where: str) -> Binary | Multiclass | Regression:
    """The decision rule of a registry entry's manifest ``body`` (its ``schema`` and ``threshold``);
    UserError naming ``where`` when the schema names no task this server knows."""
    schema = body["schema"]
    task = schema.get("task") or "binary"
    if task not in TASKS:
        raise UserError(f"{where}: schema.task must be one of {', '.join(TASKS)}, got {str(task)[:40]!r}")
    if task == "regression":
        return Regression()
    if task == "binary":
        return Binary(float(body.get("threshold", 0.5)))
    classes = schema.get("classes")
    if (not isinstance(classes, list) or len(classes) < 2 or len(set(map(str, classes))) != len(classes)
            or not all(isinstance(c, (str, int)) and not isinstance(c, bool) for c in classes)):
        raise UserError(f"{where}: schema.classes must list the multiclass model's classes (at least two distinct "
                        f"names, in class-index order), got {str(classes)[:80]}")
    return Multiclass(classes)


def _first_bad(values: list[float]) -> int:
    return next((i for i, x in enumerate(values) if not math.isfinite(x)), 0)


class Binary:
    """A positive-class score per row and the threshold that makes it a 0/1 label."""

    name, outputs = "binary", 1

    def __init__(self, threshold: float):
        self.threshold = threshold
        self.metric_labels: tuple[Any, ...] | None = (0, 1)

    def decide(self, output: np.ndarray, rows: int) -> Decided:
        scores = output.tolist()
        if rows == 1 == len(scores):  # one request, one row: the usual case
            score = scores[0]
            if not math.isfinite(score):
                raise NoDecision(0)
            label = 1 if score >= self.threshold else 0
            return Decided([repr(score)], [label], [label])
        finite = math.isfinite
        if len(scores) != rows or not all(finite(x) for x in scores):
            raise NoDecision(_first_bad(scores))
        threshold = self.threshold
        labels = [1 if x >= threshold else 0 for x in scores]
        return Decided([repr(x) for x in scores], labels, labels)

    def answers(self, decided: Decided, flags: list[list[str]]) -> str:
        return ",".join(f'{{"score":{score},"label":{label},"flags":{_STRICT.encode(f) if f else "[]"}}}'
                        for score, label, f in zip(decided.scores, decided.labels, flags, strict=True))

    def decision_schema(self) -> dict[str, Any]:
        return _decision(score={"type": "number", "minimum": 0, "maximum": 1}, label={"enum": [0, 1]})


class Multiclass:
    """Class probabilities per row; the most probable class is the label."""

    name = "multiclass"

    def __init__(self, classes: list[Any]):
        self.classes = list(classes)
        self.outputs = len(classes)
        self.metric_labels = tuple(str(c) for c in classes)
        self._labels = [_STRICT.encode(c) for c in classes]  # each class as the record's JSON value
        self._keys = [_STRICT.encode(str(c)) + ":" for c in classes]  # and as a key of the answer's object

    def decide(self, output: np.ndarray, rows: int) -> Decided:
        from lifecycle.outputs import class_probabilities

        try:
            if len(output) != rows:
                raise UserError("one row of probabilities per row")
            proba = class_probabilities(output, self.outputs, "model")
        except UserError:
            raw = np.asarray(output, dtype=float).reshape(len(output), -1)
            raise NoDecision(int((~np.isfinite(raw).all(axis=1)).argmax()) if len(raw) else 0) from None
        best = proba.argmax(axis=1).tolist()
        shown = [[repr(p) for p in row] for row in proba.tolist()]
        return Decided([row[j] for row, j in zip(shown, best, strict=True)], [self._labels[j] for j in best],
                       [self.metric_labels[j] for j in best], shown)

    def answers(self, decided: Decided, flags: list[list[str]]) -> str:
        keys, items = self._keys, []
        for score, label, row, f in zip(decided.scores, decided.labels, decided.probabilities, flags, strict=True):
            probabilities = ",".join(key + value for key, value in zip(keys, row, strict=True))
            items.append(f'{{"label":{label},"score":{score},"probabilities":{{{probabilities}}},'
                         f'"flags":{_STRICT.encode(f) if f else "[]"}}}')
        return ",".join(items)

    def decision_schema(self) -> dict[str, Any]:
        probability = {"type": "number", "minimum": 0, "maximum": 1}
        probabilities = {"type": "object", "required": list(self.metric_labels), "additionalProperties": False,
                         "properties": {c: probability for c in self.metric_labels}}
        return _decision(label={"enum": self.classes}, score=probability, probabilities=probabilities)


class Regression:
    """The model's output is the prediction: no label, no threshold."""

    name, outputs = "regression", 1

    def __init__(self) -> None:
        self.metric_labels: tuple[Any, ...] | None = None

    def decide(self, output: np.ndarray, rows: int) -> Decided:
        values = output.tolist()
        finite = math.isfinite
        if len(values) != rows or not all(finite(x) for x in values):
            raise NoDecision(_first_bad(values))
        return Decided([repr(x) for x in values], ["null"] * rows, [])

    def answers(self, decided: Decided, flags: list[list[str]]) -> str:
        return ",".join(f'{{"prediction":{value},"flags":{_STRICT.encode(f) if f else "[]"}}}'
                        for value, f in zip(decided.scores, flags, strict=True))

    def decision_schema(self) -> dict[str, Any]:
        return _decision(prediction={"type": "number"})


def _decision(**fields: dict[str, Any]) -> dict[str, Any]:
    flags = {"type": "array", "items": {"type": "string", "description": "COLUMN:KIND"}}
    return {"type": "object", "required": [*fields, "flags"], "additionalProperties": False,
            "properties": {**fields, "flags": flags}}
