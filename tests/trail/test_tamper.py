"""Tampering, each way an attacker with write access to the files could try, is detected at the
right entry with the right kind.

The history: entries 1..4, checkpoint A (4), entries 5..12 (entry 6 refers to an evidence blob),
checkpoint B (12), entries 13..14 (not yet checkpointed). Entry n has payload {"i": n}.
"""

import hashlib
import json
import os

import pytest

from governance.trail import open_trail, verify_trail
from governance.trail.chain import entry_hash
from governance.trail.checkpoints import Checkpoint, sign_checkpoint
from governance.trail.signing import Signer

from .conftest import raw_db


@pytest.fixture
def history(ws):
    with open_trail(ws) as t:
        t.append("run.started", run_id="r1", payload={"i": 1})
        for n in range(2, 5):
            t.append("stage.completed", run_id="r1", payload={"i": n})
        cp_a = t.checkpoint()
        blob = t.put_blob(b"per-group selection rates")
        for n in range(5, 13):
            extra = {"evidence_blob": blob} if n == 6 else {}
            t.append("stage.completed", run_id="r1", actor="alice", payload={"i": n, **extra})
        cp_b = t.checkpoint()
        for n in (13, 14):
            t.append("stage.completed", run_id="r1", payload={"i": n})
    return {"a": cp_a, "b": cp_b, "blob": blob}


def _rows(db, from_seq=1):
    return db.execute("SELECT seq, time, run_id, actor, kind, body, prev_hash, entry_hash FROM events "
                      "WHERE seq >= ? ORDER BY seq", (from_seq,)).fetchall()


def _rechain(db, from_seq):
    """Recompute hashes and links from ``from_seq`` on: the forger who knows the algorithm."""
    prev = db.execute("SELECT entry_hash FROM events WHERE seq = ?", (from_seq - 1,)).fetchone()[0]
    for seq, *_, body, _, _ in _rows(db, from_seq):
        digest = entry_hash(seq, prev, body)
        db.execute("UPDATE events SET prev_hash = ?, entry_hash = ? WHERE seq = ?", (prev, digest, seq))
        prev = digest


def _shift_up(db, from_seq):
    for (seq,) in db.execute("SELECT seq FROM events WHERE seq >= ? ORDER BY seq DESC", (from_seq,)).fetchall():
        db.execute("UPDATE events SET seq = seq + 1 WHERE seq = ?", (seq,))


def _forged_row(db, seq, sloppy=False):
    prev = db.execute("SELECT entry_hash FROM events WHERE seq = ?", (seq - 1,)).fetchone()[0]
    time = "2030-01-01T00:00:00.000000Z"
    body = json.dumps({"actor": "mallory", "kind": "approval.recorded", "payload": {"decision": "approve"},
                       "run_id": "r1", "subjects": {}, "time": time}, sort_keys=True, separators=(",", ":"))
    digest = "ab" * 32 if sloppy else entry_hash(seq, prev, body)
    db.execute("INSERT INTO events VALUES (?, ?, 'r1', 'mallory', 'approval.recorded', ?, ?, ?)",
               (seq, time, body, prev, digest))


def edit_payload(ws, h):
    with raw_db(ws) as db:
        db.execute("UPDATE events SET body = replace(body, '\"i\":7', '\"i\":70') WHERE seq = 7")


def edit_kind_column(ws, h):
    with raw_db(ws) as db:
        db.execute("UPDATE events SET kind = 'approval.recorded' WHERE seq = 7")


def edit_kind_everywhere(ws, h):
    with raw_db(ws) as db:
        db.execute("UPDATE events SET kind = 'gate.decided', body = replace(body, 'stage.completed', "
                   "'gate.decided') WHERE seq = 7")


def edit_time(ws, h):
    with raw_db(ws) as db:
        (old,) = db.execute("SELECT time FROM events WHERE seq = 7").fetchone()
        new = "2001" + old[4:]
        db.execute("UPDATE events SET time = ?, body = replace(body, ?, ?) WHERE seq = 7", (new, old, new))


def edit_actor(ws, h):
    with raw_db(ws) as db:
        db.execute("UPDATE events SET actor = 'bob', body = replace(body, '\"alice\"', '\"bob\"') WHERE seq = 7")


def edit_run_id_column(ws, h):
    with raw_db(ws) as db:
        db.execute("UPDATE events SET run_id = 'r2' WHERE seq = 7")


def delete_middle(ws, h):
    with raw_db(ws) as db:
        db.execute("DELETE FROM events WHERE seq = 7")


def delete_and_renumber(ws, h):
    with raw_db(ws) as db:
        db.execute("DELETE FROM events WHERE seq = 7")
        for (seq,) in db.execute("SELECT seq FROM events WHERE seq > 7 ORDER BY seq").fetchall():
            db.execute("UPDATE events SET seq = seq - 1 WHERE seq = ?", (seq,))


def delete_tail_behind_checkpoint(ws, h):
    with raw_db(ws) as db:
        db.execute("DELETE FROM events WHERE seq >= 11")


def swap_rows(ws, h):
    with raw_db(ws) as db:
        seven, eight = _rows(db, 7)[:2]
        for seq, row in ((7, eight), (8, seven)):
            db.execute("UPDATE events SET time=?, run_id=?, actor=?, kind=?, body=?, prev_hash=?, entry_hash=? "
                       "WHERE seq = ?", (*row[1:], seq))


def insert_forged(ws, h):
    with raw_db(ws) as db:
        _shift_up(db, 7)
        _forged_row(db, 7)


def insert_sloppy(ws, h):
    with raw_db(ws) as db:
        _shift_up(db, 7)
        _forged_row(db, 7, sloppy=True)


def rewrite_one_with_new_hash(ws, h):
    with raw_db(ws) as db:
        db.execute("UPDATE events SET body = replace(body, '\"i\":7', '\"i\":70') WHERE seq = 7")
        (prev, body) = db.execute("SELECT prev_hash, body FROM events WHERE seq = 7").fetchone()
        db.execute("UPDATE events SET entry_hash = ? WHERE seq = 7", (entry_hash(7, prev, body),))


def rewrite_history_from_5(ws, h):
    with raw_db(ws) as db:
        db.execute("UPDATE events SET body = replace(body, '\"i\":5', '\"i\":50') WHERE seq = 5")
        _rechain(db, 5)


def _edit_checkpoint_file(h, change):
    path = h["b"].source
    data = json.loads(open(path).read())
    change(data)
    with open(path, "w") as f:
        json.dump(data, f)


def bad_signature(ws, h):
    def flip(d):
        d["signature"] = ("0" if d["signature"][0] != "0" else "1") + d["signature"][1:]
    _edit_checkpoint_file(h, flip)


def checkpoint_claims_other_root(ws, h):
    _edit_checkpoint_file(h, lambda d: d.update(root_hash="ee" * 32))


def checkpoint_with_swapped_public_key(ws, h):
    mallory = Signer.generate()
    forged = sign_checkpoint(mallory, 12, h["b"].root_hash, h["b"].head_hash, h["b"].time)
    _edit_checkpoint_file(h, lambda d: d.update(public_key=forged.public_key, signature=forged.signature))


def unknown_key(ws, h):
    mallory = Signer.generate()
    with open_trail(ws) as t:
        size, head = t.head()
        report = t.verify()
    sign_checkpoint(mallory, size, report.root_hash, head, "2030-01-01T00:00:00.000000Z").save(ws.checkpoints)


def corrupt_blob(ws, h):
    path = ws.blobs / "sha256" / h["blob"][:2] / h["blob"]
    path.chmod(0o644)
    path.write_bytes(b"per-group selection rates, improved")


def missing_blob(ws, h):
    (ws.blobs / "sha256" / h["blob"][:2] / h["blob"]).unlink()


def truncated_db_file(ws, h):
    size = ws.trail_db.stat().st_size
    with open(ws.trail_db, "r+b") as f:
        f.truncate(size // 2)


def emptied_db_file(ws, h):
    with open(ws.trail_db, "r+b") as f:
        f.truncate(0)


def deleted_db_file(ws, h):
    ws.trail_db.unlink()


SCENARIOS = [
    (edit_payload, "edited", 7),
    (edit_kind_column, "edited", 7),
    (edit_kind_everywhere, "edited", 7),
    (edit_time, "edited", 7),
    (edit_actor, "edited", 7),
    (edit_run_id_column, "edited", 7),
    (delete_middle, "missing", 7),
    (delete_and_renumber, "missing", 7),
    (delete_tail_behind_checkpoint, "truncated", 11),
    (swap_rows, "reordered", 7),
    (insert_forged, "inserted", 7),
    (insert_sloppy, "inserted", 7),
    (rewrite_one_with_new_hash, "edited", 7),
    (rewrite_history_from_5, "rewritten", 5),
    (bad_signature, "bad_signature", 12),
    (checkpoint_claims_other_root, "bad_signature", 12),
    (checkpoint_with_swapped_public_key, "bad_signature", 12),
    (unknown_key, "unknown_key", 14),
    (corrupt_blob, "blob_corrupted", 6),
    (missing_blob, "blob_missing", 6),
    (truncated_db_file, "unreadable", 1),
    (emptied_db_file, "unreadable", 1),
    (deleted_db_file, "truncated", 1),
]


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None


@pytest.mark.parametrize("tamper, kind, seq", SCENARIOS, ids=[s[0].__name__ for s in SCENARIOS])
def test_tampering_is_found_at_the_right_entry(ws, history, tamper, kind, seq):
    assert verify_trail(ws).ok
    tamper(ws, history)
    before = _digest(ws.trail_db)
    report = verify_trail(ws)
    assert not report.ok
    assert (report.first.kind, report.first.seq) == (kind, seq), [str(p) for p in report.problems]
    assert _digest(ws.trail_db) == before  # verifying never changes the evidence


def test_recomputed_history_is_located_between_checkpoints(ws, history):
    rewrite_history_from_5(ws, history)
    first = verify_trail(ws).first
    assert "entries 5..12 do not match checkpoint" in first.message and first.source == history["b"].source


def test_truncation_found_with_an_exported_checkpoint_when_local_ones_are_gone(ws, history, tmp_path):
    exported = tmp_path / "regulator.json"
    exported.write_text(history["b"].to_json())
    with raw_db(ws) as db:
        db.execute("DELETE FROM events WHERE seq >= 9")
        db.execute("DELETE FROM checkpoints")
    for f in ws.checkpoints.glob("*.json"):
        f.unlink()
    assert verify_trail(ws).ok  # nothing local remembers the lost entries ...
    report = verify_trail(ws, checkpoint=exported)  # ... but the exported checkpoint does
    assert (report.first.kind, report.first.seq) == ("truncated", 9)


def test_dropped_triggers_alone_are_a_warning_not_tampering(ws, history):
    with raw_db(ws):
        pass
    report = verify_trail(ws)
    assert report.ok and any("trigger" in w for w in report.warnings)
    with open_trail(ws) as t:  # a writer puts them back
        t.append("run.finished", run_id="r1")
    assert verify_trail(ws).warnings == []


def test_malformed_checkpoint_file_is_reported(ws, history):
    (ws.checkpoints / "junk.json").write_text("{not json")
    report = verify_trail(ws)
    assert report.first.kind == "bad_checkpoint" and report.first.source.endswith("junk.json")


def test_two_independent_edits_are_both_reported(ws, history):
    with raw_db(ws) as db:
        db.execute("UPDATE events SET body = replace(body, '\"i\":3', '\"i\":30') WHERE seq = 3")
        db.execute("UPDATE events SET body = replace(body, '\"i\":9', '\"i\":90') WHERE seq = 9")
    problems = [(p.kind, p.seq) for p in verify_trail(ws).problems]
    assert problems == [("edited", 3), ("edited", 9)]


def test_forged_key_rotation_endorsement_is_a_bad_signature(ws, history):
    with open_trail(ws) as t:
        old, new, _ = t.rotate_key()
        seq = t.events(kind="key.rotated")[-1].seq
    with raw_db(ws) as db:
        (body,) = db.execute("SELECT body FROM events WHERE seq = ?", (seq,)).fetchone()
        event = json.loads(body)
        event["payload"]["endorsement"] = "00" * 64
        db.execute("UPDATE events SET body = ? WHERE seq = ?",
                   (json.dumps(event, sort_keys=True, separators=(",", ":"), ensure_ascii=False), seq))
        _rechain(db, seq)
        db.execute("DELETE FROM checkpoints WHERE tree_size > ?", (seq - 1,))
    for f in ws.checkpoints.glob("*.json"):
        if Checkpoint.load(f).tree_size >= seq:
            os.unlink(f)
    report = verify_trail(ws)
    assert (report.first.kind, report.first.seq) == ("bad_signature", seq)
