"""Forged rows: values rai never writes, rows outside the chain, copies, edits of a recorded
rejection, and key rotations nobody endorsed.

Each forgery must be found by ``rai trail verify`` at the entry it touched (exit 1, the first
problem located there, never a traceback), and readers must either read the recorded events or
refuse with one line, never crash; the approvals a deploy gate reads must never silently lose the
rejection.
"""

from __future__ import annotations

import json

import pytest
from trail.hostile import build_history, raw, verify_json

from governance.trail import TrailIntegrityError, approvals_for, open_trail
from governance.trail.chain import entry_hash
from governance.trail.signing import KeyRing
from governance.workspace import Workspace

from .rai_case import one_clean_line, run, trail_case

REJECT = 2  # the risk officer's rejection in build_history


@pytest.fixture(autouse=True)
def _deadline(monkeypatch):
    with trail_case(monkeypatch):
        yield


@pytest.fixture
def ws(tmp_path):
    ws = Workspace(tmp_path / "ws")
    build_history(ws)
    return ws


def _set(column, value, seq=5):
    def forge(ws):
        with raw(ws) as db:
            db.execute(f"UPDATE events SET {column} = {value} WHERE seq = ?", (seq,))
    forge.__name__ = f"{column}_{seq}"
    return forge


def _copy_row(src, dst):
    def forge(ws):
        with raw(ws) as db:
            db.execute("INSERT INTO events SELECT ?, time, run_id, actor, kind, body, prev_hash, entry_hash "
                       "FROM events WHERE seq = ?", (dst, src))
    return forge


def _copy_into_middle(ws):
    with raw(ws) as db:
        for (seq,) in db.execute("SELECT seq FROM events WHERE seq >= 6 ORDER BY seq DESC").fetchall():
            db.execute("UPDATE events SET seq = seq + 1 WHERE seq = ?", (seq,))
    _copy_row(5, 6)(ws)


def _forged_tail(body):
    def forge(ws):
        with raw(ws) as db:
            prev = db.execute("SELECT entry_hash FROM events WHERE seq = 10").fetchone()[0]
            db.execute("INSERT INTO events VALUES (11, '2030-01-01T00:00:00.000000Z', 'r1', 'mallory', "
                       "'approval.recorded', ?, ?, ?)", (body, prev, entry_hash(11, prev, body)))
    return forge


def _rotation(payload_of):
    def forge(ws):
        with open_trail(ws) as t:  # appended through rai itself: hashes and links are right
            t.append("key.rotated", payload=payload_of(ws))
    return forge


def _current_key(ws):
    (kid, raw_key), = KeyRing(ws.keys).trusted().items()
    return kid, raw_key.hex()


def _unknown_old_key(ws):
    kid, pub = _current_key(ws)
    return {"old_key_id": "ab" * 32, "new_key_id": kid, "public_key": pub, "endorsement": None}


def _unknown_new_key(ws):
    kid, _ = _current_key(ws)
    return {"old_key_id": kid, "new_key_id": "cd" * 32, "public_key": "ef" * 32, "endorsement": None}


def _wrong_public_key(ws):
    kid, _ = _current_key(ws)
    return {"old_key_id": kid, "new_key_id": kid, "public_key": "ef" * 32, "endorsement": None}


def _not_a_key_id(ws):
    kid, pub = _current_key(ws)
    return {"old_key_id": 5, "new_key_id": kid, "public_key": pub, "endorsement": None}


def _endorsement_by_nobody(ws):
    kid, pub = _current_key(ws)
    return {"old_key_id": kid, "new_key_id": kid, "public_key": pub, "endorsement": "00" * 64}


CASES = [
    (_set("prev_hash", "'zz' || substr(prev_hash, 3)"), "edited", 5),
    (_set("prev_hash", "upper(prev_hash)"), "edited", 5),
    (_set("prev_hash", "substr(prev_hash, 1, 62)"), "edited", 5),
    (_set("entry_hash", "upper(entry_hash)"), "edited", 5),
    (_set("entry_hash", "12345"), "edited", 5),
    (_set("body", "CAST(body AS BLOB)"), "edited", 5),
    (_set("body", "CAST(X'7B22FF227D' AS TEXT)"), "edited", 5),
    (_set("prev_hash", "CAST(prev_hash AS BLOB)"), "edited", 5),
    (_set("kind", "X'00'"), "edited", 5),
    (_set("actor", "'mallory'", seq=10), "edited", 10),
    (_copy_row(3, 0), "inserted", 0),
    (_copy_row(3, -5), "inserted", -5),
    (_copy_row(10, 11), "inserted", 11),
    (_copy_into_middle, "inserted", 6),
    (_forged_tail("not json"), "edited", 11),
    (_forged_tail("[]"), "edited", 11),
    (_forged_tail('{"actor":"mallory","kind":"approval.recorded","payload":{"decision":"approve"},"run_id":"r1",'
                  '"subjects":{},"time":"2030-01-01T00:00:00.000000Z"'), "edited", 11),
    (_rotation(_unknown_old_key), "unknown_key", 11),
    (_rotation(_unknown_new_key), "unknown_key", 11),
    (_rotation(_wrong_public_key), "bad_signature", 11),
    (_rotation(_not_a_key_id), "bad_signature", 11),
    (_rotation(_endorsement_by_nobody), "bad_signature", 11),
]
IDS = ["prev-hash-not-hex", "prev-hash-upper-case", "prev-hash-short", "entry-hash-upper-case",
       "entry-hash-integer", "body-blob", "body-not-utf8", "prev-hash-blob", "kind-blob", "actor-column-edited",
       "row-at-seq-0", "row-at-seq-minus-5", "copy-at-the-tail", "copy-in-the-middle", "tail-body-not-json",
       "tail-body-array", "tail-body-truncated", "rotation-unknown-old-key", "rotation-unknown-new-key",
       "rotation-wrong-public-key", "rotation-not-a-key-id", "rotation-endorsed-by-nobody"]


@pytest.mark.parametrize("forge, kind, seq", CASES, ids=IDS)
def test_forged_row_is_located_at_its_entry(ws, rai, forge, kind, seq):
    forge(ws)
    code, report = verify_json(lambda *a: run(rai, *a), ws)
    assert code == 1 and report["ok"] is False
    first = report["first_problem"]
    assert (first["kind"], first["seq"]) == (kind, seq), report["problems"]
    code, out, _ = run(rai, "trail", "verify", "--workspace", str(ws.root))
    assert code == 1 and out.startswith(f"TAMPERED: entry {seq}: {kind}: ")
    # Readers list the events or refuse in one line; the rejection never silently disappears.
    code, _, err = run(rai, "trail", "show", "--workspace", str(ws.root))
    assert code == 0 or (code == 1 and one_clean_line(err, "rai trail verify"))
    with open_trail(ws, create=False) as t:
        try:
            decisions = [a["decision"] for a in approvals_for(t, "r1")]
        except TrailIntegrityError:
            decisions = None
    assert decisions is None or "reject" in decisions


def test_rows_outside_the_chain_feed_no_reader(ws, rai):
    with raw(ws) as db:
        db.execute("INSERT INTO events SELECT -1, time, 'ghost-run', actor, kind, body, prev_hash, entry_hash "
                   "FROM events WHERE seq = 1")
    with open_trail(ws, create=False) as t:
        assert t.runs() == ["r1"] and t.count() == 10 and t.head()[0] == 10
        assert "ghost-run" not in {e.run_id for e in t.events()}
        with pytest.raises(TrailIntegrityError, match=r"not numbered 1..11 without gaps"):
            approvals_for(t, "r1")
    code, out, _ = run(rai, "trail", "show", "--json", "--workspace", str(ws.root))
    assert code == 0 and [e["seq"] for e in json.loads(out)] == list(range(1, 11))


EDITS_OF_THE_REJECTION = {
    "deleted": "DELETE FROM events WHERE seq = 2",
    "kind-column-changed": "UPDATE events SET kind = 'stage.completed' WHERE seq = 2",
    "run-id-column-changed": "UPDATE events SET run_id = 'r0' WHERE seq = 2",
    "time-column-changed": "UPDATE events SET time = '1999-01-01T00:00:00.000000Z' WHERE seq = 2",
    "decision-edited": "UPDATE events SET body = replace(body, '\"reject\"', '\"approve\"') WHERE seq = 2",
    "moved-before-the-chain": "UPDATE events SET seq = -2 WHERE seq = 2",
    "moved-after-the-chain": "UPDATE events SET seq = 99 WHERE seq = 2",
}


@pytest.mark.parametrize("sql", EDITS_OF_THE_REJECTION.values(), ids=EDITS_OF_THE_REJECTION.keys())
def test_a_deploy_gate_never_reads_an_edited_rejection_as_no_rejection(ws, rai, sql):
    with raw(ws) as db:
        db.execute(sql)
    with open_trail(ws, create=False) as t:
        with pytest.raises(TrailIntegrityError, match="rai trail verify"):
            approvals_for(t, "r1")
    code, report = verify_json(lambda *a: run(rai, *a), ws)
    assert code == 1 and report["first_problem"]["seq"] in (REJECT, -2), report["problems"]
