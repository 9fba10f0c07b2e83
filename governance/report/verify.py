"""``rai report verify``: does a JSON report still say what the trail says?

The report is rebuilt from the trail exactly as it was generated: same run, same checkpoint, same
generation time, ignoring events appended after that checkpoint. Then, in order:

1. the trail must still verify against the checkpoint the report cites (chain, Merkle root,
   signature by a trusted key), so the ground truth itself is intact;
2. the run's events (seq, kind, entry hash) must match;
3. every gate's findings must match;
4. everything else must match, field by field.

The first mismatch found is named with its location in the JSON (``gates[2].findings[0].observed``)
and both values. An edited number or a deleted finding is detected because the rebuilt document
differs; an edited checkpoint because its signature (by a key the workspace trusts) no longer
verifies or it no longer matches the trail. ``generated.at`` is the one field not derived from
the trail, so it is used, not checked.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from governance.errors import UserError
from governance.report.model import build_report

_MISSING = object()
_MAX_PROBLEMS = 10


@dataclass
class ReportVerification:
    """Outcome of checking a report against the trail; ``problems[0]`` is the first mismatch."""

    run_id: str
    ok: bool
    problems: list[str] = field(default_factory=list)
    events: int = 0
    findings: int = 0
    checkpoint: dict[str, Any] = field(default_factory=dict)


def _show(value: Any) -> str:
    if value is _MISSING:
        return "nothing"
    text = json.dumps(value, sort_keys=True, ensure_ascii=False)
    return text if len(text) <= 80 else text[:77] + "..."


def differences(report: Any, trail: Any, path: str = "") -> list[str]:
    """Every place where ``report`` differs from ``trail`` (rebuilt), depth first, in trail order."""
    if isinstance(report, dict) and isinstance(trail, dict):
        out = []
        for key in list(trail) + [k for k in report if k not in trail]:
            sub = f"{path}.{key}" if path else str(key)
            out += differences(report.get(key, _MISSING), trail.get(key, _MISSING), sub)
        return out
    if isinstance(report, list) and isinstance(trail, list):
        out = []
        for i in range(max(len(report), len(trail))):
            a = report[i] if i < len(report) else _MISSING
            b = trail[i] if i < len(trail) else _MISSING
            out += differences(a, b, f"{path}[{i}]")
        return out
    if report == trail and type(report) is type(trail):
        return []
    return [f"{path}: the report has {_show(report)}, the trail has {_show(trail)}"]


def verify_report(trail: Any, report: dict[str, Any], where: str = "report") -> ReportVerification:
    """Check ``report`` (a loaded JSON report) against ``trail``; see the module docstring."""
    run_id = (report.get("run") or {}).get("run_id")
    cp = (report.get("trail") or {}).get("checkpoint")
    if not run_id:
        raise UserError(f"{where}: the report names no run (run.run_id)")
    if run_id not in trail.runs():
        raise UserError(f"{where}: run '{run_id}' is not in this trail; is --workspace the one the report came from?")
    if not isinstance(cp, dict) or not isinstance(cp.get("tree_size"), int):
        return ReportVerification(run_id, False, ["trail.checkpoint: the report cites no checkpoint to verify against"])
    rebuilt = build_report(trail, run_id, generated_at=(report.get("generated") or {}).get("at"),
                           checkpoint=cp, upto_seq=cp["tree_size"]).to_dict()
    rebuilt = json.loads(json.dumps(rebuilt))  # the same JSON round trip the report file went through
    problems = []
    verification = rebuilt["trail"]["verification"]
    if not verification["ok"]:
        problems.append("the trail does not verify against the report's checkpoint: "
                        + "; ".join(verification["problems"][:3]))
    # Compare the parts an auditor relies on first, so the first problem named is the most telling.
    for part in ("events", "gates", "trail"):
        problems += differences(report.get(part, _MISSING), rebuilt[part], part)
    rest_report = {k: v for k, v in report.items() if k not in ("events", "gates", "trail", "generated")}
    rest_trail = {k: v for k, v in rebuilt.items() if k not in ("events", "gates", "trail", "generated")}
    problems += differences(rest_report, rest_trail)
    return ReportVerification(
        run_id, not problems, problems[:_MAX_PROBLEMS], events=len(rebuilt["events"]),
        findings=sum(len(g["findings"]) for g in rebuilt["gates"]), checkpoint=rebuilt["trail"]["checkpoint"] or {},
    )
