"""The ASGI app: ``POST /predict`` on a direct path, everything else through Starlette.

Endpoints: ``POST /predict``, ``GET /health``, ``GET /model`` (the signed manifest),
``GET /metrics`` (Prometheus), ``GET /openapi.json``. Anything else is a JSON 404 or 405; an
unexpected failure is a JSON 500 naming the request id (the traceback goes to the server's
stderr, never to the client).

``POST /predict`` is the one endpoint on the hot path, so :class:`PredictApp` answers it from the
raw ASGI messages, without building Starlette request, routing and response objects; the
Starlette app behind it serves the rest and runs the life cycle (prediction log, integrity
checks). While the app serves, a small ``POST /predict`` body is admitted by
:meth:`PredictApp.prepare` straight from the protocol's callbacks, without even an ASGI task,
and the requests admitted together are decided and answered together by
:meth:`PredictApp.finish` (:func:`lifecycle.serving.protocol.answer_directly`): the same
service, metrics and headers.
Body deadlines are the protocol's (:mod:`lifecycle.serving.protocol`); the size limit is checked
here, against ``Content-Length`` first and then against what actually arrives.
"""

from __future__ import annotations

import asyncio
import gc
import os
import re
import sys
import time
import traceback
from contextlib import asynccontextmanager
from typing import Any

import anyio
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from lifecycle.serving import protocol
from lifecycle.serving.metrics import CONTENT_TYPE
from lifecycle.serving.service import Service, Ticket, error_body, new_request_id
from lifecycle.serving.settings import SETTINGS_ENV, ServeSettings

JSON = "application/json"
#: Bodies above this size are parsed and scored on a worker thread, keeping the event loop free.
THREAD_BYTES = 64 * 1024
_CLIENT_ID = re.compile(rb"^[A-Za-z0-9._:-]{1,128}$")
_CLOSE = [(b"connection", b"close")]


class _BodyError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


class PredictApp:
    """ASGI app: ``POST /predict`` answered here, all other requests (and the lifespan) by ``rest``."""

    def __init__(self, service: Service, rest: Starlette):
        self.service, self.rest = service, rest
        self.limit = service.settings.max_body_bytes

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] != "/predict" or scope["method"] != "POST":
            await self.rest(scope, receive, send)
            return
        started = time.perf_counter()
        extra: list[tuple[bytes, bytes]] = []
        try:
            declared = None
            for name, value in scope["headers"]:
                if name == b"content-length":
                    declared = value
            body = await self._body(receive, declared)
            if len(body) > THREAD_BYTES:
                status, payload = await anyio.to_thread.run_sync(self.service.predict, body,
                                                                 _client_id(scope["headers"]))
            else:
                status, payload = self.service.predict(body, _client_id(scope["headers"]))
        except _BodyError as err:  # the rest of the body is unread: the connection cannot be reused
            status, payload, extra = err.status, error_body(str(err)), _CLOSE
        except Exception as err:
            status, payload, extra = 500, _crash(err), _CLOSE
        headers = self._headers(status, payload, started, extra)
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": payload})

    def prepare(self, headers: list[tuple[bytes, bytes]], body: bytes) -> Prepared:
        """Admit a ``POST /predict`` whose whole (small) body arrived (see the module docstring)."""
        started = time.perf_counter()
        try:
            return Prepared(self.service.admit(body, _client_id(headers)), started)
        except Exception as err:
            return Prepared(_crashed(err), started, _CLOSE)

    def finish(self, prepared: list[Prepared]) -> list[tuple[int, list[tuple[bytes, bytes]], bytes]]:
        """Decide the requests admitted together; ``(status, response headers, body)`` of each."""
        try:
            self.service.decide([p.ticket for p in prepared])
        except Exception as err:
            crashed = _crashed(err)
            for p in prepared:
                if p.ticket.status == 0:
                    p.ticket, p.extra = crashed, _CLOSE
        return [(p.ticket.status, self._headers(p.ticket.status, p.ticket.payload, p.started, p.extra),
                 p.ticket.payload) for p in prepared]

    def _headers(self, status: int, payload: bytes, started: float,
                 extra: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
        """Count the answer in the metrics; its headers."""
        elapsed = time.perf_counter() - started
        self.service.metrics.observe("/predict", status, elapsed)
        # Server-Timing (W3C): from the whole body to the answer (with the wait for requests decided
        # with it), so clients can tell the server's time from the network's.
        return [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(payload)),
                (b"server-timing", b"app;dur=%.3f" % (elapsed * 1000)), *extra]

    async def _body(self, receive: Any, declared: bytes | None) -> bytes:
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            raise _BodyError(413, f"request body of {int(declared)} bytes exceeds the limit of {self.limit}")
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise _BodyError(400, "client disconnected before sending the whole body")
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                raise _BodyError(413, f"request body exceeds the limit of {self.limit} bytes")
            if not message.get("more_body", False):
                return b"".join(chunks) + chunk if chunks else chunk
            chunks.append(chunk)


def _client_id(headers: list[tuple[bytes, bytes]]) -> str | None:
    """The client's ``X-Request-ID``, if it is a safe id (echoed and logged as it is)."""
    for name, value in headers:
        if name == b"x-request-id" and _CLIENT_ID.match(value):
            return value.decode("ascii")
    return None


class Prepared:
    """A request admitted by :meth:`PredictApp.prepare`, waiting to be decided."""

    __slots__ = ("ticket", "started", "extra")

    def __init__(self, ticket: Ticket, started: float, extra: list[tuple[bytes, bytes]] | None = None):
        self.ticket, self.started, self.extra = ticket, started, extra or []


def _crashed(err: BaseException) -> Ticket:
    ticket = Ticket("", None)
    ticket.status, ticket.payload = 500, _crash(err)
    return ticket


def _crash(err: BaseException) -> bytes:
    request_id = new_request_id()
    print(f"error: request {request_id} failed:\n{''.join(traceback.format_exception(err))}", file=sys.stderr,
          flush=True)
    return error_body("internal error; no decision made (see the server log)", request_id)


def create_app(service: Service) -> PredictApp:
    """The ASGI app serving ``service`` (its prediction log opens and closes with the app)."""
    settings, metrics = service.settings, service.metrics
    protocol.configure(settings.timeout)

    def respond(endpoint: str, status: int, body: bytes, media: str = JSON) -> Response:
        metrics.observe(endpoint, status, 0.0)
        return Response(body, status, media_type=media)

    async def health(request: Request) -> Response:
        return respond("/health", *service.health())

    async def model(request: Request) -> Response:
        return respond("/model", 200, service.manifest_bytes)

    async def openapi(request: Request) -> Response:
        return respond("/openapi.json", 200, service.openapi_bytes)

    async def prometheus(request: Request) -> Response:
        return respond("/metrics", 200, metrics.render(), CONTENT_TYPE)

    async def http_error(request: Request, exc: Any) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        if status == 404:
            message = f"no such endpoint {request.url.path[:100]}; try POST /predict, GET /health, /model, /metrics, /openapi.json"
        elif status == 405:
            message = f"method {request.method[:20]} not allowed on {request.url.path[:100]}"
        else:
            message = str(getattr(exc, "detail", "")) or "error"
        return respond("other", status, error_body(message))

    async def crashed(request: Request, exc: Exception) -> Response:
        metrics.observe("other", 500, 0.0)
        return Response(_crash(exc), 500, media_type=JSON, headers={"connection": "close"})

    @asynccontextmanager
    async def lifespan(app: Starlette):
        protocol.on_reject = metrics.rejected
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.threads
        await anyio.to_thread.run_sync(service.start)
        # Everything loaded so far (numpy, pandas, the interpreter) lives as long as the process:
        # keep it out of the cyclic collector, whose full passes over it stall requests by milliseconds.
        gc.collect()
        gc.freeze()
        watcher = asyncio.create_task(_watch(service, settings.recheck_seconds))
        protocol.answer_directly(predict_app.prepare, predict_app.finish, min(THREAD_BYTES, predict_app.limit))
        try:
            yield
        finally:
            protocol.answer_directly(None)
            watcher.cancel()
            await anyio.to_thread.run_sync(service.stop)

    routes = [Route("/predict", _not_here, methods=["POST"]), Route("/health", health, methods=["GET"]),
              Route("/model", model, methods=["GET"]), Route("/metrics", prometheus, methods=["GET"]),
              Route("/openapi.json", openapi, methods=["GET"])]
    rest = Starlette(routes=routes, lifespan=lifespan, exception_handlers={HTTPException: http_error, Exception: crashed})
    predict_app = PredictApp(service, rest)
    return predict_app


async def _not_here(request: Request) -> Response:
    raise RuntimeError("POST /predict is answered by PredictApp")  # listed so that GET /predict is a 405


async def _watch(service: Service, interval: float) -> None:
    """Re-run the entry's integrity checks every ``interval`` seconds until one fails."""
    while True:
        await asyncio.sleep(interval)
        if await anyio.to_thread.run_sync(service.recheck):
            return


def app_from_environment() -> PredictApp:
    """App factory for worker processes: settings from :data:`SETTINGS_ENV`, entry verified again."""
    from lifecycle.serving.server import load_service

    return create_app(load_service(ServeSettings.from_env(os.environ[SETTINGS_ENV])))
