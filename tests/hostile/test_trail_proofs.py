"""Forged and malformed inclusion proofs given to ``rai trail check-proof`` (no workspace needed).

A proof carries the entry as hashed and a readable copy of its event. A proof is valid only if
the hashed entry leads to the signed root and the readable copy says exactly what the entry
says: a forged copy is INVALID (exit 1), and what ``proof valid`` prints comes from the hashed
entry. A file that is not a proof (wrong types, huge, deeply nested, not JSON) is one line, exit 2.
"""

from __future__ import annotations

import json

import pytest
from trail.hostile import build_history

from governance.workspace import Workspace

from .rai_case import one_clean_line, run, trail_case


@pytest.fixture(autouse=True)
def _deadline(monkeypatch):
    with trail_case(monkeypatch):
        yield


@pytest.fixture
def proof(tmp_path, rai):
    """A genuine proof of the rejection (entry 2) and the published checkpoint it was made against."""
    ws = Workspace(tmp_path / "ws")
    build_history(ws)
    published, path = tmp_path / "published.json", tmp_path / "proof.json"
    assert run(rai, "trail", "checkpoint", "--export", str(published), "--workspace", str(ws.root))[0] == 0
    assert run(rai, "trail", "prove", "2", "-o", str(path), "--workspace", str(ws.root))[0] == 0
    return path, published


def _check(rai, path, published, *extra):
    return run(rai, "trail", "check-proof", str(path), "--checkpoint", str(published), *extra)


def _edit(path, change):
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


def test_the_genuine_proof_is_valid(proof, rai):
    code, out, _ = _check(rai, *proof)
    assert code == 0 and out.startswith("proof valid: entry 2 (approval.recorded, run r1")


FORGED_COPIES = {
    "decision": lambda d: d["event"]["payload"].update(decision="approve"),
    "actor": lambda d: d["event"].update(actor="mallory"),
    "kind": lambda d: d["event"].update(kind="stage.completed"),
    "run": lambda d: d["event"].update(run_id="r2"),
    "seq": lambda d: d["event"].update(seq=9),
    "extra-field": lambda d: d["event"].update(note="approved after review"),
    "not-an-object": lambda d: d.update(event="approved"),
}


@pytest.mark.parametrize("forge", FORGED_COPIES.values(), ids=FORGED_COPIES.keys())
def test_a_forged_readable_copy_is_invalid(proof, rai, forge):
    _edit(proof[0], forge)
    code, out, _ = _check(rai, *proof)
    assert code == 1 and out.startswith("proof INVALID") and "readable event copy differs" in out
    code, out, _ = _check(rai, *proof, "--json")
    data = json.loads(out)
    assert code == 1 and data["ok"] is False and data["event"] is None


def test_without_a_readable_copy_the_entry_is_what_is_shown(proof, rai):
    _edit(proof[0], lambda d: d.pop("event"))
    code, out, _ = _check(rai, *proof, "--json")
    assert code == 0 and json.loads(out)["event"]["payload"]["decision"] == "reject"


BROKEN = {
    "body-edited": (lambda d: d["entry"].update(body=d["entry"]["body"].replace("reject", "approve")),
                    "does not match its entry hash"),
    "path-flipped": (lambda d: d["audit_path"].__setitem__(0, "00" * 32), "does not lead to the checkpoint"),
    "seq-zero": (lambda d: d.update(seq=0), "seq or tree size disagree"),
    "other-tree-size": (lambda d: d.update(tree_size=7), "seq or tree size disagree"),
}


@pytest.mark.parametrize("forge, needle", BROKEN.values(), ids=BROKEN.keys())
def test_a_broken_proof_is_invalid(proof, rai, forge, needle):
    _edit(proof[0], forge)
    code, out, _ = _check(rai, *proof)
    assert code == 1 and needle in out


MALFORMED = {
    "seq-as-text": lambda d: d.update(seq="2"),
    "seq-as-bool": lambda d: d.update(seq=True),
    "seq-as-float": lambda d: d.update(seq=2.0),
    "seq-negative": lambda d: d.update(seq=-2),
    "seq-huge": lambda d: d.update(seq=10**30),
    "entry-hash-upper-case": lambda d: d["entry"].update(entry_hash=d["entry"]["entry_hash"].upper()),
    "prev-hash-not-hex": lambda d: d["entry"].update(prev_hash="zz" * 32),
    "body-not-text": lambda d: d["entry"].update(body={"kind": "approval.recorded"}),
    "path-not-a-list": lambda d: d.update(audit_path="00" * 32),
    "path-of-numbers": lambda d: d.update(audit_path=[1, 2]),
    "path-too-long": lambda d: d.update(audit_path=["00" * 32] * 100),
    "checkpoint-missing": lambda d: d.pop("checkpoint"),
    "entry-missing": lambda d: d.pop("entry"),
}


@pytest.mark.parametrize("forge", MALFORMED.values(), ids=MALFORMED.keys())
def test_a_malformed_proof_is_one_line(proof, rai, forge):
    _edit(proof[0], forge)
    code, out, err = _check(rai, *proof)
    assert code == 2 and out == ""
    one_clean_line(err, "malformed inclusion proof")


FILES = {
    "deeply-nested": ("[" * 100_000 + "]" * 100_000).encode(),
    "huge": b'{"format": "' + b"x" * 11_000_000 + b'"}',
    "not-utf8": b"\xff\xfe{}",
    "not-json": b"proof: yes",
    "a-list": b"[]",
    "empty": b"",
}


@pytest.mark.parametrize("content", FILES.values(), ids=FILES.keys())
def test_a_file_that_is_not_a_proof_is_one_line(proof, rai, content):
    proof[0].write_bytes(content)
    code, out, err = _check(rai, *proof)
    assert code == 2 and out == ""
    one_clean_line(err)
