"""The report document: one JSON-able structure from which every format is rendered.

:func:`build_report` reads a run from the trail and returns a :class:`ReportDocument`. Building is
deterministic for a given trail, run, checkpoint and ``generated_at``; ``rai report verify``
relies on that, rebuilding the document and comparing it with a report file.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from governance import __version__
from governance.provenance import utc_now_seconds
from governance.report import sections as S
from governance.report.accountability import accountability, with_accountability
from governance.report.mapping import framework_mapping
from governance.report.source import load_run
from governance.report.trailinfo import trail_section
from governance.report.verdict import verdict, with_integrity

SCHEMA_VERSION = "1.0"
KIND = "rai.compliance-report"



@dataclass
class ReportDocument:
    """Every section of a compliance report, in reading order (see ``report.schema.json``)."""

    generated: dict[str, Any]
    verdict: dict[str, Any]
    run: dict[str, Any]
    system: dict[str, Any]
    metadata: dict[str, Any]
    data: dict[str, Any]
    policy: dict[str, Any]
    stages: list[dict[str, Any]]
    gates: list[dict[str, Any]]
    privacy: dict[str, Any] | None
    optimization: dict[str, Any] | None
    approvals: list[dict[str, Any]]
    waivers: list[dict[str, Any]]
    accountability: dict[str, Any]
    trail: dict[str, Any]
    events: list[dict[str, Any]]
    frameworks: dict[str, Any] = field(default_factory=dict)
    schema_version: str = SCHEMA_VERSION
    kind: str = KIND

    @property
    def findings(self) -> list[dict[str, Any]]:
        return [f for g in self.gates for f in g["findings"]]

    def to_dict(self) -> dict[str, Any]:
        """Plain dict with ``schema_version`` and ``kind`` first (as in the JSON file)."""
        d = asdict(self)
        return {"schema_version": d.pop("schema_version"), "kind": d.pop("kind"), **d}


def build_report(
    trail: Any,
    run_id: str,
    *,
    generated_at: str | None = None,
    checkpoint: dict[str, Any] | None = None,
    upto_seq: int | None = None,
) -> ReportDocument:
    """Build the compliance report of ``run_id`` from ``trail``.

    Parameters
    ----------
    trail : an open trail (see :mod:`governance.trail`)
    run_id : an existing run id (resolve ``latest`` with ``source.resolve_run_id`` first)
    generated_at : RFC 3339 time to stamp the report with (default: now)
    checkpoint : a checkpoint dict to cite and verify against instead of choosing one
    upto_seq : ignore events after this seq (a report describes the trail as it was)

    Returns
    -------
    ReportDocument
    """
    rec = load_run(trail, run_id, upto_seq=upto_seq)
    gate_list = S.gates(rec)
    findings = S.all_findings(gate_list)
    stage_list = S.stages(rec)
    system = S.system(rec, stage_list)
    policy = S.policy(rec, gate_list)
    doc = ReportDocument(
        generated={"at": generated_at or utc_now_seconds(), "tool": "rai", "tool_version": __version__},
        verdict=verdict(rec.payload("run.finished", last=True) or None, gate_list, system,
                        rec.events[-1] if rec.events else None, rules=policy["rules"]),
        run={**S.run_identity(rec), "configuration": S.configuration(rec)},
        system=system,
        metadata=dict((rec.payload("run.started").get("spec") or {}).get("metadata")
                      or rec.payload("run.started").get("metadata") or {}),
        data=S.data_lineage(rec, stage_list, findings),
        policy=policy,
        stages=stage_list,
        gates=gate_list,
        privacy=S.privacy(rec),
        optimization=S.optimization(rec, gate_list),
        approvals=S.approvals(rec),
        waivers=S.waivers(rec, findings),
        accountability={},
        trail=trail_section(trail, rec, checkpoint),
        events=S.events(rec),
    )
    doc.accountability = accountability(rec, doc.waivers, policy["rules"])
    doc.verdict = with_accountability(doc.verdict, doc.accountability)  # a revocation or rejection is said first
    doc.verdict = with_integrity(doc.verdict, doc.trail)  # an untrusted trail is said before anything
    doc.frameworks = framework_mapping(doc.to_dict())
    return doc
