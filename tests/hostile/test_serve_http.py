"""Hostile HTTP against a real ``rai serve`` on 127.0.0.1: every answer is valid JSON, no socket waits.

Raw bytes on a socket: malformed or lying ``Content-Length``, request smuggling shapes, bodies too
large (declared or streamed), clients that stall in the headers or the body, header floods,
non-finite and huge numbers, deep nesting. Each case expects one status and one error text, in a
JSON body, within the server's ``--timeout`` (2 s here) plus slack; after all of them the server
still answers and its prediction log still verifies.
"""

from __future__ import annotations

import json
import time

import pytest
from serve.harness import ROW, Server, register_demo, split_response

from governance.workspace import Workspace
from lifecycle.predlog.verify import verify_log

TIMEOUT = 2


@pytest.fixture(scope="module")
def hostile_ws(tmp_path_factory) -> Workspace:
    ws = Workspace(tmp_path_factory.mktemp("hostile-serve") / "ws")
    register_demo(ws)
    return ws


@pytest.fixture(scope="module")
def target(hostile_ws):
    with Server(hostile_ws, "--timeout", str(TIMEOUT), "--max-body-mb", "1", "--max-rows", "1000") as running:
        yield running


def post(body: bytes, headers: str = "") -> bytes:
    return (f"POST /predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n{headers}"
            f"Content-Length: {len(body)}\r\n\r\n").encode() + body


def row_with(field: str, literal: str) -> bytes:
    values = {k: json.dumps(v) for k, v in ROW.items()}
    values[field] = literal
    return ('{"row": {' + ", ".join(f'"{k}": {v}' for k, v in values.items()) + "}}").encode()


HEAD = b"POST /predict HTTP/1.1\r\nHost: 127.0.0.1\r\n"
FLOAT32 = "must be a finite number within ±3.4e38 (float32)"

CASES = [
    # (id, raw request, status, text the error must contain)
    ("negative content-length", HEAD + b"Content-Length: -1\r\n\r\n{}", 400, "malformed HTTP request"),
    ("non-numeric content-length", HEAD + b"Content-Length: abc\r\n\r\n{}", 400, "malformed HTTP request"),
    ("content-length overflow", HEAD + b"Content-Length: 99999999999999999999999\r\n\r\n", 400, "malformed HTTP request"),
    ("two different content-lengths", HEAD + b"Content-Length: 2\r\nContent-Length: 5\r\n\r\n{}", 400,
     "malformed HTTP request"),
    ("content-length and chunked", HEAD + b"Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
     400, "malformed HTTP request"),
    ("bad chunk size", HEAD + b"Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n", 400, "malformed HTTP request"),
    ("garbage request line", b"\x00\x01\x02 hello\r\n\r\n", 400, "malformed HTTP request"),
    ("declared body over the limit", HEAD + b"Content-Length: 2000000\r\n\r\n", 413,
     "request body of 2000000 bytes exceeds the limit of 1048576"),
    ("declared body over the limit, expecting 100-continue", HEAD + b"Expect: 100-continue\r\nContent-Length: 50000000\r\n\r\n",
     413, "request body of 50000000 bytes exceeds the limit of 1048576"),
    ("chunked body over the limit", HEAD + b"Transfer-Encoding: chunked\r\n\r\n" + (b"10000\r\n" + b" " * 0x10000 + b"\r\n") * 17
     + b"0\r\n\r\n", 413, "request body exceeds the limit of 1048576 bytes"),
    ("header flood", HEAD + b"X-Filler: " + b"a" * 70_000 + b"\r\n\r\n", 431, "request line and headers exceed 65536 bytes"),
    ("url flood", b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 431, "exceed 65536 bytes"),
    ("Infinity", post(row_with("age", "Infinity")), 400, f"row.age: {FLOAT32}, got inf"),
    ("-Infinity", post(row_with("hours-per-week", "-Infinity")), 400, f"row.hours-per-week: {FLOAT32}, got -inf"),
    ("NaN", post(row_with("age", "NaN")), 400, f"row.age: {FLOAT32}, got nan"),
    ("1e308", post(row_with("age", "1e308")), 400, f"row.age: {FLOAT32}, got 1e+308"),
    ("1e999", post(row_with("age", "1e999")), 400, f"row.age: {FLOAT32}, got inf"),
    ("integer of 4,500 digits", post(row_with("age", "7" * 4500)), 400, f"row.age: {FLOAT32}, got an integer of 4500 digits"),
    ("integer of 40 digits", post(row_with("age", "9" * 40)), 400, f"row.age: {FLOAT32}, got 9999999999999999999999999999999999999999"),
    ("boolean age", post(row_with("age", "true")), 400, "row.age: must be a number or null, got the boolean true"),
    ("nested 200,000 deep", post(b"[" * 200_000 + b"]" * 200_000), 400, "body: JSON nested too deeply"),
    ("not UTF-8", post(b'{"row": "\xc3\x28"}'), 400, "body is not UTF-8 text"),
    ("truncated JSON", post(b'{"rows": [{"age": 3'), 400, "body is not valid JSON"),
    ("duplicate row and rows", post(json.dumps({"row": ROW, "rows": [ROW]}).encode()), 400, 'body must be {"rows": [...]}'),
    ("too many rows", post(json.dumps({"rows": [{}] * 1001}).encode()), 413, "rows: at most 1000 rows per request, got 1001"),
    ("another model version", post(json.dumps({"rows": [ROW], "version": 7}).encode()), 404,
     "model 'demo' version 7 is not served here; this server serves demo version 1"),
    ("unknown column", post(json.dumps({"row": {**ROW, "__proto__": 1}}).encode()), 400, "row: unknown column '__proto__'"),
]


def _json_answer(raw: bytes) -> tuple[int, dict]:
    assert raw, "the server closed the connection without an answer"
    status, headers, body = split_response(raw)
    assert headers.get("content-type") == "application/json", headers
    return status, json.loads(body[: int(headers["content-length"])])


@pytest.mark.parametrize("case,request_bytes,status,text", CASES, ids=[c[0] for c in CASES])
def test_hostile_requests_get_one_json_error(target, case, request_bytes, status, text):
    started = time.monotonic()
    got, answer = _json_answer(target.raw(request_bytes, timeout=TIMEOUT + 8))
    assert got == status and text in answer["error"], answer
    assert time.monotonic() - started < TIMEOUT + 8


STALLS = [
    ("nothing sent", b"", "request line and headers not received within 2 s"),
    ("headers trickle and stop", HEAD + b"Content-Type: appl", "request line and headers not received within 2 s"),
    ("body shorter than its content-length", HEAD + b"Content-Length: 100\r\n\r\n{\"rows\": [", "request body not received within 2 s"),
    ("chunked body that never ends", HEAD + b"Transfer-Encoding: chunked\r\n\r\n5\r\n{\"row\r\n", "request body not received within 2 s"),
    ("second request stalls on a kept-alive connection", post(json.dumps({"row": ROW}).encode()) + HEAD + b"Content-Le",
     "request line and headers not received within 2 s"),
]


@pytest.mark.parametrize("case,request_bytes,text", STALLS, ids=[s[0] for s in STALLS])
def test_stalled_clients_are_cut_off_with_408(target, case, request_bytes, text):
    started = time.monotonic()
    answers = 2 if case.startswith("second request") else 1
    raw = target.raw(request_bytes, timeout=TIMEOUT + 8, responses=answers)
    elapsed = time.monotonic() - started
    if answers == 2:  # the first, complete request was answered before the stall
        first, _, raw = raw.partition(b"HTTP/1.1 408")
        assert first.startswith(b"HTTP/1.1 200") and raw
        raw = b"HTTP/1.1 408" + raw
    status, answer = _json_answer(raw)
    assert (status, answer["error"]) == (408, text)
    assert TIMEOUT - 0.5 <= elapsed < TIMEOUT + 6


def test_the_server_survives_all_of_it_and_its_log_verifies(target, hostile_ws):
    assert target.call("GET", "/health")[0] == 200
    assert target.predict({"row": ROW})[0] == 200
    metrics = target.call("GET", "/metrics")[2]
    for reason in ("malformed", "header_timeout", "body_timeout", "header_too_large"):
        assert f'rai_http_rejected_total{{reason="{reason}"}}' in metrics
    assert verify_log(hostile_ws).ok
