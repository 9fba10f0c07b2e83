"""Property: no check's ``Params`` accepts a value unless it is finite, of its type and in range.

Walks the registry, so a new check (or a new parameter) is covered without being listed here.
Each parameter in turn gets generated hostile values (NaN, infinities, huge and boundary
integers, booleans, numeric strings, numbers in lists and mappings, out-of-range numbers) on top
of valid parameters from the shared case table; whatever ``Params`` accepts must satisfy an
oracle written from the field's annotation and bounds, independently of pydantic.
"""

from __future__ import annotations

import math
import types
from decimal import Decimal
from typing import Any, Literal, Union, get_args, get_origin

import annotated_types as at
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, Field, ValidationError

from governance.checks.base import MAX_INT, load_all

from .cases import CASES

REGISTRY = load_all()
FIELDS = [
    pytest.param(name, field, id=f"{name}.{field}")
    for name in sorted(REGISTRY) for field in REGISTRY[name].Params.model_fields
]

NUMERAL = r"\A[-+]?[0-9]{1,6}(\.[0-9]{0,4})?([eE][-+]?[0-9]{1,3})?\Z"
HOSTILE = st.one_of(
    st.floats(),  # NaN, infinities, subnormals, -0.0 and ordinary numbers
    st.sampled_from([math.nan, math.inf, -math.inf, 1e308, -1.0, 0.0, 0.5, 1.0, 1.5, 5e-324]),
    st.integers(min_value=-1000, max_value=1000),
    st.integers(min_value=MAX_INT - 2, max_value=MAX_INT + 2),
    st.builds(lambda digits, sign: sign * 10**digits, st.integers(15, 400), st.sampled_from([1, -1])),
    st.booleans(),
    st.from_regex(NUMERAL),
    st.sampled_from(["nan", "NaN", "inf", "-inf", ".nan", "1e999", "0x10", " 1 ", "true", "", "accuracy"]),
    st.none(),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.lists(st.one_of(st.floats(), st.integers(), st.booleans(), st.text(max_size=4)), max_size=3),
    st.dictionaries(st.text(max_size=3), st.floats(), max_size=2),
)


def base_params(name: str) -> dict[str, Any]:
    """Valid parameters of ``name``: those of its first case in the shared table."""
    return dict(CASES[name][0][2])


def bounds(metadata: list) -> list:
    flat = [m for item in metadata for m in (getattr(item, "metadata", None) or [item])]
    return [m for m in flat if isinstance(m, (at.Ge, at.Gt, at.Le, at.Lt))]


def in_bounds(x: float, limits: list) -> bool:
    return all(
        (x >= m.ge) if isinstance(m, at.Ge) else (x > m.gt) if isinstance(m, at.Gt)
        else (x <= m.le) if isinstance(m, at.Le) else (x < m.lt)
        for m in limits
    )


def finite(x: int | float | Decimal) -> bool:
    try:
        return math.isfinite(float(x))
    except OverflowError:  # an integer beyond the largest float
        return False


def allowed(ann: Any, value: Any, limits: list) -> bool:
    """The oracle: whether ``value`` is of type ``ann``, finite and within ``limits``."""
    origin = get_origin(ann)
    if origin in (Union, types.UnionType):
        return any(allowed(member, value, limits) for member in get_args(ann))
    if ann is type(None):
        return value is None
    if ann is bool:
        return type(value) is bool
    if ann is int:
        return type(value) is int and abs(value) <= MAX_INT and in_bounds(value, limits)
    if ann is float:  # a Decimal is a number too (from Python, never from YAML)
        return type(value) in (int, float, Decimal) and finite(value) and in_bounds(float(value), limits)
    if ann is str:
        return type(value) is str
    if origin is Literal:
        return type(value) is str and value in get_args(ann)
    if origin is list:
        return type(value) is list and all(allowed(get_args(ann)[0], item, []) for item in value)
    if isinstance(ann, type) and issubclass(ann, BaseModel):  # a nested mapping of parameters
        fields = ann.model_fields
        return type(value) is dict and set(value) <= set(fields) and all(
            allowed(info.annotation, value[key], bounds(info.metadata)) if key in value else not info.is_required()
            for key, info in fields.items()
        )
    raise AssertionError(f"no oracle for a parameter of type {ann}: add one here")


def nested_models(ann: Any) -> list[type[BaseModel]]:
    """The parameter models inside ``ann`` (``Literal[...] | VersionRef | None`` -> ``[VersionRef]``)."""
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return [ann]
    return [model for member in get_args(ann) for model in nested_models(member)]


def hostile_values(ann: Any) -> st.SearchStrategy:
    """:data:`HOSTILE`, plus mappings of hostile values under the keys of any nested model."""
    nested = [st.fixed_dictionaries({}, optional=dict.fromkeys(model.model_fields, HOSTILE))
              for model in nested_models(ann)]
    return st.one_of(HOSTILE, *nested)


@pytest.mark.parametrize("name, field", FIELDS)
@settings(max_examples=80, deadline=None)
@given(data=st.data())
def test_a_parameter_is_accepted_only_if_finite_typed_and_in_range(name, field, data):
    params_model = REGISTRY[name].Params
    info = params_model.model_fields[field]
    value = data.draw(hostile_values(info.annotation), label=field)
    try:
        params = params_model(**{**base_params(name), field: value})
    except ValidationError:
        return
    assert allowed(info.annotation, value, bounds(info.metadata)), f"{name}: {field}={value!r} was accepted"
    kept = getattr(params, field)
    assert not isinstance(kept, float) or math.isfinite(kept)


@pytest.mark.parametrize("name", sorted(REGISTRY))
@settings(max_examples=30, deadline=None)
@given(value=HOSTILE)
def test_an_unknown_parameter_is_refused_whatever_its_value(name, value):
    with pytest.raises(ValidationError):
        REGISTRY[name].Params(**base_params(name), not_a_parameter=value)


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_every_params_model_is_strict_and_finite_and_its_defaults_pass_the_oracle(name):
    params_model = REGISTRY[name].Params
    assert params_model.model_config.get("strict") is True
    assert params_model.model_config.get("allow_inf_nan") is False
    params_model(**base_params(name))  # the base the property builds on is valid
    for field, info in params_model.model_fields.items():
        if not info.is_required():
            assert allowed(info.annotation, info.default, bounds(info.metadata)), f"{name}.{field} default"


@pytest.mark.parametrize("value, ok", [
    (math.nan, False), (math.inf, False), (10**400, False), (True, False), ("0.5", False),
    (Decimal("0.5"), True), (Decimal("NaN"), False), (Decimal("1e400"), False), (0.5, True), (1, True),
    (None, False),
])
def test_the_oracle_itself(value, ok):
    assert allowed(float, value, [at.Ge(0), at.Le(1)]) is ok


class Nested(BaseModel):
    version: int = Field(1, ge=1)


@pytest.mark.parametrize("value, ok", [
    ({"version": 2}, True), ({}, True), ({"version": 0}, False), ({"version": True}, False), ({"version": 2.0}, False),
    ({"version": 2**53}, False), ({"other": 1}, False), ([2], False), (None, True),
])
def test_the_oracle_of_a_nested_mapping(value, ok):
    assert allowed(Literal["champion"] | Nested | None, value, []) is ok
