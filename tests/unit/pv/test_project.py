"""builder(): positional builders generated from a field list, checked against the source at build time."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from squirrel.pv import builder


class Source(msgspec.Struct):
    a: int
    b: str
    c: float


class Target(msgspec.Struct):
    x: int
    b: str
    y: Any


SOURCE_FIELDS = Source.__struct_fields__


def test_a_tuple_builder_follows_the_field_order() -> None:
    make = builder("row", ["c", "a", "b"], source=SOURCE_FIELDS)
    assert make(Source(1, "two", 3.0)) == (3.0, 1, "two")
    assert make.__name__ == "row"


def test_a_single_field_still_makes_a_tuple() -> None:
    assert builder("one", ["a"], source=SOURCE_FIELDS)(Source(7, "", 0.0)) == (7,)


def test_a_target_builder_with_expressions_and_parameters() -> None:
    make = builder(
        "to_target",
        ["x", "b", "y"],
        source=SOURCE_FIELDS,
        params=["scale"],
        exprs={"x": "src.a * scale", "y": "src.c + 1"},
        target=Target,
    )
    assert make(Source(2, "b", 1.5), 10) == Target(x=20, b="b", y=2.5)


def test_a_field_the_source_lacks_fails_at_build_time() -> None:
    with pytest.raises(TypeError, match="row: the source has no field d, e"):
        builder("row", ["a", "d", "e"], source=SOURCE_FIELDS)


def test_an_expression_for_no_field_fails() -> None:
    with pytest.raises(TypeError, match="row: no target field q, z"):
        builder("row", ["a"], source=SOURCE_FIELDS, exprs={"z": "1", "q": "2"})


@pytest.mark.parametrize("bad", ["class", "1a", "a-b", "src", "_target"])
def test_names_that_cannot_be_identifiers_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match=f"row: {bad!r} cannot be a field or parameter name"):
        builder("row", [bad], source=[bad])
    with pytest.raises(ValueError, match="cannot be a field or parameter name"):
        builder("row", ["a"], source=SOURCE_FIELDS, params=[bad])
