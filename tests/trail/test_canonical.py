"""Canonical JSON: one byte string per value."""

import pytest

from governance.trail.canonical import CanonicalJSONError, canonical_bytes, canonical_json


@pytest.mark.parametrize(
    "value, expected",
    [
        ({"b": 1, "a": [1, 2, {"d": None, "c": True}]}, '{"a":[1,2,{"c":true,"d":null}],"b":1}'),
        ({"z": "é", "a": "日本"}, '{"a":"日本","z":"é"}'),
        ((1, 2.5, -0.0), "[1,2.5,-0.0]"),
        ({"ctrl": "a\nb\u0000"}, '{"ctrl":"a\\nb\\u0000"}'),
        ({}, "{}"),
    ],
)
def test_canonical_form(value, expected):
    assert canonical_json(value) == expected


def test_key_order_does_not_matter():
    assert canonical_bytes({"x": 1, "y": {"b": 2, "a": 1}}) == canonical_bytes({"y": {"a": 1, "b": 2}, "x": 1})


def test_utf8_bytes_without_escapes():
    assert canonical_bytes({"name": "Zoë"}) == '{"name":"Zoë"}'.encode()


@pytest.mark.parametrize(
    "value, message",
    [
        ({"metrics": {"auc": float("nan")}}, "payload.metrics.auc: nan is not allowed"),
        ({"x": [1, float("inf")]}, "payload.x[1]: inf is not allowed"),
        ({"x": float("-inf")}, "payload.x: -inf is not allowed"),
        ({1: "a"}, "payload: key 1 is not a string"),
        ({"when": object()}, "payload.when: object is not JSON"),
        ({"s": {1, 2}}, "payload.s: set is not JSON"),
    ],
)
def test_refused_values_name_their_place(value, message):
    with pytest.raises(CanonicalJSONError) as err:
        canonical_json(value, "payload")
    assert message in str(err.value)


def test_lone_surrogate_is_not_utf8():
    with pytest.raises(CanonicalJSONError, match="not valid Unicode"):
        canonical_bytes({"s": "\ud800"})
