"""Entry formats: new trails hash RFC 8785 bodies (format 2); trails begun in format 1 keep it and
still verify; an entry in the other format, or a whole trail rewritten into it, is tampering.

Hashes are recomputed here from their definitions (``hashlib``, ``json`` and the ``rfc8785``
reference package), not through rai's own functions.
"""

import hashlib
import json

import pytest
import rfc8785

from governance.trail import approvals_for, open_trail, record_approval, verify_trail
from governance.trail.checkpoints import Checkpoint
from governance.trail.errors import TrailIntegrityError
from governance.trail.proofs import check_proof

from .conftest import raw_db

TAG = {1: b"rai.trail.entry.v1\x00", 2: b"rai.trail.entry.v2\x00"}
PAYLOAD = {"accuracy": 1.0, "tiny": 5e-07, "large": 1e16, "zero": -0.0, "name": "Zoë"}


def v1_body(event: dict) -> str:
    return json.dumps(event, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def v2_body(event: dict) -> str:
    return rfc8785.dumps(event).decode("utf-8")


def parse(body: str) -> dict:
    return json.loads(body, parse_int=float)  # JSON numbers are doubles (as the reference package wants)


def digest(version: int, seq: int, prev: str, body: str) -> str:
    return hashlib.sha256(TAG[version] + seq.to_bytes(8, "big") + bytes.fromhex(prev) + body.encode()).hexdigest()


def event(n: int, kind: str = "stage.completed", run_id: str = "r1", payload: dict | None = None) -> dict:
    return {"actor": "alice", "kind": kind, "payload": {"i": n, **PAYLOAD} if payload is None else payload,
            "run_id": run_id, "subjects": {}, "time": f"2024-05-01T00:00:{n:02d}.000000Z"}


def insert(db, version: int, seq: int, content: dict) -> str:
    """Append one entry of ``version`` as the rai of that format would have."""
    prev = db.execute("SELECT entry_hash FROM events WHERE seq = ?", (seq - 1,)).fetchone()
    prev = prev[0] if prev else "0" * 64
    body = (v1_body if version == 1 else v2_body)(content)
    entry = digest(version, seq, prev, body)
    db.execute("INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?)", (seq, content["time"], content["run_id"],
               content["actor"], content["kind"], body, prev, entry))
    return entry


@pytest.fixture
def v1_trail(ws):
    """A trail written by rai before format 2: five format-1 entries, run r1 started."""
    open_trail(ws).close()
    with raw_db(ws) as db:
        insert(db, 1, 1, event(1, "run.started", payload={"policy": {"name": "p"}}))
        for n in range(2, 6):
            insert(db, 1, n, event(n))
    return ws


def stored(ws) -> list[tuple]:
    with raw_db(ws) as db:
        return db.execute("SELECT seq, body, prev_hash, entry_hash FROM events ORDER BY seq").fetchall()


def test_a_new_trail_hashes_rfc_8785_bodies_under_the_v2_tag(trail):
    for n in range(1, 4):
        trail.append("stage.completed", run_id="r1", actor="alice", payload={"i": n, **PAYLOAD})
    prev = "0" * 64
    for seq, body, prev_hash, entry in stored(trail.workspace):
        assert body == v2_body(parse(body)) and '"accuracy":1,' in body and '"tiny":5e-7' in body
        assert prev_hash == prev and entry == digest(2, seq, prev, body)
        prev = entry
    assert trail.verify().ok


def test_a_format_1_trail_verifies_and_keeps_its_format(v1_trail):
    assert verify_trail(v1_trail).ok
    with open_trail(v1_trail) as t:
        t.append("stage.completed", run_id="r1", actor="alice", payload={"i": 6, **PAYLOAD, "seed": 2**60})
        record_approval(t, "r1", "risk-officer", "approve", actor="carol")
        assert approvals_for(t, "r1")[0]["actor"] == "carol"  # a checked read of format-1 entries
        cp = t.checkpoint()
        proof = t.prove(6)
        assert [e.payload["accuracy"] for e in t.events(kind="stage.completed")] == [1.0] * 5
    prev = "0" * 64
    for seq, body, prev_hash, entry in stored(v1_trail):
        assert prev_hash == prev and entry == digest(1, seq, prev, body)  # old and new entries alike
        prev = entry
    assert '"accuracy":1.0,' in stored(v1_trail)[5][1] and '"seed":1152921504606846976' in stored(v1_trail)[5][1]
    report = verify_trail(v1_trail)
    assert report.ok and report.size == 7 and report.checkpoints_verified == 1
    assert proof["entry"]["format"] == 1 and check_proof(proof, cp)[0] == []
    legacy = {**proof, "entry": {k: v for k, v in proof["entry"].items() if k != "format"}}
    assert check_proof(legacy, cp)[0] == []  # proofs made before formats were named: format 1


def test_a_proof_of_a_format_2_entry_names_its_format(trail):
    for n in range(1, 4):
        trail.append("stage.completed", run_id="r1", payload={"i": n, **PAYLOAD})
    cp = trail.checkpoint()
    proof = trail.prove(2)
    assert proof["entry"]["format"] == 2 and check_proof(proof, cp)[0] == []
    downgraded = {**proof, "entry": {**proof["entry"], "format": 1}}
    assert "the entry's content does not match its entry hash" in check_proof(downgraded, cp)[0]
    for bad in (3, "2", True, None):
        with pytest.raises(Exception, match="malformed inclusion proof: entry.format"):
            check_proof({**proof, "entry": {**proof["entry"], "format": bad}}, cp)


def test_a_format_1_entry_after_format_2_ones_is_reported_where_it_stands(trail):
    for n in range(1, 5):
        trail.append("stage.completed", run_id="r1", actor="alice", payload={"i": n})
    with raw_db(trail.workspace) as db:
        insert(db, 1, 5, event(5, "approval.recorded", payload={"role": "risk", "decision": "approve"}))
    report = trail.verify()
    assert [(p.kind, p.seq) for p in report.problems] == [("edited", 5)]
    assert "hashed as an entry of format 1 in a trail of format 2" in report.problems[0].message
    with pytest.raises(TrailIntegrityError, match="entry 5: it is hashed as an entry of format 1"):
        trail.events(run_id="r1", checked=True)


def test_a_format_2_entry_in_a_format_1_trail_is_reported_where_it_stands(v1_trail):
    with raw_db(v1_trail) as db:
        insert(db, 2, 6, event(6))
    report = verify_trail(v1_trail)
    assert [(p.kind, p.seq) for p in report.problems] == [("edited", 6)]
    assert "hashed as an entry of format 2 in a trail of format 1" in report.problems[0].message


def test_rewriting_a_format_2_trail_into_format_1_is_caught_by_its_checkpoint(trail):
    for n in range(1, 6):
        trail.append("stage.completed", run_id="r1", actor="alice", payload={"i": n})
    trail.checkpoint()
    with raw_db(trail.workspace) as db:
        rows = db.execute("SELECT seq, body FROM events ORDER BY seq").fetchall()
        db.execute("DELETE FROM events")
        for seq, body in rows:
            insert(db, 1, seq, json.loads(body))
    report = trail.verify()
    assert not report.ok and [(p.kind, p.seq) for p in report.problems] == [("rewritten", 1)]


def test_an_edited_first_entry_does_not_change_how_the_rest_is_read(v1_trail):
    with raw_db(v1_trail) as db:
        db.execute("UPDATE events SET body = replace(body, '\"p\"', '\"q\"') WHERE seq = 1")
    report = verify_trail(v1_trail)
    assert [(p.kind, p.seq) for p in report.problems] == [("edited", 1)]  # not every later entry


def test_a_stored_checkpoint_signs_the_same_bytes_in_both_formats(v1_trail, trail):
    # The signed message holds integers and ASCII text only, whose two canonical forms agree.
    trail.append("run.started", run_id="r")
    for ws in (v1_trail, trail.workspace):
        with open_trail(ws) as t:
            cp = t.checkpoint()
        signed = {k: getattr(cp, k) for k in ("head_hash", "key_id", "root_hash", "time", "tree_size")}
        signed["format"] = "rai.trail.checkpoint/v1"
        assert cp.message() == b"rai.trail.checkpoint.v1\n" + rfc8785.dumps(signed)
        assert Checkpoint.load(cp.source) == cp
