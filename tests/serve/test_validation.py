"""Request validation against the training profile, in-process (the service behind POST /predict).

Every bad body is a 400 (or 404/413) whose one-line message names the field; every accepted row
gets a finite score and the flags its values deserve.
"""

from __future__ import annotations

import json

import pytest

from governance.workspace import Workspace
from lifecycle.serving.server import load_service
from lifecycle.serving.settings import ServeSettings

from .harness import ROW, register_demo

COLUMNS = "age, hours-per-week, color, sex, group"


@pytest.fixture(scope="module")
def ws(tmp_path_factory) -> Workspace:
    ws = Workspace(tmp_path_factory.mktemp("validation") / "ws")
    register_demo(ws)
    register_demo(ws, profile=False)  # v2: an entry registered before profiles were recorded
    return ws


def _service(ws: Workspace, version: int = 1, **settings):
    return load_service(ServeSettings(name="demo", version=version, registry=ws.registry, workspace=ws.root,
                                      prediction_log=False, **settings))


@pytest.fixture(scope="module")
def service(ws):
    return _service(ws, max_rows=8)


def _predict(service, body) -> tuple[int, dict]:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    status, payload = service.predict(raw)
    return status, json.loads(payload)  # every answer is strict JSON


def _with(**values) -> dict:
    return {**ROW, **values}


BAD = [
    ("empty rows", {"rows": []}, 400, "rows: must be a non-empty array of {column: value} objects"),
    ("missing columns", {"rows": [{"age": 3}]}, 400,
     "rows[0]: missing column(s) hours-per-week, color, sex (null marks a missing value)"),
    ("unknown column", {"row": {**ROW, "colour": "red"}}, 400, f"row: unknown column 'colour'; columns are: {COLUMNS}"),
    ("text for a number", {"rows": [_with(age="old")]}, 400, "rows[0].age: must be a number or null, got the string 'old'"),
    ("number as text", {"rows": [_with(age="39")]}, 400, "rows[0].age: must be a number or null, got the string '39'"),
    ("boolean for a number", {"row": _with(age=True)}, 400, "row.age: must be a number or null, got the boolean true"),
    ("object for a number", {"row": _with(age={"v": 1})}, 400, "row.age: must be a number or null, got an object"),
    ("1e308", {"row": _with(age=1e308)}, 400, "row.age: must be a finite number within ±3.4e38 (float32), got 1e+308"),
    ("beyond float32", {"row": _with(**{"hours-per-week": -4e38})}, 400,
     "row.hours-per-week: must be a finite number within ±3.4e38 (float32), got -4e+38"),
    ("40-digit integer", {"row": _with(age=10**39)}, 400,
     "row.age: must be a finite number within ±3.4e38 (float32), got 1000000000000000000000000000000000000000"),
    ("array for a category", {"row": _with(color=["red"])}, 400,
     "row.color: must be a string, a whole number or null, got an array"),
    ("float for a category", {"row": _with(sex=1.5)}, 400, "row.sex: must be a string, a whole number or null, got 1.5"),
    ("boolean for a category", {"row": _with(group=False)}, 400,
     "row.group: must be a string, a whole number or null, got the boolean false"),
    ("a row that is not an object", [1], 400, "rows[0]: must be an object of column: value, got 1"),
    ("second row bad", {"rows": [ROW, _with(color=7.0)]}, 400,
     "rows[1].color: must be a string, a whole number or null, got 7.0"),
    ("row and rows", {"row": ROW, "rows": [ROW]}, 400,
     'body must be {"rows": [...]} or {"row": {...}} (optionally with "model", "version")'),
    ("unknown top-level key", {"rows": [ROW], "explain": True}, 400,
     'body must be {"rows": [...]} or {"row": {...}} (optionally with "model", "version"); unknown key \'explain\''),
    ("a scalar body", 42, 400, 'body must be {"rows": [ {column: value, ...}, ... ]} or {"row": {...}}'),
    ("rows not a list", {"rows": ROW}, 400, "rows: must be a non-empty array of {column: value} objects"),
    ("another version", {"rows": [ROW], "version": 2}, 404,
     "model 'demo' version 2 is not served here; this server serves demo version 1"),
    ("another model", {"rows": [ROW], "model": "credit"}, 404,
     "model 'credit' version 1 is not served here; this server serves demo version 1"),
    ("version as text", {"rows": [ROW], "version": "1"}, 404,
     "model 'demo' version 1 is not served here; this server serves demo version 1"),
    ("too many rows", {"rows": [ROW] * 9}, 413, "rows: at most 8 rows per request, got 9"),
]


@pytest.mark.parametrize("case,body,status,message", BAD, ids=[b[0] for b in BAD])
def test_bad_bodies_are_refused_naming_the_field(service, case, body, status, message):
    code, answer = _predict(service, body)
    assert (code, answer["error"]) == (status, message)
    assert len(answer["request_id"]) == 28


RAW = [
    ("Infinity literal", b'{"row": {"age": Infinity, "hours-per-week": 40, "color": "red", "sex": "Male"}}',
     "row.age: must be a finite number within ±3.4e38 (float32), got inf"),
    ("-Infinity literal", b'{"row": {"age": -Infinity, "hours-per-week": 40, "color": "red", "sex": "Male"}}',
     "row.age: must be a finite number within ±3.4e38 (float32), got -inf"),
    ("NaN literal", b'{"row": {"age": 30, "hours-per-week": NaN, "color": "red", "sex": "Male"}}',
     "row.hours-per-week: must be a finite number within ±3.4e38 (float32), got nan"),
    ("1e999", b'{"row": {"age": 1e999, "hours-per-week": 40, "color": "red", "sex": "Male"}}',
     "row.age: must be a finite number within ±3.4e38 (float32), got inf"),
    ("5000-digit integer", b'{"row": {"age": ' + b"9" * 5000 + b', "hours-per-week": 40, "color": "red", "sex": "Male"}}',
     "row.age: must be a finite number within ±3.4e38 (float32), got an integer of 5000 digits"),
    ("5000-digit category", b'{"row": {"age": 1, "hours-per-week": 40, "color": -' + b"9" * 5000 + b', "sex": "Male"}}',
     "row.color: must be a string, a whole number or null, got an integer of 5000 digits"),
    ("deep nesting", b"[" * 100_000 + b"]" * 100_000, "body: JSON nested too deeply"),
    ("not UTF-8", b'{"row": "\xff\xfe"}', "body is not UTF-8 text (byte 9)"),
    ("truncated JSON", b'{"rows": [', "body is not valid JSON: Expecting value: line 1 column 11 (char 10)"),
    ("empty body", b"", 'empty body; send {"rows": [{column: value, ...}, ...]} or {"row": {...}}'),
]


@pytest.mark.parametrize("case,body,message", RAW, ids=[r[0] for r in RAW])
def test_non_finite_huge_and_malformed_bodies_are_400(service, case, body, message):
    code, answer = _predict(service, body)
    assert (code, answer["error"]) == (400, message)


def _scores(service, rows: list[dict]) -> list[dict]:
    code, answer = _predict(service, {"rows": rows})
    assert code == 200, answer
    return answer["predictions"]


def test_flags_name_the_column_and_what_is_unusual(service):
    got = _scores(service, [ROW, _with(age=200), _with(color="pink"), _with(sex=None), _with(age=None),
                            _with(color="?"), _with(age=-5, sex="X")])
    assert [p["flags"] for p in got] == [
        [], ["age:out_of_range"], ["color:unseen_category"], ["sex:missing"], [], [],
        ["age:out_of_range", "sex:unseen_category"]]
    assert all(0 <= p["score"] <= 1 and p["label"] == int(p["score"] >= 0.5) for p in got)
    # '?' is one of the spec's na_values: the same as a missing colour, which training had
    assert got[5]["score"] == _scores(service, [_with(color=None)])[0]["score"]


def test_a_single_row_body_and_a_bare_list_score_like_a_batch(service):
    batch = _scores(service, [ROW, _with(age=61, color="blue")])
    status, single = _predict(service, {"row": _with(age=61, color="blue")})
    status_list, bare = _predict(service, [ROW])
    assert status == status_list == 200
    assert single["predictions"] == batch[1:] and bare["predictions"] == batch[:1]
    assert single["model"] == "demo" and single["version"] == 1


@pytest.mark.parametrize("mode", ["flag", "missing", "reject"])
def test_unseen_categories_follow_the_setting(ws, mode):
    service = _service(ws, unseen=mode)
    code, answer = _predict(service, {"rows": [_with(color="pink")]})
    if mode == "reject":
        assert (code, answer["error"]) == (400, "rows[0].color: category 'pink' was not seen in training "
                                                "(known: 'blue', 'green', 'red')")
        return
    (scored,) = answer["predictions"]
    assert scored["flags"] == ["color:unseen_category"]
    as_missing = _scores(service, [_with(color=None)])[0]["score"]
    # "missing" scores it as a missing colour; "flag" as the model's unknown-category slot
    assert (scored["score"] == as_missing) == (mode == "missing")


def test_an_entry_without_a_recorded_profile_is_checked_against_the_model_and_reference(ws):
    older = _service(ws, version=2)
    assert older.profile.source == "derived"
    assert older.profile.categorical["color"].categories == {"red", "green", "blue"}
    got = _scores(older, [ROW, _with(color="pink"), _with(age=500)])
    assert [p["flags"] for p in got] == [[], ["color:unseen_category"], ["age:out_of_range"]]


def test_the_recorded_profile_comes_from_ingest(service):
    assert service.profile.source == "ingest"
    age = service.profile.numeric["age"]
    assert (age.low, age.high, age.missing_seen) == (18.0, 79.0, True)
    assert service.profile.categorical["sex"].missing_seen is False
