"""The strict YAML loader: core-schema values, positions, and validation messages."""

from __future__ import annotations

from typing import Literal

import pytest
from pydantic import BaseModel, ConfigDict, Field

from governance.errors import LocatedError
from governance.yamlsafe import MAX_BYTES, format_path, load_document
from governance.yamlvalidate import try_validate, validate


def write(tmp_path, text: str, name: str = "doc.yaml") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize(
    "text, value",
    [
        ("1e-5", 1e-05),  # YAML 1.1 would read a string here
        ("-2.5", -2.5),
        ("10", 10),
        ("0x1F", 31),
        ("0o17", 15),
        (".inf", float("inf")),
        ("-.inf", float("-inf")),
        ("true", True),
        ("False", False),
        ("yes", "yes"),  # not a boolean in the core schema
        ("no", "no"),
        ("NO", "NO"),
        ("~", None),
        ("null", None),
        ("", None),
        ("2031-06-30", "2031-06-30"),  # dates stay text; models parse them
        ("'1.0'", "1.0"),
        ("\"true\"", "true"),
        ("sex", "sex"),
    ],
)
def test_plain_values_follow_the_yaml_core_schema(tmp_path, text, value):
    doc = load_document(write(tmp_path, f"key: {text}\n"))
    assert doc.data == {"key": value}


def test_nan_is_a_float(tmp_path):
    value = load_document(write(tmp_path, "key: .nan\n")).data["key"]
    assert value != value


def test_positions_are_one_based_and_missing_keys_point_at_their_parent(tmp_path):
    doc = load_document(write(tmp_path, "a: 1\nrules:\n  - id: x\n    params: {max: 2}\n"))
    assert doc.position(("a",)) == (1, 4)
    assert doc.position(("a",), key=True) == (1, 1)
    assert doc.position(("rules", 0)) == (3, 5)
    assert doc.position(("rules", 0, "params", "max")) == (4, 19)
    assert doc.position(("rules", 0, "severity")) == (3, 5)
    assert doc.position(("rules", 7, "id")) == (3, 3)
    assert doc.get(("rules", 0, "params", "max")) == 2
    assert doc.get(("rules", 3), "absent") == "absent"


@pytest.mark.parametrize(
    "loc, shown",
    [
        (("rules", 2, "params", "max"), "rules[2].params.max"),
        ((), ""),
        ((0, "a"), "[0].a"),
        (("odd key", 1), "['odd key'][1]"),
    ],
)
def test_paths_are_formatted_like_the_document(loc, shown):
    assert format_path(loc) == shown


def test_deep_nesting_is_refused(tmp_path):
    path = write(tmp_path, "a: " + "[" * 70 + "]" * 70 + "\n")
    with pytest.raises(LocatedError, match=r"doc.yaml:1:\d+: a(\[0\])+: nesting deeper than 64 levels"):
        load_document(path)


def test_control_characters_are_refused_with_their_position(tmp_path):
    with pytest.raises(LocatedError) as info:
        load_document(write(tmp_path, "a: 1\nb: x\x07y\n"))
    assert str(info.value).endswith("doc.yaml:2:5: control character U+0007 is not allowed in YAML")


def test_the_size_limit_is_one_mebibyte(tmp_path):
    path = write(tmp_path, "a: '" + "x" * (MAX_BYTES - 6) + "'\n")  # exactly 1 MiB
    assert load_document(path).data["a"].startswith("x")
    path = write(tmp_path, "a: '" + "x" * (MAX_BYTES - 5) + "'\n")
    with pytest.raises(LocatedError, match="the limit is 1 MiB"):
        load_document(path)


class Inner(BaseModel):
    model_config = ConfigDict(extra="forbid")
    level: Literal["low", "high"]
    ratio: float = Field(0.5, gt=0, lt=1)


class Outer(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1)
    size: int = Field(1, ge=1, le=10)
    tags: list[str] = Field(default_factory=list, min_length=1)
    label: str | int | bool = "x"
    inner: Inner


@pytest.mark.parametrize(
    "text, line",
    [
        ("name: n\nsize: 11\ninner: {level: low}\n", "2:7: size: must be an integer in [1, 10], got 11"),
        ("name: n\nsize: ten\ninner: {level: low}\n", "2:7: size: must be an integer in [1, 10], got 'ten'"),
        ("name: n\ninner: {level: hihg}\n", "2:16: inner.level: must be one of low, high, got 'hihg'"),
        ("name: n\ninner: {level: low, ratio: 1}\n", "2:28: inner.ratio: must be a number in (0, 1), got 1"),
        ("name: n\ninner: {level: low, ration: 0.2}\n", "2:21: inner.ration: unknown key 'ration'; did you mean 'ratio'?"),
        ("name: n\ninner: {}\n", "2:8: inner: missing required key 'level'"),
        ("name: n\n", "1:1: missing required key 'inner'"),
        ("name: ''\ninner: {level: low}\n", "1:7: name: must not be empty"),
        ("name: 3\ninner: {level: low}\n", "1:7: name: must be a string, got 3; put it in quotes"),
        ("name: n\ntags: []\ninner: {level: low}\n", "2:7: tags: must have at least 1 item, got 0"),
        ("name: n\nlabel: [1]\ninner: {level: low}\n", "2:8: label: must be a string, an integer or true or false, got a list"),
        ("name: n\ninner: low\n", "2:8: inner: must be a mapping, got 'low'"),
    ],
)
def test_validation_errors_say_what_is_allowed_and_what_was_found(tmp_path, text, line):
    doc = load_document(write(tmp_path, text))
    with pytest.raises(LocatedError) as info:
        validate(doc, Outer)
    assert str(info.value) == f"{doc.file}:{line}"


def test_try_validate_collects_every_error_in_document_order(tmp_path):
    doc = load_document(write(tmp_path, "size: 0\nname: ''\nextra: 1\ninner: {level: x}\n"))
    model, errors = try_validate(doc, Outer)
    assert model is None
    assert [(e.line, e.path) for e in errors] == [(1, "size"), (2, "name"), (3, "extra"), (4, "inner.level")]


def test_validate_can_start_below_the_root(tmp_path):
    doc = load_document(write(tmp_path, "rules:\n  - params: {level: low, ratio: 2}\n"))
    with pytest.raises(LocatedError) as info:
        validate(doc, Inner, ("rules", 0, "params"))
    assert str(info.value).endswith("doc.yaml:2:33: rules[0].params.ratio: must be a number in (0, 1), got 2")
    assert validate(doc, Inner, (), data={"level": "high"}).level == "high"


@pytest.mark.parametrize("text, value", [
    ("1" + "0" * 308, 10**308),  # below the largest float: a number
    ("-1" + "0" * 308, -(10**308)),
    ("0" * 5000 + "7", 7),  # leading zeros do not count
    ("0x" + "f" * 255, 16**255 - 1),
])
def test_large_integers_below_the_largest_float_are_numbers(tmp_path, text, value):
    assert load_document(write(tmp_path, f"n: {text}\n")).data["n"] == value


@pytest.mark.parametrize("text, digits", [
    ("2" + "0" * 308, 309),  # 2e308 is beyond the largest float
    ("9" * 5000, 5000),  # int() of this numeral raises ValueError
    ("-" + "9" * 100_000, 100_000),
    ("0x" + "f" * 300, 300),
])
def test_integers_beyond_the_largest_float_are_refused_with_their_position(tmp_path, text, digits):
    with pytest.raises(LocatedError) as info:
        load_document(write(tmp_path, f"a: 1\nn: {text}\n"))
    assert str(info.value).endswith(f"doc.yaml:2:4: n: integer of {digits} digits is too large "
                                    "(the largest number is 1.8e308)")


@pytest.mark.parametrize("escape, shown", [
    ("\\0", "control character U+0000"), ("\\e", "control character U+001B"), ("\\x7f", "control character U+007F"),
    ("\\x9b", "control character U+009B"), ("\\ud800", "lone surrogate U+D800"), ("\\udfff", "lone surrogate U+DFFF"),
])
def test_escapes_cannot_give_what_the_file_may_not_hold(tmp_path, escape, shown):
    for text, where in ((f'k: "a{escape}b"\n', "1:4: k"), (f'"a{escape}": 1\n', "1:1")):
        with pytest.raises(LocatedError) as info:
            load_document(write(tmp_path, text))
        assert str(info.value).endswith(f"doc.yaml:{where}: {shown} is not allowed in YAML")


def test_escapes_of_printable_text_still_work(tmp_path):
    data = load_document(write(tmp_path, 'k: "tab\\there\\nnew line \\u00e9 \\U0001F600"\n')).data
    assert data["k"] == "tab\there\nnew line é \U0001F600"


# A FIFO could block a regression forever: tests/hostile runs that case in a child process.
@pytest.mark.parametrize("make, kind", [
    (lambda p: p.symlink_to("/dev/null"), "a character device"),
    (lambda p: p.mkdir(), "a directory"),
])
def test_only_regular_files_are_read(tmp_path, make, kind):
    make(tmp_path / "doc.yaml")
    with pytest.raises(LocatedError) as info:
        load_document(tmp_path / "doc.yaml")
    assert str(info.value) == f"{tmp_path / 'doc.yaml'}: cannot read file: it is {kind}, not a regular file"
