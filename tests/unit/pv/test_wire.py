"""The one wire encoding and its one inverse: every non-finite spelling decided once."""

from __future__ import annotations

import math

import msgspec
import numpy as np
import pytest

from squirrel.pv import from_wire, parse_float, to_wire


def test_to_wire_non_finite_everywhere() -> None:
    assert to_wire(math.nan) == "NaN" and to_wire(math.inf) == "Infinity" and to_wire(-math.inf) == "-Infinity"
    assert to_wire(1.5) == 1.5 and to_wire("NaN") == "NaN" and to_wire(3) == 3
    assert to_wire([1.0, math.nan, -math.inf]) == [1.0, "NaN", "-Infinity"]
    assert to_wire([1e308, 1e308]) == [1e308, 1e308]  # the sum overflows, the values do not
    assert to_wire([1, 2.0, math.inf]) == [1, 2.0, "Infinity"]  # mixed lists are checked element by element
    assert to_wire(["a", "b"]) == ["a", "b"] and to_wire([]) == []
    msgspec.json.encode(to_wire([1.0, math.nan, math.inf, -math.inf, 2]))  # valid JSON


def _same(a: object, b: object) -> bool:
    """Equality where NaN equals NaN, also inside lists."""
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a):
        return math.isnan(b)
    return type(a) is type(b) and a == b


@pytest.mark.parametrize(
    ("value", "value_type"),
    [
        (math.nan, "double"), (math.inf, "double"), (-math.inf, "float"), (1.25, "double"), (-0.0, "double"),
        ([1.0, math.nan, math.inf, -math.inf], "double[]"), ([], "double[]"), ([1.5, 2.5], "float[]"),
        (3, "long"), ([1, 2, 3], "long[]"), ("NaN", "string"), ("Infinity", "string"), (["NaN", "x"], "string[]"),
        ("On", "enum"), ("text up to NUL", "char[]"), (None, "double"), (True, "boolean"), (7, "int"),
    ],
)  # fmt: skip
def test_from_wire_inverts_to_wire(value: object, value_type: str) -> None:
    assert _same(from_wire(to_wire(value), value_type), value)
    wire = msgspec.json.decode(msgspec.json.encode(to_wire(value)))  # and through JSON
    assert _same(from_wire(wire, value_type), value)


def test_from_wire_spellings() -> None:
    # What we write is exactly the API strings; what we read is any spelling float() takes.
    for text in ("NaN", "nan", "NAN", " nan "):
        assert math.isnan(from_wire(text, "double"))
    for text in ("Infinity", "infinity", "inf", "+inf", "INF"):
        assert from_wire(text, "double") == math.inf
    for text in ("-Infinity", "-infinity", "-inf"):
        assert from_wire(text, "float") == -math.inf
    assert from_wire("1.5", "double") == 1.5  # numeric text in a float type is that number
    assert from_wire("abc", "double") == "abc"  # not a number: left for the CA/PVA layer to refuse
    assert from_wire(["1", "Infinity", 2.0], "double[]") == [1.0, math.inf, 2.0]
    assert from_wire("NaN", "string") == "NaN" and from_wire("inf", None) == "inf"  # only float types
    assert from_wire("5", "long") == "5"


def test_parse_float() -> None:
    assert math.isnan(parse_float("NaN")) and parse_float("-Infinity") == -math.inf and parse_float("inf") == math.inf
    assert parse_float(3) == 3.0 and parse_float(np.float32(1.5)) == 1.5 and parse_float(np.int16(2)) == 2.0
    assert parse_float(" 2.5 ") == 2.5
    for bad in (True, "abc", None, b"1", [1.0]):
        with pytest.raises(ValueError):
            parse_float(bad)
