"""Monitoring over time: the prediction log cut into windows, each audited with the monitor rules.

``rai monitor --log --model NAME --window 1h`` (or ``--window 1000``, a number of decisions) reads
the decisions the served model made, from committed log segments only (each verified against
the trail first: a forged segment stops everything), cuts them into windows by time or by count,
and runs the policy's ``monitor`` rules on each window as on a batch: data drift of the logged
inputs against the training reference, prediction drift of the logged scores, and, with
``--labels FILE``, performance and fairness on the decisions whose outcome arrived. Each window is
a recorded run (``drift.checked`` with the window, the segments it came from and their Merkle
roots; ``gate.decided``). A window no outcome is joined to yet is audited as a batch without its
target column: label-free rules (selection-rate parity, drift) decide on its decisions, and the
rules that need labels are recorded as such ("needs labels (column Y absent)"), skipped, warned
or blocking as the policy's ``on_missing_labels`` says. Labels are joined on the request id
(``--join request_id``, or a client's ``client_request_id``), plus a ``row`` column for batch
requests; labels whose id is not in the log are counted and reported, never silently dropped.

The decisions are the logged ones: what the model answered, not a re-scoring. A binary model's
records carry its score and 0/1 label; a multiclass model's its class (``label``, named as the
schema's ``classes``), that class's probability (``score``) and every class's ``probabilities``;
a regression model's its prediction (``score``). Outcomes in a labels file are coded as at
training, for the model's task (:func:`lifecycle.labels.code_batch_labels`).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from governance.engine import evaluate as evaluate_gate
from governance.errors import UserError
from governance.findings import jsonable
from governance.fsutil import file_sha256
from governance.provenance import new_run_id
from governance.recorder import RunRecorder
from governance.trail import open_trail
from governance.trail.chain import normalize_time
from governance.trail.signing import KeyRing
from governance.workspace import Workspace
from lifecycle.deploy import RegistryEntry, verified_entry
from lifecycle.labels import code_batch_labels
from lifecycle.measure import finding_brief, group_gaps, performance, reasons
from lifecycle.monitor import monitor_policy
from lifecycle.monitor_evidence import batch_evidence, logged_outputs, predictions_of, sensitive_groups
from lifecycle.predlog.query import iter_segments
from lifecycle.serve import ServedModel

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_WINDOW = re.compile(r"^(\d{1,9})([smhd]?)$")
JOIN_KEYS = ("request_id", "client_request_id")


@dataclass(frozen=True)
class Window:
    """Decisions ``[start, end)`` in time (or the ``index``-th run of ``size`` decisions)."""

    index: int
    start: str
    end: str
    records: list[dict[str, Any]]
    segments: list[dict[str, Any]]


def parse_window(text: str) -> tuple[str, int]:
    """``"1h"`` -> ("time", 3600); ``"1000"`` -> ("count", 1000); UserError otherwise."""
    match = _WINDOW.match(str(text).strip())
    if not match or int(match.group(1)) == 0:
        raise UserError(f"--window: must be a duration (30m, 1h, 1d) or a number of decisions (1000), got {str(text)[:40]!r}")
    number, unit = int(match.group(1)), match.group(2)
    return ("time", number * _UNITS[unit]) if unit else ("count", number)


def logged_decisions(ws: Workspace, entry: RegistryEntry) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    """The committed decisions of ``entry``'s model in time order, and the segments they came from."""
    records, segments = [], {}
    sha = entry.body.get("model_sha256")
    for segment in iter_segments(ws):
        if segment.seq is None:
            continue  # still open: not yet committed to the trail, so not yet evidence
        for record in segment.parsed.records():
            if record is not None and record.get("model_sha256") == sha:
                records.append({**record, "_segment": segment.name})
                segments[segment.name] = {"segment": segment.name, "seq": segment.seq,
                                          "merkle_root": segment.payload["merkle_root"]}
    records.sort(key=lambda r: (str(r.get("time")), str(r.get("request_id")), r.get("row", 0)))
    return records, segments


def cut(records: list[dict[str, Any]], segments: dict[str, dict[str, Any]], kind: str, size: int) -> list[Window]:
    """Windows of ``size`` seconds (aligned to the epoch) or of ``size`` decisions."""
    groups: dict[int, list[dict[str, Any]]] = {}
    for i, record in enumerate(records):
        key = i // size if kind == "count" else math.floor(_epoch(record["time"]) / size)
        groups.setdefault(key, []).append(record)
    windows = []
    for index, (key, members) in enumerate(sorted(groups.items())):
        start, end = ((members[0]["time"], members[-1]["time"]) if kind == "count"
                      else (_iso(key * size), _iso((key + 1) * size)))
        used = sorted({r["_segment"] for r in members})
        windows.append(Window(index, start, end, members, [segments[s] for s in used]))
    return windows


def _epoch(text: str) -> float:
    return pd.Timestamp(text).timestamp()


def _iso(seconds: float) -> str:
    return normalize_time(pd.Timestamp(seconds, unit="s", tz="UTC").to_pydatetime())


def frame_of(records: list[dict[str, Any]], schema: dict[str, Any]) -> pd.DataFrame:
    """The logged inputs as a typed frame (numeric float64, text or NaN), as a batch file is read."""
    if any("inputs" not in r for r in records):
        raise UserError("the prediction log holds decisions without their inputs (served with --no-log-inputs); "
                        "drift cannot be measured on them")
    columns = list(dict.fromkeys(schema["numeric"] + schema["categorical"] + schema["sensitive"]))
    frame = pd.DataFrame.from_records([r["inputs"] for r in records], columns=columns)
    for column in schema["numeric"]:
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64")
    for column in columns:
        if column not in schema["numeric"]:
            frame[column] = frame[column].astype(object).where(frame[column].notna(), np.nan)
    return frame


@dataclass
class Labels:
    """Outcomes joined on ``key`` (and ``row``): values by (id, row), and the file's identity."""

    key: str
    values: dict[tuple[str, int], Any]
    file: str
    sha256: str
    target: str


def read_labels(path: Path, key: str, target: str) -> Labels:
    """A labels file (CSV or Parquet): column ``key``, the target column, optionally ``row``."""
    if key not in JOIN_KEYS:
        raise UserError(f"--join: must be one of {', '.join(JOIN_KEYS)}, got {key[:40]!r}")
    if not path.is_file():
        raise UserError(f"{path}: labels file not found")
    try:
        table = pd.read_parquet(path) if path.suffix.lower() in (".parquet", ".pq") else \
            pd.read_csv(path, dtype={key: str}, keep_default_na=False, na_values=[""])
    except Exception as err:  # a parser failure is the file's problem
        raise UserError(f"{path}: cannot read labels: {str(err).splitlines()[0][:200] if str(err) else type(err).__name__}") from None
    for needed in (key, target):
        if needed not in table.columns:
            raise UserError(f"{path}: no column '{needed}' (--join {key} and the model's target '{target}'); "
                            f"columns are: {', '.join(map(str, table.columns))[:300]}")
    rows = pd.to_numeric(table["row"], errors="coerce") if "row" in table.columns else pd.Series(0, index=table.index)
    if rows.isna().any() or not (rows == rows.round()).all():
        raise UserError(f"{path}: column 'row' must hold whole numbers (the row of a batch request, from 0)")
    ids = table[key].astype(str).str.strip()
    pairs = list(zip(ids, rows.astype(int), strict=True))
    seen: dict[tuple[str, int], int] = {}
    for line, pair in enumerate(pairs):
        if pair in seen:
            raise UserError(f"{path}: {key} {pair[0][:40]!r} row {pair[1]} has two labels (data rows {seen[pair] + 1} "
                            f"and {line + 1}); keep one")
        seen[pair] = line
    return Labels(key, dict(zip(pairs, table[target], strict=True)), str(path), file_sha256(path), target)


def window_evidence(entry: RegistryEntry, window: Window, labels: Labels | None) -> tuple[Any, dict[str, Any], int]:
    """The monitor gate's evidence and numbers for one window, and how many of its decisions are labelled."""
    schema = entry.body["schema"]
    frame = frame_of(window.records, schema)
    where = f"the prediction log ({window.start} .. {window.end})"
    outputs = logged_outputs(window.records, schema, where)
    served = ServedModel(entry, {}, _no_rescoring)
    evidence, numbers = batch_evidence(served, frame, None, outputs, where)
    numbers["flags"] = sum(1 for r in window.records if r.get("flags"))
    if labels is None:
        return evidence, numbers, 0
    found = [(i, labels.values[(str(r.get(labels.key)), int(r.get("row", 0)))]) for i, r in enumerate(window.records)
             if (str(r.get(labels.key)), int(r.get("row", 0))) in labels.values]
    if not found:
        return evidence, numbers, 0
    at = [i for i, _ in found]
    y_true = code_batch_labels(pd.Series([v for _, v in found], dtype=object), schema, labels.file)
    sensitive = sensitive_groups(frame, schema, where).iloc[at].reset_index(drop=True)
    predictions = predictions_of(outputs.at(at), schema, y_true, sensitive)
    numbers["performance"] = performance(predictions)
    numbers["group_gaps"] = group_gaps(predictions, schema["sensitive"])
    labelled = frame.iloc[at].reset_index(drop=True).assign(**{schema["target"]: y_true})
    return (evidence.with_(predictions=predictions, dataset=labelled, target=schema["target"], missing_labels=None),
            numbers, len(at))


def _no_rescoring(frame: pd.DataFrame) -> np.ndarray:
    raise RuntimeError("windows of the prediction log use the logged scores")


def monitor_log(*, name: str, window: str, version: int | None = None, registry: str | Path | None = None,
                workspace: str | Path | None = None, policy_path: str | Path | None = None,
                labels_path: str | Path | None = None, join: str = "request_id", since: str | None = None) -> dict[str, Any]:
    """Audit the windows of the prediction log of model ``name``; the ``--json`` summary."""
    ws = Workspace.at(workspace)
    entry = verified_entry(Path(registry) if registry else ws.registry, name, version, KeyRing(ws.keys).trusted())
    policy = monitor_policy(entry, policy_path)
    kind, size = parse_window(window)
    labels = read_labels(Path(labels_path), join, entry.body["schema"]["target"]) if labels_path else None
    records, segments = logged_decisions(ws, entry)
    if since is not None:
        start = normalize_time(since)
        records = [r for r in records if str(r["time"]) >= start]
    if not records:
        raise UserError(f"the prediction log holds no committed decision of {name} v{entry.version}"
                        + (f" since {since}" if since else "") + " (segments are committed when full, old or when the server stops)")
    windows = cut(records, segments, kind, size)
    results = _record(ws, entry, policy, windows, labels, f"{window}")
    summary = {"schema_version": 1, "model": {"name": entry.name, "version": entry.version,
                                              "model_sha256": entry.body.get("model_sha256")},
               "window": {"kind": kind, "size": size}, "decisions": len(records), "windows": results,
               "decision": "blocked" if any(w["decision"] == "blocked" for w in results) else "passed",
               "policy": {"name": policy.policy, "sha256": policy.sha256, "on_missing_labels": policy.on_missing_labels}}
    if labels is not None:
        summary["labels"] = _label_report(labels, records)
    return jsonable(summary)


def _record(ws: Workspace, entry: RegistryEntry, policy: Any, windows: list[Window], labels: Labels | None,
            spec: str) -> list[dict[str, Any]]:
    model = {"name": entry.name, "version": entry.version, "model_sha256": entry.body.get("model_sha256")}
    out = []
    with open_trail(ws.ensure()) as trail:
        for w in windows:
            evidence, numbers, labelled = window_evidence(entry, w, labels)
            result = evaluate_gate(policy, "monitor", evidence)
            recorder = RunRecorder(trail, "monitor-" + new_run_id())
            info = {"source": "prediction_log", "spec": spec, "index": w.index, "start": w.start, "end": w.end,
                    "rows": len(w.records), "labelled": labelled, "segments": w.segments,
                    "first_request_id": w.records[0].get("request_id"), "last_request_id": w.records[-1].get("request_id")}
            batch = {"file": None, "sha256": None, "rows": len(w.records), "labelled": labelled > 0}
            blob = recorder.blob({"model": model, "window": info, "numbers": numbers,
                                  "findings": [f.to_dict() for f in result.findings]})
            recorder.event("drift.checked", {"model": model, "batch": batch, "window": info, "numbers": numbers,
                                             "decision": result.decision, "evidence_blob": blob},
                           {"model": model["model_sha256"]})
            recorder.gate(result, policy, subjects={"model": model["model_sha256"]})
            out.append({"run_id": recorder.run_id, "start": w.start, "end": w.end, "rows": len(w.records),
                        "labelled": labelled, "decision": "blocked" if result.blocked else "passed",
                        "numbers": numbers, "reasons": reasons(result.findings),
                        "findings": [finding_brief(f) for f in result.findings]})
        trail.checkpoint()
    return out


def _label_report(labels: Labels, records: list[dict[str, Any]]) -> dict[str, Any]:
    logged = {(str(r.get(labels.key)), int(r.get("row", 0))) for r in records}
    unmatched = [pair for pair in labels.values if pair not in logged]
    return {"file": labels.file, "sha256": labels.sha256, "join": labels.key, "rows": len(labels.values),
            "matched": len(labels.values) - len(unmatched), "unmatched": len(unmatched),
            "unmatched_examples": [f"{i}/{r}" for i, r in unmatched[:10]]}
