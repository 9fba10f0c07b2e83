"""RFC 6962 (Certificate Transparency) Merkle trees over the entry hashes.

Leaf ``i`` of the tree is entry ``seq = i + 1``; its leaf data is the 32-byte entry hash, so the
leaf hash is ``SHA-256(0x00 || entry_hash)`` and an interior node is ``SHA-256(0x01 || left ||
right)``. The empty tree's root is ``SHA-256("")``. A tree of ``n`` leaves splits at ``k``, the
largest power of two below ``n``, which is what lets a log grow by appending only.

Roots are computed in one streaming pass with O(log n) memory (:class:`MerkleAccumulator`), so
verifying a million entries never holds a million hashes. Proofs need the leaves in memory.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    """RFC 6962 leaf hash ``SHA-256(0x00 || data)``."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 6962 interior node hash ``SHA-256(0x01 || left || right)``."""
    return hashlib.sha256(b"\x01" + left + right).digest()


class MerkleAccumulator:
    """Streaming RFC 6962 root: add leaf hashes in order, ask for the root at any size.

    The stack holds the roots of the complete subtrees that make up the current size (one per
    set bit of the size, largest first); a new leaf merges with equal-sized neighbours.
    """

    def __init__(self) -> None:
        self.size = 0
        self._stack: list[tuple[int, bytes]] = []

    def add(self, leaf: bytes) -> None:
        """Append one *leaf hash* (already ``leaf_hash``-ed)."""
        self.size += 1
        height, node = 0, leaf
        stack = self._stack
        while stack and stack[-1][0] == height:
            node = node_hash(stack.pop()[1], node)
            height += 1
        stack.append((height, node))

    def root(self) -> bytes:
        """Root of the leaves added so far (RFC 6962 MTH)."""
        if not self._stack:
            return EMPTY_ROOT
        node = self._stack[-1][1]
        # Right to left: the smaller trailing subtrees hang off the right of the larger ones.
        for _, left in reversed(self._stack[:-1]):
            node = node_hash(left, node)
        return node

    def frontier(self) -> list[bytes]:
        """Roots of the complete subtrees making up the current size, largest first.

        Together with the size they are all that is needed to keep appending, and they fold
        into the root, so a frontier stored beside a signed root is checked by that root.
        """
        return [node for _, node in self._stack]

    @classmethod
    def resume(cls, size: int, frontier: Sequence[bytes]) -> MerkleAccumulator:
        """An accumulator at ``size`` leaves from its :meth:`frontier`."""
        heights = [h for h in reversed(range(size.bit_length())) if size >> h & 1]
        if len(heights) != len(frontier):
            raise ValueError(f"a frontier of {len(frontier)} hashes does not fit {size} leaves")
        acc = cls()
        acc.size, acc._stack = size, list(zip(heights, frontier, strict=True))
        return acc


def root_of(leaves: Iterable[bytes]) -> bytes:
    """Merkle root of an iterable of leaf hashes."""
    acc = MerkleAccumulator()
    for leaf in leaves:
        acc.add(leaf)
    return acc.root()


def _split(n: int) -> int:
    """Largest power of two strictly below ``n`` (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def _mth(leaves: Sequence[bytes], lo: int, hi: int) -> bytes:
    acc = MerkleAccumulator()
    for i in range(lo, hi):
        acc.add(leaves[i])
    return acc.root()


def inclusion_path(index: int, leaves: Sequence[bytes]) -> list[bytes]:
    """RFC 6962 audit path of leaf ``index`` (0-based) in the tree of all ``leaves``, bottom-up."""
    if not 0 <= index < len(leaves):
        raise IndexError(f"leaf index {index} outside a tree of {len(leaves)} leaves")
    path: list[bytes] = []
    lo, hi = 0, len(leaves)
    while hi - lo > 1:
        k = _split(hi - lo)
        if index < lo + k:
            path.append(_mth(leaves, lo + k, hi))
            hi = lo + k
        else:
            path.append(_mth(leaves, lo, lo + k))
            lo += k
    return path[::-1]  # collected top-down; the RFC lists siblings from the leaf upwards


def root_from_inclusion(index: int, size: int, leaf: bytes, path: Sequence[bytes]) -> bytes | None:
    """Root implied by an audit path (RFC 9162, 2.1.3.2), or ``None`` if the path cannot fit."""
    if not 0 <= index < size:
        return None
    fn, sn, node = index, size - 1, leaf
    for sibling in path:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            node = node_hash(sibling, node)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            node = node_hash(node, sibling)
        fn >>= 1
        sn >>= 1
    return node if sn == 0 else None


def verify_inclusion(index: int, size: int, leaf: bytes, path: Sequence[bytes], root: bytes) -> bool:
    """Whether ``path`` proves leaf hash ``leaf`` sits at ``index`` of the tree with ``root``."""
    return root_from_inclusion(index, size, leaf, path) == root
