"""One streaming pass over the trail: recompute every entry hash, the chain and the Merkle root.

A broken link is explained, not just flagged. An entry that hashes correctly under *another*
seq is a recorded event out of place: if its recorded predecessor sits later in the table, the
entries were reordered; if that predecessor is gone, entries were deleted; if it belongs
earlier, the rows before it were inserted; if it is a copy of the entry recorded there, the
copy was inserted. An entry that hashes under no seq was edited. After the first such break only
plain edits are reported, since everything else follows from it. A row that rai cannot have
written (a BLOB, a hash that is not 64 lowercase hex characters, a seq already seen) is reported
at that row, and the walk goes on.
"""

from __future__ import annotations

import json
from collections import deque

from governance.trail.blobs import blob_refs
from governance.trail.chain import ENTRY_FORMAT, GENESIS_HASH, Row, entry_hash
from governance.trail.formats import trail_format
from governance.trail.merkle import MerkleAccumulator, leaf_hash
from governance.trail.problems import Problem
from governance.trail.rowcheck import HEX64, content_fault, digest_bytes, malformed
from governance.trail.signing import rotation_problem
from governance.trail.store import Store, UnreadableTrail

SEARCH_WINDOW = 64  # how far from its place a displaced entry is looked for
MAX_PROBLEMS = 1000


class ChainWalk:
    """Walk ``store`` once; ``anchors`` are checkpoints whose signatures already verified.

    Parameters
    ----------
    blob_status : digest -> ``ok`` / ``corrupted`` for every blob present; ``None`` skips blobs
    trusted : trusted public keys, to check key rotation endorsements
    resume : (size, head hash, Merkle accumulator) of a verified checkpoint to continue after,
        instead of starting at entry 1
    """

    def __init__(self, store: Store, anchors: list, *,
                 blob_status: dict[str, str] | None = None, trusted: dict[str, bytes] | None = None,
                 resume: tuple[int, str, MerkleAccumulator] | None = None):
        self.store = store
        self.pending = deque(sorted(anchors, key=lambda cp: cp.tree_size))
        self.blob_status = dict(blob_status) if blob_status is not None else None
        self.trusted = trusted or {}
        self.bad_blobs = {d for d, s in (blob_status or {}).items() if s != "ok"}
        self.acc = MerkleAccumulator()
        self.problems: list[Problem] = []
        self.mismatches: list[tuple[int, int, object]] = []  # (from, to, checkpoint)
        self.expected, self.prev_hash, self.last_seq = 1, GENESIS_HASH, 0
        self.chain_broken = False
        self.version = ENTRY_FORMAT  # the trail's entry format, read when the walk starts
        self.prev_faulty = self.prev_faulty_now = False  # the previous entry's own hash was wrong
        self.matched_upto, self.verified, self.latest = 0, 0, None
        if resume is not None:  # continue after a checkpoint: (its size, its head, its tree)
            size, self.prev_hash, self.acc = resume
            self.expected, self.last_seq, self.matched_upto = size + 1, size, size

    def run(self, upto: int | None = None) -> None:
        """Check all rows (up to ``upto``) and the anchors they reach."""
        self.version = trail_format(self.store)
        try:
            for row in self.store.rows(after_seq=self.last_seq, upto=upto, scan=True):
                self._visit(row)
        except UnreadableTrail as err:
            self._add(Problem("unreadable", err.after_seq + 1, str(err), self.store.location, True))
        self._anchors_through(self.last_seq)
        self._finish()

    # -- per row ------------------------------------------------------------------------
    def _visit(self, row: Row) -> None:
        if row.seq < self.expected:  # only where seq is not the table's key (PostgreSQL without it)
            self._add(Problem("inserted", row.seq, f"a second entry {row.seq}: each seq is recorded once",
                              structural=True))
            return
        if row.seq != self.expected:
            self._add(Problem("missing", self.expected,
                              f"entries {self.expected}..{row.seq - 1} were deleted (the next entry is {row.seq})",
                              structural=True))
        self._anchors_through(row.seq - 1)
        bad = malformed(row)
        if bad:  # a malformed entry hash changes the Merkle tree: that explains a checkpoint mismatch
            hash_ok = isinstance(row.entry_hash, str) and HEX64.fullmatch(row.entry_hash)
            self._add(Problem("edited", row.seq, bad, structural=not hash_ok))
        else:
            self._check_linked(row)
        self.prev_faulty = bool(bad) or self.prev_faulty_now
        self.prev_hash, self.expected, self.last_seq = row.entry_hash, row.seq + 1, row.seq
        self.acc.add(leaf_hash(digest_bytes(row.entry_hash)))

    def _check_linked(self, row: Row) -> None:
        fault = self._content_fault(row)
        link_ok = row.prev_hash == self.prev_hash
        if not fault and not link_ok and self.prev_faulty:
            pass  # the previous entry's own hash is wrong, and was reported there
        elif row.seq == self.expected and not self.chain_broken and (fault or not link_ok):
            self._diagnose(row, fault, link_ok)
        elif fault and self._original_seq(row) is None:
            self._add(Problem("edited", row.seq, fault))
        self.prev_faulty_now = bool(fault) and (
            entry_hash(row.seq, row.prev_hash, row.body, self.version) != row.entry_hash)

    def _content_fault(self, row: Row) -> str | None:
        """Why the entry's content is not what was recorded, or ``None`` if it is."""
        fault = content_fault(row, self.version)
        if fault is None and (row.kind == "key.rotated"
                              or (self.blob_status is not None and (self.bad_blobs or "blob" in row.body))):
            try:
                event = json.loads(row.body)
            except ValueError:
                return "its recorded event is not valid JSON"
            self._check_event(row, event if isinstance(event, dict) else {})
        return fault

    def _check_event(self, row: Row, event: dict) -> None:
        payload = event.get("payload")
        payload = payload if isinstance(payload, dict) else {}
        if event.get("kind") == "key.rotated":
            problem = rotation_problem(payload, self.trusted)
            if problem:
                self._add(Problem(problem[0], row.seq, problem[1]))
        if self.blob_status is None:
            return
        for digest in [d for d in self.bad_blobs if d in row.body]:
            self.bad_blobs.discard(digest)
            self._add(Problem("blob_corrupted", row.seq, f"evidence blob {digest} no longer matches its hash",
                              digest))
        if "blob" in row.body:
            for digest in blob_refs(payload):
                if digest not in self.blob_status:
                    self.blob_status[digest] = "missing"
                    self._add(Problem("blob_missing", row.seq, f"evidence blob {digest} is missing", digest))

    # -- explaining a break ---------------------------------------------------------------
    def _diagnose(self, row: Row, fault: str | None, link_ok: bool) -> None:
        s = row.seq
        if not fault and s == 1:
            self._add(Problem("edited", 1, "entry 1 does not start from the genesis hash", structural=True))
            return
        if not fault:
            self._add(Problem("edited", s - 1, f"entry {s - 1} was rewritten with a recomputed hash: entry {s} "
                                               "was chained to a different one", structural=True))
            return
        original = self._original_seq(row)
        if original is not None:
            self._add(self._displacement(row, original))
        elif self._inserted_at(row):
            self._add(Problem("inserted", s, f"entry {s} was inserted: the next entry is the one "
                                             f"originally recorded as {s}", structural=True))
        elif link_ok:
            self._add(Problem("edited", s, fault))
        else:
            self._add(Problem("edited", s, f"{fault}, and it is not chained to entry {s - 1}", structural=True))

    def _displacement(self, row: Row, j: int) -> Problem:
        """Problem for a recorded entry found at ``row.seq`` that was recorded as entry ``j``."""
        s = row.seq
        if j > s:
            pred = self.store.seq_of_entry_hash(row.prev_hash)
            if pred is not None and pred > s:
                return Problem("reordered", s, f"entry {s} holds the event recorded as entry {j}; "
                                               "entries are out of order", structural=True)
            return Problem("missing", s, f"entries {s}..{j - 1} were deleted: entry {s} holds the event "
                                         f"recorded as entry {j} (later entries renumbered)", structural=True)
        original = self.store.row_at(j)
        if original is not None and original.entry_hash == row.entry_hash:
            return Problem("inserted", s, f"entry {s} is a copy of entry {j}, inserted", structural=True)
        return Problem("inserted", j, f"entries {j}..{s - 1} were inserted: entry {s} holds the event "
                                      f"originally recorded as entry {j}", structural=True)

    def _original_seq(self, row: Row) -> int | None:
        """The seq under which this row's content hashes correctly, if not its own."""
        pred = (0 if row.prev_hash == GENESIS_HASH else self.store.seq_of_entry_hash(row.prev_hash))
        guesses = ([pred + 1] if pred is not None else []) + [
            row.seq + d for k in range(1, SEARCH_WINDOW + 1) for d in (k, -k)]
        for j in guesses:
            if j >= 1 and j != row.seq and entry_hash(j, row.prev_hash, row.body, self.version) == row.entry_hash:
                return j
        return None

    def _inserted_at(self, row: Row) -> bool:
        nxt = self.store.row_at(row.seq + 1)
        return (nxt is not None and malformed(nxt) is None and nxt.prev_hash == self.prev_hash
                and entry_hash(row.seq, nxt.prev_hash, nxt.body, self.version) == nxt.entry_hash)

    # -- checkpoints -------------------------------------------------------------------------
    def _anchors_through(self, seq: int) -> None:
        """Compare every checkpoint of size <= ``seq`` with the rows read so far."""
        while self.pending and self.pending[0].tree_size <= seq:
            cp = self.pending.popleft()
            if (self.acc.size == cp.tree_size and self.acc.root().hex() == cp.root_hash
                    and self.prev_hash == cp.head_hash):
                self.matched_upto, self.latest = cp.tree_size, cp
                self.verified += 1
            else:
                self.mismatches.append((self.matched_upto + 1, cp.tree_size, cp))

    def _finish(self) -> None:
        if self.pending:
            cp = self.pending[-1]
            self._add(Problem("truncated", self.last_seq + 1,
                              f"the trail ends at entry {self.last_seq} but checkpoint {cp.source} signed "
                              f"{cp.tree_size} entries at {cp.time}: entries {self.last_seq + 1}.."
                              f"{cp.tree_size} were removed", cp.source))
        structural = [p.seq for p in self.problems if p.structural and p.seq is not None]
        for lo, hi, cp in self.mismatches[:1]:  # later mismatches follow from the first
            if not any(lo <= s <= hi for s in structural):
                self._add(Problem("rewritten", lo, f"entries {lo}..{hi} do not match checkpoint "
                                                   f"{cp.source} (signed {cp.time}): history was "
                                                   "rewritten in this range", cp.source))
        for digest in sorted(self.bad_blobs):
            self._add(Problem("blob_corrupted", None, f"evidence blob {digest} no longer matches its hash",
                              digest))

    def _add(self, problem: Problem) -> None:
        if problem.structural:
            self.chain_broken = True
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(problem)
