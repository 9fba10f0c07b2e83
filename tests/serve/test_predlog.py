"""The prediction log: segments, commits to the trail, verification, proofs, export, recovery."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import threading
from pathlib import Path

import pytest

from governance.trail import open_trail
from governance.trail.merkle import leaf_hash, root_of
from governance.workspace import Workspace
from lifecycle.predlog import CLOSED, OPENED, PredictionLogError, commit_segment, encode_record, log_dir
from lifecycle.predlog.segment import SegmentWriter, parse_segment
from lifecycle.predlog.verify import verify_log

from .harness import ROW, Server


def _records(n: int, start: int = 0) -> list[bytes]:
    return [encode_record({"request_id": f"{i:028x}", "row": 0, "time": f"2030-01-01T00:00:{i % 60:02d}.000000Z",
                           "score": 0.25, "label": 0, "flags": []}) for i in range(start, start + n)]


def _segment(ws: Workspace, n: int, segment_id: str = "20300101T000000Z-1-aaaaaaaa") -> dict:
    """Write and commit one segment of ``n`` records (announced first, as a server does)."""
    writer = SegmentWriter.create(log_dir(ws), segment_id)
    with open_trail(ws.ensure()) as trail:
        trail.append(OPENED, payload={"segment": segment_id, "model": {"name": "demo"}})
    writer.write(_records(n))
    payload = commit_segment(ws, writer.content(), segment_id, {"name": "demo"},
                             expected=(writer.records, writer.digest.hexdigest()), remove=writer.path)
    writer.close()
    return payload


def test_a_committed_segment_is_blobs_and_a_merkle_root_in_the_trail(tmp_path):
    ws = Workspace(tmp_path / "ws")
    payload = _segment(ws, 7)
    lines = _records(7)
    assert payload["records"] == 7 and payload["merkle_root"] == root_of(leaf_hash(x) for x in lines).hex()
    blob = (ws.blobs / "sha256" / payload["segment_blob"][:2] / payload["segment_blob"]).read_bytes()
    assert blob == b"\n".join(lines) + b"\n"
    assert payload["changed_while_open"] is None and not list(log_dir(ws).iterdir())
    assert verify_log(ws).ok


def test_a_torn_last_line_is_discarded_and_counted():
    parsed = parse_segment(b"\n".join(_records(3)) + b'\n{"request_id": "half')
    assert len(parsed.lines) == 3 and parsed.discarded_tail == len(b'{"request_id": "half')


def test_a_failed_write_raises_and_counts_nothing(tmp_path):
    writer = SegmentWriter(Path("/dev/full"), "full", os.open("/dev/full", os.O_WRONLY))
    with pytest.raises(PredictionLogError, match="No space left on device"):
        writer.write(_records(1))
    assert writer.records == 0
    os.close(writer.fd)


def test_a_file_edited_while_open_is_recorded_at_commit(tmp_path):
    ws = Workspace(tmp_path / "ws")
    writer = SegmentWriter.create(log_dir(ws), "s1")
    writer.write(_records(3))
    with open(writer.path, "r+b") as handle:  # someone rewrites a decision under the server
        handle.write(handle.read().replace(b'"label":0', b'"label":1', 1))
    payload = commit_segment(ws, writer.content(), "s1", None, expected=(writer.records, writer.digest.hexdigest()))
    writer.close()
    assert payload["changed_while_open"] == {"records_written": 3, "sha256_written": writer.digest.hexdigest()}
    (problem,) = [p for p in verify_log(ws).problems if p.kind == "edited_while_open"]
    assert problem.segment == "s1"


def test_an_open_segment_deleted_under_its_server_is_still_committed_and_flagged(demo_ws):
    with Server(demo_ws) as running:
        assert running.predict({"rows": [ROW, ROW]})[0] == 200
        for path in log_dir(demo_ws).iterdir():
            path.unlink()
        assert running.predict({"row": ROW})[0] == 200
    with open_trail(demo_ws, create=False) as trail:
        (closed,) = trail.events(kind=CLOSED)
    assert closed.payload["replaced"] is True and closed.payload["records"] == 3  # the server's own copy
    (problem,) = verify_log(demo_ws).problems
    assert problem.kind == "edited_while_open" and "removed or replaced while its server wrote it" in problem.message


def _blob_path(ws: Workspace, digest: str) -> Path:
    return ws.blobs / "sha256" / digest[:2] / digest


def _edit_line(ws: Workspace, payload: dict, line: int) -> None:
    path = _blob_path(ws, payload["segment_blob"])
    os.chmod(path, 0o644)
    lines = path.read_bytes().split(b"\n")
    lines[line - 1] = lines[line - 1].replace(b'"score":0.25', b'"score":0.95')
    path.write_bytes(b"\n".join(lines))


def test_an_edited_committed_line_is_located(tmp_path, rai):
    ws = Workspace(tmp_path / "ws")
    payload = _segment(ws, 10)
    _edit_line(ws, payload, 4)
    report = verify_log(ws)
    (problem,) = report.problems
    assert (problem.kind, problem.line) == ("segment_edited", 4)
    assert f"request {4 - 1:028x}" in problem.message and "trail entry 2" in problem.message
    code, out, _ = rai("predictions", "verify", "--workspace", str(ws.root))
    assert code == 1 and "segment_edited: segment 20300101T000000Z-1-aaaaaaaa (trail entry 2)" in out
    code, out, _ = rai("trail", "verify", "--workspace", str(ws.root))  # the blob no longer matches its digest
    assert code == 1 and "entry 2" in out and "blob" in out


def test_a_deleted_segment_and_a_lost_open_segment_are_found(tmp_path, rai):
    ws = Workspace(tmp_path / "ws")
    payload = _segment(ws, 3)
    _blob_path(ws, payload["segment_blob"]).unlink()
    with open_trail(ws) as trail:  # announced, then its file vanished before any commit
        trail.append(OPENED, payload={"segment": "20300101T000001Z-2-bbbbbbbb", "model": {"name": "demo"}})
    (log_dir(ws) / "stray.jsonl").write_bytes(b"\n".join(_records(2)) + b"\n")
    kinds = {(p.kind, p.segment) for p in verify_log(ws).problems}
    assert kinds == {("segment_missing", "20300101T000000Z-1-aaaaaaaa"), ("lost", "20300101T000001Z-2-bbbbbbbb"),
                     ("unannounced", "stray")}
    code, out, _ = rai("predictions", "verify", "--workspace", str(ws.root), "--json")
    assert code == 1 and len(json.loads(out)["problems"]) == 3


def test_decisions_are_found_by_request_id_with_a_proof_a_third_party_can_check(demo_ws, rai, tmp_path):
    with Server(demo_ws) as running:
        status, answer = running.predict({"rows": [ROW, {**ROW, "age": 70}]}, headers={"X-Request-ID": "loan-7"})
        assert status == 200
        for i in range(5):
            running.predict({"row": {**ROW, "age": 20 + i}})
        # still open: found, but provable only once committed
        code, out, _ = rai("predictions", "show", answer["request_id"], "--workspace", str(demo_ws.root), "--json")
        assert code == 0 and [f["committed"] for f in json.loads(out)] == [False, False]
    proof = tmp_path / "proof.json"
    code, out, _ = rai("predictions", "show", "loan-7", "--proof", str(proof), "--workspace", str(demo_ws.root), "--json")
    assert code == 0
    found = json.loads(out)
    assert [(f["record"]["row"], f["record"]["client_request_id"]) for f in found] == [(0, "loan-7"), (1, "loan-7")]
    record = found[1]["record"]
    assert record["score"] == answer["predictions"][1]["score"] and record["inputs"]["age"] == 70
    canonical = json.dumps(record["inputs"], sort_keys=True, separators=(",", ":")).encode()
    assert record["input_sha256"] == hashlib.sha256(canonical).hexdigest()
    (checkpoint,) = sorted((demo_ws.root / "checkpoints").glob("*.json"))[-1:]
    code, out, _ = rai("predictions", "check-proof", str(proof), "--checkpoint", str(checkpoint))
    assert code == 0 and out.count("proof valid") == 2
    forged = json.loads(proof.read_text())
    forged[0]["record_line"] = forged[0]["record_line"].replace('"label":0', '"label":1').replace('"label":1', '"label":0', 0)
    forged[0]["record_line"] = forged[0]["record_line"].replace('"score":', '"score":1', 1)
    proof.write_text(json.dumps(forged))
    code, out, _ = rai("predictions", "check-proof", str(proof), "--checkpoint", str(checkpoint))
    assert code == 1 and "the record's audit path does not lead to the segment's Merkle root" in out


@pytest.mark.parametrize("keep_inputs", [True, False], ids=["inputs kept", "inputs not kept"])
def test_every_line_is_canonical_json(demo_ws, keep_inputs):
    odd = {**ROW, "color": "pink\u00e9\"", "age": None, "hours-per-week": 1e-5, "group": "?"}
    with Server(demo_ws, "--log-inputs" if keep_inputs else "--no-log-inputs") as running:
        running.predict({"rows": [ROW, odd]}, headers={"X-Request-ID": "a.b:c-d_e"})
    with open_trail(demo_ws, create=False) as trail:
        (closed,) = trail.events(kind=CLOSED)
    lines = _blob_path(demo_ws, closed.payload["segment_blob"]).read_bytes().splitlines()
    assert len(lines) == 2
    for line in lines:
        record = json.loads(line)
        assert encode_record(record) == line  # what the server wrote is what a verifier rebuilds
        assert ("inputs" in record) == keep_inputs and len(record["input_sha256"]) == 64
    second = json.loads(lines[1])
    assert second["flags"] == ["hours-per-week:out_of_range", "color:unseen_category"]  # training had missing ages
    if keep_inputs:  # the values as validated: missing markers as null, the unseen category as received
        assert second["inputs"] == {"age": None, "color": "pink\u00e9\"", "group": None, "hours-per-week": 1e-5,
                                    "sex": "Female"}
        canonical = json.dumps(second["inputs"], sort_keys=True, separators=(",", ":")).encode()
        assert second["input_sha256"] == hashlib.sha256(canonical).hexdigest()


def test_export_writes_the_decisions_of_a_time_window(demo_ws, rai, tmp_path):
    with Server(demo_ws) as running:
        for i in range(4):
            running.predict({"row": {**ROW, "age": 30 + i}})
    out_file = tmp_path / "decisions.jsonl"
    code, out, _ = rai("predictions", "export", "-o", str(out_file), "--since", "2000-01-01", "--workspace", str(demo_ws.root))
    assert code == 0 and out.startswith("4 decision(s)")
    assert [json.loads(line)["inputs"]["age"] for line in out_file.read_text().splitlines()] == [30, 31, 32, 33]
    code, out, _ = rai("predictions", "export", "-o", str(out_file), "--until", "2000-01-01", "--workspace", str(demo_ws.root))
    assert code == 0 and out.startswith("0 decision(s)")


def test_a_full_segment_is_committed_while_serving(demo_ws):
    with Server(demo_ws, "--segment-records", "3") as running:
        for i in range(7):
            running.predict({"row": {**ROW, "age": 40 + i}})
        # checked every second: the full segment is committed while the server keeps serving
        assert _wait(lambda: _closed(demo_ws) == 1, 15), running.stderr()
        assert running.predict({"row": ROW})[0] == 200
    report = verify_log(demo_ws)
    assert report.ok and (report.segments, report.records) == (2, 8)


def _closed(ws: Workspace) -> int:
    with open_trail(ws, create=False) as trail:
        return trail.count(kind=CLOSED)


def _wait(condition, seconds: float) -> bool:
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


@pytest.mark.slow
def test_every_acknowledged_decision_survives_sigkill(demo_ws, rai):
    running = Server(demo_ws).start()
    acknowledged: list[str] = []
    stop = threading.Event()

    def client(worker: int) -> None:
        i = 0
        while not stop.is_set():
            status, answer = running.predict({"row": {**ROW, "age": 18 + (worker * 7 + i) % 60}}, timeout=5)
            i += 1
            if status == 200:
                acknowledged.append(answer["request_id"])

    threads = [threading.Thread(target=client, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    assert _wait(lambda: len(acknowledged) >= 300, 60)
    running.stop(signal.SIGKILL)  # mid-flight: some requests are cut off, unacknowledged
    stop.set()
    for thread in threads:
        thread.join(timeout=30)
    code, out, _ = rai("predictions", "verify", "--workspace", str(demo_ws.root))
    assert code == 0 and "orphaned: run `rai predictions recover`" in out
    code, out, _ = rai("predictions", "recover", "--workspace", str(demo_ws.root))
    assert code == 0 and "1 segment(s) recovered" in out
    report = verify_log(demo_ws)
    assert report.ok and not report.pending
    export = demo_ws.root / "all.jsonl"
    assert rai("predictions", "export", "-o", str(export), "--workspace", str(demo_ws.root))[0] == 0
    logged = [json.loads(line)["request_id"] for line in export.read_text().splitlines()]
    assert set(acknowledged) <= set(logged)  # every answered decision is in the log ...
    assert len(logged) == len(set(logged))  # ... once
    with open_trail(demo_ws, create=False) as trail:
        (closed,) = trail.events(kind=CLOSED)
    assert closed.payload["recovered"] is True


def test_decisions_the_log_cannot_take_are_not_made_for_any_request_decided_with_them(demo_ws):
    from lifecycle.serving.server import load_service
    from lifecycle.serving.settings import ServeSettings

    service = load_service(ServeSettings(name="demo", registry=demo_ws.registry, workspace=demo_ws.root))
    service.start()
    (segment,) = log_dir(demo_ws).glob("*.jsonl")
    fd = next(int(entry.name) for entry in Path("/proc/self/fd").iterdir()
              if os.path.realpath(entry) == str(segment.resolve()))
    saved, full = os.dup(fd), os.open("/dev/full", os.O_WRONLY)
    try:
        os.dup2(full, fd)  # the disk is full from now on
        tickets = [service.admit(json.dumps({"row": {**ROW, "age": age}}).encode()) for age in (30, 40)]
        refused = service.admit(b'{"row": {}}')
        service.decide([*tickets, refused])
        for ticket in tickets:
            answer = json.loads(ticket.payload)
            assert ticket.status == 503 and answer["request_id"] == ticket.request_id
            assert answer["error"].startswith("the prediction log cannot record decisions (")
            assert answer["error"].endswith("No space left on device); no decision made")
        assert refused.status == 400  # its own answer, unaffected
        assert service.metrics.snapshot()[1:] == ({0: 0, 1: 0}, 0)  # nothing counted as decided or logged
    finally:
        os.dup2(saved, fd)
        os.close(saved)
        os.close(full)
        service.stop()
    assert verify_log(demo_ws).ok and _closed(demo_ws) == 1
