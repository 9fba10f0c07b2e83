"""The monitor gate's evidence for live rows, for the registered model's task.

A batch (:mod:`lifecycle.monitor`) or a window of the prediction log
(:mod:`lifecycle.monitor_windows`) gives rows, the model's :class:`Outputs` on them and, when
the outcomes are known, their labels coded as at training (:mod:`lifecycle.labels`). From these
:func:`batch_evidence` builds the :class:`~governance.evidence.Predictions` the pipeline's
evaluate stage builds for the task (:mod:`lifecycle.outputs`), with the sensitive columns grouped
by the entry's ``value_labels`` and ``bins``:

* binary: 0/1 decisions (the positive-class score against the entry's threshold) and the scores;
  the favourable label as at training;
* multiclass: the most probable class, named as the schema's ``classes``, with the probability
  matrix (columns in ``classes`` order) and the favourable class;
* regression: the predicted values.

Prediction drift compares the outputs recorded at registration with the live ones: scores
(binary), predicted classes (multiclass) or predicted values (regression).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from governance.errors import UserError
from governance.evidence import Evidence, Predictions
from governance.evidence_input import as_sensitive, canonical
from governance.groups import apply_groups
from lifecycle.labels import favorable_of, task_of_schema
from lifecycle.measure import group_gaps, performance
from lifecycle.outputs import class_probabilities, positive_scores, predicted_numbers


@dataclass(frozen=True)
class Outputs:
    """What a model answered for each row: ``decisions`` (binary 0/1, multiclass class names,
    regression values) and ``scores`` (binary positive-class scores, multiclass probabilities
    of shape (rows, classes), regression ``None``)."""

    decisions: np.ndarray
    scores: np.ndarray | None

    def at(self, rows: list[int]) -> Outputs:
        """The outputs of some rows only."""
        return Outputs(self.decisions[rows], None if self.scores is None else self.scores[rows])


def model_outputs(raw: Any, schema: dict[str, Any], threshold: float, where: str) -> Outputs:
    """A model's raw outputs on rows, read for the schema's task (UserError if they do not fit it)."""
    task = task_of_schema(schema)
    if task == "regression":
        return Outputs(predicted_numbers(raw, where), None)
    if task == "multiclass":
        probabilities = class_probabilities(raw, len(schema["classes"]), where)
        return Outputs(np.asarray(schema["classes"], dtype=object)[probabilities.argmax(axis=1)], probabilities)
    scores = positive_scores(raw, where)
    return Outputs((scores >= threshold).astype(np.int64), scores)


def logged_outputs(records: list[dict[str, Any]], schema: dict[str, Any], where: str) -> Outputs:
    """The outputs a server logged: its decisions as made (``label``, or the value in ``score``)."""
    task = task_of_schema(schema)
    if task == "regression":
        return Outputs(predicted_numbers([r.get("score") for r in records], where), None)
    if task == "multiclass":
        if any(not isinstance(r.get("probabilities"), list) for r in records):
            raise UserError(f"{where}: a decision of this multiclass model was logged without its class probabilities")
        probabilities = class_probabilities([r["probabilities"] for r in records], len(schema["classes"]), where)
        return Outputs(np.asarray([r.get("label") for r in records], dtype=object), probabilities)
    labels = np.asarray([_number(r.get("label")) for r in records], dtype=float)
    bad = ~np.isin(labels, (0.0, 1.0))
    if bad.any():
        record = records[int(bad.argmax())]
        raise UserError(f"{where}: decision {record.get('request_id')!r} row {record.get('row', 0)} of this binary "
                        f"model was logged with label {record.get('label')!r}; a binary decision is 0 or 1")
    scores = positive_scores(np.asarray([_number(r.get("score")) for r in records], dtype=float), where)
    return Outputs(labels.astype(np.int64), scores)


def _number(value: Any) -> float:
    """A logged number as a float; anything else (text, null) as NaN, which the callers refuse."""
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else float("nan")


def batch_evidence(served: Any, frame: pd.DataFrame, labels: np.ndarray | None, outputs: Outputs,
                   where: str = "batch") -> tuple[Evidence, dict[str, Any]]:
    """The monitor gate's evidence for rows of live data and the model's outputs, and the headline numbers.

    Without ``labels`` the predictions carry none and the evidence names the absent target column.
    """
    schema, body = served.schema, served.entry.body
    features = schema["numeric"] + schema["categorical"]
    reference = pd.read_parquet(served.entry.file("reference"))
    recorded = pd.read_parquet(served.entry.file("reference_predictions"))
    predictions = predictions_of(outputs, schema, labels, sensitive_groups(frame, schema, where))
    reference_out, current_out = _compared_outputs(recorded, outputs, schema)
    numbers: dict[str, Any] = {"rows": len(frame), "reference_rows": len(reference),
                               **_levels(reference_out, current_out, recorded, served, schema),
                               **_label_free_gaps(predictions, schema)}
    if labels is not None:
        numbers["performance"] = performance(predictions)
        numbers["group_gaps"] = group_gaps(predictions, schema["sensitive"])
    card = body.get("model_card") or {}
    metadata = {"owner": (card.get("model_details") or {}).get("owner"),
                "intended_use": (card.get("intended_use") or {}).get("primary"),
                "limitations": card.get("caveats_and_recommendations")}
    numbers["drift"] = _drift_summary(reference[features], frame[features], reference_out, current_out)
    target = schema["target"]
    dataset = frame.assign(**{target: labels}) if labels is not None else frame
    evidence = Evidence(reference=reference[features], current=frame[features], prediction_reference=reference_out,
                        prediction_current=current_out, predictions=predictions, metadata=metadata,
                        lineage=body.get("lineage"), dataset=dataset, target=target if labels is not None else None,
                        missing_labels=target if labels is None else None,
                        sensitive_features=list(schema["sensitive"]) or None)
    return evidence, numbers


def predictions_of(outputs: Outputs, schema: dict[str, Any], labels: np.ndarray | None,
                   sensitive: pd.DataFrame) -> Predictions:
    """The ``predictions`` evidence of the task, as the evaluate stage builds it (labels optional)."""
    task = task_of_schema(schema)
    if task == "regression":
        return Predictions(labels, outputs.decisions, sensitive, task="regression")
    if task == "multiclass":
        return Predictions(labels, outputs.decisions, sensitive, y_score=outputs.scores, task="multiclass",
                           classes=list(schema["classes"]), favorable_label=favorable_of(schema))
    return Predictions(labels, outputs.decisions, sensitive, y_score=outputs.scores, favorable_label=favorable_of(schema))


def sensitive_groups(frame: pd.DataFrame, schema: dict[str, Any], where: str) -> pd.DataFrame:
    """The sensitive columns grouped as at training: the entry's value labels and bins applied.

    A live batch need not hold every labelled value; a missing value, a value without a label, or
    one outside every band is refused (one line naming the batch), never grouped under its raw value.
    """
    try:
        sensitive = as_sensitive(frame[schema["sensitive"]].reset_index(drop=True))
    except UserError as err:
        raise UserError(f"{where}: {err}") from None
    labels = {}
    for column, mapping in (schema.get("value_labels") or {}).items():
        if column in sensitive.columns and sensitive[column].notna().any():
            present = {canonical(v) for v in sensitive[column].dropna().unique()}
            labels[column] = {k: v for k, v in mapping.items() if canonical(k) in present} or mapping
    try:
        return apply_groups(sensitive, labels or None, schema.get("bins") or None,
                            names=("the model's value_labels", "the model's bins"))
    except UserError as err:
        raise UserError(f"{where}: {err}") from None


def _compared_outputs(recorded: pd.DataFrame, outputs: Outputs, schema: dict[str, Any]) -> tuple[pd.Series, pd.Series]:
    """What prediction drift compares: scores (binary), predicted classes or predicted values."""
    if task_of_schema(schema) == "binary":
        return recorded["y_score"].astype(float), pd.Series(np.asarray(outputs.scores, dtype=float), name="y_score")
    kind = object if task_of_schema(schema) == "multiclass" else float
    return recorded["y_pred"].astype(kind), pd.Series(np.asarray(outputs.decisions, dtype=kind), name="y_pred")


def _levels(reference: pd.Series, current: pd.Series, recorded: pd.DataFrame, served: Any,
            schema: dict[str, Any]) -> dict[str, Any]:
    """Headline levels: mean score and positive rate, class shares, or mean prediction."""
    task = task_of_schema(schema)
    if task == "regression":
        return {"mean_prediction": {"reference": float(reference.mean()), "current": float(current.mean())}}
    if task == "multiclass":
        shares = {name: values.value_counts(normalize=True) for name, values in (("reference", reference), ("current", current))}
        return {"class_shares": {name: {str(c): float(s.get(c, 0.0)) for c in schema["classes"]} for name, s in shares.items()}}
    return {"mean_score": {"reference": float(reference.mean()), "current": float(current.mean())},
            "positive_rate": {"reference": float((reference >= served.threshold).mean()),
                              "current": float((current >= served.threshold).mean())}}


def _label_free_gaps(predictions: Predictions, schema: dict[str, Any]) -> dict[str, Any]:
    """Per sensitive column, the largest gap in selection rate (multiclass: of the worst class) or,
    for regression, in mean prediction, between groups of at least the default minimum size
    (``None`` when fewer than two such groups)."""
    features = schema["sensitive"]
    gaps = group_gaps(predictions, features)
    if task_of_schema(schema) == "regression":
        return {"mean_prediction_gaps": {f"{f}.mean_prediction_difference": gaps.get(f"{f}.mean_prediction_difference")
                                         for f in features}}
    return {"selection_rate_gaps": {f"{f}.selection_rate_difference": gaps.get(f"{f}.demographic_parity_difference")
                                    for f in features}}


def _drift_summary(reference: pd.DataFrame, current: pd.DataFrame, ref_out: pd.Series,
                   cur_out: pd.Series) -> dict[str, Any]:
    """Descriptive drift of the batch (evidently's default methods), recorded whatever the rules say."""
    from governance.metrics.drift import drift_report, prediction_drift

    out: dict[str, Any] = {}
    try:
        report = drift_report(reference, current).to_dict()
        keep = ("column", "method", "statistic", "threshold", "drifted")
        out["data"] = {"drifted_share": report["drifted_share"], "n_drifted": report["n_drifted"],
                       "columns": [{k: row.get(k) for k in keep} for row in report["columns"]]}
        out["prediction"] = prediction_drift(ref_out, cur_out)
    except UserError as err:  # nothing comparable: say so rather than fail the monitor run
        out["error"] = str(err)
    return out
