"""Signed checkpoints: a signature over the trail's size, Merkle root and head hash.

The signed message is a tag followed by canonical JSON::

    b"rai.trail.checkpoint.v1\\n" || {"format":..,"head_hash":..,"key_id":..,"root_hash":..,
                                      "time":..,"tree_size":..}

A checkpoint file carries the raw public key too, so that a third party holding only the file
can check it (and should compare ``key_id`` with the one the trail's owner published).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from governance.errors import UserError
from governance.trail.canonical import canonical_bytes
from governance.trail.errors import is_environment_error, unavailable
from governance.trail.files import write_atomic

FORMAT = "rai.trail.checkpoint/v1"
CHECKPOINT_TAG = b"rai.trail.checkpoint.v1\n"
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_HEX128 = re.compile(r"^[0-9a-f]{128}$")


class CheckpointFormatError(UserError):
    """A file or record that is not a well-formed checkpoint."""


@dataclass(frozen=True)
class Checkpoint:
    """A signed statement "the trail had ``tree_size`` entries with this root and head"."""

    tree_size: int
    root_hash: str
    head_hash: str
    time: str
    key_id: str
    public_key: str
    signature: str
    source: str | None = field(default=None, compare=False)

    def message(self) -> bytes:
        """The exact bytes that are signed."""
        signed = {"format": FORMAT, "tree_size": self.tree_size, "root_hash": self.root_hash,
                  "head_hash": self.head_hash, "time": self.time, "key_id": self.key_id}
        return CHECKPOINT_TAG + canonical_bytes(signed)

    def to_dict(self) -> dict[str, Any]:
        return {"format": FORMAT, "tree_size": self.tree_size, "root_hash": self.root_hash,
                "head_hash": self.head_hash, "time": self.time, "key_id": self.key_id,
                "public_key": self.public_key, "signature": self.signature}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_dict(cls, data: Any, source: str | None = None) -> Checkpoint:
        """Parse and validate; raises :class:`CheckpointFormatError` naming the bad field."""
        where = source or "checkpoint"
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise CheckpointFormatError(f"{where}: not a rai trail checkpoint (format must be '{FORMAT}')")
        size = data.get("tree_size")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise CheckpointFormatError(f"{where}: tree_size: must be a non-negative integer, got {size!r}")
        for name, pattern in (("root_hash", _HEX64), ("head_hash", _HEX64), ("key_id", _HEX64),
                              ("public_key", _HEX64), ("signature", _HEX128)):
            value = data.get(name)
            if not isinstance(value, str) or not pattern.match(value):
                raise CheckpointFormatError(f"{where}: {name}: must be lowercase hex, got {value!r}")
        if not isinstance(data.get("time"), str):
            raise CheckpointFormatError(f"{where}: time: must be an RFC 3339 string")
        return cls(size, data["root_hash"], data["head_hash"], data["time"], data["key_id"],
                   data["public_key"], data["signature"], source)

    @classmethod
    def load(cls, path: str | Path) -> Checkpoint:
        """Read a checkpoint file; unreadable or malformed files raise :class:`CheckpointFormatError`."""
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except OSError as err:
            if is_environment_error(err):  # not evidence of anything: say so (exit 3)
                raise unavailable(err, "read checkpoint", path) from None
            raise CheckpointFormatError(f"{path}: cannot read checkpoint ({err.strerror or err})") from None
        except (UnicodeDecodeError, ValueError, RecursionError) as err:
            raise CheckpointFormatError(f"{path}: not a checkpoint: {type(err).__name__}: {str(err)[:200]}") from None
        return cls.from_dict(data, str(path))

    def save(self, directory: Path) -> Path:
        """Write atomically into ``directory`` as ``SIZE-ROOT-KEY.json``; return the path."""
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise unavailable(err, "create the checkpoints directory", directory) from None
        path = directory / f"{self.tree_size:012d}-{self.root_hash[:16]}-{self.key_id[:8]}.json"
        write_atomic(path, self.to_json().encode("utf-8"))
        return path


def sign_checkpoint(signer, tree_size: int, root_hash: str, head_hash: str, time: str) -> Checkpoint:
    """Create a checkpoint signed by ``signer`` (a :class:`~governance.trail.signing.Signer`)."""
    unsigned = Checkpoint(tree_size, root_hash, head_hash, time, signer.key_id,
                          signer.public_raw.hex(), "0" * 128)
    signature = signer.sign(unsigned.message()).hex()
    return Checkpoint(tree_size, root_hash, head_hash, time, signer.key_id,
                      signer.public_raw.hex(), signature)
