"""A revoked version is refused by `rai serve`, and a running server stops serving it within its re-check."""

from __future__ import annotations

import time

from governance.fsutil import file_sha256
from governance.trail import open_trail
from lifecycle.serving.service import REFUSED

from .harness import ROW, Server, register_demo


def _wait_refused(running: Server, seconds: float = 20) -> tuple[dict, float]:
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        status, _, health = running.call("GET", "/health")
        if status == 503:
            return health, time.monotonic() - started
        time.sleep(0.05)
    raise AssertionError(f"still serving {seconds} s after the revocation; stderr: {running.stderr()}")


def test_a_revoked_version_is_refused_at_start_and_the_others_still_serve(demo_ws, rai):
    register_demo(demo_ws)  # v2
    code, out, err = rai("revoke", "demo", "1", "--reason", "bias found in review", "--actor", "carol",
                         "--workspace", str(demo_ws.root))
    assert code == 0 and out.startswith("revoked demo v1 (trail entry #"), err
    code, out, err = rai("serve", "demo", "--version", "1", "--workspace", str(demo_ws.root), "--port", "0")
    entry = demo_ws.registry / "demo" / "1"
    assert code == 2 and out == ""
    assert err.startswith(f"error: {entry}: refusing to serve demo v1: revoked at ")
    assert err.endswith(" by carol: bias found in review (trail entry #1)\n")
    with Server(demo_ws, "--version", "2") as running:  # revoking v1 leaves v2 alone
        assert running.predict({"row": ROW})[0] == 200


def test_a_running_server_stops_serving_a_version_revoked_under_it(demo_ws, rai):
    with Server(demo_ws, "--recheck-seconds", "0.5") as running:
        assert running.predict({"row": ROW})[0] == 200
        assert rai("revoke", "demo", "1", "--reason", "withdrawn by the model owner", "--actor", "carol",
                   "--workspace", str(demo_ws.root))[0] == 0
        health, waited = _wait_refused(running)
        assert waited < 5  # bounded by the re-check interval (0.5 s) plus one trail read
        assert health["status"] == "refused" and "withdrawn by the model owner" in health["reason"]
        status, answer = running.predict({"row": ROW})
        assert status == 503 and "no decision made" in answer["error"]
    with open_trail(demo_ws, create=False) as trail:
        (refused,) = trail.events(kind=REFUSED)
    assert refused.payload["reason"].startswith("revoked at ")


def test_the_trail_alone_stops_a_server_when_the_mark_is_deleted(demo_ws, rai):
    with Server(demo_ws, "--recheck-seconds", "0.5") as running:
        assert rai("revoke", "demo", "1", "--reason", "leak", "--actor", "carol", "--workspace", str(demo_ws.root))[0] == 0
        (demo_ws.registry / "demo" / "1" / "revoked.json").unlink()  # someone removes the mark: the trail still says it
        health, _ = _wait_refused(running)
    assert "leak" in health["reason"]


def test_rejecting_the_run_that_registered_a_served_version_revokes_it(demo_ws, rai):
    entry = demo_ws.registry / "demo" / "1"
    with open_trail(demo_ws) as trail:
        trail.append("run.started", run_id="test-run", actor="sam", payload={"policy": {}})
        trail.append("model.registered", run_id="test-run", actor="sam", payload={
            "name": "demo", "version": 1, "manifest_path": str(entry / "manifest.json"),
            "manifest_sha256": file_sha256(entry / "manifest.json")})
        trail.append("run.finished", run_id="test-run", actor="sam", payload={"decision": "passed"})
    with Server(demo_ws, "--recheck-seconds", "0.5") as running:
        assert running.predict({"row": ROW})[0] == 200
        code, out, err = rai("approve", "test-run", "--role", "risk-officer", "--decision", "reject", "--actor", "carol",
                             "--comment", "unfair to group b", "--workspace", str(demo_ws.root))
        assert code == 0, err
        assert "revoked demo v1 (trail entry #" in out and "run test-run: rejected by carol" in out
        health, _ = _wait_refused(running)
    assert "run test-run rejected by carol (risk-officer): unfair to group b" in health["reason"]
