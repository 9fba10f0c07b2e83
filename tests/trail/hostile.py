"""Shared by the hostile trail corpus (``tests/hostile/test_trail_*.py``): a recorded history to
forge, the attacker's raw access, and the CLI as a process that may not bypass file permissions.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from governance.trail import open_trail, record_approval
from governance.workspace import Workspace
from trail.conftest import raw_db

ROOT = Path(__file__).resolve().parents[2]


def build_history(ws: Workspace) -> dict:
    """Run r1: started (1), a risk officer's rejection (2), stages (3..8), a checkpoint at 8, then
    an owner's approval (9) and a gate decision (10) not yet checkpointed."""
    with open_trail(ws) as t:
        t.append("run.started", run_id="r1", actor="alice", payload={"spec": {"name": "credit"}})
        reject = record_approval(t, "r1", "risk-officer", "reject", actor="carol", comment="unfair to group B")
        for i in range(3, 9):
            t.append("stage.completed", run_id="r1", actor="alice", payload={"i": i})
        cp = t.checkpoint()
        # Appended as it stands (a decision rai approve would now refuse on a rejected run).
        t.append("approval.recorded", run_id="r1", actor="dave",
                 payload={"role": "model-owner", "decision": "approve", "comment": ""})
        t.append("gate.decided", run_id="r1", actor="alice", payload={"decision": "pass"})
    return {"reject_seq": reject.seq, "checkpoint": cp}


def restore_triggers(ws: Workspace) -> None:
    """A rai writer opening the trail puts the triggers back, so that only the forgery remains."""
    open_trail(ws).close()


def verify_json(run, ws: Workspace) -> tuple[int, dict]:
    """``rai trail verify --json`` through ``run(*args)``: exit code and the report."""
    code, out, _ = run("trail", "verify", "--json", "--workspace", str(ws.root))
    return code, json.loads(out)


def cli_process(args: list[str], *, honour_permissions: bool = False, timeout: float = 60) -> subprocess.CompletedProcess:
    """``rai ARGS`` in a child process, never a traceback. With ``honour_permissions`` the child may
    not bypass file permissions even when the tests run as root (those capabilities are dropped)."""
    return python_process(["-m", "rai", *args], honour_permissions=honour_permissions, timeout=timeout)


def python_process(args: list[str], *, honour_permissions: bool = False, timeout: float = 60) -> subprocess.CompletedProcess:
    """``python ARGS`` with this checkout importable, as :func:`cli_process` runs it."""
    command = [sys.executable, *args]
    if honour_permissions and os.geteuid() == 0:
        drop = "-dac_override,-dac_read_search"
        command = ["setpriv", f"--bounding-set={drop}", f"--inh-caps={drop}", "--", *command]
    env = {k: v for k, v in os.environ.items() if k not in ("RAI_SIGNING_KEY", "RAI_TRAIL_URL", "RAI_WORKSPACE")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    proc = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env)
    assert "Traceback" not in proc.stderr + proc.stdout, proc.stderr
    return proc


# The attacker's connection: plain sqlite3, append-only triggers dropped, autocommit.
raw = raw_db
