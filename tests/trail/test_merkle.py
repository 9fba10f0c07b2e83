"""RFC 6962 Merkle trees against the Certificate Transparency reference data."""

import hashlib
import random

import pytest

from governance.trail.merkle import (
    EMPTY_ROOT,
    MerkleAccumulator,
    inclusion_path,
    leaf_hash,
    root_from_inclusion,
    root_of,
    verify_inclusion,
)

# The 8 leaves of RFC 6962's reference tree (certificate-transparency test data) ...
LEAVES = [bytes.fromhex(h) for h in
          ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"]]
# ... and the roots of its prefixes of size 1..8.
ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
INCLUSION = [  # (leaf index, tree size, audit path)
    (0, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (5, 8, ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (1, 5, ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
]
HASHED = [leaf_hash(x) for x in LEAVES]


def test_empty_tree_root_is_sha256_of_nothing():
    assert EMPTY_ROOT == hashlib.sha256(b"").digest()
    assert root_of([]).hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def test_one_leaf_root_is_its_leaf_hash():
    assert root_of(HASHED[:1]).hex() == ROOTS[0] == hashlib.sha256(b"\x00").hexdigest()


@pytest.mark.parametrize("size", range(1, 9))
def test_prefix_roots_of_the_reference_tree(size):
    assert root_of(HASHED[:size]).hex() == ROOTS[size - 1]


def test_accumulator_gives_every_prefix_root_while_streaming():
    acc = MerkleAccumulator()
    for size, leaf in enumerate(HASHED, start=1):
        acc.add(leaf)
        assert acc.root().hex() == ROOTS[size - 1]


@pytest.mark.parametrize("index, size, path", INCLUSION)
def test_reference_inclusion_proofs(index, size, path):
    assert [p.hex() for p in inclusion_path(index, HASHED[:size])] == path
    root = bytes.fromhex(ROOTS[size - 1])
    assert verify_inclusion(index, size, HASHED[index], [bytes.fromhex(p) for p in path], root)


def test_every_leaf_of_every_size_proves_and_wrong_claims_fail():
    rng = random.Random(6962)
    leaves = [leaf_hash(rng.randbytes(rng.randint(0, 9))) for _ in range(40)]
    for size in range(1, len(leaves) + 1):
        root = root_of(leaves[:size])
        for i in range(size):
            path = inclusion_path(i, leaves[:size])
            assert verify_inclusion(i, size, leaves[i], path, root)
            other = leaves[(i + 1) % size] if size > 1 else leaf_hash(b"x")
            assert not verify_inclusion(i, size, other, path, root)
            if size > 1:
                assert not verify_inclusion((i + 1) % size, size, leaves[i], path, root)
        assert root_from_inclusion(size, size, leaves[0], []) is None
