"""What verification found: problems located at a seq, and the overall report."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Problem kinds, in the order a reader should see them when several share a seq.
PROBLEM_KINDS: dict[str, str] = {
    "unreadable": "the database file is damaged: it cannot be read from this entry on",
    "schema": "the database's structure was altered outside rai (an index, trigger, view, table, rule or "
              "policy rai does not create, or one that disagrees with the entries)",
    "missing": "entries were deleted",
    "inserted": "entries were added into the middle of the trail",
    "reordered": "entries are out of their recorded order",
    "edited": "an entry was changed after it was recorded",
    "rewritten": "entries no longer match a signed checkpoint (Merkle root or head hash differ)",
    "truncated": "the trail is shorter than a signed checkpoint says it was",
    "blob_missing": "an evidence file an event refers to is missing",
    "blob_corrupted": "an evidence file no longer matches its hash",
    "bad_signature": "a signature does not verify",
    "unknown_key": "a checkpoint is signed by a key this workspace does not trust",
    "bad_checkpoint": "a checkpoint file is malformed",
}
_ORDER = {kind: i for i, kind in enumerate(PROBLEM_KINDS)}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the trail.

    ``seq`` is the first entry concerned (for checkpoint problems, the checkpoint's tree size;
    ``None`` when no entry is concerned). ``source`` names the checkpoint file or blob involved.
    ``structural`` marks problems that change the stored hashes or their order (and so explain a
    checkpoint mismatch); it is not part of the public dict.
    """

    kind: str
    seq: int | None
    message: str
    source: str | None = None
    structural: bool = field(default=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "seq": self.seq, "message": self.message, "source": self.source}

    def sort_key(self) -> tuple:
        return (self.seq is None, self.seq or 0, _ORDER.get(self.kind, 99))

    def __str__(self) -> str:
        where = f"entry {self.seq}" if self.seq is not None else (self.source or "trail")
        return f"{where}: {self.kind}: {self.message}"


@dataclass
class VerifyReport:
    """Outcome of :meth:`Trail.verify`: ``ok`` only when no problem at all was found."""

    size: int
    head_hash: str | None
    root_hash: str
    problems: list[Problem] = field(default_factory=list)
    checkpoints_verified: int = 0
    latest_checkpoint: Any = None  # the largest checkpoint that matched, a Checkpoint
    blobs_checked: int = 0
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first(self) -> Problem | None:
        """The earliest problem (lowest seq), the one to investigate first."""
        return self.problems[0] if self.problems else None

    def to_dict(self) -> dict[str, Any]:
        latest = self.latest_checkpoint
        return {
            "ok": self.ok,
            "size": self.size,
            "head_hash": self.head_hash,
            "root_hash": self.root_hash,
            "checkpoints_verified": self.checkpoints_verified,
            "latest_checkpoint": latest.to_dict() if latest is not None else None,
            "blobs_checked": self.blobs_checked,
            "first_problem": self.first.to_dict() if self.first else None,
            "problems": [p.to_dict() for p in self.problems],
            "warnings": list(self.warnings),
        }
