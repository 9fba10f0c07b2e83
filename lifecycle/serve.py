"""Serve a registered model over HTTP (standard library ``http.server``).

Before anything is served, the registry entry's manifest signature is checked against the
workspace's trusted keys and every file is re-hashed (:func:`lifecycle.deploy.verify_manifest`);
the model is then loaded from the very bytes that were hashed, so a file swapped after the check
cannot slip in. A tampered entry is refused with a one-line :class:`UserError`.

Endpoints::

    GET  /health    {"status": "ok", "model": NAME, "version": N}
    GET  /model     the signed manifest document {"manifest": {...}, "signature": {...}}
    POST /predict   {"rows": [{"age": 39, "workclass": "State-gov", ...}, ...]}  (or a bare list)
                    -> {"model", "version", "predictions": [{"score": 0.12, "label": 0}, ...]}

Rows carry the training columns by name; ``null`` (or one of the spec's ``na_values``, as in
training) is a missing value. Errors are JSON
``{"error": "..."}`` with status 400 (bad rows), 404, 405 or 413 (body over 8 MiB).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from governance.errors import UserError
from lifecycle.artifacts import sha256_bytes
from lifecycle.deploy import RegistryEntry, find_entry, verify_manifest

MAX_BODY = 8 << 20
MAX_ROWS = 100_000


@dataclass
class ServedModel:
    """A verified registry entry and a scorer for raw rows."""

    entry: RegistryEntry
    document: dict[str, Any]
    scorer: Callable[[pd.DataFrame], np.ndarray]

    @property
    def schema(self) -> dict[str, Any]:
        return self.entry.body["schema"]

    @property
    def threshold(self) -> float:
        return float(self.entry.body.get("threshold", 0.5))

    def frame(self, rows: list[dict[str, Any]]) -> pd.DataFrame:
        """Rows as a typed frame of the model's features; ValueError naming the first bad row."""
        numeric, categorical = self.schema["numeric"], self.schema["categorical"]
        for i, row in enumerate(rows):
            if not isinstance(row, dict):
                raise ValueError(f"rows[{i}]: must be an object of column: value")
            missing = [c for c in numeric + categorical if c not in row]
            if missing:
                raise ValueError(f"rows[{i}]: missing column(s) {', '.join(missing)} (null marks a missing value)")
        frame = pd.DataFrame.from_records(rows, columns=numeric + categorical)
        # The spec's missing-value markers (e.g. Adult's '?') mean "missing" here as in training.
        markers = [m for m in self.schema.get("na_values") or [] if m != ""]
        if markers:
            frame = frame.mask(frame.isin(markers))
        for column in numeric:
            values = pd.to_numeric(frame[column], errors="coerce")
            bad = frame[column][values.isna() & frame[column].notna()]
            if len(bad):
                raise ValueError(f"rows[{bad.index[0]}].{column}: must be a number or null, got {bad.iloc[0]!r}")
            frame[column] = values.astype("float64")
        for column in categorical:
            frame[column] = frame[column].where(frame[column].isna(), frame[column].astype(str).str.strip())
        return frame

    def predict(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        scores = self.scorer(self.frame(rows))
        return [{"score": float(s), "label": int(s >= self.threshold)} for s in scores]


def load_served(registry: Path, name: str, version: int | None, trusted: dict[str, bytes]) -> ServedModel:
    """Find, verify and load a registry entry; refuse (UserError) anything that does not verify."""
    entry = find_entry(registry, name, version)
    check = verify_manifest(entry.dir, trusted)
    if not check.ok:
        raise UserError(f"{entry.dir}: refusing to load {name} v{entry.version}: {check.problems[0]}")
    document = json.loads((entry.dir / "manifest.json").read_text(encoding="utf-8"))
    files = {info["role"]: _verified_bytes(entry.dir / file, info["sha256"]) for file, info in entry.body["files"].items()
             if info["role"] in ("model", "preprocess")}
    return ServedModel(entry, document, make_scorer(entry.body["format"], files))


def _verified_bytes(path: Path, sha256: str) -> bytes:
    data = path.read_bytes()
    if sha256_bytes(data) != sha256:
        raise UserError(f"{path}: changed while loading (sha256 differs from the verified manifest); refusing")
    return data


def make_scorer(fmt: str, files: dict[str, bytes]) -> Callable[[pd.DataFrame], np.ndarray]:
    """A function from raw feature rows to positive-class scores for a registered model.

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
            return np.asarray(runner(encoded), dtype=float).reshape(-1)

    return scorer


def make_server(served: ServedModel, host: str = "127.0.0.1", port: int = 8080) -> ThreadingHTTPServer:
    """An HTTP server for ``served`` (call ``serve_forever()``; ``port=0`` picks a free port)."""
    handler = type("Handler", (_Handler,), {"served": served})
    return ThreadingHTTPServer((host, port), handler)


class _Handler(BaseHTTPRequestHandler):
    served: ServedModel
    server_version = "rai-serve"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002  (signature of the base class)
        pass  # quiet by default: the CLI prints one line per request itself when asked

    def _send(self, status: int, body: dict[str, Any] | list[Any]) -> None:
        data = json.dumps(body).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802  (http.server's naming)
        entry = self.served.entry
        if self.path == "/health":
            self._send(200, {"status": "ok", "model": entry.name, "version": entry.version})
        elif self.path == "/model":
            self._send(200, self.served.document)
        else:
            self._send(404, {"error": f"no such endpoint {self.path}; try GET /health, GET /model, POST /predict"})

    def do_POST(self) -> None:  # noqa: N802
        if self.path != "/predict":
            self._send(404, {"error": f"no such endpoint {self.path}; POST /predict"})
            return
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self._send(413, {"error": f"request body of {length} bytes exceeds {MAX_BODY}"})
            return
        try:
            rows = _rows(json.loads(self.rfile.read(length) or b"null"))
            predictions = self.served.predict(rows)
        except ValueError as err:  # json.JSONDecodeError is a ValueError too
            self._send(400, {"error": str(err)})
            return
        entry = self.served.entry
        self._send(200, {"model": entry.name, "version": entry.version, "predictions": predictions})


def _rows(body: Any) -> list[dict[str, Any]]:
    rows = body.get("rows") if isinstance(body, dict) else body
    if not isinstance(rows, list) or not rows:
        raise ValueError('body must be {"rows": [ {column: value, ...}, ... ]} with at least one row')
    if len(rows) > MAX_ROWS:
        raise ValueError(f"at most {MAX_ROWS} rows per request, got {len(rows)}")
    return rows
