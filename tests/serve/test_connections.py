"""How answers travel on a connection: pipelined, kept alive, closed, split bodies, 100-continue.

A small ``POST /predict`` on a keep-alive HTTP/1.1 connection is answered in the protocol's own
callbacks; everything else through the ASGI app. Both must behave as HTTP says: answers in
request order, every decision logged before its answer, the connection kept or closed as asked.
"""

from __future__ import annotations

import json
import socket
import time

from lifecycle.predlog import log_dir
from lifecycle.predlog.segment import parse_segment

from .harness import ROW, split_response


def _post(row: dict, *, version: str = "1.1", headers: str = "") -> bytes:
    body = json.dumps({"row": row}).encode()
    return (f"POST /predict HTTP/{version}\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n{headers}"
            f"Content-Length: {len(body)}\r\n\r\n").encode() + body


def _answers(raw: bytes) -> list[tuple[int, dict[str, str], dict]]:
    """Every response in ``raw``, in order (each with a Content-Length)."""
    out = []
    while raw:
        status, headers, rest = split_response(raw)
        length = int(headers["content-length"])
        out.append((status, headers, json.loads(rest[:length]) if rest[:length] else None))
        raw = rest[length:]
    return out


def _read(sock: socket.socket, count: int = 1) -> bytes:
    """What the server sends until ``count`` whole answers arrived or it closed (the socket's
    timeout bounds every wait)."""
    raw = b""
    while len(_complete(raw)) < count:
        chunk = sock.recv(65536)
        if not chunk:
            break
        raw += chunk
    return raw


def _complete(raw: bytes) -> list:
    try:
        return _answers(raw)
    except (ValueError, KeyError, IndexError):
        return []


def _logged_ids(ws) -> set[str]:
    return {json.loads(line)["request_id"] for path in log_dir(ws).glob("*.jsonl")
            for line in parse_segment(path.read_bytes()).lines}


def test_pipelined_requests_are_answered_in_order_and_each_is_logged_first(server, shared_ws):
    ages = [21, 35, 64]
    health = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    raw = server.raw(b"".join(_post({**ROW, "age": age}) for age in ages) + health + _post(ROW), responses=5)
    answers = _answers(raw)
    assert [status for status, _, _ in answers] == [200] * 5
    assert answers[3][2]["status"] == "ok"  # the GET between them went through the app
    singles = [server.predict({"row": {**ROW, "age": age}})[1]["predictions"] for age in ages]
    assert [a[2]["predictions"] for a in answers[:3]] == singles  # in request order
    ids = [a[2]["request_id"] for a in (*answers[:3], answers[4])]
    assert len(set(ids)) == 4 and set(ids) <= _logged_ids(shared_ws)
    for _, headers, _ in answers:
        assert headers["content-type"] == "application/json" and "date" in headers


def test_a_kept_alive_connection_serves_request_after_request(server):
    with socket.create_connection((server.host, server.port), timeout=10) as sock:
        for age in (30, 40, 50):
            sock.sendall(_post({**ROW, "age": age}))
            ((status, headers, answer),) = _answers(_read(sock))
            assert status == 200 and "connection" not in headers and answer["predictions"][0]["flags"] == []


def test_connection_close_and_http_1_0_are_answered_then_closed(server):
    for request in (_post(ROW, headers="Connection: close\r\n"), _post(ROW, version="1.0")):
        with socket.create_connection((server.host, server.port), timeout=10) as sock:
            sock.sendall(request)
            raw = b""
            while chunk := sock.recv(65536):  # the server closes: recv returns b"" instead of waiting
                raw += chunk
        ((status, headers, answer),) = _answers(raw)
        assert status == 200 and headers["connection"] == "close" and len(answer["predictions"]) == 1


def test_a_body_in_pieces_and_a_body_after_100_continue_are_answered(server):
    request = _post(ROW)
    head, _, body = request.partition(b"\r\n\r\n")
    with socket.create_connection((server.host, server.port), timeout=10) as sock:
        sock.sendall(head + b"\r\n\r\n" + body[:10])
        time.sleep(0.3)  # the rest arrives in another read
        sock.sendall(body[10:])
        assert _answers(_read(sock))[0][0] == 200
    expecting = _post(ROW, headers="Expect: 100-continue\r\n")
    head, _, body = expecting.partition(b"\r\n\r\n")
    with socket.create_connection((server.host, server.port), timeout=10) as sock:
        sock.sendall(head + b"\r\n\r\n")
        assert sock.recv(65536).startswith(b"HTTP/1.1 100 Continue\r\n\r\n")
        sock.sendall(body)
        assert _answers(_read(sock))[0][0] == 200


def test_requests_arriving_together_get_the_scores_they_get_alone(server, shared_ws):
    """Several connections' requests admitted in one turn of the event loop are decided together
    (one model call, one log write): each still gets exactly its own answer, logged."""
    rows = [{**ROW, "age": 20 + 5 * i, "color": ("red", "green", "blue", "pink")[i % 4]} for i in range(8)]
    alone = [server.predict({"row": row})[1]["predictions"] for row in rows]
    sockets = [socket.create_connection((server.host, server.port), timeout=10) for _ in rows]
    try:
        for _ in range(3):
            for sock, row in zip(sockets, rows, strict=True):
                sock.sendall(_post(row))
            together = [_answers(_read(sock)) for sock in sockets]
            assert [status for ((status, _, _),) in together] == [200] * len(rows)
            assert [answer["predictions"] for ((_, _, answer),) in together] == alone  # bit for bit
            assert {answer["request_id"] for ((_, _, answer),) in together} <= _logged_ids(shared_ws)
    finally:
        for sock in sockets:
            sock.close()
