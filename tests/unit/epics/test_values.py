"""Value conversion: fidelity both ways, JSON-safe wire values."""

from __future__ import annotations

import ctypes
import math

import pytest

from squirrel.epics import _values as V


def test_type_names() -> None:
    assert [V.type_name(d, 1) for d in range(7)] == ["string", "short", "float", "enum", "char", "long", "double"]
    assert V.type_name(V.DBF_DOUBLE, 10) == "double[]" and V.type_name(V.DBF_CHAR, 64) == "char[]"


def test_to_ca_conversions() -> None:
    code, buf = V.to_ca("Infinity", V.DBF_DOUBLE, 1)
    assert code == V.DBF_DOUBLE and buf[0] == math.inf
    code, buf = V.to_ca([1, "NaN"], V.DBF_DOUBLE, 10)
    assert len(buf) == 2 and math.isnan(buf[1])
    assert V.to_ca("On", V.DBF_ENUM, 1)[0] == V.DBF_STRING  # a label: the server maps it
    assert V.to_ca("2", V.DBF_ENUM, 1)[0] == V.DBF_ENUM and V.to_ca(2, V.DBF_ENUM, 1)[1][0] == 2
    code, buf = V.to_ca("abc", V.DBF_CHAR, 64)
    assert code == V.DBF_CHAR and bytes(buf) == b"abc\0"
    assert V.to_ca("text", V.DBF_STRING, 1)[1][0] == b"text"
    assert V.to_ca(3.0, V.DBF_LONG, 1)[1][0] == 3


@pytest.mark.parametrize(
    ("value", "dbf", "count"),
    [("abc", V.DBF_DOUBLE, 1), (3.5, V.DBF_LONG, 1), (70000, V.DBF_SHORT, 1), ("x" * 40, V.DBF_STRING, 1),
     ([1, 2, 3], V.DBF_DOUBLE, 2), ("x" * 64, V.DBF_CHAR, 64), (True, V.DBF_DOUBLE, 1), ([], V.DBF_DOUBLE, 4)],
)  # fmt: skip
def test_to_ca_rejects_bad_values(value: object, dbf: int, count: int) -> None:
    with pytest.raises(ValueError):
        V.to_ca(value, dbf, count)


def test_to_wire_non_finite_everywhere() -> None:
    import math as m

    from squirrel.epics._values import to_wire

    assert to_wire(m.nan) == "NaN" and to_wire(m.inf) == "Infinity" and to_wire(-m.inf) == "-Infinity"
    assert to_wire(1.5) == 1.5 and to_wire("NaN") == "NaN" and to_wire(3) == 3
    assert to_wire([1.0, m.nan, -m.inf]) == [1.0, "NaN", "-Infinity"]
    assert to_wire([1e308, 1e308]) == [1e308, 1e308]  # the sum overflows, the values do not
    assert to_wire([1, 2.0, m.inf]) == [1, 2.0, "Infinity"]  # mixed lists are checked element by element
    assert to_wire(["a", "b"]) == ["a", "b"] and to_wire([]) == []


@pytest.mark.parametrize(
    ("value", "dbf", "count"),
    [(12.5, V.DBF_DOUBLE, 1), (math.nan, V.DBF_DOUBLE, 1), (-0.0, V.DBF_DOUBLE, 1), (-math.inf, V.DBF_DOUBLE, 1),
     (5e-324, V.DBF_DOUBLE, 1), (-(2**31), V.DBF_LONG, 1), (2**31 - 1, V.DBF_LONG, 1), (7, V.DBF_LONG, 1),
     (2**31, V.DBF_DOUBLE, 1), (3, V.DBF_DOUBLE, 1), (2.5, V.DBF_FLOAT, 1), ([1.5, 2.5], V.DBF_DOUBLE, 4),
     ("On", V.DBF_ENUM, 1), ("text", V.DBF_STRING, 1), (3.0, V.DBF_LONG, 1)],
)  # fmt: skip
def test_put_buffer_holds_the_bytes_to_ca_makes(value: object, dbf: int, count: int) -> None:
    """The fast path (a float to a scalar double, an int to a scalar long) puts exactly what to_ca would."""
    code, n, address, keep = V.put_buffer(value, dbf, count)
    want_code, want = V.to_ca(value, dbf, count)
    assert (code, n) == (want_code, len(want))
    assert ctypes.string_at(address, want.nbytes) == want.tobytes()
    assert keep is not None


@pytest.mark.parametrize(("value", "dbf"), [(2**31, V.DBF_LONG), (-(2**31) - 1, V.DBF_LONG), (True, V.DBF_DOUBLE)])
def test_put_buffer_refuses_what_to_ca_refuses(value: object, dbf: int) -> None:
    with pytest.raises(ValueError):
        V.put_buffer(value, dbf, 1)
