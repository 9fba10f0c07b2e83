"""Load a registered model for scoring, refusing anything whose signed manifest does not verify.

Before a model is used, the registry entry's manifest signature is checked against the
workspace's trusted keys and every file is re-hashed (:func:`lifecycle.deploy.verify_manifest`);
the model is then loaded from the very bytes that were hashed, so a file swapped after the check
cannot slip in. A tampered entry is refused with a one-line :class:`UserError`.

:func:`load_verified` gives those bytes (the HTTP server in :mod:`lifecycle.serving` builds its
fast scorer from them); :func:`load_served` adds a scorer of typed DataFrames (the Keras
preprocessing, then the Keras or LiteRT core), which batch monitoring uses.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from governance.errors import UserError
from lifecycle.artifacts import sha256_bytes
from lifecycle.deploy import RegistryEntry, find_entry, verify_manifest

#: Files a scorer is built from, by their role in the manifest.
MODEL_ROLES = ("model", "preprocess")


@dataclass(frozen=True)
class VerifiedEntry:
    """A registry entry whose manifest verified, and the bytes of its model files (by role)."""

    entry: RegistryEntry
    document: dict[str, Any]
    files: dict[str, bytes]


@dataclass
class ServedModel:
    """A verified registry entry and a scorer for typed feature frames."""

    entry: RegistryEntry
    document: dict[str, Any]
    scorer: Callable[[pd.DataFrame], np.ndarray]

    @property
    def schema(self) -> dict[str, Any]:
        return self.entry.body["schema"]

    @property
    def threshold(self) -> float:
        return float(self.entry.body.get("threshold", 0.5))


def load_verified(registry: Path, name: str, version: int | None, trusted: dict[str, bytes],
                  roles: tuple[str, ...] = MODEL_ROLES) -> VerifiedEntry:
    """Find and verify a registry entry; read its files of ``roles`` (UserError if anything fails)."""
    entry = find_entry(registry, name, version)
    check = verify_manifest(entry.dir, trusted)
    if not check.ok:
        raise UserError(f"{entry.dir}: refusing to load {name} v{entry.version}: {check.problems[0]}")
    document = json.loads((entry.dir / "manifest.json").read_text(encoding="utf-8"))
    files = {info["role"]: _verified_bytes(entry.dir / file, info["sha256"])
             for file, info in entry.body["files"].items() if info["role"] in roles}
    return VerifiedEntry(entry, document, files)


def load_served(registry: Path, name: str, version: int | None, trusted: dict[str, bytes]) -> ServedModel:
    """Find, verify and load a registry entry; refuse (UserError) anything that does not verify."""
    verified = load_verified(registry, name, version, trusted)
    return ServedModel(verified.entry, verified.document, make_scorer(verified.entry.body["format"], verified.files))


def _verified_bytes(path: Path, sha256: str) -> bytes:
    data = path.read_bytes()
    if sha256_bytes(data) != sha256:
        raise UserError(f"{path}: changed while loading (sha256 differs from the verified manifest); refusing")
    return data


def make_scorer(fmt: str, files: dict[str, bytes]) -> Callable[[pd.DataFrame], np.ndarray]:
    """A function from raw feature rows to a registered model's outputs: shape ``(n,)`` for one
    output (a positive-class score, a regression prediction), ``(n, K)`` for class probabilities.

    ``keras``: the whole Keras model. ``litert``: the Keras model's preprocessing part encodes
    the rows and the LiteRT interpreter runs the core, as ``optimize`` evaluated it.
    """
    from lifecycle.model import encode_features, load_model_bytes, score

    if fmt == "keras":
        model = load_model_bytes(files["model"])
        return lambda frame: score(model, frame)
    from lifecycle.optimize import litert_runner

    preprocess = load_model_bytes(files["preprocess"])
    runner = litert_runner(files["model"])
    lock = threading.Lock()  # one interpreter: its tensors are not safe to share across threads

    def scorer(frame: pd.DataFrame) -> np.ndarray:
        encoded = encode_features(preprocess, frame)
        with lock:
            return np.asarray(runner(encoded), dtype=float)  # (n,) or (n, K), as the runner gives them

    return scorer
