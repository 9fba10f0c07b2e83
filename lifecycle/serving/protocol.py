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
* An answer's header and body leave in one TCP segment (``TCP_CORK`` while it is written).
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
from collections.abc import Callable
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

MAX_HEAD_BYTES = 64 * 1024

#: Called with a reason ("malformed", "header_timeout", "body_timeout", "header_too_large") for
#: each refused connection; the app points it at its metrics.
on_reject: Callable[[str], None] = lambda reason: None  # noqa: E731


def _response(status: bytes, message: str) -> bytes:
    body = json.dumps({"error": message}).encode("ascii")
    return (b"HTTP/1.1 " + status + b"\r\ncontent-type: application/json\r\ncontent-length: "
            + str(len(body)).encode("ascii") + b"\r\nconnection: close\r\n\r\n" + body)


def configure(timeout: float) -> None:
    """Set the deadline of every connection this process serves (from the server's settings)."""
    GuardedHttpToolsProtocol.timeout = timeout


class _Refused(Exception):
    """Stops the parser after a refusal (raised inside its callbacks)."""


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """See the module docstring; :func:`configure` sets ``timeout`` from the server's settings."""

    timeout = 10.0

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._timer: asyncio.TimerHandle | None = None
        self._socket: Any = None
        self._in_head = False
        self._head_bytes = 0

    # -- deadlines ----------------------------------------------------------------------
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            # A socket object of our own on a duplicate descriptor: the event loop's stand-in object
            # builds one for every option set. Options belong to the socket, so both see them.
            self._socket = socket.socket(sock.family, sock.type, fileno=os.dup(sock.fileno()))
        self._timer = self.loop.call_later(self.timeout, self._expired)  # until the first headers

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        if self._socket is not None:
            self._socket.close()  # our duplicate descriptor only
            self._socket = None
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
        self._cork(1)
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        self._cork(0)
        super().on_response_complete()

    def _cork(self, on: int) -> None:
        """Hold the answer's header and body until both are written, then send them as one
        segment: the client wakes once per answer instead of twice (uvicorn writes them apart)."""
        if self._socket is not None and not self.transport.is_closing():
            try:
                self._socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, on)
            except OSError:
                self._socket.close()
                self._socket = None

    def on_message_complete(self) -> None:
        self._disarm()
        super().on_message_complete()
