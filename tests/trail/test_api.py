"""The public trail API: append, read, filters, blobs, checkpoints, proofs, stores."""

import datetime as dt
import getpass
import hashlib
import json
import re
import sqlite3

import pytest

from governance.errors import UserError
from governance.trail import Event, EventError, TrailIntegrityError, TrailMissing, open_trail
from governance.trail.chain import GENESIS_HASH, entry_hash
from governance.trail.checkpoints import Checkpoint
from governance.trail.proofs import check_proof

from .conftest import raw_db

H = hashlib.sha256(b"model").hexdigest()
RFC3339_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


def test_append_returns_the_durable_event(trail):
    ev = trail.append(kind="gate.decided", run_id="r1", actor="alice", payload={"decision": "pass"},
                      subjects={"model": H})
    assert isinstance(ev, Event)
    assert (ev.seq, ev.run_id, ev.actor, ev.kind) == (1, "r1", "alice", "gate.decided")
    assert ev.payload == {"decision": "pass"} and ev.subjects == {"model": H}
    assert ev.prev_hash == GENESIS_HASH and RFC3339_UTC.match(ev.time)
    assert trail.events() == [ev]
    second = trail.append("run.finished", run_id="r1")
    assert second.seq == 2 and second.prev_hash == ev.entry_hash
    assert second.actor == getpass.getuser()  # default actor: the OS user


def test_entry_hash_is_domain_separated_sha256_of_seq_prev_and_canonical_event(trail):
    # A new trail writes format 2: RFC 8785 bodies (numbers as ECMAScript writes them).
    ev = trail.append("model.registered", run_id="r", actor="bob",
                      payload={"b": 1, "a": "é", "x": [1.0, 1e16, 5e-07, -0.0, 0.25]})
    body = ('{"actor":"bob","kind":"model.registered","payload":{"a":"é","b":1,"x":[1,10000000000000000,'
            f'5e-7,0,0.25]}},"run_id":"r","subjects":{{}},"time":"{ev.time}"}}')
    expected = hashlib.sha256(b"rai.trail.entry.v2\x00" + (1).to_bytes(8, "big") + bytes(32)
                              + body.encode()).hexdigest()
    assert ev.entry_hash == expected == entry_hash(1, GENESIS_HASH, body)
    with raw_db(trail.workspace) as db:
        assert db.execute("SELECT body FROM events").fetchone()[0] == body


def test_filters_count_and_runs(trail):
    trail.append("run.started", run_id="b")
    trail.append("run.started", run_id="a")
    trail.append("stage.completed", run_id="b", payload={"stage": "train"})
    trail.append("key.rotated", payload={})
    assert trail.runs() == ["b", "a"]
    assert [e.seq for e in trail.events(run_id="b")] == [1, 3]
    assert [e.seq for e in trail.events(kind="run.started")] == [1, 2]
    assert [e.seq for e in trail.events(kind=["run.started", "key.rotated"])] == [1, 2, 4]
    assert [e.seq for e in trail.events(after_seq=2, limit=1)] == [3]
    assert trail.count() == 4 and trail.count(run_id="b") == 2 and trail.count(kind="run.started") == 2
    assert trail.head() == (4, trail.events()[-1].entry_hash)


def test_since_filter_accepts_dates_and_times(trail):
    first = trail.append("run.started", run_id="r")
    assert trail.events(since=first.time) == [first]
    assert trail.events(since=dt.date(2000, 1, 1)) == [first]
    assert trail.events(since="2999-01-01") == []
    assert trail.events(since=dt.datetime(2999, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=2)))) == []
    with pytest.raises(UserError, match="expected an ISO 8601 date"):
        trail.events(since="yesterday")


@pytest.mark.parametrize("kwargs, message", [
    (dict(kind="Gate Decided"), "event kind 'Gate Decided': must be dotted lowercase"),
    (dict(kind="gate"), "must be dotted lowercase"),
    (dict(kind="gate.decided", payload={"auc": float("nan")}), "payload.auc: nan is not allowed"),
    (dict(kind="gate.decided", payload=[1]), "payload: must be a dict"),
    (dict(kind="gate.decided", subjects={"model": "abc"}), "subjects.model: 'abc' is not a SHA-256"),
    (dict(kind="gate.decided", run_id=""), "run_id '': must be a non-empty string"),
])
def test_bad_events_are_refused_and_nothing_is_recorded(trail, kwargs, message):
    with pytest.raises(EventError, match=re.escape(message)):
        trail.append(**kwargs)
    assert trail.count() == 0


def test_subjects_may_list_several_hashes(trail):
    ev = trail.append("stage.completed", subjects={"datasets": [H, H]})
    assert ev.subjects == {"datasets": [H, H]}


def test_sqlite_store_is_wal_full_and_append_only(trail, ws):
    conn = trail.store._conn
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    trail.append("run.started", run_id="r")
    trail.checkpoint()
    raw = sqlite3.connect(ws.trail_db)
    for sql in ("UPDATE events SET actor = 'mallory'", "DELETE FROM events",
                "UPDATE checkpoints SET doc = ''", "DELETE FROM checkpoints"):
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            raw.execute(sql)
    raw.close()


def test_blobs_are_content_addressed_and_checked(trail, ws):
    digest = trail.put_blob(b"evidence table")
    assert digest == hashlib.sha256(b"evidence table").hexdigest()
    assert trail.put_blob(b"evidence table") == digest
    assert trail.get_blob(digest) == b"evidence table"
    path = ws.blobs / "sha256" / digest[:2] / digest
    path.chmod(0o644)
    path.write_bytes(b"evidence tablE")
    with pytest.raises(TrailIntegrityError, match="corrupted"):
        trail.get_blob(digest)
    assert trail.put_blob(b"evidence table") == digest  # storing it again repairs the copy
    assert trail.get_blob(digest) == b"evidence table"
    with pytest.raises(UserError, match="not found"):
        trail.get_blob(hashlib.sha256(b"other").hexdigest())
    with pytest.raises(UserError, match="64 lowercase hex"):
        trail.get_blob("../../etc/passwd")


def test_put_blob_file(trail, tmp_path):
    f = tmp_path / "model.bin"
    f.write_bytes(b"\x00" * 3_000_000)
    digest = trail.put_blob_file(f)
    assert trail.get_blob(digest) == f.read_bytes()


def test_checkpoint_is_signed_saved_and_stored(trail, ws):
    for i in range(5):
        trail.append("stage.completed", run_id="r", payload={"i": i})
    cp = trail.checkpoint()
    assert cp.tree_size == 5 and cp.head_hash == trail.head()[1]
    saved = Checkpoint.load(cp.source)
    assert saved == cp and saved.source.startswith(str(ws.checkpoints))
    assert trail.latest_checkpoint() == cp
    report = trail.verify()
    assert report.ok and report.checkpoints_verified == 1 and report.latest_checkpoint == cp


def test_later_checkpoints_read_only_new_entries_and_extend_the_signed_root(trail, ws):
    for i in range(5):
        trail.append("stage.completed", payload={"i": i})
    first = trail.checkpoint()
    for i in range(6):
        trail.append("stage.completed", payload={"i": i})
    calls = []
    original = trail.store.rows
    trail.store.rows = lambda **kw: (calls.append(kw), original(**kw))[1]
    second = trail.checkpoint()
    assert calls == [{"after_seq": 5, "upto": None, "scan": True}]  # resumed after the first checkpoint
    trail.store.rows = original
    assert second.tree_size == 11 and second.root_hash == trail.verify().root_hash != first.root_hash


def test_checkpoint_refuses_when_entries_behind_the_last_one_were_cut(ws):
    with open_trail(ws) as t:
        for i in range(6):
            t.append("stage.completed", payload={"i": i})
        t.checkpoint()
    with raw_db(ws) as db:
        db.execute("DELETE FROM events WHERE seq >= 4")
    with open_trail(ws) as t, pytest.raises(TrailIntegrityError, match="entry 4: truncated"):
        t.checkpoint()


def test_checkpoint_refuses_a_new_entry_edited_since_the_last_checkpoint(ws):
    with open_trail(ws) as t:
        t.append("stage.completed", payload={"i": 0})
        t.checkpoint()
        t.append("stage.completed", payload={"i": 1})
    with raw_db(ws) as db:
        db.execute("UPDATE events SET body = replace(body, '\"i\":1', '\"i\":2') WHERE seq = 2")
    with open_trail(ws) as t, pytest.raises(TrailIntegrityError, match="entry 2: edited"):
        t.checkpoint()


def test_checkpoint_of_an_empty_trail(trail):
    cp = trail.checkpoint()
    assert cp.tree_size == 0 and cp.root_hash == hashlib.sha256(b"").hexdigest()
    assert trail.verify().ok


def test_checkpoint_refuses_to_sign_a_tampered_trail(ws):
    t = open_trail(ws)
    for i in range(3):
        t.append("stage.completed", payload={"i": i})
    t.close()
    with raw_db(ws) as db:
        db.execute("UPDATE events SET body = replace(body, '\"i\":1', '\"i\":7') WHERE seq = 2")
    with open_trail(ws) as t, pytest.raises(TrailIntegrityError, match="refusing to sign.*entry 2: edited"):
        t.checkpoint()


def test_inclusion_proof_round_trip_and_forgeries(trail):
    for i in range(7):
        trail.append("stage.completed", run_id="r", payload={"i": i})
    cp = trail.checkpoint()
    trail.append("run.finished", run_id="r")  # after the checkpoint: not provable yet
    proof = trail.prove(4)
    failures, event = check_proof(proof, cp)
    assert failures == [] and event["payload"] == {"i": 3} and event["seq"] == 4
    assert check_proof(json.loads(json.dumps(proof)), cp, key_id=cp.key_id)[0] == []
    assert check_proof(proof, cp, key_id="0" * 64)[0] == [f"the checkpoint is signed by key {cp.key_id}, not the expected {'0' * 64}"]
    forged = json.loads(json.dumps(proof))
    forged["entry"]["body"] = forged["entry"]["body"].replace('"i":3', '"i":9')
    assert "the entry's content does not match its entry hash" in check_proof(forged, cp)[0]
    moved = json.loads(json.dumps(proof))
    moved["seq"] = moved["entry"]["seq"] = 5
    assert check_proof(moved, cp)[0]
    with pytest.raises(UserError, match="not covered by the checkpoint of size 7"):
        trail.prove(8)


def test_prove_without_checkpoint_is_a_clear_error(trail):
    trail.append("run.started", run_id="r")
    with pytest.raises(UserError, match="no verified checkpoint yet"):
        trail.prove(1)


def test_key_rotation_keeps_old_checkpoints_verifying(trail, ws):
    trail.append("run.started", run_id="r")
    old_cp = trail.checkpoint()
    old, new, new_cp = trail.rotate_key()
    assert (old, new) == (old_cp.key_id, new_cp.key_id) and old != new
    rotated = trail.events(kind="key.rotated")[-1]
    assert rotated.payload["old_key_id"] == old and rotated.payload["new_key_id"] == new
    assert (ws.keys / "retired" / f"{old}.pem").exists()
    report = trail.verify()
    assert report.ok and report.checkpoints_verified == 2
    assert trail.checkpoint().key_id == new


def test_rotate_key_refuses_a_key_given_from_outside(ws, tmp_path, monkeypatch):
    from governance.trail.signing import write_new_key

    write_new_key(tmp_path / "k.pem")
    monkeypatch.setenv("RAI_SIGNING_KEY", str(tmp_path / "k.pem"))
    with open_trail(ws) as t, pytest.raises(UserError, match="RAI_SIGNING_KEY"):
        t.rotate_key()


def test_switching_to_a_new_external_key_is_recorded(ws, tmp_path):
    from governance.trail.signing import write_new_key

    with open_trail(ws) as t:
        first = t.checkpoint()
    other = write_new_key(tmp_path / "team.pem")
    with open_trail(ws, signing_key=tmp_path / "team.pem") as t:
        cp = t.checkpoint()
        event = t.events(kind="key.rotated")[-1]
        assert event.payload["old_key_id"] == first.key_id and event.payload["new_key_id"] == other.key_id
        assert cp.key_id == other.key_id and t.verify().ok


def test_readers_do_not_create_a_trail(tmp_path):
    with pytest.raises(TrailMissing, match="no audit trail"):
        open_trail(tmp_path / "nowhere", create=False)
    assert not (tmp_path / "nowhere").exists()


def test_open_by_db_path_and_by_sqlite_url(tmp_path):
    with open_trail(tmp_path / "a" / "audit.db") as t:
        t.append("run.started", run_id="r")
    assert (tmp_path / "a" / "audit.db").is_file()
    with open_trail(tmp_path / "b", url=f"sqlite:///{tmp_path / 'a' / 'audit.db'}") as t:
        assert t.count() == 1


def test_trail_url_file_selects_the_store(tmp_path):
    (tmp_path / "ws").mkdir()
    (tmp_path / "ws" / "trail.url").write_text("mysql://db/audit\n")
    with pytest.raises(UserError, match="scheme 'mysql:' is not supported"):
        open_trail(tmp_path / "ws")
