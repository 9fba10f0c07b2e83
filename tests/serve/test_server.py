"""``rai serve`` as a real uvicorn process on 127.0.0.1: endpoints, OpenAPI, metrics, workers, shutdown."""

from __future__ import annotations

import json
import re

import jsonschema
import pytest

from governance.trail import open_trail
from lifecycle.predlog import CLOSED, OPENED

from .harness import ROW, Server


def test_health_model_and_unknown_endpoints(server, shared_ws):
    status, headers, health = server.call("GET", "/health")
    assert status == 200 and headers["content-type"] == "application/json"
    entry_manifest = json.loads((shared_ws.registry / "demo" / "1" / "manifest.json").read_text())
    assert health == {"status": "ok", "model": "demo", "version": 1, "prediction_log": True,
                      "model_sha256": entry_manifest["manifest"]["model_sha256"]}
    assert server.call("GET", "/model")[2] == entry_manifest
    status, _, body = server.call("GET", "/nope")
    assert status == 404 and body["error"].startswith("no such endpoint /nope; try POST /predict")
    status, _, body = server.call("GET", "/predict")
    assert (status, body) == (405, {"error": "method GET not allowed on /predict"})
    status, _, body = server.call("DELETE", "/health")
    assert status == 405 and body["error"] == "method DELETE not allowed on /health"


def test_predict_answers_with_a_request_id_and_the_server_time(server):
    status, headers, answer = server.call("POST", "/predict", {"rows": [ROW, {**ROW, "age": 70}]},
                                          headers={"X-Request-ID": "loan-42"})
    assert status == 200
    assert set(answer) == {"request_id", "client_request_id", "model", "version", "predictions"}
    assert answer["client_request_id"] == "loan-42" and re.fullmatch(r"[0-9a-f]{28}", answer["request_id"])
    assert [set(p) for p in answer["predictions"]] == [{"score", "label", "flags"}] * 2
    assert re.fullmatch(r"app;dur=\d+\.\d{3}", headers["server-timing"])
    # an id a client could use to forge log lines is not echoed, nor kept
    status, _, answer = server.call("POST", "/predict", {"row": ROW}, headers={"X-Request-ID": 'x","label":1'})
    assert status == 200 and "client_request_id" not in answer


def test_a_large_batch_is_scored_off_the_event_loop(server):
    rows = [{**ROW, "age": 18 + i % 60} for i in range(2000)]  # about 190 KB of JSON
    status, answer = server.predict({"rows": rows})
    assert status == 200 and len(answer["predictions"]) == 2000
    assert len({p["score"] for p in answer["predictions"]}) == 60


def test_openapi_describes_the_feature_schema(server):
    status, _, spec = server.call("GET", "/openapi.json")
    assert status == 200 and spec["openapi"] == "3.1.0"
    row = spec["components"]["schemas"]["Row"]
    assert row["required"] == ["age", "hours-per-week", "color", "sex"] and row["additionalProperties"] is False
    assert "training range [18.0, 79.0]" in row["properties"]["age"]["description"]
    assert row["properties"]["color"]["examples"] == ["blue", "green", "red"]
    jsonschema.validate(ROW, row)
    jsonschema.validate({**ROW, "age": None, "color": "?"}, row)
    for bad in ({**ROW, "age": "old"}, {**ROW, "extra": 1}, {k: v for k, v in ROW.items() if k != "sex"}):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, row)
    assert set(spec["paths"]) == {"/predict", "/health", "/model", "/metrics"}


def _metric(text: str, name: str, **labels: str) -> float:
    """The value of one sample of the Prometheus text exposition."""
    for line in text.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            found = dict(re.findall(r'(\w+)="([^"]*)"', line.split("}")[0]))
            if all(found.get(k) == v for k, v in labels.items()):
                return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"no sample {name} {labels} in:\n{text[:2000]}")


def test_metrics_count_requests_latency_decisions_and_flags(server):
    before = server.call("GET", "/metrics")[2]
    assert server.predict({"rows": [ROW, {**ROW, "age": 500}]})[0] == 200
    assert server.predict({"row": {**ROW, "age": "old"}})[0] == 400
    assert server.raw(b"POST /predict HTTP/1.1\r\nContent-Length: -1\r\n\r\n").startswith(b"HTTP/1.1 400")
    status, headers, text = server.call("GET", "/metrics")
    assert status == 200 and headers["content-type"].startswith("text/plain")
    common = {"endpoint": "/predict", "model": "demo", "version": "1"}

    def grew(name: str, by: float, **labels: str) -> None:
        old = _metric(before, name, **labels) if f"{name}{{" in before and _has(before, name, labels) else 0.0
        assert _metric(text, name, **labels) - old == by, (name, labels)

    grew("rai_http_requests_total", 1, status="400", **common)
    grew("rai_http_request_duration_seconds_count", 1, status="400", **common)
    assert _metric(text, "rai_http_request_duration_seconds_bucket", status="200", le="+Inf", **common) >= 1
    grew("rai_input_flags_total", 1, column="age", kind="out_of_range", model="demo", version="1")
    grew("rai_http_rejected_total", 1, reason="malformed")
    assert _metric(text, "rai_model_verified", model="demo", version="1") == 1
    assert _metric(text, "rai_prediction_log_records_total", model="demo", version="1") >= 2


def _has(text: str, name: str, labels: dict[str, str]) -> bool:
    try:
        _metric(text, name, **labels)
    except AssertionError:
        return False
    return True


def test_several_workers_share_the_socket_the_metrics_and_the_log(demo_ws):
    with Server(demo_ws, "--workers", "2") as running:
        answers = [running.predict({"row": {**ROW, "age": 20 + i}}) for i in range(40)]
        assert {status for status, _ in answers} == {200}
        text = running.call("GET", "/metrics")[2]
        total = _metric(text, "rai_http_requests_total", endpoint="/predict", status="200", model="demo", version="1")
        assert total == 40  # counted across both workers, whichever answers /metrics
        assert running.stop() in (0, -15)
    with open_trail(demo_ws, create=False) as trail:
        opened, closed = trail.events(kind=OPENED), trail.events(kind=CLOSED)
    assert len(opened) == len(closed) == 2  # one segment per worker, each committed at shutdown
    assert sum(e.payload["records"] for e in closed) == 40


def test_sigterm_finishes_in_flight_work_and_commits_the_log(demo_ws):
    running = Server(demo_ws).start()
    for i in range(5):
        assert running.predict({"row": {**ROW, "age": 30 + i}})[0] == 200
    assert running.stop() in (0, -15)
    assert "Traceback" not in running.stderr()
    with open_trail(demo_ws, create=False) as trail:
        (closed,) = trail.events(kind=CLOSED)
    assert closed.payload["records"] == 5 and closed.payload["recovered"] is False
    assert closed.payload["changed_while_open"] is None
    assert not list((demo_ws.root / "predictions" / "open").iterdir())
