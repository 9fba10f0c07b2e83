"""The sections of a compliance report, each a plain dict built from one run's trail records.

Every function here is pure: it reads a :class:`~governance.report.source.RecordedRun` and returns
JSON-able data. Where the pipeline records a value in more than one place (the final
``run.finished`` summary and a stage's evidence), the stage's own record is preferred, because
the summary is written last and is absent when a run was interrupted.
"""

from __future__ import annotations

from typing import Any

from governance.report.source import RecordedRun


def run_identity(rec: RecordedRun) -> dict[str, Any]:
    """Run id, times, actor, versions, code revision and the pipeline it ran."""
    started, finished = rec.first("run.started"), rec.last("run.finished")
    sp = rec.payload("run.started")
    spec = sp.get("spec") or {}
    return {
        "run_id": rec.run_id,
        # a pipeline run names its spec; a run from rai.start_run or a recorded audit has a name
        "pipeline": spec.get("name") or sp.get("name"),
        "started_at": (started or {}).get("time"),
        "finished_at": (finished or {}).get("time"),
        "actor": (started or (rec.events[0] if rec.events else {})).get("actor"),
        "code_revision": sp.get("code_revision"),
        "spec_hash": sp.get("spec_hash"),
        "versions": dict(sp.get("versions") or {}),
    }


# Configuration from the pipeline spec that explains how the model was built (Annex IV(2)).
_SPEC_DATA_KEYS = ("target", "positive_label", "sensitive_features", "test_fraction", "seed", "drop_columns")


def configuration(rec: RecordedRun) -> dict[str, Any]:
    """How the run was configured: model, privacy and optimization settings, key data settings."""
    spec = rec.payload("run.started").get("spec") or {}
    data = spec.get("data") or {}
    return {
        "data": {k: data[k] for k in _SPEC_DATA_KEYS if k in data},
        "model": spec.get("model"), "privacy": spec.get("privacy"), "optimize": spec.get("optimize"),
    }


def gates(rec: RecordedRun) -> list[dict[str, Any]]:
    """Every gate decision of the run in trail order, with its findings as recorded.

    A gate decided again later in the run (the deploy gate of a run resumed after an approval)
    is superseded: ``superseded_by`` names the entry of the next decision of the same stage and
    subject, and it no longer binds, since the later decision is the run's. The key is present
    only on superseded gates, so reports of runs decided once keep their exact shape.
    """
    out = []
    for ev in rec.of_kind("gate.decided"):
        p = ev.get("payload") or {}
        out.append({
            "seq": ev["seq"], "time": ev.get("time"), "stage": p.get("stage"),
            "subject": p.get("subject"), "decision": p.get("decision"),
            # Gates of LiteRT variants that are not deployed are evidence only (binding false).
            "binding": p.get("binding", True) is not False,
            "findings": list(p.get("findings") or []),
        })
    later: dict[tuple[Any, Any], int] = {}
    for g in reversed(out):
        key = (g["stage"], g["subject"])
        if key in later:
            g.update(binding=False, superseded_by=later[key])
        later[key] = g["seq"]
    return out


def all_findings(gate_list: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [f for g in gate_list for f in g["findings"]]


def policy(rec: RecordedRun, gate_list: list[dict[str, Any]]) -> dict[str, Any]:
    """The policy in force: identity and every rule with its parameters (thresholds)."""
    p = dict(rec.payload("run.started").get("policy") or {})
    rules = p.get("rules")
    source = "policy"
    if not rules:  # older writers record only the policy's identity: rebuild from the findings
        rules, source = _rules_from_findings(all_findings(gate_list)), "findings"
    return {
        "name": p.get("name") or p.get("policy"), "version": p.get("version"),
        "sha256": p.get("sha256"), "source": p.get("source"), "owner": p.get("owner"),
        "fail_on": p.get("fail_on"), "frameworks": list(p.get("frameworks") or []),
        "rules": [_rule(r) for r in rules], "rules_from": source,
        "waivers": list(p.get("waivers") or []),
    }


def _rule(r: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": r.get("id"), "check": r.get("check"), "stage": r.get("stage"),
        "severity": r.get("severity"), "params": dict(r.get("params") or {}),
        "description": r.get("description"), "maps_to": list(r.get("maps_to") or []),
    }


def _rules_from_findings(findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: dict[str, dict[str, Any]] = {}
    for f in findings:
        seen.setdefault(f.get("rule_id"), {
            "id": f.get("rule_id"), "check": f.get("check"), "stage": f.get("stage"),
            "severity": f.get("severity"), "params": {"threshold": f.get("threshold")},
            "maps_to": f.get("maps_to") or [],
        })
    return list(seen.values())


def stages(rec: RecordedRun) -> list[dict[str, Any]]:
    """Each completed (or failed) stage: status, metrics, artifacts and its evidence blob hash."""
    out = []
    for ev in rec.of_kind("stage.completed"):
        p = ev.get("payload") or {}
        out.append({
            "stage": p.get("stage"), "status": p.get("status"), "time": ev.get("time"),
            "metrics": dict(p.get("metrics") or {}), "artifacts": _artifacts(p.get("artifacts")),
            "evidence_blob": p.get("evidence_blob"),
        })
    return out


def _artifacts(raw: Any) -> list[dict[str, Any]]:
    items = raw.items() if isinstance(raw, dict) else []
    return [
        {"name": name, "sha256": (a or {}).get("sha256"), "path": (a or {}).get("path"),
         "size_bytes": (a or {}).get("size_bytes")}
        for name, a in sorted(items)
    ]


def system(rec: RecordedRun, stage_list: list[dict[str, Any]]) -> dict[str, Any]:
    """System and model identity: names, versions and the hash of every model file."""
    started = rec.payload("run.started")
    spec = started.get("spec") or {}
    by_stage = {s["stage"]: s for s in stage_list}
    train_arts = by_stage.get("train", {}).get("artifacts", [])
    model = next((a for a in train_arts if a["name"] == "model"), train_arts[0] if train_arts else None)
    reg = rec.payload("model.registered", last=True) or None
    dep = rec.payload("model.deployed", last=True) or None
    return {
        "name": (spec.get("deploy") or {}).get("model_name") or (reg or {}).get("name"),
        "pipeline": spec.get("name") or started.get("name"),
        "model": model,
        "variants": list(by_stage.get("optimize", {}).get("artifacts", [])),
        "registered": reg,
        "deployed": dep,
    }


def data_lineage(rec: RecordedRun, stage_list: list[dict[str, Any]], findings: list[dict]) -> dict[str, Any]:
    """Datasets (hash, rows), their profile and the train-versus-test drift table."""
    ingest = next((s for s in stage_list if s["stage"] == "ingest"), {})
    ev = rec.stage_evidence("ingest")
    described = ev.get("datasets") if isinstance(ev.get("datasets"), dict) else {}
    profile_rows = ((ev.get("profile") or {}).get("rows") or {}) if isinstance(ev.get("profile"), dict) else {}
    metrics = ingest.get("metrics", {})
    datasets = []
    for art in ingest.get("artifacts", []):
        name, extra = art["name"], described.get(art["name"]) or {}
        rows = extra.get("rows", profile_rows.get(name, metrics.get(f"{name}_rows", metrics.get(f"rows_{name}"))))
        columns = extra.get("columns")
        datasets.append({**art, "rows": rows, "columns": len(columns) if isinstance(columns, list) else columns,
                         # the file as given, before the pipeline parsed and stored it
                         "source_sha256": extra.get("source_sha256")})
    drift = ev.get("drift")
    if not drift:  # fall back to the evidence of a drift rule evaluated at ingest
        drift = next((f.get("evidence") for f in findings
                      if str(f.get("check", "")).startswith("drift.") and f.get("stage") == "ingest"
                      and f.get("evidence")), None)
    out = {"datasets": datasets, "profile": ev.get("profile"), "drift": drift or None}
    predicted = predicted_labels(rec)
    if predicted is not None:  # absent, not null, for runs that recorded nothing of it (reports stay as they were)
        out["predicted"] = predicted
    return out


def predicted_labels(rec: RecordedRun) -> dict[str, Any] | None:
    """How the evaluate stage's predictions are spread: ``{"rows", "balance"}``, the balance in the
    shape of the ingest profile's (positives, rows per class, or the mean, spread and range).

    Runs record it as ``label_balance.predicted``; for earlier multiclass and regression runs it is
    read from the per-group tables' overall row (rows per class predicted; the mean prediction).
    """
    ev = rec.stage_evidence("evaluate")
    recorded = ev.get("label_balance")
    if isinstance(recorded, dict) and isinstance(recorded.get("predicted"), dict):
        return {"rows": ev.get("rows"), "balance": recorded["predicted"]}
    tables = ev.get("fairness") if isinstance(ev.get("fairness"), dict) else {}
    for table in tables.values():
        overall = table.get("overall") if isinstance(table, dict) else None
        if not isinstance(overall, dict):
            continue
        if table.get("task") == "multiclass" and isinstance(overall.get("classes"), list):
            counts = {str(c.get("class")): c.get("tp", 0) + c.get("fp", 0) for c in overall["classes"] if isinstance(c, dict)}
            return {"rows": overall.get("count"), "balance": {"classes": counts}}
        if table.get("task") == "regression":
            return {"rows": overall.get("count"), "balance": {"mean": overall.get("mean_prediction")}}
    return None


def privacy(rec: RecordedRun) -> dict[str, Any] | None:
    """The DP-SGD record with its plain-words statement, or ``None`` if nothing was recorded."""
    record = (rec.stage("train").get("privacy") or rec.stage_evidence("train").get("privacy")
              or (rec.payload("run.finished", last=True).get("summary") or {}).get("privacy"))
    if not record:
        return None
    record = dict(record)
    record.setdefault("dp", record.get("epsilon") is not None)
    return {"record": record, "statement": privacy_statement_text(record)}


def privacy_statement_text(record: dict[str, Any]) -> str:
    """The privacy module's statement; a short factual one if it cannot be produced."""
    try:
        from governance.metrics.privacy import privacy_statement

        return privacy_statement(record)
    except Exception:  # an incomplete record still deserves a statement rather than a crash
        if not record.get("dp"):
            return "This model was trained without differential privacy."
        return (f"Trained with DP-SGD; the recorded guarantee is epsilon {record.get('epsilon')} at "
                f"delta {record.get('delta')} ({record.get('accountant') or 'unknown'} accounting).")


def optimization(rec: RecordedRun, gate_list: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Parent model against each LiteRT variant: size, latency, accuracy and group gaps."""
    ev = rec.stage_evidence("optimize")
    variants = ev.get("variants") or (rec.payload("run.finished", last=True).get("summary") or {}).get("variants")
    if not variants:
        return None
    decisions = {g["subject"]: g["decision"] for g in gate_list if g["stage"] == "optimize" and g["subject"]}
    rows = []
    for v in variants:
        name = v.get("mode") or v.get("name")
        rows.append({
            "name": name, "sha256": v.get("sha256"),
            "size_bytes": v.get("size_bytes", v.get("size")), "latency_ms": v.get("latency_ms"),
            "accuracy": v.get("accuracy"), "group_gaps": dict(v.get("group_gaps") or {}),
            "gate": decisions.get(name), "deployed": bool(v.get("deployed")),
        })
    parent = dict(ev.get("parent") or {})
    return {"parent": parent or None, "variants": rows}


def approvals(rec: RecordedRun) -> list[dict[str, Any]]:
    """Recorded human approvals and rejections: who, when, role, decision, comment."""
    return [
        {"seq": e["seq"], "time": e.get("time"), "actor": e.get("actor"),
         "role": (e.get("payload") or {}).get("role"), "decision": (e.get("payload") or {}).get("decision"),
         "comment": (e.get("payload") or {}).get("comment")}
        for e in rec.of_kind("approval.recorded")
    ]


def waivers(rec: RecordedRun, findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Waivers applied during the run, from the trail and from waived findings."""
    out = [
        {"rule": p.get("rule"), "stage": p.get("stage"), "subject": p.get("subject"), "reason": p.get("reason"),
         "approved_by": p.get("approved_by"), "expires": p.get("expires"),
         "applied_at": e.get("time"), "seq": e["seq"]}
        for e in rec.of_kind("waiver.applied") for p in [e.get("payload") or {}]
    ]
    recorded = {(w["rule"], w["stage"], w["subject"]) for w in out}
    for f in findings:  # a waived finding whose waiver event is missing is still a waiver
        w, key = f.get("waiver"), (f.get("rule_id"), f.get("stage"), f.get("subject"))
        if f.get("status") == "waived" and w and key not in recorded:
            recorded.add(key)
            out.append({"rule": key[0], "stage": key[1], "subject": key[2], "reason": w.get("reason"),
                        "approved_by": w.get("approved_by"), "expires": w.get("expires"),
                        "applied_at": None, "seq": None})
    return out


def events(rec: RecordedRun) -> list[dict[str, Any]]:
    """The run's trail entries, identified by seq and entry hash (what `report verify` checks)."""
    return [
        {"seq": e["seq"], "time": e.get("time"), "kind": e["kind"], "actor": e.get("actor"),
         "entry_hash": e.get("entry_hash")}
        for e in rec.events
    ]
