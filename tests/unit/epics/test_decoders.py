"""DBR payload decoders, fed bytes built from epicscorelibs' own ctypes layouts (what libca delivers)."""

from __future__ import annotations

import ctypes
import math
from typing import Any

import numpy as np
import pytest
from epicscorelibs.ca import dbr

from squirrel.epics import _decoders as D
from squirrel.epics import _values as V
from squirrel.pv import CtrlMeta, PVState


def _payload(code: int, value: Any, count: int = 1, **fields: Any) -> bytes:
    """The bytes libca would deliver for DBR type `code`: epicscorelibs' own ctypes layout, filled in."""
    cls = dbr.DbrCodeToType[code]
    element = dict(cls._fields_)["raw_value"]._type_
    extra = max(0, count - 1) * ctypes.sizeof(element)
    buf = ctypes.create_string_buffer(ctypes.sizeof(cls) + extra)
    s = cls.from_buffer(buf)
    for name, v in fields.items():
        if name == "stamp":
            s.raw_stamp.secs, s.raw_stamp.nsec = v[0] - D.EPICS_EPOCH, v[1]
        else:
            setattr(s, name, v)
    values = [] if value is None else value if isinstance(value, list) else [value]
    base = cls.raw_value.offset
    for i, v in enumerate(values):
        element.from_buffer(buf, base + i * ctypes.sizeof(element)).value = v
    return buf.raw[: base + max(1, count) * ctypes.sizeof(element)]


def _dec(dbf: int, count: int) -> D.Decoder:
    decoder = D.decoder_for(dbf, count)
    assert decoder is not None
    return decoder


@pytest.mark.parametrize("dbf", range(7))
def test_layouts_match_the_ctypes_structures(dbf: int) -> None:
    time_cls = dbr.DbrCodeToType[D.DBR_TIME + dbf]
    d = _dec(dbf, 1)
    assert d.time_code == D.DBR_TIME + dbf and d.time_offset == time_cls.raw_value.offset
    assert d.time_nbytes(1) == ctypes.sizeof(time_cls) or dbf == V.DBF_CHAR  # ctypes pads the char form
    assert d.time_nbytes(3) == d.time_offset + 3 * d.element_size
    if dbf == V.DBF_STRING:
        assert d.ctrl_code is None and d.ctrl_nbytes(2) == d.time_nbytes(2)
    else:
        ctrl_cls = dbr.DbrCodeToType[D.DBR_CTRL + dbf]
        assert d.ctrl_code == D.DBR_CTRL + dbf and d.ctrl_offset == ctrl_cls.raw_value.offset
        assert D.payload_size(d.ctrl_code, 4) == d.ctrl_offset + 4 * d.element_size
    assert D.payload_size(d.time_code, 0) == d.time_nbytes(1)
    assert D.payload_size(dbr.DBR_DOUBLE, 1) == 0 and D.payload_size(D.DBR_CTRL, 1) == 0


def test_decoders_are_picked_once_per_type() -> None:
    assert D.decoder_for(V.DBF_DOUBLE, 1) is D.decoder_for(V.DBF_DOUBLE, 1)  # shared, stateless
    assert D.decoder_for(V.DBF_DOUBLE, 1) is not D.decoder_for(V.DBF_DOUBLE, 10)
    kinds = {(dbf, n): type(_dec(dbf, n)).__name__ for dbf in range(7) for n in (1, 8)}
    assert kinds[(V.DBF_DOUBLE, 1)] == "Scalar" and kinds[(V.DBF_ENUM, 1)] == "EnumScalar"
    assert kinds[(V.DBF_CHAR, 8)] == "CharArray" and kinds[(V.DBF_STRING, 8)] == "StringArray"
    assert kinds[(V.DBF_ENUM, 8)] == "EnumArray" and kinds[(V.DBF_LONG, 8)] == "Decoder"
    assert D.decoder_for(7, 1) is None and D.decoder_for(-1, 1) is None  # types Squirrel does not read


def test_time_payloads_keep_fidelity() -> None:
    state = PVState(address="X")
    data = _payload(dbr.DBR_TIME_DOUBLE, 95.0, status=3, severity=2, stamp=(1_700_000_000, 123_456_789))
    _dec(V.DBF_DOUBLE, 1).apply_time(state, data, 1)
    assert (state.value, state.status, state.severity, state.type) == (95.0, "HIHI", 2, "double")
    assert state.timestamp_ns == 1_700_000_000_123_456_789 and state.has_value
    assert state.timestamp == pytest.approx(1_700_000_000.123456789)
    _dec(V.DBF_DOUBLE, 1).apply_time(state, _payload(dbr.DBR_TIME_DOUBLE, math.nan), 1)
    assert math.isnan(state.value)
    _dec(V.DBF_DOUBLE, 1).apply_time(state, _payload(dbr.DBR_TIME_DOUBLE, -math.inf, status=99), 1)
    assert state.value == -math.inf and state.status == "99"  # an unknown status code stays visible
    f = PVState(address="F")
    _dec(V.DBF_FLOAT, 1).apply_time(f, _payload(dbr.DBR_TIME_FLOAT, 0.1), 1)
    assert f.value == float(np.float32(0.1)) and isinstance(f.value, float) and f.type == "float"
    n = PVState(address="L")
    _dec(V.DBF_LONG, 1).apply_time(n, _payload(dbr.DBR_TIME_LONG, -123456), 1)
    assert (n.value, n.type) == (-123456, "long")
    _dec(V.DBF_SHORT, 1).apply_time(n, _payload(dbr.DBR_TIME_SHORT, -7), 1)
    assert (n.value, n.type) == (-7, "short")
    _dec(V.DBF_CHAR, 1).apply_time(n, _payload(dbr.DBR_TIME_CHAR, 200), 1)
    assert (n.value, n.type) == (200, "char")
    text = _payload(dbr.DBR_TIME_STRING, None)[:12] + "héllo".encode().ljust(40, b"\0")
    _dec(V.DBF_STRING, 1).apply_time(n, text, 1)
    assert (n.value, n.type, n.enum_index) == ("héllo", "string", None)


def test_array_payloads() -> None:
    state = PVState(address="A")
    _dec(V.DBF_DOUBLE, 10).apply_time(state, _payload(dbr.DBR_TIME_DOUBLE, [1.0, 2.5, math.inf], 3), 3)
    assert (state.value, state.type) == ([1.0, 2.5, math.inf], "double[]")
    _dec(V.DBF_SHORT, 4).apply_time(state, _payload(dbr.DBR_TIME_SHORT, [-1, 2], 2), 2)
    assert (state.value, state.type) == ([-1, 2], "short[]")
    _dec(V.DBF_DOUBLE, 10).apply_time(state, _payload(dbr.DBR_TIME_DOUBLE, None, 1), 0)
    assert state.value == []  # an empty waveform
    wave = _payload(dbr.DBR_TIME_CHAR, list(b"hi\0junk"), 7)
    _dec(V.DBF_CHAR, 64).apply_time(state, wave, 7)
    assert (state.value, state.type) == ("hi", "char[]")
    strings = _payload(dbr.DBR_TIME_STRING, None)[:12] + b"a".ljust(40, b"\0") + b"bc".ljust(40, b"\0")
    _dec(V.DBF_STRING, 2).apply_time(state, strings, 2)
    assert (state.value, state.type) == (["a", "bc"], "string[]")
    _dec(V.DBF_ENUM, 3).apply_time(state, _payload(dbr.DBR_TIME_ENUM, [2, 0, 1], 3), 3)
    assert (state.value, state.enum_index, state.type) == ([2, 0, 1], None, "enum[]")


def test_ctrl_payloads() -> None:
    state = PVState(address="X")
    fields = dict(precision=3, units=b"mm", upper_ctrl_limit=10, lower_ctrl_limit=-10, status=4, severity=1)
    data = _payload(dbr.DBR_CTRL_DOUBLE, 1.5, upper_disp_limit=100, lower_disp_limit=-100, **fields)
    d = _dec(V.DBF_DOUBLE, 1)
    meta = d.apply_ctrl(state, data, 1)
    assert (state.units, state.precision, state.upper_disp_limit, state.lower_ctrl_limit) == ("mm", 3, 100.0, -10.0)
    assert state.value == 1.5 and not state.has_value  # a CTRL value stands in until a TIME value arrives
    assert (state.status, state.severity) == ("HIGH", 1)
    assert meta == CtrlMeta(
        units="mm",
        precision=3,
        upper_ctrl_limit=10.0,
        lower_ctrl_limit=-10.0,
        upper_disp_limit=100.0,
        lower_disp_limit=-100.0,
    )
    d.apply_time(state, _payload(dbr.DBR_TIME_DOUBLE, 95.0), 1)
    d.apply_ctrl(state, data, 1)
    assert state.value == 95.0 and state.status == "NO_ALARM"  # metadata never overwrites a live value
    long = PVState(address="L")
    _dec(V.DBF_LONG, 1).apply_ctrl(long, _payload(dbr.DBR_CTRL_LONG, 4, units=b"", upper_disp_limit=9), 1)
    assert (long.units, long.precision, long.upper_disp_limit, long.value) == (None, None, 9.0, 4)
    char = _dec(V.DBF_CHAR, 16)
    meta, status, severity, value = char.decode_ctrl(_payload(dbr.DBR_CTRL_CHAR, list(b"ok\0"), 3, units=b"V"), 3)
    assert (meta.units, meta.precision, value, status, severity) == ("V", None, "ok", 0, 0)
    f, _, _, value = _dec(V.DBF_FLOAT, 1).decode_ctrl(_payload(dbr.DBR_CTRL_FLOAT, 0.5, precision=2), 1)
    assert (f.precision, value) == (2, 0.5)
    s = PVState(address="S")
    meta = _dec(V.DBF_STRING, 1).apply_ctrl(s, _payload(dbr.DBR_TIME_STRING, None)[:12] + b"x".ljust(40, b"\0"), 1)
    assert meta == CtrlMeta() and (s.value, s.type, s.units) == ("x", "string", None)


def test_enum_payloads() -> None:
    enum = PVState(address="E")
    d = _dec(V.DBF_ENUM, 1)
    d.apply_time(enum, _payload(dbr.DBR_TIME_ENUM, 1), 1)
    assert (enum.value, enum.enum_index, enum.type) == ("1", 1, "enum")
    labels = _payload(dbr.DBR_CTRL_ENUM, 1, no_str=2)
    labels = labels[:6] + b"Off".ljust(26, b"\0") + b"On".ljust(26, b"\0") + labels[58:]
    meta = d.apply_ctrl(enum, labels, 1)
    assert (enum.value, enum.enum_strings, meta.enum_strings) == ("On", ["Off", "On"], ["Off", "On"])
    d.apply_time(enum, _payload(dbr.DBR_TIME_ENUM, 0), 1)
    assert (enum.value, enum.enum_index) == ("Off", 0)
    d.apply_time(enum, _payload(dbr.DBR_TIME_ENUM, 7), 1)
    assert (enum.value, enum.enum_index) == ("7", 7)  # an index beyond the labels stays visible
    fresh = PVState(address="F")
    d.apply_ctrl(fresh, labels, 1)
    assert (fresh.value, fresh.enum_index) == ("On", 1)  # the CTRL value stands in, labelled
    many = _payload(dbr.DBR_CTRL_ENUM, 0, no_str=40)  # a bogus count: at most 16 labels
    assert len(d.decode_ctrl(many, 1)[0].enum_strings or []) == 16
