"""A registered test model and a real ``rai serve`` process on 127.0.0.1 for the serving tests.

The model is the committed fixture (``fixtures/``: a small MLP's ``model.keras`` and its LiteRT
core; ``multiclass.*`` and ``regression.*`` for the other tasks), registered with a signed
manifest into a fresh workspace, so no test needs TensorFlow.
Every network call has a timeout; every server runs in a session of its own and is stopped
(TERM, then KILL) when its test ends.
"""

from __future__ import annotations

import http.client
import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pandas as pd

from governance.fsutil import file_sha256
from governance.trail import keys, open_trail
from governance.trail.signing import KeyRing
from governance.workspace import Workspace
from lifecycle.data import feature_profile
from lifecycle.deploy import RegistryEntry, register

FIXTURES = Path(__file__).resolve().parent / "fixtures"
NUMERIC, CATEGORICAL, SENSITIVE = ["age", "hours-per-week"], ["color", "sex"], ["sex", "group"]
ROOT = Path(__file__).resolve().parents[2]
ROW = {"age": 39, "hours-per-week": 40.0, "color": "red", "sex": "Female", "group": "a"}
#: The multiclass fixture's classes, in class-index order (as ``fixtures/make_model.py`` trained it).
CLASSES = ["high", "low", "medium"]
#: Fixture files of each task: (the model file's stem, the reference predictions).
TASK_FILES = {"binary": ("model", "reference_predictions"), "multiclass": ("multiclass", "multiclass_predictions"),
              "regression": ("regression", "regression_predictions")}


def training_frame() -> pd.DataFrame:
    frame = pd.read_csv(FIXTURES / "train.csv")
    for column in CATEGORICAL + ["group"]:
        frame[column] = frame[column].astype(object).where(frame[column].notna(), None)
    return frame


def register_demo(ws: Workspace, *, name: str = "demo", profile: bool = True, registry: Path | None = None,
                  task: str = "binary", fmt: str = "litert", **extra: Any) -> RegistryEntry:
    """Register the fixture model of ``task`` (in ``fmt``: its LiteRT core or the whole Keras model)
    as ``name`` (next version) in ``registry`` (default: ``ws``'s), signed with ``ws``'s key;
    ``extra`` adds or replaces manifest fields."""
    ws.ensure()
    train = training_frame()
    reference = ws.root / "reference.parquet"
    train[NUMERIC + CATEGORICAL].to_parquet(reference)
    schema = {"numeric": NUMERIC, "categorical": CATEGORICAL, "sensitive": SENSITIVE, "target": "Y",
              "positive_label": 1, "label_strip": "", "labels": ["0.0", "1.0"], "na_values": ["?"]}
    if task != "binary":
        schema.update(task=task, target="tier" if task == "multiclass" else "spend", positive_label=None,
                      classes=CLASSES if task == "multiclass" else [], labels=CLASSES if task == "multiclass" else [])
    if profile:
        schema["profile"] = feature_profile(train, NUMERIC, CATEGORICAL)
    stem, predictions = TASK_FILES[task]
    model = FIXTURES / (f"{stem}.tflite" if fmt == "litert" else f"{stem}.keras")
    files = {"reference.parquet": ("reference", reference),
             "reference_predictions.parquet": ("reference_predictions", FIXTURES / f"{predictions}.parquet")}
    if fmt == "litert":
        files.update({"model.tflite": ("model", model), "preprocess.keras": ("preprocess", FIXTURES / f"{stem}.keras")})
    else:
        files["model.keras"] = ("model", model)
    body = {"run_id": "test-run", "format": fmt, "variant": "dynamic_range" if fmt == "litert" else "keras",
            "model_sha256": file_sha256(model), "schema": schema, **({"threshold": 0.5} if task == "binary" else {}),
            **extra}
    with open_trail(ws) as trail:
        signer = trail.signer()
        keys.ensure_trusted(trail, signer)
    return register(registry or ws.registry, name, files, body, {"owner": "tests"}, signer, KeyRing(ws.keys))


class Server:
    """``rai serve`` in a child process; ``url`` once it listens. Use as a context manager."""

    def __init__(self, ws: Workspace, *args: str, name: str = "demo", env: dict[str, str] | None = None):
        command = [sys.executable, "-m", "rai", "serve", name, "--workspace", str(ws.root), "--port", "0", *args]
        self.stderr_path = ws.root.parent / f"serve-{time.monotonic_ns()}.stderr"
        self._stderr = open(self.stderr_path, "wb")  # noqa: SIM115  (closed in stop)
        self.process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=self._stderr,
                                        start_new_session=True, env={**os.environ, **(env or {})})
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.url = self.host = ""
        self.port = 0

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.put(line.decode("utf-8", "replace"))
        self.lines.put("")

    def start(self, timeout: float = 60) -> Server:
        """Wait for the "serving ... on http://HOST:PORT" line and a healthy /health."""
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            raise TimeoutError(f"rai serve printed nothing in {timeout} s; stderr: {self.stderr()}") from None
        if " on http://" not in line:
            raise RuntimeError(f"rai serve did not start: {line!r}; stderr: {self.stderr()}")
        self.url = line.split(" on ", 1)[1].split()[0]
        self.host, port = self.url[len("http://"):].rsplit(":", 1)
        self.port = int(port)
        deadline = time.monotonic() + timeout
        while self.call("GET", "/health", timeout=5)[0] not in (200, 503):
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise TimeoutError(f"server never became healthy; stderr: {self.stderr()}")
            time.sleep(0.1)
        return self

    def stderr(self) -> str:
        if not self._stderr.closed:
            self._stderr.flush()
        return self.stderr_path.read_text(errors="replace")[-3000:]

    def call(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None,
             timeout: float = 10) -> tuple[int, dict[str, str], Any]:
        """One request; ``(status, headers, parsed JSON or text)``; ``(0, {}, error)`` if it failed."""
        data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
        connection = http.client.HTTPConnection(self.host or "127.0.0.1", self.port, timeout=timeout)
        try:
            connection.request(method, path, body=data, headers=headers or {})
            response = connection.getresponse()
            raw = response.read()
            head = {k.lower(): v for k, v in response.getheaders()}
        except (OSError, http.client.HTTPException) as err:  # refused, reset, cut off mid-answer
            return 0, {}, err
        finally:
            connection.close()
        text = raw.decode("utf-8")
        return response.status, head, json.loads(text) if head.get("content-type", "").startswith("application/json") else text

    def predict(self, body: Any, **kwargs: Any) -> tuple[int, Any]:
        status, _, answer = self.call("POST", "/predict", body, **kwargs)
        return status, answer

    def raw(self, data: bytes, *, timeout: float = 15, responses: int = 1) -> bytes:
        """Send raw bytes; return the server's bytes once ``responses`` complete answers arrived,
        the server closed, or ``timeout`` passed."""
        with socket.create_connection((self.host, self.port), timeout=timeout) as sock:
            sock.sendall(data)
            received = b""
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and _complete(received) < responses:
                sock.settimeout(max(0.01, deadline - time.monotonic()))
                try:
                    chunk = sock.recv(65536)
                except (TimeoutError, ConnectionResetError):
                    break
                if not chunk:
                    break
                received += chunk
            return received

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        """Signal the server's process group; wait; KILL after ``timeout``. Returns the exit code."""
        try:
            os.killpg(self.process.pid, sig)
        except ProcessLookupError:
            pass
        try:
            code = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            code = self.process.wait(timeout=timeout)
        self._stderr.close()
        return code

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        if self.process.poll() is None:
            self.stop()
        elif not self._stderr.closed:
            self._stderr.close()


def _complete(received: bytes) -> int:
    """How many complete responses (with a Content-Length) ``received`` holds."""
    count = 0
    while b"\r\n\r\n" in received:
        head, _, rest = received.partition(b"\r\n\r\n")
        lengths = [line.split(b":", 1)[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")]
        length = int(lengths[0]) if lengths else 0
        if len(rest) < length:
            break
        count, received = count + 1, rest[length:]
    return count


def split_response(raw: bytes) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and body of one raw HTTP/1.1 response."""
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
    return status, {k.lower(): v for k, v in headers.items()}, body
