"""Everything the Run page shows about one run, as plain data (no Streamlit).

The run is read with the compliance report's own readers (:mod:`governance.report.source` and
:mod:`governance.report.sections`), so the dashboard and the report never disagree about what a
run recorded: the privacy record, the LiteRT variants beside their parent, gates and findings.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from dashboards.queries import event_summary, monitored_policy, policy_label
from governance.display import group_label
from governance.report import sections as S
from governance.report.readable import fmt_threshold, in_numeric_order
from governance.report.source import RecordedRun, load_run
from governance.vocabulary import finding_blocks, gate_decision

FINDING_COLUMNS = ["gate_seq", "stage", "subject", "binding", "rule_id", "check", "severity", "status", "observed",
                   "threshold", "message"]
PRIVACY_CHECK = "privacy.epsilon_budget"


@dataclass
class RunView:
    """One run: identity, outcome, timeline, findings and the evidence tables they carry."""

    run_id: str
    identity: dict[str, Any]
    summary: dict[str, Any]
    decision: str
    blocked_at: str | None
    reasons: list[str]
    timeline: pd.DataFrame
    gates: pd.DataFrame
    findings: list[dict[str, Any]]
    privacy: dict[str, Any] | None
    epsilon_limit: float | None
    optimization: dict[str, Any] | None
    approvals: list[dict[str, Any]]
    waivers: list[dict[str, Any]]
    drift: list[dict[str, Any]] = field(default_factory=list)
    rule_params: dict[str, dict[str, Any]] = field(default_factory=dict)

    def threshold(self, finding: dict[str, Any]) -> str:
        """A finding's threshold as the report shows it (``≥ 0.8``, ``≤ 0.15``)."""
        return fmt_threshold(finding.get("threshold"), self.rule_params.get(finding.get("rule_id")))

    def findings_frame(self) -> pd.DataFrame:
        """Findings as a table; every value but the gate's seq and binding shown as text."""
        rows = [{c: f.get(c) if c in ("gate_seq", "binding") else self.threshold(f) if c == "threshold"
                 else _text(f.get(c)) for c in FINDING_COLUMNS} for f in self.findings]
        return pd.DataFrame(rows, columns=FINDING_COLUMNS)


def build_view(trail, run_id: str) -> RunView:
    """Read run ``run_id`` from the trail (its events and the evidence blobs they name)."""
    rec = load_run(trail, run_id)
    gates = S.gates(rec)
    findings = [{**f, "gate_seq": g["seq"], "binding": g["binding"], "subject": f.get("subject") or g["subject"]}
                for g in gates for f in g["findings"]]
    finished = rec.payload("run.finished", last=True)
    policy = S.policy(rec, gates)
    rules = policy["rules"] if policy["rules_from"] == "policy" else []
    label = policy_label(policy)
    checked = rec.payload("drift.checked").get("model")
    if checked and not rec.first("run.started"):  # a monitor batch records its policy's hash only
        recorded = monitored_policy(trail, run_id, checked)
        label, rules = policy_label(recorded), recorded.get("rules") or []
    return RunView(
        run_id=run_id, identity=S.run_identity(rec), summary=summary(rec, label or None),
        decision=finished.get("decision") or _unfinished(rec), blocked_at=finished.get("blocked_at"),
        reasons=[str(r) for r in finished.get("reasons") or []],
        timeline=timeline(rec), gates=gates_frame(gates), findings=findings,
        privacy=S.privacy(rec), epsilon_limit=epsilon_limit(policy, findings),
        optimization=S.optimization(rec, gates), approvals=S.approvals(rec),
        waivers=S.waivers(rec, [f for g in gates for f in g["findings"]]),
        drift=drift_tables(rec, findings),
        rule_params={r.get("id"): r.get("params") or {} for r in rules},
    )


def summary(rec: RecordedRun, policy: str | None) -> dict[str, Any]:
    """What kind of run, of which model, under which policy, when and by whom."""
    spec = rec.payload("run.started").get("spec") or {}
    checked = rec.payload("drift.checked").get("model") or {}
    kind = ("pipeline" if rec.first("run.started") else "monitor" if checked
            else "audit" if rec.first("audit.completed") else "other")
    model = ((spec.get("deploy") or {}).get("model_name") or spec.get("name")
             or (f"{checked.get('name')} v{checked.get('version')}" if checked else None))
    events = rec.events or [{}]
    return {"kind": kind, "model": model, "policy": policy,
            "started": events[0].get("time"), "last_event": events[-1].get("time"), "actor": events[0].get("actor")}


def _unfinished(rec: RecordedRun) -> str:
    """A run without ``run.finished``: a monitor batch or audit decides at its gate."""
    gates = [e for e in rec.events if e["kind"] in ("gate.decided", "audit.completed")]
    if rec.first("run.started") is None and gates:
        decision = (gates[-1].get("payload") or {}).get("decision")
        known = gate_decision(decision)
        return known.value if known else (decision or "recorded")
    return "running"


def timeline(rec: RecordedRun) -> pd.DataFrame:
    """Every event of the run with seconds since the run began and since the previous event."""
    times = pd.to_datetime([e.get("time") for e in rec.events], utc=True, format="ISO8601")
    rows = []
    for i, e in enumerate(rec.events):
        p = e.get("payload") or {}
        rows.append({"seq": e["seq"], "time": times[i], "kind": e["kind"], "stage": p.get("stage"),
                     "status": p.get("status") or p.get("decision"), "actor": e.get("actor"),
                     "summary": event_summary(e["kind"], p),
                     "elapsed_s": (times[i] - times[0]).total_seconds(),
                     "took_s": (times[i] - times[i - 1]).total_seconds() if i else 0.0})
    return pd.DataFrame(rows, columns=["seq", "time", "kind", "stage", "status", "actor", "summary", "elapsed_s",
                                       "took_s"])


def stage_spans(tl: pd.DataFrame) -> pd.DataFrame:
    """Each stage as a span: from the previous event to its ``stage.completed`` (for a Gantt chart)."""
    rows = []
    for i, row in tl.reset_index(drop=True).iterrows():
        if row["kind"] == "stage.completed" and i > 0:
            rows.append({"stage": row["stage"], "status": row["status"], "start": tl.iloc[i - 1]["time"],
                         "end": row["time"], "seconds": row["took_s"]})
    return pd.DataFrame(rows, columns=["stage", "status", "start", "end", "seconds"])


def gates_frame(gates: list[dict[str, Any]]) -> pd.DataFrame:
    """One row per gate decision."""
    from dashboards.queries import finding_counts

    return pd.DataFrame([{"seq": g["seq"], "time": g["time"], "stage": g["stage"], "subject": g["subject"],
                          "decision": g["decision"], "binding": g["binding"],
                          "findings": finding_counts(g["findings"]),
                          "blocking": ", ".join(str(f.get("rule_id")) for f in g["findings"]
                                                if finding_blocks(f))} for g in gates],
                        columns=["seq", "time", "stage", "subject", "decision", "binding", "findings", "blocking"])


def epsilon_limit(policy: dict[str, Any], findings: list[dict[str, Any]]) -> float | None:
    """The tightest ``max_epsilon`` of the policy's budget rules (else of the budget findings)."""
    limits = [(r.get("params") or {}).get("max_epsilon") for r in policy.get("rules") or []
              if r.get("check") == PRIVACY_CHECK]
    limits += [f.get("threshold") for f in findings if f.get("check") == PRIVACY_CHECK and not limits]
    numbers = [float(x) for x in limits if isinstance(x, (int, float)) and not isinstance(x, bool)]
    return min(numbers) if numbers else None


GROUP_COLUMNS = ("count", "selection_rate", "accuracy", "tpr", "fpr")
MDE = "min detectable effect"


def group_table(finding: dict[str, Any]) -> pd.DataFrame | None:
    """The per-group table of a finding's evidence (fairness rates, a group metric with its
    confidence interval as ``low`` and ``high`` and its minimum detectable effect, or the sizes
    of ``data.group_size``), numeric bands in numeric order; ``None`` for other findings."""
    evidence = finding.get("evidence") or {}
    groups = evidence.get("groups")
    if not isinstance(groups, list) or not groups or not all(isinstance(g, dict) for g in groups):
        return None
    metric = str(evidence.get("metric") or "value")
    rows = []
    for g in in_numeric_order(groups, lambda g: g.get("group") or {}):
        row = {"group": group_label(g.get("group") or {}), **{k: g.get(k) for k in GROUP_COLUMNS if k in g}}
        if "value" in g:  # fairness.group_metric: one metric, named by the rule
            row[metric] = g["value"]
        if isinstance(g.get("interval"), list) and len(g["interval"]) == 2:
            row["low"], row["high"] = g["interval"]
        if "mde" in g:
            row[MDE] = g["mde"]
        row.update({k: g[k] for k in ("excluded", "too_small") if k in g})
        rows.append(row)
    order = ["group", *GROUP_COLUMNS, metric, "low", "high", MDE, "excluded", "too_small"]
    return pd.DataFrame(rows, columns=[c for c in dict.fromkeys(order) if any(c in r for r in rows)])


def drift_table(evidence: Any) -> pd.DataFrame | None:
    """Per-column drift rows of a drift report (``None`` if ``evidence`` is not one)."""
    columns = evidence.get("columns") if isinstance(evidence, dict) else None
    if not isinstance(columns, list) or not columns or not isinstance(columns[0], dict) or "method" not in columns[0]:
        return None
    return pd.DataFrame(columns)


def drift_tables(rec: RecordedRun, findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Drift reports of the run: each drift finding's, and the ingest stage's own if no rule judged it."""
    out = []
    for f in findings:
        table = drift_table(f.get("evidence"))
        if table is not None:
            out.append({"title": f"{f.get('rule_id')} at {f.get('stage')}", "status": f.get("status"),
                        "share": (f.get("evidence") or {}).get("drifted_share"), "table": table})
    ingest = drift_table(rec.stage_evidence("ingest").get("drift"))
    if ingest is not None and not any(f.get("stage") == "ingest" and drift_table(f.get("evidence")) is not None
                                      for f in findings):
        out.append({"title": "train against test at ingest (stage evidence)", "status": None,
                    "share": rec.stage_evidence("ingest")["drift"].get("drifted_share"), "table": ingest})
    return out


def variants_frame(optimization: dict[str, Any]) -> pd.DataFrame:
    """The parent model and each LiteRT variant side by side."""
    parent = optimization.get("parent") or {}
    rows = []
    if parent:
        rows.append({"model": "parent (Keras)", "size_bytes": parent.get("size_bytes"), "size_ratio": 1.0,
                     "latency_ms": parent.get("latency_ms"), "accuracy": parent.get("accuracy"),
                     "accuracy_change": 0.0, "gate": None, "deployed": None, **_gaps(parent.get("group_gaps"))})
    for v in optimization.get("variants") or []:
        rows.append({"model": v.get("name"), "size_bytes": v.get("size_bytes"),
                     "size_ratio": _ratio(v.get("size_bytes"), parent.get("size_bytes")),
                     "latency_ms": v.get("latency_ms"), "accuracy": v.get("accuracy"),
                     "accuracy_change": _diff(v.get("accuracy"), parent.get("accuracy")),
                     "gate": v.get("gate"), "deployed": v.get("deployed"), **_gaps(v.get("group_gaps"))})
    return pd.DataFrame(rows)


def _gaps(gaps: Any) -> dict[str, Any]:
    return {f"gap {k}": v for k, v in gaps.items()} if isinstance(gaps, dict) else {}


def _number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _ratio(a: Any, b: Any) -> float | None:
    return a / b if _number(a) and _number(b) and b else None


def _diff(a: Any, b: Any) -> float | None:
    return a - b if _number(a) and _number(b) else None


def _text(value: Any) -> str | None:
    # One type per column: Arrow (which st.dataframe uses) refuses columns mixing numbers and text.
    if value is None:
        return None
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    return str(value)
