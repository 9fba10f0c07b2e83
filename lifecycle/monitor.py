"""Monitor: audit a batch of live data against a deployed model and its policy's ``monitor`` rules.

The registry entry is verified (signature, hashes, and its place in the registry) and the batch is
read and checked before the model is loaded; then the model scores the batch. The batch is read
as the pipeline reads its data (:func:`governance.io.read_table`, with the model's ``na_values``
and the CSV dialect of its ``data.csv``, unless the caller gives the batch's own).
Labels are mapped exactly as at training (:mod:`lifecycle.labels`): a batch with a missing label
or one the model was not trained on is refused, never counted as negative. Evidence for the
``monitor`` gate (names as in :mod:`governance.evidence`; built for the model's task by
:mod:`lifecycle.monitor_evidence`):

``reference`` / ``current``
    the training features kept in the entry (``reference.parquet``) against the batch's features;
``prediction_reference`` / ``prediction_current``
    the model's test-set outputs recorded at registration against its outputs on the batch
    (scores, predicted classes or predicted values);
``predictions``
    the model's decisions (0/1, classes or values) and scores (probabilities) with the sensitive
    columns grouped as at training, and the labels when the batch carries the target column;
``missing_labels``
    when it does not: the target column's name. Label-free rules (selection-rate parity, score
    levels by group, drift) decide on the batch all the same; the others are recorded as needing
    labels ("needs labels (column Y absent)"), as the policy's ``on_missing_labels`` says;
``metadata``, ``lineage``
    the model card's fields and the entry's lineage.

The trail gets, under a fresh monitor run id, ``drift.checked`` (the batch, its hash, the
headline numbers and an evidence blob) and ``gate.decided`` for stage ``monitor``, plus any
``waiver.applied``, then a signed checkpoint.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from governance import csvoptions
from governance.csvoptions import CsvOptions
from governance.engine import evaluate as evaluate_gate
from governance.errors import UserError
from governance.findings import jsonable
from governance.fsutil import file_sha256
from governance.io import missing_column_message, read_columns, read_table
from governance.policy.loader import load_policy
from governance.policy.schema import Policy
from governance.provenance import new_run_id
from governance.recorder import RunRecorder
from governance.trail import open_trail
from governance.trail.signing import KeyRing
from governance.workspace import Workspace
from lifecycle.deploy import RegistryEntry, verified_entry
from lifecycle.labels import code_batch_labels
from lifecycle.measure import finding_brief, reasons
from lifecycle.monitor_evidence import batch_evidence, model_outputs, sensitive_groups
from lifecycle.serve import load_served

_SCHEMA_LISTS = ("numeric", "categorical", "sensitive")
_FLOAT32_MAX = float(np.finfo(np.float32).max)
POLICY_CHANGED = ("{source}: the policy changed since {name} v{version} was registered (sha256 {now}..., "
                  "registered {then}...); pass --policy to monitor with a policy explicitly")


@dataclass
class MonitorResult:
    """The monitor run's id, decision (``passed`` | ``blocked``) and its ``--json`` summary."""

    run_id: str
    decision: str
    summary: dict[str, Any]

    @property
    def exit_code(self) -> int:
        return 0 if self.decision == "passed" else 1


def monitor_batch(batch: str | Path, *, name: str, version: int | None = None, registry: str | Path | None = None,
                  workspace: str | Path | None = None, policy_path: str | Path | None = None,
                  csv_options: CsvOptions | None = None) -> MonitorResult:
    """Score ``batch`` with the registered model ``name`` and gate it with the ``monitor`` rules.

    A CSV batch is read in the dialect the model was trained on (its manifest's ``schema.csv``);
    the fields set in ``csv_options`` (``CsvOptions(sep=";")``) replace recorded ones.
    """
    ws = Workspace.at(workspace)
    registry, trusted = Path(registry) if registry else ws.registry, KeyRing(ws.keys).trusted()
    entry = verified_entry(registry, name, version, trusted)  # no TensorFlow yet: bad input fails fast
    policy = monitor_policy(entry, policy_path)
    frame, labels = read_batch(Path(batch), entry.body.get("schema"), csv_options)
    served = load_served(registry, name, entry.version, trusted)
    if served.entry.body != entry.body:
        raise UserError(f"{entry.dir}: the entry changed while it was being loaded; refusing to monitor")
    raw = np.asarray(served.scorer(frame), dtype=float)
    finite = np.isfinite(raw.reshape(len(raw), -1)).all(axis=1)
    if not finite.all():  # an output that is not a number must never become a decision
        row = int((~finite).argmax())
        raise UserError(f"{batch}: the model gives no finite score for data row {row + 1} (a value far outside "
                        "the training data's range?); nothing was recorded")
    outputs = model_outputs(raw, served.schema, served.threshold, str(batch))
    evidence, numbers = batch_evidence(served, frame, labels, outputs, str(batch))
    trail = open_trail(ws.ensure())
    try:
        recorder = RunRecorder(trail, "monitor-" + new_run_id())
        result = evaluate_gate(policy, "monitor", evidence)
        batch_info = {"file": str(batch), "sha256": file_sha256(batch), "rows": len(frame), "labelled": labels is not None}
        model = {"name": served.entry.name, "version": served.entry.version, "model_sha256": served.entry.body["model_sha256"]}
        blob = recorder.blob({"model": model, "batch": batch_info, "numbers": numbers,
                              "findings": [f.to_dict() for f in result.findings]})
        recorder.event("drift.checked", {"model": model, "batch": batch_info, "numbers": numbers,
                                         "decision": result.decision, "evidence_blob": blob},
                       {"model": model["model_sha256"], "batch": batch_info["sha256"]})
        recorder.gate(result, policy, subjects={"model": model["model_sha256"]})
        trail.checkpoint()
    finally:
        trail.close()
    decision = "blocked" if result.blocked else "passed"
    summary = {"schema_version": 1, "run_id": recorder.run_id, "decision": decision, "model": model, "batch": batch_info,
               "numbers": numbers, "reasons": reasons(result.findings),
               "findings": [finding_brief(f) for f in result.findings],
               "policy": {"name": policy.policy, "sha256": policy.sha256, "on_missing_labels": policy.on_missing_labels}}
    return MonitorResult(recorder.run_id, decision, jsonable(summary))


def monitor_policy(entry: RegistryEntry, policy_path: str | Path | None) -> Policy:
    """The policy given, else the one the entry was registered under (which must not have changed)."""
    if policy_path is not None:
        return load_policy(policy_path)
    recorded = entry.body.get("policy") or {}
    source = recorded.get("source")
    if not source or not Path(source).is_file():
        raise UserError(f"{entry.dir}: the registered policy file {source!r} is not available; pass --policy")
    policy = load_policy(source)
    if policy.sha256 != recorded.get("sha256"):
        raise UserError(POLICY_CHANGED.format(source=source, name=entry.name, version=entry.version,
                                              now=str(policy.sha256)[:12], then=str(recorded.get("sha256"))[:12]))
    return policy


def read_batch(path: Path, schema: dict[str, Any] | None,
               csv_options: CsvOptions | None = None) -> tuple[pd.DataFrame, np.ndarray | None]:
    """The batch's typed features (and sensitive columns), and its labels coded for the model's
    task if it has the target column (0/1, class names or numbers).

    A CSV batch is read in the model's recorded ``schema.csv`` dialect (a plain comma-separated
    UTF-8 file when none is recorded), the fields set in ``csv_options`` replacing recorded ones.

    Raises
    ------
    UserError
        An unreadable or empty file, a missing column, a missing label or a label the model was
        not trained on (see :func:`lifecycle.labels.code_batch_labels`), a sensitive value
        without one of the model's value labels or outside its bins.
    """
    if not isinstance(schema, dict) or not all(isinstance(schema.get(k), list) for k in _SCHEMA_LISTS):
        raise UserError(f"{path}: the registered model records no table schema (numeric, categorical and "
                        "sensitive columns); rai monitor needs a model registered by rai run")
    problem = _file_problem(path)
    if problem:
        raise UserError(f"{path}: {problem}")
    dialect = batch_dialect(schema, path, csv_options)
    names = {str(c).strip(): c for c in read_columns(path, dialect)}
    wanted = list(dict.fromkeys(schema["numeric"] + schema["categorical"] + schema["sensitive"]))
    for column in wanted:
        if column not in names:
            raise UserError(f"{path}: {missing_column_message(column, list(names))}")
    target = schema.get("target")
    read = wanted + ([target] if target in names and target not in wanted else [])
    # The pipeline's reader, with the model's missing-value markers: the batch reads as its data did.
    raw = read_table(path, [names[c] for c in read], csv_options=dialect,
                     na_values=schema.get("na_values") or ["?", ""])
    raw.columns = read
    if raw.empty:
        raise UserError(f"{path}: batch has no rows")
    frame = raw[wanted].copy()
    for column in schema["numeric"]:
        frame[column] = _finite_numbers(frame[column], path, column)
    for column in schema["categorical"]:
        frame[column] = frame[column].where(frame[column].isna(), frame[column].astype(str).str.strip())
    frame = frame.reset_index(drop=True)
    sensitive_groups(frame, schema, str(path))  # a value the model's groups do not know: refused before scoring
    labels = code_batch_labels(raw[target], schema, str(path)) if target in names else None
    return frame, labels


def batch_dialect(schema: dict[str, Any], path: Path, given: CsvOptions | None = None) -> CsvOptions:
    """The CSV dialect of the batch: the model's recorded one (``schema.csv``; defaults when none is
    recorded), with the fields the caller set in ``given`` in place of the recorded ones."""
    recorded = schema.get("csv") or {}
    if not isinstance(recorded, dict):
        raise UserError(f"{path}: the registered model's schema.csv must be a mapping, got {type(recorded).__name__}")
    chosen = {**recorded, **(given.model_dump(include=given.model_fields_set) if given else {})}
    try:
        return csvoptions.csv_options("csv.", **chosen)
    except UserError as err:  # e.g. --sep ',' for a model whose recorded decimal mark is ','
        source = "the model's schema.csv" + (" with the options given" if given else "")
        raise UserError(f"{path}: CSV dialect of the batch ({source}): {err}") from None


def _finite_numbers(values: pd.Series, path: Path, column: str) -> pd.Series:
    """A numeric feature as float64; text or a non-finite number is refused, never read as missing."""
    numbers = pd.to_numeric(values, errors="coerce").astype("float64")
    # The model computes in float32: a larger magnitude would become infinite inside it.
    bad = (numbers.isna() & values.notna()) | ~(numbers.abs() <= _FLOAT32_MAX) & numbers.notna()
    if bad.any():
        row = int(bad.to_numpy().argmax())
        raise UserError(f"{path}: numeric feature '{column}' holds {values.iloc[row]!r} in data row {row + 1}; "
                        f"a value must be a finite number of magnitude up to {_FLOAT32_MAX:.3g}, or empty (missing)")
    return numbers


def _file_problem(path: Path) -> str | None:
    try:
        if path.is_file():
            return None
        return "not a regular file (a batch is a CSV or Parquet file)" if path.exists() else "batch file not found"
    except (OSError, ValueError) as err:  # a name too long, a NUL byte
        return f"cannot read batch: {getattr(err, 'strerror', None) or err}"
