"""Value conversion: fidelity both ways, JSON-safe wire values."""

from __future__ import annotations

import ctypes
import math
from typing import Any

import numpy as np
import pytest
from epicscorelibs.ca import dbr

from squirrel.epics import values as V
from squirrel.pv import PVState


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


def _payload(code: int, value: Any, count: int = 1, **fields: Any) -> bytes:
    """The bytes libca would deliver for DBR type `code`: epicscorelibs' own ctypes layout, filled in."""
    cls = dbr.DbrCodeToType[code]
    element = dict(cls._fields_)["raw_value"]._type_
    extra = max(0, count - 1) * ctypes.sizeof(element)
    buf = ctypes.create_string_buffer(ctypes.sizeof(cls) + extra)
    s = cls.from_buffer(buf)
    for name, v in fields.items():
        if name == "stamp":
            s.raw_stamp.secs, s.raw_stamp.nsec = v[0] - V.EPICS_EPOCH, v[1]
        else:
            setattr(s, name, v)
    values = [] if value is None else value if isinstance(value, list) else [value]
    base = cls.raw_value.offset
    for i, v in enumerate(values):
        element.from_buffer(buf, base + i * ctypes.sizeof(element)).value = v
    return buf.raw[: base + max(1, count) * ctypes.sizeof(element)]


def test_time_payloads_keep_fidelity() -> None:
    state = PVState(address="X")
    data = _payload(dbr.DBR_TIME_DOUBLE, 95.0, status=3, severity=2, stamp=(1_700_000_000, 123_456_789))
    V.apply_time_bytes(state, data, V.DBF_DOUBLE, 1, 1)
    assert (state.value, state.status, state.severity, state.type) == (95.0, "HIHI", 2, "double")
    assert state.timestamp_ns == 1_700_000_000_123_456_789 and state.has_value
    assert state.timestamp == pytest.approx(1_700_000_000.123456789)
    V.apply_time_bytes(state, _payload(dbr.DBR_TIME_DOUBLE, math.nan), V.DBF_DOUBLE, 1, 1)
    assert math.isnan(state.value)
    V.apply_time_bytes(state, _payload(dbr.DBR_TIME_DOUBLE, -math.inf), V.DBF_DOUBLE, 1, 1)
    assert state.value == -math.inf
    f = PVState(address="F")
    V.apply_time_bytes(f, _payload(dbr.DBR_TIME_FLOAT, 0.1), V.DBF_FLOAT, 1, 1)
    assert f.value == float(np.float32(0.1)) and isinstance(f.value, float)
    n = PVState(address="L")
    V.apply_time_bytes(n, _payload(dbr.DBR_TIME_LONG, -123456), V.DBF_LONG, 1, 1)
    assert (n.value, n.type) == (-123456, "long")
    V.apply_time_bytes(n, _payload(dbr.DBR_TIME_SHORT, -7), V.DBF_SHORT, 1, 1)
    assert n.value == -7
    V.apply_time_bytes(n, _payload(dbr.DBR_TIME_CHAR, 200), V.DBF_CHAR, 1, 1)
    assert n.value == 200
    text = _payload(dbr.DBR_TIME_STRING, None)[:12] + "héllo".encode().ljust(40, b"\0")
    V.apply_time_bytes(n, text, V.DBF_STRING, 1, 1)
    assert (n.value, n.type) == ("héllo", "string")


def test_array_payloads() -> None:
    state = PVState(address="A")
    V.apply_time_bytes(state, _payload(dbr.DBR_TIME_DOUBLE, [1.0, 2.5, math.inf], 3), V.DBF_DOUBLE, 3, 10)
    assert (state.value, state.type) == ([1.0, 2.5, math.inf], "double[]")
    wave = _payload(dbr.DBR_TIME_CHAR, list(b"hi\0junk"), 7)
    V.apply_time_bytes(state, wave, V.DBF_CHAR, 7, 64)
    assert (state.value, state.type) == ("hi", "char[]")
    strings = _payload(dbr.DBR_TIME_STRING, None)[:12] + b"a".ljust(40, b"\0") + b"bc".ljust(40, b"\0")
    V.apply_time_bytes(state, strings, V.DBF_STRING, 2, 2)
    assert state.value == ["a", "bc"]


def test_ctrl_payloads() -> None:
    state = PVState(address="X")
    fields = dict(precision=3, units=b"mm", upper_ctrl_limit=10, lower_ctrl_limit=-10)
    data = _payload(dbr.DBR_CTRL_DOUBLE, 1.5, upper_disp_limit=100, lower_disp_limit=-100, **fields)
    meta = V.apply_ctrl_bytes(state, data, V.DBF_DOUBLE, 1, 1)
    assert (state.units, state.precision, state.upper_disp_limit, state.lower_ctrl_limit) == ("mm", 3, 100.0, -10.0)
    assert state.value == 1.5 and not state.has_value  # a CTRL value stands in until a TIME value arrives
    assert meta.units == "mm"
    V.apply_time_bytes(state, _payload(dbr.DBR_TIME_DOUBLE, 95.0), V.DBF_DOUBLE, 1, 1)
    V.apply_ctrl_bytes(state, data, V.DBF_DOUBLE, 1, 1)
    assert state.value == 95.0  # metadata never overwrites a live value
    long = PVState(address="L")
    V.apply_ctrl_bytes(long, _payload(dbr.DBR_CTRL_LONG, 4, units=b"", upper_disp_limit=9), V.DBF_LONG, 1, 1)
    assert (long.units, long.precision, long.upper_disp_limit, long.value) == (None, None, 9.0, 4)


def test_enum_payloads() -> None:
    enum = PVState(address="E")
    V.apply_time_bytes(enum, _payload(dbr.DBR_TIME_ENUM, 1), V.DBF_ENUM, 1, 1)
    assert (enum.value, enum.enum_index, enum.type) == ("1", 1, "enum")
    labels = _payload(dbr.DBR_CTRL_ENUM, 1, no_str=2)
    labels = labels[:6] + b"Off".ljust(26, b"\0") + b"On".ljust(26, b"\0") + labels[58:]
    V.apply_ctrl_bytes(enum, labels, V.DBF_ENUM, 1, 1)
    assert (enum.value, enum.enum_strings) == ("On", ["Off", "On"])
    V.apply_time_bytes(enum, _payload(dbr.DBR_TIME_ENUM, 7), V.DBF_ENUM, 1, 1)
    assert (enum.value, enum.enum_index) == ("7", 7)  # an index beyond the labels stays visible
