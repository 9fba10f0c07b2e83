"""Headless Chromium driven over the Chrome DevTools Protocol, and a ``rai dashboard`` server.

Only the standard library and ``websockets`` (a dependency of Streamlit): no WebDriver.
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from websockets.sync.client import connect

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--remote-debugging-port=0", "--window-size=1400,1800"]


def free_port() -> int:
    """A TCP port nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(condition: Callable[[], Any], timeout: float, what: str, every: float = 0.25) -> Any:
    """Poll ``condition`` until it returns something true; fail naming ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(every)


def stop_group(process: subprocess.Popen) -> None:
    """Stop a process started in a session of its own, and its children: TERM, then KILL."""
    try:
        os.killpg(process.pid, signal.SIGTERM)  # also reaches children if the leader already exited
    except ProcessLookupError:
        pass
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@contextmanager
def dashboard(workspace: Path, log: Path) -> Iterator[str]:
    """``rai dashboard --workspace WORKSPACE --port FREE`` running; yields its base URL."""
    port = free_port()
    with open(log, "wb") as out:
        # A session of its own, so the Streamlit child of `rai dashboard` stops with it.
        server = subprocess.Popen([sys.executable, "-m", "rai.cli", "dashboard", "--workspace", str(workspace),
                                   "--port", str(port)], stdout=out, stderr=subprocess.STDOUT,
                                  start_new_session=True,
                                  env={k: v for k, v in os.environ.items() if k != "RAI_WORKSPACE"})
        try:
            wait_until(lambda: server.poll() is not None or _healthy(f"http://127.0.0.1:{port}/_stcore/health"),
                       90, "the dashboard's health check")
            if server.poll() is not None:
                raise RuntimeError(f"rai dashboard exited with {server.returncode}: {log.read_text()[-2000:]}")
            yield f"http://127.0.0.1:{port}"
        finally:
            stop_group(server)


class Page:
    """One browser tab, spoken to over the DevTools Protocol."""

    def __init__(self, socket_url: str):
        self._ws = connect(socket_url, max_size=None, open_timeout=30)
        self._ids = itertools.count(1)

    def send(self, method: str, **params: Any) -> dict[str, Any]:
        """Call ``method``; return its result (events arriving meanwhile are dropped)."""
        call_id = next(self._ids)
        self._ws.send(json.dumps({"id": call_id, "method": method, "params": params}))
        while True:
            message = json.loads(self._ws.recv(timeout=60))
            if message.get("id") == call_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page; a thrown error fails the test."""
        done = self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in done:
            raise RuntimeError(f"{expression}: {done['exceptionDetails'].get('exception', {}).get('description')}")
        return done["result"].get("value")

    def screenshot(self, path: Path) -> None:
        """Save the whole page, not only the window, as PNG."""
        path.parent.mkdir(parents=True, exist_ok=True)
        shot = self.send("Page.captureScreenshot", format="png", captureBeyondViewport=True)
        path.write_bytes(base64.b64decode(shot["data"]))

    def close(self) -> None:
        self._ws.close()


@contextmanager
def chromium() -> Iterator[Page]:
    """Headless Chromium with a fresh profile; yields its first tab."""
    with tempfile.TemporaryDirectory(prefix="rai-chromium-") as profile:
        browser = subprocess.Popen([str(CHROMIUM), *FLAGS, f"--user-data-dir={profile}", "about:blank"],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            active = Path(profile) / "DevToolsActivePort"
            port = wait_until(lambda: active.is_file() and active.read_text().split("\n")[0], 60,
                              "Chromium's DevTools port")
            targets = wait_until(lambda: [t for t in _json(f"http://127.0.0.1:{port}/json/list")
                                          if t.get("type") == "page"], 30, "a Chromium tab")
            page = Page(targets[0]["webSocketDebuggerUrl"])
            try:
                yield page
            finally:
                page.close()
        finally:
            stop_group(browser)


def _json(url: str) -> Any:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return json.loads(response.read())
    except OSError:
        return []
