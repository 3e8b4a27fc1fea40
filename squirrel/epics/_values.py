"""Value conversion between libca DBR data and Squirrel's cache/wire values, with full fidelity.

Doubles keep NaN/±Inf (turned into "NaN"/"Infinity"/"-Infinity" only at the JSON edge by `to_wire`),
enums keep index and label, arrays become lists, char waveforms become str up to the first NUL.
Pure functions: no CA calls, so unit-testable without sockets. Raw DBR payloads are decoded in
squirrel.epics._decoders.
"""

from __future__ import annotations

import ctypes
from typing import Any

import numpy as np
from epicscorelibs.ca import dbr

from squirrel.pv import parse_float, to_wire

# libca DBF codes (DBR_STRING..DBR_DOUBLE) and their Squirrel type names.
DBF_STRING, DBF_SHORT, DBF_FLOAT, DBF_ENUM = dbr.DBR_STRING, dbr.DBR_SHORT, dbr.DBR_FLOAT, dbr.DBR_ENUM
DBF_CHAR, DBF_LONG, DBF_DOUBLE = dbr.DBR_CHAR, dbr.DBR_LONG, dbr.DBR_DOUBLE
TYPE_NAMES = ("string", "short", "float", "enum", "char", "long", "double")
_NUMPY_TYPES: dict[int, Any] = {
    DBF_SHORT: np.int16,
    DBF_FLOAT: np.float32,
    DBF_ENUM: np.uint16,
    DBF_CHAR: np.uint8,
    DBF_LONG: np.int32,
    DBF_DOUBLE: np.float64,
}
MAX_STRING = dbr.MAX_STRING_SIZE  # DBR_STRING holds 39 characters plus NUL
_ONE_DOUBLE = ctypes.c_double * 1
_ONE_LONG = ctypes.c_int32 * 1
_LONG_MIN, _LONG_MAX = -(2**31), 2**31 - 1
# (dbr type, element count, address of the data, the buffer holding it): keep the tuple while libca may read.
PutBuffer = tuple[int, int, int, object]


def type_name(dbf: int, element_count: int) -> str:
    """The native type name of a channel: double, long, enum, ..., with [] for arrays."""
    base = TYPE_NAMES[dbf] if 0 <= dbf < len(TYPE_NAMES) else "unknown"
    return base + "[]" if element_count > 1 else base


def _parse_int(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError(f"expected an integer, got {value!r}")
    if isinstance(value, (int, np.integer)):
        return int(value)
    f = parse_float(value)
    if not f.is_integer():
        raise ValueError(f"expected an integer, got {value!r}")
    return int(f)


def to_ca(value: Any, dbf: int, element_count: int) -> tuple[int, np.ndarray[Any, Any]]:
    """(dbr type, contiguous numpy buffer) to put `value` to a channel of native type `dbf`.

    Enums take an index or a label (a label goes as DBR_STRING and the server maps it); strings longer
    than 39 characters, non-numbers for numeric channels and oversized arrays raise ValueError.
    """
    if dbf == DBF_CHAR and element_count > 1 and isinstance(value, (str, bytes)):
        raw = value.encode("utf-8") if isinstance(value, str) else value
        if len(raw) >= element_count:
            raise ValueError(f"text of {len(raw)} bytes does not fit a char waveform of {element_count}")
        return DBF_CHAR, np.frombuffer(raw + b"\0", dtype=np.uint8).copy()
    if dbf == DBF_ENUM and element_count == 1:
        if isinstance(value, str) and not value.strip().lstrip("-").isdigit():
            return DBF_STRING, _strings([value])
        return DBF_ENUM, np.array([_parse_int(value)], dtype=np.uint16)
    if dbf == DBF_STRING:
        items = list(value) if isinstance(value, (list, tuple)) else [value]
        return DBF_STRING, _strings([v if isinstance(v, str) else _plain_str(v) for v in items])
    items = list(value) if isinstance(value, (list, tuple, np.ndarray)) else [value]
    if len(items) > element_count:
        raise ValueError(f"{len(items)} elements do not fit a channel of {element_count}")
    if not items:
        raise ValueError("an empty array cannot be written")
    if dbf in (DBF_DOUBLE, DBF_FLOAT):
        return dbf, np.array([parse_float(v) for v in items], dtype=_NUMPY_TYPES[dbf])
    if dbf in _NUMPY_TYPES:
        ints = [_parse_int(v) for v in items]
        info = np.iinfo(_NUMPY_TYPES[dbf])
        for i in ints:
            if not info.min <= i <= info.max:
                raise ValueError(f"{i} is out of range for a {TYPE_NAMES[dbf]} channel")
        return dbf, np.array(ints, dtype=_NUMPY_TYPES[dbf])
    raise ValueError(f"cannot write to a channel of DBF type {dbf}")


def put_buffer(value: Any, dbf: int, element_count: int) -> PutBuffer:
    """(dbr type, element count, address, buffer to keep alive until libca copied it) to put `value`.

    The common restore case, a float to a scalar double or an int to a scalar long, skips numpy (a
    ctypes array holds the same bytes for a fifth of the cost, 25K times per 50K-PV restore); every
    other value goes through `to_ca`."""
    if element_count == 1:
        kind = type(value)
        if kind is float and dbf == DBF_DOUBLE:
            one: ctypes.Array[Any] = _ONE_DOUBLE(value)
            return dbf, 1, ctypes.addressof(one), one
        if kind is int and dbf == DBF_LONG and _LONG_MIN <= value <= _LONG_MAX:
            one = _ONE_LONG(value)
            return dbf, 1, ctypes.addressof(one), one
    code, buffer = to_ca(value, dbf, element_count)
    return code, len(buffer), buffer.ctypes.data, buffer


def _plain_str(v: Any) -> str:
    if isinstance(v, float):
        w = to_wire(v)
        return w if isinstance(w, str) else repr(v)
    return str(v)


def _strings(items: list[str]) -> np.ndarray[Any, Any]:
    encoded = []
    for s in items:
        b = s.encode("utf-8")
        if len(b) >= MAX_STRING:
            raise ValueError(f"string of {len(b)} bytes exceeds the 39-byte CA string limit")
        encoded.append(b)
    return np.array(encoded, dtype=f"S{MAX_STRING}")
