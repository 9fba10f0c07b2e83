"""The encoding in docs/trail.md is enough to verify a trail without rai: the standalone verifier
(examples/verifier/verify_trail.py, standard library and ``cryptography`` only) reproduces every
entry hash and Merkle root of a trail rai wrote, and catches an edited entry."""

import ast
import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from governance.trail import open_trail
from governance.trail.chain import entry_hash

from .conftest import raw_db

VERIFIER = Path(__file__).resolve().parents[2] / "examples" / "verifier" / "verify_trail.py"
# Run the verifier with rai's packages made unimportable, so that a stray import fails loudly.
RUNNER = ("import runpy, sys\n"
          "for name in ('governance', 'lifecycle', 'dashboards', 'rai'):\n"
          "    sys.modules[name] = None\n"
          "sys.argv = sys.argv[1:]\n"
          "runpy.run_path(sys.argv[0], run_name='__main__')\n")

# Values whose canonical text differs between languages' default JSON writers.
AWKWARD = [
    {"accuracy": 1.0, "big": 1e16, "huge": 1e21, "tiny": 5e-07, "small": 1e-06, "zero": -0.0, "third": 1 / 3},
    {"ordered": {"\ufb33": "dalet", "\U0001f600": "emoji", "\u20ac": "euro", "\r": "cr", "1": "one"}},
    {"text": 'quote " backslash \\ tab \t nul \x00 esc \x1b del \x7f line-sep \u2028 é 日本', "list": [[], {}, None]},
    {"ints": [0, -1, 2**53 - 1, -(2**53) + 1], "floats": [123456789.123, 1.7976931348623157e308, 5e-324]},
]


def run_verifier(*args: str) -> tuple[int, dict | None, str]:
    done = subprocess.run([sys.executable, "-I", "-c", RUNNER, str(VERIFIER), *args],
                          capture_output=True, text=True, timeout=120)
    try:
        out = json.loads(done.stdout) if done.stdout.strip() else None
    except ValueError:
        out = None
    return done.returncode, out, done.stderr


@pytest.fixture
def recorded(ws):
    """A format-2 trail: awkward payloads, a checkpoint at 9 entries, 4 more entries after it."""
    with open_trail(ws) as t:
        t.append("run.started", run_id="r1", actor="Zoë", payload={"policy": {"name": "credit"}})
        for i in range(8):
            t.append("stage.completed", run_id="r1", payload={"i": i, **AWKWARD[i % len(AWKWARD)]},
                     subjects={"model": "ab" * 32})
        first = t.checkpoint()
        for i in range(4):
            t.append("gate.decided", run_id="r1", payload={"decision": "passed", "observed": 0.1 * i})
        second = t.checkpoint()
        events = t.events()
        root = t.verify().root_hash
    return {"events": events, "root": root, "checkpoints": [first, second]}


def test_the_verifier_imports_nothing_but_the_standard_library_and_cryptography():
    tree = ast.parse(VERIFIER.read_text(encoding="utf-8"))
    names = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
             for alias in node.names}
    names |= {node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert names - {"cryptography", "__future__"} <= set(sys.stdlib_module_names)


def test_it_reproduces_every_entry_hash_and_merkle_root(ws, recorded):
    files = [cp.source for cp in recorded["checkpoints"]]
    code, out, err = run_verifier(str(ws.trail_db), *[a for f in files for a in ("--checkpoint", f)],
                                  "--key-id", recorded["checkpoints"][0].key_id, "--hashes")
    assert code == 0, err
    assert out["entry_hashes"] == [e.entry_hash for e in recorded["events"]]
    assert out["entries"] == 13 and out["root_hash"] == recorded["root"] == recorded["checkpoints"][1].root_hash
    assert out["head_hash"] == recorded["events"][-1].entry_hash
    assert [c["ok"] for c in out["checkpoints"]] == [True, True] and out["problems"] == []


def test_it_detects_an_edited_entry(ws, recorded):
    with raw_db(ws) as db:
        body = db.execute("SELECT body FROM events WHERE seq = 6").fetchone()[0]
        assert '"huge":1e+21' in body
        db.execute("UPDATE events SET body = ? WHERE seq = 6", (body.replace('"huge":1e+21', '"huge":2e+21'),))
    code, out, _ = run_verifier(str(ws.trail_db), "--checkpoint", recorded["checkpoints"][0].source)
    assert code == 1 and not out["ok"]
    assert out["problems"] == [{"seq": 6, "problem": "the entry hash does not match the entry"}]
    # The root is rebuilt from the recomputed hashes, so the checkpoint no longer matches either.
    assert out["checkpoints"][0]["problems"] == ["its Merkle root differs from the entries'"]


def test_it_detects_a_rewritten_chain_and_a_forged_checkpoint(ws, recorded):
    with raw_db(ws) as db:  # a forger who knows the encoding rewrites entry 3 and rechains the rest
        rows = db.execute("SELECT seq, body FROM events WHERE seq >= 3 ORDER BY seq").fetchall()
        prev = db.execute("SELECT entry_hash FROM events WHERE seq = 2").fetchone()[0]
        for seq, body in rows:
            body = body.replace('"i":1,', '"i":7,') if seq == 3 else body
            digest = entry_hash(seq, prev, body)
            db.execute("UPDATE events SET body = ?, prev_hash = ?, entry_hash = ? WHERE seq = ?", (body, prev, digest, seq))
            prev = digest
    cp = json.loads(Path(recorded["checkpoints"][0].source).read_text())
    forged = ws.root / "forged.json"
    forged.write_text(json.dumps({**cp, "tree_size": 12}))
    code, out, _ = run_verifier(str(ws.trail_db), "--checkpoint", recorded["checkpoints"][0].source,
                                "--checkpoint", str(forged))
    assert code == 1 and out["problems"] == []  # the chain itself is consistent again
    assert out["checkpoints"][0]["problems"] == ["its Merkle root differs from the entries'"]
    assert "the signature does not verify" in out["checkpoints"][1]["problems"]


def test_a_body_that_is_not_canonical_is_reported(ws, recorded):
    with raw_db(ws) as db:
        body = db.execute("SELECT body FROM events WHERE seq = 3").fetchone()[0]
        db.execute("UPDATE events SET body = ? WHERE seq = 3", (json.dumps(json.loads(body), indent=1),))
    code, out, _ = run_verifier(str(ws.trail_db))
    assert code == 1
    assert {"seq": 3, "problem": "the body is not the canonical form of its event"} in out["problems"]


def test_a_format_1_trail_is_named_not_misread(ws):
    open_trail(ws).close()
    body = '{"actor":"a","kind":"run.started","payload":{"x":1.0},"run_id":"r","subjects":{},"time":"t"}'
    digest = hashlib.sha256(b"rai.trail.entry.v1\x00" + (1).to_bytes(8, "big") + bytes(32) + body.encode()).hexdigest()
    with raw_db(ws) as db:
        db.execute("INSERT INTO events VALUES (1, 't', 'r', 'a', 'run.started', ?, ?, ?)", (body, "0" * 64, digest))
    code, out, err = run_verifier(str(ws.trail_db))
    assert code == 2 and out is None and "entry format 1" in err
