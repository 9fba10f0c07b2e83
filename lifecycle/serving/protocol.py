"""uvicorn's httptools protocol with the guards a public endpoint needs.

* Malformed HTTP (a negative or non-numeric ``Content-Length``, both ``Content-Length`` and
  ``Transfer-Encoding``, garbage) is answered with a JSON 400, not uvicorn's plain text.
* Deadlines: a request's line and headers must arrive within ``timeout`` seconds of the
  connection opening (or, on a kept-alive connection, of their first byte), and its body within
  ``timeout`` seconds of the headers; otherwise a JSON 408 and the connection closes. uvicorn
  itself only times out idle keep-alive connections, so a client trickling headers or a body
  (slowloris) would hold a socket, and a task, for ever. A timer runs only while a request is
  incomplete: a request that arrives whole costs none.
* Request line and headers above :data:`MAX_HEAD_BYTES`: JSON 431, connection closed.
* An answer's header and body leave in one write, so in one TCP segment (uvicorn writes them
  apart): the client wakes once per answer, and the kernel sends one packet instead of two.
* A keep-alive ``POST /predict`` with a small body is taken from the connection's own parser
  callbacks by the handlers the app registers (:func:`answer_directly`): no ASGI task, request
  and response messages on the hot path. Its body, once whole, is admitted at once; the requests
  admitted during one turn of the event loop are then decided together at the start of the next
  (one model call, one log write) and each answer is written to its connection. Everything else
  (other endpoints, large, chunked or ``Expect: 100-continue`` bodies, requests pipelined behind
  an answer not yet written) goes through the ASGI app as uvicorn runs it.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

MAX_HEAD_BYTES = 64 * 1024

#: Called with a reason ("malformed", "header_timeout", "body_timeout", "header_too_large") for
#: each refused connection; the app points it at its metrics.
on_reject: Callable[[str], None] = lambda reason: None  # noqa: E731

#: ``(request headers, body) -> prepared request`` and ``[prepared, ...] -> [(status, response
#: headers, response body), ...]``: what answers ``POST /predict`` directly (:func:`answer_directly`).
Prepare = Callable[[list[tuple[bytes, bytes]], bytes], Any]
Finish = Callable[[list[Any]], list[tuple[int, list[tuple[bytes, bytes]], bytes]]]
_direct: tuple[Prepare, Finish, int] | None = None
_outbox: list[tuple[GuardedHttpToolsProtocol, _Direct, Any]] = []  # admitted, to be decided together
_CLOSE = (b"connection", b"close")


def _response(status: bytes, message: str) -> bytes:
    body = json.dumps({"error": message}).encode("ascii")
    return (b"HTTP/1.1 " + status + b"\r\ncontent-type: application/json\r\ncontent-length: "
            + str(len(body)).encode("ascii") + b"\r\nconnection: close\r\n\r\n" + body)


def configure(timeout: float) -> None:
    """Set the deadline of every connection this process serves (from the server's settings)."""
    GuardedHttpToolsProtocol.timeout = timeout


def answer_directly(prepare: Prepare | None, finish: Finish | None = None, max_bytes: int = 0) -> None:
    """Answer each ``POST /predict`` with a body of at most ``max_bytes`` bytes by ``prepare``
    and ``finish`` (see the module docstring); ``None`` answers what waits and sends all
    further requests to the app."""
    global _direct
    if prepare is None or finish is None:
        _direct = None
        _flush()
    else:
        _direct = (prepare, finish, max_bytes)


def _flush() -> None:
    """Decide the requests admitted since the last flush together; write each answer."""
    batch = _outbox[:]
    _outbox.clear()
    if batch:
        answers = batch[0][1].finish([prepared for _, _, prepared in batch])
        for (connection, cycle, _), answer in zip(batch, answers, strict=True):
            connection.send_answer(cycle, *answer)


class _Refused(Exception):
    """Stops the parser after a refusal (raised inside its callbacks)."""


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """See the module docstring; :func:`configure` sets ``timeout`` from the server's settings."""

    timeout = 10.0

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._timer: asyncio.TimerHandle | None = None
        self._in_head = False
        self._head_bytes = 0

    # -- deadlines ----------------------------------------------------------------------
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._timer = self.loop.call_later(self.timeout, self._expired)  # until the first headers

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _body_pending(self) -> bool:
        cycle = self.cycle
        return cycle is not None and cycle.more_body and not cycle.response_complete and not self._in_head

    def data_received(self, data: bytes) -> None:
        if self.transport.is_closing():
            return
        try:
            super().data_received(data)
        except _Refused:
            return
        if self._timer is None and (self._in_head or self._body_pending()) and not self.transport.is_closing():
            self._timer = self.loop.call_later(self.timeout, self._expired)

    def _expired(self) -> None:
        self._timer = None
        if self._in_head or self.cycle is None or self.cycle.response_complete:
            self._refuse(b"408 Request Timeout", "header_timeout",
                         f"request line and headers not received within {self.timeout:g} s")
        elif self._body_pending():
            self._refuse(b"408 Request Timeout", "body_timeout", f"request body not received within {self.timeout:g} s")

    def _refuse(self, status: bytes, reason: str, message: str) -> None:
        self._disarm()
        if self.transport.is_closing():
            return
        on_reject(reason)
        self.transport.write(_response(status, message))
        self.transport.close()

    # -- parser callbacks ---------------------------------------------------------------
    def send_400_response(self, msg: str) -> None:
        self._refuse(b"400 Bad Request", "malformed", f"malformed HTTP request: {msg}")

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head, self._head_bytes = True, 0
        # Pipelined behind a request answered within this same read: no keep-alive deadline now
        self._unset_keepalive_if_required()

    def on_url(self, url: bytes) -> None:
        self._count(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count(len(name) + len(value))
        super().on_header(name, value)

    def _count(self, size: int) -> None:
        self._head_bytes += size
        if self._head_bytes > MAX_HEAD_BYTES:
            self._refuse(b"431 Request Header Fields Too Large", "header_too_large",
                         f"request line and headers exceed {MAX_HEAD_BYTES} bytes")
            raise _Refused

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._disarm()
        direct = _direct
        if direct is not None and self._direct_fits(direct[2]):
            self.cycle = _Direct(direct[0], direct[1], self.headers)  # type: ignore[assignment]
            return
        previous = self.cycle
        super().on_headers_complete()
        cycle = self.cycle
        if cycle is not None and cycle is not previous:  # a new request: its answer goes out in one write
            cycle.transport = _OneWrite(self.transport, cycle)

    def _direct_fits(self, limit: int) -> bool:
        """A keep-alive HTTP/1.1 ``POST /predict`` with one ``Content-Length`` of at most ``limit``,
        not waiting behind another answer."""
        cycle, parser = self.cycle, self.parser
        if ((cycle is not None and not cycle.response_complete) or self.url != b"/predict" or self.expect_100_continue
                or parser.get_method() != b"POST" or parser.get_http_version() != "1.1"
                or not parser.should_keep_alive() or parser.should_upgrade()):
            return False
        length = None
        for name, value in self.headers:
            if name == b"content-length" and length is None:
                length = value
            elif name in (b"content-length", b"transfer-encoding"):
                return False
        return length is not None and length.isdigit() and int(length) <= limit

    def on_body(self, body: bytes) -> None:
        cycle = self.cycle
        if type(cycle) is _Direct:
            cycle.body = cycle.body + body if cycle.body else body
        else:
            super().on_body(body)

    def on_message_complete(self) -> None:
        self._disarm()
        cycle = self.cycle
        if type(cycle) is _Direct:
            cycle.more_body = False
            prepared = cycle.prepare(cycle.headers, cycle.body)
            if not _outbox:
                self.loop.call_soon(_flush)
            _outbox.append((self, cycle, prepared))
        else:
            super().on_message_complete()

    def send_answer(self, cycle: _Direct, status: int, headers: list[tuple[bytes, bytes]], payload: bytes) -> None:
        """Write a direct request's answer; then what uvicorn does after any answer (keep-alive,
        the next pipelined request)."""
        close = not cycle.keep_alive or _CLOSE in headers  # keep_alive is off once the server stops
        lines = [STATUS_LINE[status]]
        extra = [_CLOSE] if close and _CLOSE not in headers else []
        for name, value in (*self.server_state.default_headers, *headers, *extra):
            lines += (name, b": ", value, b"\r\n")
        lines += (b"\r\n", payload)
        cycle.response_complete = True
        if not self.transport.is_closing():
            self.transport.write(b"".join(lines))
            if close:
                self.transport.close()
        self.on_response_complete()


class _Direct:
    """The state of a request answered directly, as uvicorn and this protocol read a request's
    cycle (``response_complete``, ``more_body``, ``disconnected``, ``keep_alive``)."""

    __slots__ = ("prepare", "finish", "headers", "body", "more_body", "response_complete", "disconnected",
                 "keep_alive")

    def __init__(self, prepare: Prepare, finish: Finish, headers: list[tuple[bytes, bytes]]):
        self.prepare, self.finish, self.headers, self.body = prepare, finish, headers, b""
        self.more_body, self.response_complete, self.disconnected, self.keep_alive = True, False, False, True

    @property
    def message_event(self) -> _Direct:
        return self  # uvicorn wakes a cycle's reader when the connection is lost: nobody waits here

    def set(self) -> None:
        pass


class _OneWrite:
    """The transport as one request's response cycle sees it: the answer's status line and
    headers are held until its first body bytes and written together with them.

    uvicorn writes the head when the app starts the response and the body when it sends it: two
    writes, two TCP segments, two wake-ups of the client. What the cycle writes before the
    response starts (``100 Continue``) and after its first body bytes passes straight through;
    a head still held when the cycle closes the connection is written first.
    """

    __slots__ = ("transport", "cycle", "head", "started")

    def __init__(self, transport: asyncio.Transport, cycle: Any):
        self.transport, self.cycle = transport, cycle
        self.head: bytes | None = None
        self.started = False

    def write(self, data: bytes) -> None:
        head = self.head
        if head is not None:
            self.head = None
            self.transport.write(head + data)
        elif not self.started and self.cycle.response_started:
            self.started = True  # this is the head: the body follows
            self.head = data
        else:
            self.transport.write(data)

    def close(self) -> None:
        if self.head is not None:
            head, self.head = self.head, None
            self.transport.write(head)
        self.transport.close()

    def is_closing(self) -> bool:
        return self.transport.is_closing()
