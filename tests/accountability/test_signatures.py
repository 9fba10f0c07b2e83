"""Approver keys and signed decisions: created, required, and checked by `rai trail verify`."""

from __future__ import annotations

import json
import os
import sqlite3
import stat

import pytest

from governance.trail import open_trail, verify_trail
from governance.trail.actor_keys import KEY_ENV, create_key
from governance.trail.approval_signatures import decision_message, signature_block
from governance.trail.canonical import canonical_json
from governance.trail.chain import GENESIS_HASH, entry_hash
from governance.trail.signing import Signer, write_new_key

from .conftest import POLICY, kinds


@pytest.fixture
def keyed(start, ws, tmp_path):
    """Run r1 under the policy; alice and bob have keys in the default place, carol has none."""
    start("r1")
    with open_trail(ws) as trail:
        for actor in ("alice", "bob"):
            create_key(trail, actor)
    return tmp_path / "approver-keys"


def test_keys_create_writes_a_private_key_and_registers_its_public_key(rai, ws, tmp_path):
    code, out, err = rai("keys", "create", "--actor", "alice", "--workspace", str(ws.root))
    assert code == 0, err
    private = tmp_path / "approver-keys" / "alice.pem"
    assert stat.S_IMODE(os.stat(private).st_mode) == 0o600
    with open_trail(ws, create=False) as trail:
        (event,) = trail.events(kind="actor.key_registered")
    assert event.payload["actor"] == "alice" and out.startswith(f"created key {event.payload['key_id'][:16]}")
    assert (ws.keys / "actors" / "alice.pub").read_text().startswith("-----BEGIN PUBLIC KEY-----")
    code, out, _ = rai("keys", "list", "--workspace", str(ws.root))
    assert out == f"alice  {event.payload['key_id']}  current (trail entry 1)\n"
    assert verify_trail(ws).ok


@pytest.mark.parametrize("case, args, message", [
    ("bad-name", ["--actor", "alice smith"], "error: actor 'alice smith': a name with a key is 1-128 letters, digits, "
                                              "'.', '_', '@', '+' or '-', starting with a letter or digit\n"),
    ("has-a-key", ["--actor", "alice"], "error: alice already has a registered key ("),
    ("file-exists", ["--actor", "zoe", "--private-key", "{keys}/alice.pem"], "a key file is already there"),
])
def test_keys_create_refusals(case, args, message, keyed, rai, ws):
    before = kinds(ws)
    code, out, err = rai("keys", "create", *[a.format(keys=keyed) for a in args], "--workspace", str(ws.root))
    assert (code, out) == (2, "") and err.count("\n") == 1 and message.format(keys=keyed) in err
    assert kinds(ws) == before


def test_a_member_with_a_key_signs_and_verify_checks_it(keyed, approve, ws):
    code, out, err = approve("r1", "model-risk", "approve", "alice")
    assert code == 0, err
    assert "(actor alice, signed with key " in out
    code, out, _ = approve("r1", "compliance", "approve", "carol")
    assert "unsigned: carol has no registered key" in out
    with open_trail(ws, create=False) as trail:
        signed, unsigned = trail.events(kind="approval.recorded")
    assert signed.payload["signature"]["algorithm"] == "ed25519" and "signature" not in unsigned.payload
    report = verify_trail(ws)
    assert report.ok and report.warnings == [
        "1 decision(s) are unsigned: carol had no registered key when deciding; their identity rests on the "
        "recorded actor name alone (`rai keys create --actor NAME`)"]


def test_a_replaced_key_signs_from_its_registration_on(keyed, rai, approve, ws, tmp_path):
    assert approve("r1", "model-risk", "approve", "alice")[0] == 0
    code, _, err = rai("keys", "create", "--actor", "alice", "--replace", "--private-key", str(tmp_path / "new.pem"),
                       "--workspace", str(ws.root))
    assert code == 0, err
    start_again = approve("r1", "model-risk", "approve", "bob", "--key", str(keyed / "bob.pem"))
    assert start_again[0] == 0
    code, _, err = approve("r1", "model-risk", "reject", "alice", "--key", str(keyed / "alice.pem"))
    assert code == 2 and "does not match alice's key" in err
    assert verify_trail(ws).ok  # the first approval verifies with the key alice had then


# (case, how the key is offered, the one line)
KEY_REFUSALS = [
    ("private-key-missing", "move-away", "alice signs decisions with key {alice}… (trail entry 2): give the private "
                                         "key with --key FILE, $RAI_APPROVER_KEY or {keys}/alice.pem"),
    ("someone-elses-key", "bob", "key {bob}… does not match alice's key {alice}… (trail entry 2)"),
    ("key-from-the-environment", "env-bob", "key {bob}… does not match alice's key {alice}… (trail entry 2)"),
    ("unregistered-key", "fresh", "key {fresh}… is not a registered key of carol"),
]


@pytest.mark.parametrize("case, offered, message", KEY_REFUSALS, ids=[k[0] for k in KEY_REFUSALS])
def test_a_missing_or_foreign_key_is_refused(case, offered, message, keyed, approve, ws, tmp_path, monkeypatch):
    with open_trail(ws, create=False) as trail:
        ids = {e.payload["actor"]: e.payload["key_id"][:16] for e in trail.events(kind="actor.key_registered")}
    fresh = write_new_key(tmp_path / "fresh.pem")
    actor, more = "alice", []
    if offered == "move-away":
        (keyed / "alice.pem").rename(tmp_path / "elsewhere.pem")
    elif offered == "bob":
        more = ["--key", str(keyed / "bob.pem")]
    elif offered == "env-bob":
        monkeypatch.setenv(KEY_ENV, str(keyed / "bob.pem"))
    else:
        actor, more = "carol", ["--key", str(tmp_path / "fresh.pem")]
    before = kinds(ws)
    code, out, err = approve("r1", "model-risk" if actor == "alice" else "compliance", "approve", actor, *more)
    expected = message.format(keys=keyed, fresh=fresh.key_id[:16], **ids)
    assert (code, out) == (2, "") and err.startswith("error: ") and expected in err and err.count("\n") == 1
    assert kinds(ws) == before


def test_a_key_listed_in_the_policy_is_the_only_one_that_signs_for_that_member(start, approve, ws, tmp_path):
    dave = write_new_key(tmp_path / "dave.pem")
    member = "{name: dave, key: " + dave.public_raw.hex() + "}"
    text = POLICY.replace("members: [carol, bob]", f"members: [carol, bob, {member}]")
    start("r1", text=text)
    with open_trail(ws) as trail:
        create_key(trail, "dave")  # a workspace key for dave: the policy's wins for runs under it
    code, _, err = approve("r1", "compliance", "approve", "dave")
    assert code == 2 and "does not match dave's key " + dave.key_id[:16] + "… (policy)" in err
    code, out, err = approve("r1", "compliance", "approve", "dave", "--key", str(tmp_path / "dave.pem"))
    assert code == 0 and "signed with key " + dave.key_id[:16] in out, err


# -- forgeries found by `rai trail verify` -------------------------------------------------------

def _rewrite(ws, seq: int, edit) -> None:
    """Change entry ``seq`` with ``edit(event)`` and recompute the chain from there: the rewrite
    leaves no broken link, so only the decision's signature can tell."""
    db = sqlite3.connect(ws.trail_db, isolation_level=None)
    for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
        db.execute(f"DROP TRIGGER {name}")
    rows = db.execute("SELECT seq, body, entry_hash FROM events ORDER BY seq").fetchall()
    prev = rows[seq - 2][2] if seq > 1 else GENESIS_HASH
    for s, body, _ in rows[seq - 1:]:
        if s == seq:
            event = json.loads(body)
            edit(event)
            body = canonical_json(event)
        digest = entry_hash(s, prev, body)
        db.execute("UPDATE events SET body = ?, prev_hash = ?, entry_hash = ?, actor = ? WHERE seq = ?",
                   (body, prev, digest, json.loads(body)["actor"], s))
        prev = digest
    db.close()


def _resign(signer: Signer):
    def edit(event):
        p = event["payload"]
        p.pop("signature", None)
        p["comment"] = "approved after review"
        p["signature"] = signature_block(signer, decision_message(event["kind"], event["run_id"], event["actor"], p))
    return edit


FORGERIES = [
    ("decision-edited", lambda keys: lambda e: e["payload"].update(decision="reject"),
     "the reject decision by alice: its signature does not verify: changed after it was signed, or forged"),
    ("re-signed-by-another-key", lambda keys: _resign(Signer.generate()),
     "the approve decision by alice: signed by key {other}…, not by alice's key {alice}… (trail entry 2): "
     "re-signed by someone else"),
    ("re-signed-by-bobs-key", lambda keys: _resign(keys["bob"]),
     "the approve decision by alice: signed by key {other}…, not by alice's key {alice}… (trail entry 2): "
     "re-signed by someone else"),
    ("signature-removed", lambda keys: lambda e: e["payload"].pop("signature"),
     "the approve decision by alice: unsigned, but alice has key {alice}… (trail entry 2): recorded without the "
     "member's key"),
    ("actor-swapped", lambda keys: lambda e: e.update(actor="bob"),
     "the approve decision by bob: signed by key {alice}…, not by bob's key {bob}… (trail entry 3): "
     "re-signed by someone else"),
]


@pytest.mark.parametrize("case, forge, message", FORGERIES, ids=[f[0] for f in FORGERIES])
def test_a_forged_or_re_signed_decision_is_found_at_its_entry(case, forge, message, keyed, approve, rai, ws):
    from governance.trail.signing import load_signer

    assert approve("r1", "model-risk", "approve", "alice")[0] == 0
    approve("r1", "compliance", "approve", "carol")
    seq = 4  # run.started, two key registrations, then alice's approval
    keys = {name: load_signer(keyed / f"{name}.pem") for name in ("alice", "bob")}
    edit = forge(keys)
    _rewrite(ws, seq, edit)
    code, out, _ = rai("trail", "verify", "--json", "--workspace", str(ws.root))
    report = json.loads(out)
    assert code == 1 and report["first_problem"]["seq"] == seq and report["first_problem"]["kind"] == "bad_signature"
    with open_trail(ws, create=False) as trail:
        forged = trail.events()[seq - 1]
    other = (forged.payload.get("signature") or {}).get("key_id", "")[:16]
    assert report["first_problem"]["message"] == message.format(alice=keys["alice"].key_id[:16], other=other,
                                                                bob=keys["bob"].key_id[:16])
    if case != "decision-edited":  # the deploy gate never counts it either: an error, which blocks
        from governance.trail import approvals_for

        with open_trail(ws, create=False) as trail:
            assert approvals_for(trail, "r1")[0]["signature"] == "invalid"


def test_an_appended_approval_without_the_members_key_is_found(keyed, rai, ws):
    with open_trail(ws) as trail:  # appended through the API, chain intact: the missing signature tells
        forged = trail.append("approval.recorded", run_id="r1", actor="alice",
                              payload={"role": "model-risk", "decision": "approve", "comment": ""})
    code, out, _ = rai("trail", "verify", "--workspace", str(ws.root))
    assert code == 1
    assert f"entry {forged.seq}: bad_signature: the approve decision by alice: unsigned, but alice has key" in out


def test_a_key_registration_not_signed_by_its_key_is_found(keyed, rai, ws):
    other = Signer.generate()
    with open_trail(ws) as trail:
        forged = trail.append("actor.key_registered", payload={
            "actor": "alice", "key_id": other.key_id, "public_key": other.public_raw.hex(), "replaces": None,
            "proof": "00" * 64})
    code, out, _ = rai("trail", "verify", "--json", "--workspace", str(ws.root))
    problem = json.loads(out)["first_problem"]
    assert code == 1 and (problem["seq"], problem["kind"]) == (forged.seq, "bad_signature")
    assert problem["message"] == "the key registration of alice is not signed by the key it registers"


def test_a_key_registration_hidden_by_its_kind_column_never_reads_as_no_key(keyed, ws):
    from governance.trail import TrailIntegrityError, approvals_for

    with open_trail(ws) as trail:  # an unsigned approval "by alice", which her key would expose
        trail.append("approval.recorded", run_id="r1", actor="alice", payload={"role": "model-risk", "decision": "approve"})
    db = sqlite3.connect(ws.trail_db, isolation_level=None)
    for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
        db.execute(f"DROP TRIGGER {name}")
    db.execute("UPDATE events SET kind = 'stage.completed' WHERE seq = 2")  # alice's registration
    db.close()
    with open_trail(ws, create=False) as trail, pytest.raises(TrailIntegrityError, match="entry 2: its columns disagree"):
        approvals_for(trail, "r1")
