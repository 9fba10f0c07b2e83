"""Canonical JSON: one byte string per value."""

import json

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


# -- RFC 8785 (JCS): the encoding trail entries of format v2 hash --------------------------------
import math  # noqa: E402
import random  # noqa: E402
import struct  # noqa: E402

import rfc8785  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from governance.trail.canonical import format_number, jcs  # noqa: E402

# RFC 8785 Appendix B: IEEE 754 doubles (as hex) and their canonical text.
RFC_NUMBERS = [
    ("0000000000000000", "0"), ("8000000000000000", "0"), ("0000000000000001", "5e-324"),
    ("8000000000000001", "-5e-324"), ("7fefffffffffffff", "1.7976931348623157e+308"),
    ("ffefffffffffffff", "-1.7976931348623157e+308"), ("4340000000000000", "9007199254740992"),
    ("c340000000000000", "-9007199254740992"), ("4430000000000000", "295147905179352830000"),
    ("44b52d02c7e14af5", "9.999999999999997e+22"), ("44b52d02c7e14af6", "1e+23"),
    ("44b52d02c7e14af7", "1.0000000000000001e+23"), ("444b1ae4d6e2ef4e", "999999999999999700000"),
    ("444b1ae4d6e2ef4f", "999999999999999900000"), ("444b1ae4d6e2ef50", "1e+21"),
    ("3eb0c6f7a0b5ed8c", "9.999999999999997e-7"), ("3eb0c6f7a0b5ed8d", "0.000001"),
    ("41b3de4355555553", "333333333.3333332"), ("41b3de4355555554", "333333333.33333325"),
    ("41b3de4355555555", "333333333.3333333"), ("41b3de4355555556", "333333333.3333334"),
    ("41b3de4355555557", "333333333.33333343"), ("becbf647612f3696", "-0.0000033333333333333333"),
    ("43143ff3c1cb0959", "1424953923781206.2"),
]


@pytest.mark.parametrize("bits, expected", RFC_NUMBERS)
def test_numbers_are_written_as_rfc_8785_appendix_b_says(bits, expected):
    value = struct.unpack(">d", bytes.fromhex(bits))[0]
    assert format_number(value) == expected
    assert rfc8785.dumps(value).decode() == expected  # the reference implementation agrees


def test_rfc_8785_sample_object():
    # RFC 8785 section 3.2.2: numbers, string escapes, literals.
    value = {"numbers": [333333333.33333329, 1e30, 4.50, 2e-3, 0.000000000000000000000000001],
             "string": "\u20ac$\u000f\u000aA'\u0042\u0022\u005c\\\"/", "literals": [None, True, False]}
    assert jcs(value) == ('{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],'
                          '"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}')


def test_keys_sort_by_utf16_code_units_as_rfc_8785_section_3_2_3_shows():
    value = {"\u20ac": "Euro Sign", "\r": "Carriage Return", "\ufb33": "Hebrew Letter Dalet With Dagesh",
             "1": "One", "\U0001f600": "Emoji: Grinning Face", "\u0080": "Control",
             "\u00f6": "Latin Small Letter O With Diaeresis"}
    order = [k for k in json.loads(jcs(value))]
    assert order == ["\r", "1", "\u0080", "\u00f6", "\u20ac", "\U0001f600", "\ufb33"]  # not code point order
    assert jcs(value).encode("utf-8") == rfc8785.dumps(value)


def test_python_specific_forms_are_gone():
    assert jcs({"a": 1.0, "b": 1e16, "c": 5e-07, "d": -0.0, "e": 1e21, "f": 1e-07}) == (
        '{"a":1,"b":10000000000000000,"c":5e-7,"d":0,"e":1e+21,"f":1e-7}')
    assert canonical_json({"a": 1.0, "b": 1e16, "c": 5e-07}) == '{"a":1.0,"b":1e+16,"c":5e-07}'  # v1 keeps them


def test_random_doubles_match_the_reference_implementation():
    rng = random.Random(8785)
    for _ in range(20_000):
        value = struct.unpack(">d", rng.getrandbits(64).to_bytes(8, "big"))[0]
        if math.isfinite(value):
            assert format_number(value).encode() == rfc8785.dumps(value), value
    for exponent in range(-330, 310):  # every decimal exponent, at and around the layout switches
        for mantissa in ("1", "1.5", "9.999999999999998", "1.0000000000000002", "-2.5"):
            value = float(f"{mantissa}e{exponent}")
            if math.isfinite(value):
                assert format_number(value).encode() == rfc8785.dumps(value), value


JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=400, deadline=None)
@given(JSON)
def test_any_json_value_matches_the_reference_implementation(value):
    assert jcs(value).encode("utf-8") == rfc8785.dumps(value)
    assert jcs(json.loads(jcs(value))) == jcs(value)  # what a reader gets back encodes to the same text


@pytest.mark.parametrize(
    "value, message",
    [
        ({"metrics": {"auc": float("nan")}}, "payload.metrics.auc: nan is not allowed"),
        ({"x": [1, float("inf")]}, "payload.x[1]: inf is not allowed"),
        ({1: "a"}, "payload: key 1 is not a string"),
        ({"k": {b"a": 1}}, "payload.k: key b'a' is not a string"),
        ({"when": object()}, "payload.when: object is not JSON"),
        ({"n": [2**53 + 1]}, "payload.n[0]: integer 9007199254740993 would change as a JSON number"),
        ({"n": 2**60}, "payload.n: integer 1152921504606846976 would change"),  # to 1152921504606847000
        ({"n": -(2**63)}, "payload.n: integer -9223372036854775808 would change"),
        ({"n": 10**21}, "payload.n: integer 1000000000000000000000 would change"),  # to 1e+21
        ({"n": 10**400}, "payload.n: integer 1000000000"),
        ({"s": "a\ud800"}, "payload.s: text is not valid Unicode"),
        ({"\udc00": 1}, "payload: key '\\udc00' is not valid Unicode"),
    ],
)
def test_jcs_refuses_what_json_cannot_say_and_names_the_place(value, message):
    with pytest.raises(CanonicalJSONError) as err:
        jcs(value, "payload")
    assert message in str(err.value)


def test_large_integers_pass_when_their_digits_are_what_a_json_number_reads():
    # A float read back from a format-2 body ("10000000000000000") is an int in Python: it must
    # encode again, to the same text; an integer whose digits a double would change is refused.
    assert jcs({"a": 2**53, "b": 10**16, "c": -9223372036854776000}) == (
        '{"a":9007199254740992,"b":10000000000000000,"c":-9223372036854776000}')
    for value in (1e16, 2.0**63, -(2.0**63), 2.0**70, 1e21, 1.5e300, 123456789012345680.0):
        text = jcs(value)
        assert text == rfc8785.dumps(value).decode() and jcs(json.loads(text)) == text


def test_jcs_refuses_a_value_that_contains_itself():
    loop: list = []
    loop.append(loop)
    with pytest.raises(CanonicalJSONError, match="payload: nested too deeply"):
        jcs({"x": loop}, "payload")


def test_subclasses_of_json_types_encode_as_their_plain_values():
    import enum

    import numpy as np

    class Status(str, enum.Enum):
        PASSED = "passed"

        def __str__(self) -> str:
            return "Status: passed"

    assert jcs({"s": Status.PASSED, "f": np.float64(0.5), "i": enum.IntEnum("N", "ONE").ONE}) == (
        '{"f":0.5,"i":1,"s":"passed"}')
    assert json.loads(canonical_json({"s": Status.PASSED})) == json.loads(jcs({"s": Status.PASSED}))
