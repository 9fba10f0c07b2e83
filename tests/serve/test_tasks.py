"""``rai serve`` of multiclass and regression models: answers, log records, metrics, OpenAPI, show.

Each test runs against a real server of the multiclass or the regression fixture model, as a
LiteRT entry and as a Keras entry (``task_server``). Their scores against the models' own
predictions are in ``test_tasks_tf.py``.
"""

from __future__ import annotations

import json
import math

import jsonschema
import numpy as np
import pytest

from governance.workspace import Workspace
from lifecycle.predlog import encode_record, log_dir
from lifecycle.predlog.segment import parse_segment
from lifecycle.serving.decisions import Decided, Multiclass, NoDecision, Regression, task_of

from .harness import CLASSES, ROW, register_demo
from .test_server import _metric

ODD = {**ROW, "age": 500, "color": "pink", "hours-per-week": None}  # out of range, unseen, missing


def _logged(ws, request_id: str) -> list[bytes]:
    """The log lines of a request, from the server's open segment (written before the answer)."""
    lines = []
    for path in sorted(log_dir(ws).glob("*.jsonl")):
        lines += [line for line in parse_segment(path.read_bytes()).lines if json.loads(line)["request_id"] == request_id]
    return lines


def test_each_answer_and_log_record_has_the_tasks_layout(task_server):
    status, answer = task_server.server.predict({"rows": [ROW, ODD]}, headers={"X-Request-ID": "order-9"})
    assert status == 200
    lines = _logged(task_server.ws, answer["request_id"])
    records = [json.loads(line) for line in lines]
    assert len(records) == 2
    for line, record in zip(lines, records, strict=True):
        assert encode_record(record) == line  # canonical: sorted keys, no spaces, ASCII
        assert record["client_request_id"] == "order-9" and record["model"] == "demo"
    assert [r["flags"] for r in records] == [[], ["age:out_of_range", "hours-per-week:missing", "color:unseen_category"]]
    assert [p["flags"] for p in answer["predictions"]] == [r["flags"] for r in records]
    common = {"client_request_id", "flags", "input_sha256", "inputs", "label", "model", "model_sha256", "request_id",
              "row", "score", "time", "version"}
    if task_server.task == "multiclass":
        for decision, record in zip(answer["predictions"], records, strict=True):
            assert list(decision) == ["label", "score", "probabilities", "flags"]
            assert list(decision["probabilities"]) == CLASSES
            probabilities = [decision["probabilities"][c] for c in CLASSES]
            assert math.isclose(sum(probabilities), 1.0, abs_tol=1e-9) and all(0 <= p <= 1 for p in probabilities)
            assert decision["label"] == CLASSES[int(np.argmax(probabilities))]
            assert decision["score"] == max(probabilities) == decision["probabilities"][decision["label"]]
            assert set(record) == common | {"probabilities"}
            assert (record["label"], record["score"], record["probabilities"]) == (decision["label"], decision["score"],
                                                                                   probabilities)
    else:
        for decision, record in zip(answer["predictions"], records, strict=True):
            assert list(decision) == ["prediction", "flags"] and math.isfinite(decision["prediction"])
            assert set(record) == common and record["label"] is None and record["score"] == decision["prediction"]
        assert answer["predictions"][0]["prediction"] != answer["predictions"][1]["prediction"]


def test_a_malformed_request_is_refused_and_decides_nothing(task_server):
    server = task_server.server
    before = server.call("GET", "/metrics")[2]
    status, answer = server.predict({"rows": [ROW, {**ROW, "hours-per-week": "forty"}]})
    assert status == 400
    assert answer["error"] == "rows[1].hours-per-week: must be a number or null, got the string 'forty'"
    assert _logged(task_server.ws, answer["request_id"]) == []
    after = server.call("GET", "/metrics")[2]
    name, labels = "rai_prediction_log_records_total", {"model": "demo", "version": "1"}
    assert _metric(after, name, **labels) == _metric(before, name, **labels)


def test_metrics_count_decisions_by_class_or_without_a_label(task_server):
    server = task_server.server
    status, answer = server.predict({"rows": [ROW, ODD, ROW]})
    assert status == 200
    text = server.call("GET", "/metrics")[2]
    samples = [line for line in text.splitlines() if line.startswith("rai_decisions_total{")]
    if task_server.task == "multiclass":
        assert sorted(line.split('label="')[1].split('"')[0] for line in samples) == CLASSES  # every class, from 0
        counts = {c: _metric(text, "rai_decisions_total", label=c, model="demo", version="1") for c in CLASSES}
        assert sum(counts.values()) == _metric(text, "rai_prediction_log_records_total", model="demo", version="1")
        assert all(counts[p["label"]] >= 1 for p in answer["predictions"])
    else:
        assert len(samples) == 1 and "label=" not in samples[0]
        assert _metric(text, "rai_decisions_total", model="demo", version="1") == \
            _metric(text, "rai_prediction_log_records_total", model="demo", version="1") >= 3


def test_openapi_describes_the_tasks_answer(task_server):
    server = task_server.server
    spec = server.call("GET", "/openapi.json")[2]
    schema = {**spec["components"]["schemas"]["Decisions"], "components": spec["components"]}
    _, answer = server.predict({"rows": [ROW, ODD]})
    jsonschema.validate(answer, schema)
    binary_shaped = {**answer, "predictions": [{"score": 0.5, "label": 1, "flags": []}]}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(binary_shaped, schema)
    if task_server.task == "multiclass":
        other = {**answer, "predictions": [{**answer["predictions"][0], "label": "unknown"}]}
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(other, schema)


def test_predictions_show_prints_each_tasks_decision(task_server, rai):
    _, answer = task_server.server.predict({"row": ROW}, headers={"X-Request-ID": f"show-{task_server.fmt}"})
    code, out, _ = rai("predictions", "show", f"show-{task_server.fmt}", "--workspace", str(task_server.ws.root))
    assert code == 0
    (decision,) = answer["predictions"]
    if task_server.task == "multiclass":
        listed = json.dumps([decision["probabilities"][c] for c in CLASSES])
        assert (f'  label "{decision["label"]}"  score {decision["score"]}  probabilities {listed} '
                "(in the model's class order)  flags -") in out
    else:
        assert f"  prediction {decision['prediction']}  flags -" in out


@pytest.mark.parametrize(("schema", "message"), [
    ({"task": "ranking"}, "schema.task must be one of binary, multiclass, regression, got 'ranking'"),
    ({"task": "multiclass", "classes": ["a"]}, "schema.classes must list the multiclass model's classes"),
    ({"task": "multiclass", "classes": ["a", "a", "b"]}, "schema.classes must list the multiclass model's classes"),
    ({"task": "multiclass", "classes": ["a", None]}, "schema.classes must list the multiclass model's classes"),
], ids=["unknown task", "one class", "a class twice", "a null class"])
def test_a_manifest_whose_task_cannot_be_served_is_refused_at_start(tmp_path, rai, schema, message):
    ws = Workspace(tmp_path / "ws")
    entry = register_demo(ws, task="multiclass")
    register_demo(ws, task="multiclass", schema={**entry.body["schema"], **schema})  # v2, signed like v1
    code, out, err = rai("serve", "demo", "--version", "2", "--workspace", str(ws.root), "--port", "0")
    assert code == 2 and err.count("\n") == 1 and message in err and "manifest.json" in err


def test_outputs_that_are_no_decision_name_the_row():
    multiclass = Multiclass(CLASSES)
    good = np.array([[0.2, 0.3, 0.5], [0.6, 0.3, 0.1]], dtype=np.float32)
    decided = multiclass.decide(good, 2)
    assert isinstance(decided, Decided) and decided.labels == ['"medium"', '"high"'] and decided.counted == ["medium", "high"]
    for output, rows, row in [(np.array([[0.2, 0.3, 0.5], [np.nan, 0.5, 0.5]]), 2, 1),
                              (np.array([[np.inf, 0.3, 0.5]]), 1, 0),
                              (np.array([[0.0, 0.0, 0.0]]), 1, 0),  # no class has any probability
                              (np.array([[0.5, 0.5]]), 1, 0),       # two values for three classes
                              (good, 3, 0)]:                        # fewer rows than asked
        with pytest.raises(NoDecision) as caught:
            multiclass.decide(output, rows)
        assert caught.value.row == row
    with pytest.raises(NoDecision) as caught:
        Regression().decide(np.array([1.0, -np.inf, 2.0]), 3)
    assert caught.value.row == 1
    assert task_of({"schema": {"task": "regression"}}, "m").metric_labels is None
