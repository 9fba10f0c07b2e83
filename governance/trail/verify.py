"""Verification: checkpoints first (signatures, keys), then one pass over the entries.

Checkpoints come from three places and all count: the store's checkpoint table, the files in
the workspace's ``checkpoints/`` directory, and any given explicitly (``--checkpoint FILE``, e.g.
one a regulator kept). A checkpoint whose signature does not verify is reported and not used as
evidence of the trail's earlier state; a good one pins the trail's first ``tree_size`` entries.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path

from governance.trail.approval_signatures import signature_problems
from governance.trail.blobs import BlobStore
from governance.trail.checkpoints import Checkpoint, CheckpointFormatError
from governance.trail.errors import TrailIntegrityError, TrailMissing, unavailable
from governance.trail.merkle import EMPTY_ROOT, MerkleAccumulator
from governance.trail.problems import Problem, VerifyReport
from governance.trail.signing import key_id_of, verify_signature
from governance.trail.store import Store
from governance.trail.walk import ChainWalk


def gather_checkpoints(store: Store | None, directory: Path | None,
                       extra: Iterable[Checkpoint] = ()) -> tuple[list[Checkpoint], list[Problem]]:
    """All distinct checkpoints known for this trail, and problems with malformed ones."""
    found: list[Checkpoint] = list(extra)
    problems: list[Problem] = []
    for path in _checkpoint_files(directory):
        try:
            found.append(Checkpoint.load(path))
        except CheckpointFormatError as err:
            problems.append(Problem("bad_checkpoint", None, str(err), str(path)))
    for doc in store.checkpoint_docs() if store is not None else []:
        try:
            found.append(Checkpoint.from_dict(json.loads(doc), f"{store.location} (checkpoint table)"))
        except (ValueError, CheckpointFormatError) as err:
            problems.append(Problem("bad_checkpoint", None, str(err), store.location))
    unique: dict[tuple, Checkpoint] = {}
    for cp in found:  # the same checkpoint is usually both a file and a row: keep the first seen
        unique.setdefault((cp.tree_size, cp.root_hash, cp.head_hash, cp.time, cp.signature), cp)
    return sorted(unique.values(), key=lambda c: c.tree_size), problems


def _checkpoint_files(directory: Path | None) -> list[Path]:
    # Listed by hand: pathlib's glob skips a directory it may not read, and fewer checkpoints
    # would let a truncation pass unnoticed.
    if directory is None:
        return []
    try:
        if not directory.is_dir():
            return []
        return sorted(directory / e.name for e in os.scandir(directory) if e.name.endswith(".json"))
    except OSError as err:
        raise unavailable(err, "read the checkpoints directory", directory) from None


def check_signature(cp: Checkpoint, trusted: dict[str, bytes]) -> Problem | None:
    """Problem with a checkpoint's key or signature, checked against the *trusted* key of its id."""
    public = trusted.get(cp.key_id)
    if public is None:
        return Problem("unknown_key", cp.tree_size,
                       f"checkpoint {cp.source} is signed by key {cp.key_id[:16]}…, which this workspace "
                       "does not trust", cp.source)
    if cp.public_key != public.hex():
        return Problem("bad_signature", cp.tree_size,
                       f"checkpoint {cp.source} carries a public key that is not key {cp.key_id[:16]}…",
                       cp.source)
    if not verify_signature(public, cp.message(), bytes.fromhex(cp.signature)):
        return Problem("bad_signature", cp.tree_size,
                       f"the signature of checkpoint {cp.source} (size {cp.tree_size}) does not verify",
                       cp.source)
    return None


def verify_store(store: Store, trusted: dict[str, bytes], *, checkpoint_dir: Path | None,
                 extra: Iterable[Checkpoint] = (), blobs: BlobStore | None = None) -> VerifyReport:
    """Verify everything about one trail; see :class:`~governance.trail.problems.VerifyReport`."""
    problems = database_problems(store)
    walk, more, blob_status = _full_walk(store, trusted, checkpoint_dir, extra, blobs)
    # Decisions signed by the people deciding: checked against each member's key.
    signed, unsigned = signature_problems(store, trusted)
    return _report(walk, problems + more + signed, blob_status, store.warnings() + unsigned)


def database_problems(store: Store) -> list[Problem]:
    """The database itself: its structure against what rai creates (indexes checked against the
    table), and rows outside the chain (seq <= 0), which no walk over seq 1.. would see."""
    problems = [Problem(kind, seq, message, store.location, structural=kind == "unreadable")
                for kind, seq, message in store.schema_problems(deep=True)]
    try:
        outside = store.seqs_outside()
    except TrailIntegrityError:
        outside = []  # no readable events table: the walk reports it at entry 1
    for seq in outside:
        problems.append(Problem("inserted", seq, f"entry {seq} lies outside the chain (seq numbers start at 1): "
                                                 "it was inserted outside rai"))
    return problems


def signed_by_trusted(checkpoints: list[Checkpoint], trusted: dict[str, bytes],
                      problems: list[Problem]) -> list[Checkpoint]:
    """The checkpoints whose signature checks against ``trusted``; the others go to ``problems``."""
    good = []
    for cp in checkpoints:
        problem = check_signature(cp, trusted)
        if problem:
            problems.append(problem)
        else:
            good.append(cp)
    return good


def _full_walk(store, trusted, checkpoint_dir, extra, blobs) -> tuple[ChainWalk, list[Problem], dict | None]:
    # Checkpoints are read before the entries: every checkpoint read was signed over entries
    # already committed, so one larger than the entries the walk sees means entries were lost.
    checkpoints, problems = gather_checkpoints(store, checkpoint_dir, extra)
    anchors = signed_by_trusted(checkpoints, trusted, problems)
    blob_status = None
    if blobs is not None:
        blob_status = {d: blobs.status(d) for d in blobs.digests()}
    walk = ChainWalk(store, anchors, blob_status=blob_status, trusted=trusted)
    walk.run()
    return walk, problems, blob_status


def verify_for_checkpoint(store: Store, trusted: dict[str, bytes],
                          checkpoint_dir: Path | None) -> tuple[VerifyReport, list[str]]:
    """Check the trail before signing it; return the report and the Merkle frontier of what was read.

    When a stored checkpoint verifies and carries its Merkle frontier, only the entries after
    it are read: the new checkpoint then extends a root that is already signed, so it can never
    vouch for rewritten history (a full ``verify`` still finds edits of older entries).
    Otherwise the whole trail is verified.
    """
    base, later = None, []
    for doc in store.latest_checkpoint_docs():
        try:
            data = json.loads(doc)
            cp = Checkpoint.from_dict(data, f"{store.location} (checkpoint table)")
            acc = MerkleAccumulator.resume(cp.tree_size, [bytes.fromhex(h) for h in data["frontier"]])
        except (ValueError, KeyError, TypeError, CheckpointFormatError):
            continue
        if check_signature(cp, trusted) is None and acc.root().hex() == cp.root_hash:
            base = (cp.tree_size, cp.head_hash, acc)
            break
        later.append(cp)
    if base is not None and base[0] > 0:
        row = store.row_at(base[0])
        if row is None or row.entry_hash != base[1]:
            base = None  # the checkpointed head itself is gone or changed: look at everything
    if base is None:
        walk, problems, _ = _full_walk(store, trusted, checkpoint_dir, (), None)
        problems += [Problem("inserted", seq, f"entry {seq} lies outside the chain") for seq in store.seqs_outside(1)]
    else:
        # Newer good checkpoints (without frontier) still pin the entries; one beyond the end
        # of the trail is reported as truncation.
        anchors = [cp for cp in later if check_signature(cp, trusted) is None]
        walk = ChainWalk(store, anchors, trusted=trusted, resume=base)
        problems = [Problem("inserted", seq, f"entry {seq} lies outside the chain") for seq in store.seqs_outside(1)]
        walk.run()
    return _report(walk, problems, None, []), [h.hex() for h in walk.acc.frontier()]


def _report(walk: ChainWalk, problems: list[Problem], blob_status, warnings: list[str]) -> VerifyReport:
    problems = sorted(problems + walk.problems, key=Problem.sort_key)
    return VerifyReport(
        size=walk.last_seq,
        head_hash=walk.prev_hash if walk.last_seq and isinstance(walk.prev_hash, str) else None,
        root_hash=walk.acc.root().hex(),
        problems=problems,
        checkpoints_verified=walk.verified,
        latest_checkpoint=walk.latest,
        blobs_checked=len(blob_status or {}),
        warnings=warnings,
    )


def is_self_consistent(cp: Checkpoint) -> bool:
    """Whether a checkpoint verifies under the public key it carries (for third parties)."""
    try:
        public = bytes.fromhex(cp.public_key)
    except ValueError:
        return False
    return key_id_of(public) == cp.key_id and verify_signature(public, cp.message(), bytes.fromhex(cp.signature))


def report_without_store(ws, extra: list[Checkpoint], err: Exception) -> VerifyReport:
    """Report for a trail whose database is missing (``TrailMissing``) or cannot be opened."""
    from governance.trail.signing import KeyRing

    checkpoints, problems = gather_checkpoints(None, ws.checkpoints, extra)
    good = signed_by_trusted(checkpoints, KeyRing(ws.keys).trusted(), problems)
    nonempty = [cp for cp in good if cp.tree_size > 0]
    if isinstance(err, TrailMissing):
        if not checkpoints:
            raise err  # nothing says a trail ever existed here: a wrong workspace, not tampering
        if nonempty:
            cp = nonempty[-1]
            problems.append(Problem("truncated", 1, f"{err}, but checkpoint {cp.source} signed {cp.tree_size} "
                                                    f"entries at {cp.time}", cp.source))
    else:
        problems.append(Problem("unreadable", 1, str(err), structural=True))
    problems.sort(key=Problem.sort_key)
    return VerifyReport(size=0, head_hash=None, root_hash=EMPTY_ROOT.hex(), problems=problems)
