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
verifies or it no longer matches the trail. Every field is compared, ``generated`` included;
``generated.at`` (the generation time) is the one value not derived from the trail: it must be an
RFC 3339 UTC time, and it is used for the rebuild. Fields of the wrong type (a run id that is a
list, a checkpoint size that is text) are mismatches, never crashes.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from typing import Any

from governance.errors import UserError
from governance.report.document import build_report

_MISSING = object()
_MAX_PROBLEMS = 10
_RFC3339_UTC = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z")
_CHECKPOINT_TEXT = ("format", "root_hash", "head_hash", "time", "key_id", "public_key", "signature")


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


def differences(report: Any, trail: Any, path: str = "", limit: int = _MAX_PROBLEMS) -> list[str]:
    """Places where ``report`` differs from ``trail`` (rebuilt), depth first, in trail order.

    Stops after ``limit`` places: a forged list of a million entries is not a million lines.
    """
    out: list[str] = []
    _differences(report, trail, path, out, limit)
    return out


def _differences(report: Any, trail: Any, path: str, out: list[str], limit: int) -> None:
    if len(out) >= limit:
        return
    if isinstance(report, dict) and isinstance(trail, dict):
        for key in list(trail) + [k for k in report if k not in trail]:
            sub = f"{path}.{key}" if path else str(key)
            _differences(report.get(key, _MISSING), trail.get(key, _MISSING), sub, out, limit)
    elif isinstance(report, list) and isinstance(trail, list):
        for i in range(max(len(report), len(trail))):
            a = report[i] if i < len(report) else _MISSING
            b = trail[i] if i < len(trail) else _MISSING
            _differences(a, b, f"{path}[{i}]", out, limit)
            if len(out) >= limit:
                return
    elif not (report == trail and type(report) is type(trail)):
        out.append(f"{path}: the report has {_show(report)}, the trail has {_show(trail)}")


def _part(doc: dict[str, Any], name: str) -> dict[str, Any]:
    value = doc.get(name)
    return value if isinstance(value, dict) else {}


def _checkpoint_problem(cp: Any) -> str | None:
    """Why the cited checkpoint cannot even be checked (absent, or fields of the wrong type)."""
    if not isinstance(cp, dict) or type(cp.get("tree_size")) is not int or cp["tree_size"] < 1:
        return "trail.checkpoint: the report cites no checkpoint to verify against"
    wrong = [name for name in _CHECKPOINT_TEXT if name in cp and not isinstance(cp[name], str)]
    if wrong:
        return f"trail.checkpoint.{wrong[0]}: the report has {_show(cp[wrong[0]])}, which is not text"
    return None


def verify_report(trail: Any, report: dict[str, Any], where: str = "report") -> ReportVerification:
    """Check ``report`` (a loaded JSON report) against ``trail``; see the module docstring."""
    run_id = _part(report, "run").get("run_id")
    if not isinstance(run_id, str) or not run_id:
        raise UserError(f"{where}: the report names no run (run.run_id)")
    if run_id not in trail.runs():
        raise UserError(f"{where}: run '{run_id}' is not in this trail; is --workspace the one the report came from?")
    cp = _part(report, "trail").get("checkpoint")
    problem = _checkpoint_problem(cp)
    if problem:
        return ReportVerification(run_id, False, [problem])
    at = _part(report, "generated").get("at")
    at_ok = _is_utc_time(at)
    rebuilt = build_report(trail, run_id, generated_at=at if at_ok else "1970-01-01T00:00:00Z",
                           checkpoint=cp, upto_seq=cp["tree_size"]).to_dict()
    rebuilt = json.loads(json.dumps(rebuilt))  # the same JSON round trip the report file went through
    problems = []
    verification = rebuilt["trail"]["verification"]
    if not verification["ok"]:
        problems.append("the trail does not verify against the report's checkpoint: "
                        + "; ".join(verification["problems"][:3]))
    # Compare the parts an auditor relies on first, so the first problem named is the most telling.
    for part in ("events", "gates", "trail"):
        problems += differences(report.get(part, _MISSING), rebuilt[part], part, _MAX_PROBLEMS - len(problems))
    if not at_ok:
        problems.append(f"generated.at: the report has {_show(at if at is not None else _MISSING)}, "
                        "which is not an RFC 3339 UTC time (such as 2025-03-02T10:00:00Z)")
    problems += differences(_rest(report), _rest(rebuilt), "", max(_MAX_PROBLEMS - len(problems), 0))
    return ReportVerification(
        run_id, not problems, problems[:_MAX_PROBLEMS], events=len(rebuilt["events"]),
        findings=sum(len(g["findings"]) for g in rebuilt["gates"]), checkpoint=rebuilt["trail"]["checkpoint"] or {},
    )


def _is_utc_time(value: Any) -> bool:
    """``2025-03-02T10:00:00Z`` (optionally with a fraction): the form rai stamps reports with."""
    if not isinstance(value, str) or _RFC3339_UTC.fullmatch(value) is None:
        return False
    try:
        dt.datetime.fromisoformat(value[:-1])
    except ValueError:  # month 13, hour 25, ...
        return False
    return True


def _rest(doc: dict[str, Any]) -> dict[str, Any]:
    """Every top-level field but the three compared first; ``generated`` without its time."""
    rest = {k: v for k, v in doc.items() if k not in ("events", "gates", "trail")}
    if isinstance(rest.get("generated"), dict):
        rest["generated"] = {k: v for k, v in rest["generated"].items() if k != "at"}
    return rest
