"""What an MLflow run mirroring a rai run holds, computed from the trail alone (no MLflow here).

From one run's events (``run.started`` ... the last ``run.finished``):

- **params**: the run's name and kind, the policy (name, version, SHA-256, ``fail_on``), the
  pipeline spec flattened (``model.epochs``, ``privacy.target_epsilon``, ...) and the DP-SGD
  parameters the train stage used (``dp.noise_multiplier``, ``dp.steps``, ...);
- **metrics**: every number a stage recorded as ``STAGE/NAME`` (``evaluate/accuracy``,
  ``evaluate/sex.demographic_parity_difference``, ``train/epsilon``), each binding gate as
  ``gate/STAGE/blocked`` (0 or 1), each finding's observed value as ``finding/STAGE/RULE``
  (``finding/optimize/MODE/RULE`` for a LiteRT variant), and ``findings/STATUS`` counts;
- **tags**: ``rai.run_id``, ``rai.decision``, ``rai.blocked_at``, ``rai.reasons``, the policy,
  each gate's decision (``rai.gate.STAGE``) and each finding's status
  (``rai.finding.STAGE.RULE``), the deployed model and the metadata given to the run.

MLflow accepts names of letters, digits and ``_ - . / :`` and space; any other character
becomes ``_``. Values longer than MLflow accepts are cut, ending in ``...``.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

MAX_PARAM_VALUE = 6000
MAX_TAG_VALUE = 5000
MAX_KEY = 250
_KEY_CHARS = re.compile(r"[^\w.\-/: ]")
# MLflow run statuses for rai decisions: a blocked run completed its governance process.
STATUS = {"passed": "FINISHED", "blocked": "FINISHED", "awaiting_approval": "FINISHED", "failed": "FAILED"}


@dataclass
class MirrorPayload:
    """Everything logged to the MLflow run; ``metrics`` are ``(key, value, timestamp_ms)``."""

    run_id: str
    name: str
    start_ms: int
    end_ms: int
    status: str
    decision: str
    params: dict[str, str] = field(default_factory=dict)
    metrics: list[tuple[str, float, int]] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)
    last_seq: int = 0


def build_payload(events: list[Any]) -> MirrorPayload:
    """The payload of one finished run from its events (in seq order, up to its last ``run.finished``)."""
    started = next(e for e in events if e.kind == "run.started")
    finished = [e for e in events if e.kind == "run.finished"][-1]
    start = started.payload
    name = start.get("name") or (start.get("spec") or {}).get("name") or started.run_id
    decision = str(finished.payload.get("decision"))
    payload = MirrorPayload(run_id=started.run_id, name=str(name), start_ms=millis(started.time),
                            end_ms=millis(finished.time), status=STATUS.get(decision, "FAILED"),
                            decision=decision, last_seq=finished.seq)
    _identity(payload, start, finished.payload)
    for event in events:
        if event.kind == "stage.completed" and event.payload.get("status") == "completed":
            _stage(payload, event)
        elif event.kind == "gate.decided":
            _gate(payload, event)
    _finding_counts(payload, events)
    return payload


def _identity(payload: MirrorPayload, start: dict[str, Any], finished: dict[str, Any]) -> None:
    policy = start.get("policy") or {}
    payload.params.update(_text_values({"rai.name": payload.name, "rai.kind": start.get("kind") or "pipeline",
                                        "policy.name": policy.get("name"), "policy.version": policy.get("version"),
                                        "policy.sha256": policy.get("sha256"), "policy.fail_on": policy.get("fail_on")},
                                       MAX_PARAM_VALUE))
    spec = dict(start.get("spec") or {})
    metadata = spec.pop("metadata", None) or start.get("metadata") or {}
    spec.pop("name", None)
    payload.params.update(_text_values(flatten(spec), MAX_PARAM_VALUE))
    deployed = (finished.get("summary") or {}).get("deployed") or {}
    payload.tags.update(_text_values({
        "rai.run_id": payload.run_id, "rai.decision": payload.decision, "rai.blocked_at": finished.get("blocked_at"),
        "rai.reasons": "; ".join(map(str, finished.get("reasons") or [])), "rai.policy.name": policy.get("name"),
        "rai.policy.sha256": policy.get("sha256"),
        "rai.deployed": f"{deployed['name']} v{deployed['version']}" if deployed.get("name") else None,
        "mlflow.runName": payload.run_id,
        **{f"rai.metadata.{k}": v for k, v in metadata.items() if isinstance(v, (str, int, float)) and v != ""},
    }, MAX_TAG_VALUE))


def _stage(payload: MirrorPayload, event: Any) -> None:
    stage, when = event.payload.get("stage"), millis(event.time)
    for key, value in (event.payload.get("metrics") or {}).items():
        number = as_number(value)
        if number is not None:
            payload.metrics.append((metric_key(f"{stage}/{key}"), number, when))
    privacy = event.payload.get("privacy") or {}
    if privacy.get("dp"):
        wanted = ("noise_multiplier", "l2_norm_clip", "delta", "batch_size", "epochs", "microbatches",
                  "sampling_rate", "steps", "accountant", "target_epsilon")
        payload.params.update(_text_values({f"dp.{k}": privacy.get(k) for k in wanted}, MAX_PARAM_VALUE))
        number = as_number(privacy.get("epsilon"))
        if number is not None:
            payload.metrics.append((metric_key(f"{stage}/epsilon"), number, when))


def _gate(payload: MirrorPayload, event: Any) -> None:
    gate, when = event.payload, millis(event.time)
    stage, subject = gate.get("stage"), gate.get("subject")
    place = f"{stage}.{subject}" if subject else str(stage)
    binding = gate.get("binding", True)
    decision = {"pass": "passed", "block": "blocked"}.get(gate.get("decision"), gate.get("decision"))
    payload.tags[tag_key(f"rai.gate.{place}")] = str(decision) + ("" if binding else " (not binding)")
    if binding:
        payload.metrics.append((metric_key(f"gate/{stage}/blocked"), float(decision == "blocked"), when))
    for finding in gate.get("findings") or []:
        rule = finding.get("rule_id")
        payload.tags[tag_key(f"rai.finding.{place}.{rule}")] = str(finding.get("status"))
        observed = as_number(finding.get("observed"))
        if observed is not None:
            payload.metrics.append((metric_key(f"finding/{place.replace('.', '/', 1)}/{rule}"), observed, when))


def _finding_counts(payload: MirrorPayload, events: list[Any]) -> None:
    """Findings by status over each stage's last binding gate (what decided the run)."""
    last: dict[str, Any] = {}
    for event in events:
        if event.kind == "gate.decided" and event.payload.get("binding", True):
            last[event.payload.get("stage")] = event
    counts: dict[str, int] = {}
    for event in last.values():
        for finding in event.payload.get("findings") or []:
            counts[str(finding.get("status"))] = counts.get(str(finding.get("status")), 0) + 1
    for status, count in sorted(counts.items()):
        payload.metrics.append((metric_key(f"findings/{status}"), float(count), payload.end_ms))


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """``{"model": {"epochs": 3}}`` -> ``{"model.epochs": 3}``; lists stay whole (as JSON)."""
    if not isinstance(value, dict):
        return {prefix: value} if prefix else {}
    out: dict[str, Any] = {}
    for key, item in value.items():
        out.update(flatten(item, f"{prefix}.{key}" if prefix else str(key)))
    return out


def _text_values(values: dict[str, Any], limit: int) -> dict[str, str]:
    out = {}
    for key, value in values.items():
        if value is None:
            continue
        text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
        out[tag_key(key)] = text if len(text) <= limit else text[: limit - 3] + "..."
    return out


def as_number(value: Any) -> float | None:
    """A finite real number (booleans as 0/1), or None for anything MLflow cannot chart."""
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)) and math.isfinite(value):
        return float(value)
    return None


def metric_key(key: str) -> str:
    """A name MLflow accepts: disallowed characters become ``_``."""
    return _KEY_CHARS.sub("_", key)[:MAX_KEY]


tag_key = metric_key


def millis(time: str) -> int:
    """Milliseconds since the epoch of a trail time (RFC 3339 UTC)."""
    return int(dt.datetime.fromisoformat(time.replace("Z", "+00:00")).timestamp() * 1000)
