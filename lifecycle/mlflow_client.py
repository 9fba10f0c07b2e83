"""Talking to an MLflow server without ever hanging: bounded requests, bounded retries.

MLflow's own client retries a failed request up to 7 times with exponential backoff and waits
120 s for an answer; a run finishing while the server is down would wait minutes. Here each
request may take ``timeout_s`` seconds and is not retried by MLflow; :func:`with_retries` tries
the whole operation ``attempts`` times with a short pause, inside an overall deadline. MLflow is
imported only by these functions, never when rai starts.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from governance.errors import UserError
from lifecycle.mlflow_config import INSTALL_HINT

T = TypeVar("T")
PAUSE_S = 1.0


class MlflowUnavailable(Exception):
    """Every attempt to reach MLflow failed; ``str()`` is one line naming the server and the cause."""

    def __init__(self, uri: str, attempts: int, cause: str):
        self.uri, self.attempts, self.cause = uri, attempts, cause
        tries = "1 attempt" if attempts == 1 else f"{attempts} attempts"
        super().__init__(f"MLflow at {uri} did not answer ({tries}): {cause}")


@contextlib.contextmanager
def bounded_requests(timeout_s: int) -> Iterator[None]:
    """MLflow's HTTP settings for the duration of one operation: no retries of its own, a timeout.

    They are environment variables MLflow reads on every request; the previous values are
    restored afterwards. Also silences MLflow's "View run at" line on stdout and its progress bars,
    which would corrupt ``--json`` output.
    """
    settings = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0", "MLFLOW_HTTP_REQUEST_TIMEOUT": str(int(timeout_s)),
                "MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT": "true", "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false"}
    saved = {name: os.environ.get(name) for name in settings}
    os.environ.update(settings)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def client(uri: str) -> Any:
    """An ``MlflowClient`` for tracking and registry at ``uri``; UserError when MLflow is missing."""
    try:
        from mlflow import MlflowClient
    except ImportError:
        raise UserError(INSTALL_HINT) from None
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def with_retries(uri: str, action: Callable[[], T], *, attempts: int, timeout_s: int,
                 pause_s: float = PAUSE_S) -> T:
    """Run ``action`` (which talks to MLflow at ``uri``) until it succeeds, at most ``attempts`` times.

    Raises
    ------
    MlflowUnavailable
        After the last failed attempt, or when the overall deadline (every attempt's timeout plus
        the pauses) has passed; the cause is the last error, on one line.
    UserError
        Raised by ``action`` itself: a mistake that retrying cannot fix.
    """
    deadline = time.monotonic() + attempts * (timeout_s + pause_s) + timeout_s
    cause = "no attempt made"
    for attempt in range(1, attempts + 1):
        try:
            with bounded_requests(timeout_s):
                return action()
        except UserError:
            raise
        except Exception as err:  # any failure of the server, the network or the artifact store
            cause = describe(err)
        if attempt == attempts or time.monotonic() + pause_s > deadline:
            raise MlflowUnavailable(uri, attempt, cause)
        time.sleep(pause_s)
    raise MlflowUnavailable(uri, attempts, cause)  # pragma: no cover - the loop always raises or returns


def describe(err: BaseException) -> str:
    """One short line for an MLflow or network error (MLflow's messages span many lines)."""
    text = " ".join(str(err).split()) or type(err).__name__
    for marker in ("Connection refused", "Read timed out", "timed out", "Max retries exceeded"):
        if marker in text:
            return f"{type(err).__name__}: {marker.lower()}"
    return f"{type(err).__name__}: {text[:300]}"


def not_found(err: BaseException) -> bool:
    """Whether an MLflow error says that the thing asked for does not exist."""
    code = getattr(err, "error_code", "") or ""
    return "RESOURCE_DOES_NOT_EXIST" in str(code) or "not found" in str(err).lower()
