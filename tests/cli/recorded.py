"""What every ``rai audit ... --record`` test checks of the run it records."""

from __future__ import annotations

import json

from governance.trail import Event, open_trail

AUDIT_RUN = ["run.started", "stage.completed", "audit.completed", "gate.decided", "run.finished"]


def recorded_blocked_audit(rai, *args: str) -> Event:
    """Run ``rai`` with ``args`` (an audit whose policy blocks) recorded into ``ws``; its ``audit.completed`` event.

    The run holds an audit's events in order, the trail verifies, the run's report says blocked,
    and the event carries the printed JSON result and the failed finding.
    """
    code, out, err = rai(*args, "--json", "--record", "--workspace", "ws")
    assert code == 1 and "recorded audit run " in err
    with open_trail("ws", create=False) as trail:
        (event,) = trail.events(kind="audit.completed")
        assert trail.verify().ok
        kinds = [e.kind for e in trail.events(run_id=event.run_id)]
    assert kinds == AUDIT_RUN
    code, report, err = rai("report", event.run_id, "--format", "json", "--workspace", "ws")
    assert code == 0, err
    assert json.loads(report)["verdict"]["decision"] == "blocked"
    assert event.payload["result"] == json.loads(out)
    assert event.payload["decision"] == "blocked" and event.payload["findings"][0]["status"] == "failed"
    return event
