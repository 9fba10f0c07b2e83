"""Verify a rai audit trail (entry format 2) without rai: Python's standard library and
``cryptography`` only, following docs/trail.md.

    python verify_trail.py .rai/trail.db --checkpoint cp.json [--key-id KEY_ID] [--hashes]

Reads every entry of the SQLite trail, rebuilds each body from the event it holds (RFC 8785),
recomputes each entry hash and link, the RFC 6962 Merkle root, and checks each checkpoint's
Ed25519 signature and that it matches the entries. Prints one JSON object; exit code 0 when
everything holds, 1 when anything does not, 2 for a usage mistake (for example a trail that
is not in entry format 2).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sqlite3
import sys
from decimal import Decimal

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

ENTRY_TAG = b"rai.trail.entry.v2\x00"
FORMAT_1_TAG = b"rai.trail.entry.v1\x00"
CHECKPOINT_TAG = b"rai.trail.checkpoint.v1\n"
GENESIS = "0" * 64


# -- RFC 8785 -------------------------------------------------------------------------------
def number(x: float) -> str:
    """ECMAScript's Number::toString(x) (ECMA-262 7.1.12.1), as RFC 8785 section 3.2.2.3 asks."""
    if x == 0:
        return "0"
    if x < 0:
        return "-" + number(-x)
    _, digit_tuple, exponent = Decimal(repr(x)).normalize().as_tuple()  # shortest round-trip digits
    s = "".join(map(str, digit_tuple))
    k, n = len(s), len(s) + exponent  # x = 0.s * 10**n
    if k <= n <= 21:
        return s + "0" * (n - k)
    if 0 < n <= 21:
        return s[:n] + "." + s[n:]
    if -6 < n <= 0:
        return "0." + "0" * -n + s
    e = n - 1
    return s[0] + ("." + s[1:] if k > 1 else "") + "e" + ("+" if e > 0 else "-") + str(abs(e))


def canonical(value) -> str:
    """RFC 8785 text of a JSON value parsed with every number as a double."""
    if value is None or value is True or value is False:
        return json.dumps(value)
    if isinstance(value, (int, float)):
        return number(float(value))
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # escapes only '"', '\' and U+0000..U+001F
    if isinstance(value, list):
        return "[" + ",".join(canonical(v) for v in value) + "]"
    if isinstance(value, dict):
        keys = sorted(value, key=lambda k: k.encode("utf-16-be"))  # UTF-16 code unit order
        return "{" + ",".join(json.dumps(k, ensure_ascii=False) + ":" + canonical(value[k]) for k in keys) + "}"
    raise ValueError(f"not JSON: {type(value).__name__}")


class NotFormat2(Exception):
    """The trail was begun before entry format 2."""


# -- hashes -----------------------------------------------------------------------------------
def entry_hash(seq: int, prev_hash: str, body: str, tag: bytes = ENTRY_TAG) -> str:
    return hashlib.sha256(tag + seq.to_bytes(8, "big") + bytes.fromhex(prev_hash) + body.encode("utf-8")).hexdigest()


def merkle_root(leaves: list[bytes]) -> bytes:
    """RFC 6962 Merkle tree hash of the entry hashes (32 bytes each)."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return hashlib.sha256(b"\x00" + leaves[0]).digest()
    k = 1 << ((len(leaves) - 1).bit_length() - 1)  # largest power of two below the size
    return hashlib.sha256(b"\x01" + merkle_root(leaves[:k]) + merkle_root(leaves[k:])).digest()


# -- the walk ---------------------------------------------------------------------------------
def check_entries(path: str) -> tuple[list[str], list[dict]]:
    """Recomputed entry hashes in seq order, and every problem found."""
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        rows = db.execute("SELECT seq, prev_hash, body, entry_hash FROM events ORDER BY seq").fetchall()
    finally:
        db.close()
    hashes: list[str] = []
    problems: list[dict] = []
    prev = GENESIS
    for seq, prev_hash, body, stored in rows:
        if seq != len(hashes) + 1:
            problems.append({"seq": seq, "problem": f"expected entry {len(hashes) + 1}"})
        try:
            rebuilt = canonical(json.loads(body, parse_int=float))
        except (TypeError, ValueError) as err:
            rebuilt = f"unreadable body: {err}"
        computed = entry_hash(seq, prev_hash, rebuilt)
        if seq == 1 and computed != stored and entry_hash(1, prev_hash, body, FORMAT_1_TAG) == stored:
            raise NotFormat2(f"{path}: a trail begun in entry format 1; this verifier reads format 2 only")
        if rebuilt != body:
            problems.append({"seq": seq, "problem": "the body is not the canonical form of its event"})
        if computed != stored:
            problems.append({"seq": seq, "problem": "the entry hash does not match the entry"})
        if prev_hash != prev:
            problems.append({"seq": seq, "problem": "not chained to the entry before it"})
        hashes.append(computed)
        prev = stored
    return hashes, problems


def check_checkpoint(path: str, hashes: list[str], key_id: str | None) -> list[str]:
    """What is wrong with one checkpoint file against the recomputed entries."""
    try:
        with open(path, encoding="utf-8") as f:
            cp = json.load(f)
        signed = {name: cp[name] for name in ("format", "head_hash", "key_id", "root_hash", "time", "tree_size")}
        public, size = bytes.fromhex(cp["public_key"]), int(cp["tree_size"])
    except (OSError, ValueError, KeyError, TypeError) as err:
        return [f"not a readable checkpoint: {err}"]
    wrong = []
    if hashlib.sha256(public).hexdigest() != cp["key_id"] or (key_id and cp["key_id"] != key_id):
        wrong.append("signed by another key than it names (or than --key-id)")
    try:
        message = CHECKPOINT_TAG + canonical(signed).encode()
        Ed25519PublicKey.from_public_bytes(public).verify(bytes.fromhex(cp["signature"]), message)
    except (InvalidSignature, ValueError):
        wrong.append("the signature does not verify")
    if size > len(hashes):
        wrong.append(f"signs {size} entries; the trail has {len(hashes)}")
    elif merkle_root([bytes.fromhex(h) for h in hashes[:size]]).hex() != cp["root_hash"]:
        wrong.append("its Merkle root differs from the entries'")
    elif size and hashes[size - 1] != cp["head_hash"]:
        wrong.append("its head hash differs from the entries'")
    return wrong


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("trail", help="the SQLite trail file (.rai/trail.db)")
    parser.add_argument("--checkpoint", action="append", default=[], help="a checkpoint JSON file")
    parser.add_argument("--key-id", help="the key id the trail's owner published")
    parser.add_argument("--hashes", action="store_true", help="also print every recomputed entry hash")
    args = parser.parse_args(argv)
    try:
        hashes, problems = check_entries(args.trail)
    except sqlite3.Error as err:
        print(f"{args.trail}: cannot read the trail: {err}", file=sys.stderr)
        return 2
    except NotFormat2 as err:
        print(err, file=sys.stderr)
        return 2
    checkpoints = []
    for path in args.checkpoint:
        wrong = check_checkpoint(path, hashes, args.key_id)
        checkpoints.append({"file": path, "ok": not wrong, "problems": wrong})
    out = {"ok": not problems and all(c["ok"] for c in checkpoints), "entries": len(hashes),
           "head_hash": hashes[-1] if hashes else GENESIS,
           "root_hash": merkle_root([bytes.fromhex(h) for h in hashes]).hex(),
           "problems": problems, "checkpoints": checkpoints}
    if args.hashes:
        out["entry_hashes"] = hashes
    print(json.dumps(out, indent=2))
    return 0 if out["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
