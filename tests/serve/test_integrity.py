"""A served entry must keep verifying: refused at start, and refused while running once it stops."""

from __future__ import annotations

import json
import shutil
import time

from governance.trail import open_trail
from lifecycle.serving.service import REFUSED

from .harness import ROW, Server, register_demo


def _tamper(path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def test_a_tampered_entry_is_refused_at_start(demo_ws, rai):
    entry_dir = demo_ws.registry / "demo" / "1"
    _tamper(entry_dir / "model.tflite")
    code, out, err = rai("serve", "demo", "--workspace", str(demo_ws.root), "--port", "0")
    assert code == 2 and out == ""
    assert err == (f"error: {entry_dir}: refusing to load demo v1: model.tflite: sha256 differs from the manifest "
                   "(file modified or replaced)\n")


def _wait_refused(running: Server, seconds: float = 20) -> dict:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        status, _, health = running.call("GET", "/health")
        if status == 503:
            return health
        time.sleep(0.1)
    raise AssertionError(f"still serving after {seconds} s; stderr: {running.stderr()}")


def test_an_entry_tampered_while_served_is_refused_and_recorded(demo_ws):
    with Server(demo_ws, "--recheck-seconds", "0.2") as running:
        assert running.predict({"row": ROW})[0] == 200
        _tamper(demo_ws.registry / "demo" / "1" / "preprocess.keras")
        health = _wait_refused(running)
        reason = "demo v1 no longer verifies: preprocess.keras: sha256 differs from the manifest (file modified or replaced)"
        assert health["status"] == "refused" and health["reason"] == reason
        status, answer = running.predict({"row": ROW})
        assert status == 503 and answer["error"] == f"{reason}; no decision made"
        assert "rai_model_verified{model=\"demo\",version=\"1\"} 0.0" in running.call("GET", "/metrics")[2]
    with open_trail(demo_ws, create=False) as trail:
        (refused,) = trail.events(kind=REFUSED)
    assert refused.payload["reason"].startswith("preprocess.keras: sha256 differs")


def test_another_signed_manifest_copied_over_the_served_one_is_refused(demo_ws, tmp_path):
    # The same name, version and files, validly signed by the workspace key, with another decision rule
    other = register_demo(demo_ws, registry=tmp_path / "elsewhere", threshold=0.9)
    served = demo_ws.registry / "demo" / "1"
    with Server(demo_ws, "--recheck-seconds", "0.2") as running:
        assert running.predict({"row": ROW})[0] == 200
        shutil.copyfile(other.manifest_path, served / "manifest.json")
        health = _wait_refused(running)
    assert health["reason"] == ("demo v1 no longer verifies: manifest.json: a different signed manifest replaced "
                                "the one being served")
    assert json.loads((served / "manifest.json").read_text())["manifest"]["threshold"] == 0.9


def test_a_manifest_of_another_version_copied_over_the_served_one_is_refused(demo_ws):
    newer = register_demo(demo_ws)
    with Server(demo_ws, "--version", "1", "--recheck-seconds", "0.2") as running:
        shutil.copyfile(newer.manifest_path, demo_ws.registry / "demo" / "1" / "manifest.json")
        assert _wait_refused(running)["status"] == "refused"
        assert running.predict({"row": ROW})[0] == 503
