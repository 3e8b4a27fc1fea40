"""Value conversion between libca DBR data and Squirrel's cache values (squirrel.pv.PVState), with full
fidelity.

Doubles keep NaN/±Inf (turned into "NaN"/"Infinity"/"-Infinity" only at the JSON edge by
squirrel.pv.to_wire), enums keep index and label, arrays become lists, char waveforms become str up to
the first NUL. Pure functions: no CA calls, so unit-testable without sockets.
"""

from __future__ import annotations

import struct
from typing import Any

import numpy as np

from squirrel.pv import ALARM_STATUS, CtrlMeta, PVState, parse_float, to_wire

# libca DBF codes (DBR_STRING..DBR_DOUBLE) and their Squirrel type names.
DBF_STRING, DBF_SHORT, DBF_FLOAT, DBF_ENUM, DBF_CHAR, DBF_LONG, DBF_DOUBLE = range(7)
TYPE_NAMES = ("string", "short", "float", "enum", "char", "long", "double")
_NUMPY_TYPES: dict[int, Any] = {
    DBF_SHORT: np.int16,
    DBF_FLOAT: np.float32,
    DBF_ENUM: np.uint16,
    DBF_CHAR: np.uint8,
    DBF_LONG: np.int32,
    DBF_DOUBLE: np.float64,
}
MAX_STRING = 40  # DBR_STRING holds 39 characters plus NUL


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


# --- decoding raw DBR bytes (copied out of a libca callback) --------------------------------------
# Cheaper than epicscorelibs' conversions (a numpy scalar subclass with copied attributes per value):
# one struct unpack for the header and one for a scalar. Host byte order, as libca delivers it.
EPICS_EPOCH = 631152000  # seconds from 1970 to the EPICS epoch (1990)
_ELEMENT = {  # dbf -> (struct code, size)
    DBF_STRING: ("40s", MAX_STRING),
    DBF_SHORT: ("h", 2),
    DBF_FLOAT: ("f", 4),
    DBF_ENUM: ("H", 2),
    DBF_CHAR: ("B", 1),
    DBF_LONG: ("i", 4),
    DBF_DOUBLE: ("d", 8),
}
TIME_OFFSET = {DBF_STRING: 12, DBF_SHORT: 14, DBF_FLOAT: 12, DBF_ENUM: 14, DBF_CHAR: 15, DBF_LONG: 12, DBF_DOUBLE: 16}
CTRL_OFFSET = {DBF_SHORT: 28, DBF_FLOAT: 48, DBF_ENUM: 422, DBF_CHAR: 21, DBF_LONG: 44, DBF_DOUBLE: 80}
_HEADER = struct.Struct("=hhII")  # status, severity, stamp secs, stamp nsec
_SCALAR = {dbf: struct.Struct("=" + code) for dbf, (code, _) in _ELEMENT.items()}
_CTRL_NUMERIC = {  # dbf -> (struct, has precision): status severity [precision pad] units[8] 8 limits
    DBF_SHORT: (struct.Struct("=hh8s8h"), False),
    DBF_FLOAT: (struct.Struct("=hhhh8s8f"), True),
    DBF_CHAR: (struct.Struct("=hh8s8B"), False),
    DBF_LONG: (struct.Struct("=hh8s8i"), False),
    DBF_DOUBLE: (struct.Struct("=hhhh8s8d"), True),
}
_ENUM_HEAD = struct.Struct("=hhh")  # status, severity, no_str; then 16 labels of 26 bytes


def element_size(dbf: int) -> int:
    return _ELEMENT[dbf][1] if dbf in _ELEMENT else 0


def time_nbytes(dbf: int, count: int) -> int:
    """Bytes of a DBR_TIME_<dbf> payload holding `count` elements."""
    return TIME_OFFSET[dbf] + max(1, count) * _ELEMENT[dbf][1]


def ctrl_nbytes(dbf: int, count: int) -> int:
    """Bytes of a DBR_CTRL_<dbf> payload (DBR_TIME_STRING for strings, which have no CTRL form)."""
    if dbf == DBF_STRING:
        return time_nbytes(dbf, count)
    return CTRL_OFFSET[dbf] + max(1, count) * _ELEMENT[dbf][1]


def _text(raw: bytes) -> str:
    nul = raw.find(b"\0")
    return (raw if nul < 0 else raw[:nul]).decode("utf-8", errors="replace")


def decode_elements(data: bytes, offset: int, dbf: int, count: int, element_count: int) -> Any:
    """The value at `offset`: a scalar for a scalar channel, a list (or str for char waveforms) otherwise."""
    if element_count <= 1:
        value = _SCALAR[dbf].unpack_from(data, offset)[0]
        return _text(value) if dbf == DBF_STRING else value
    if dbf == DBF_CHAR:
        return _text(data[offset : offset + count])
    if dbf == DBF_STRING:
        return [_text(data[offset + i * MAX_STRING : offset + (i + 1) * MAX_STRING]) for i in range(count)]
    return np.frombuffer(data, dtype=_NUMPY_TYPES[dbf], count=count, offset=offset).tolist()


def apply_time_bytes(state: PVState, data: bytes, dbf: int, count: int, element_count: int) -> None:
    """Value, alarm and EPICS timestamp (ns kept) from the bytes of a DBR_TIME_<dbf> payload, in place."""
    status, severity, secs, nsec = _HEADER.unpack_from(data)
    value = decode_elements(data, TIME_OFFSET[dbf], dbf, count, element_count)
    if dbf == DBF_ENUM and element_count <= 1:
        labels = state.enum_strings
        state.enum_index = value
        state.value = labels[value] if labels is not None and 0 <= value < len(labels) else str(value)
    else:
        state.value = float(value) if dbf == DBF_FLOAT and element_count <= 1 else value
        state.enum_index = None
    state.type = type_name(dbf, element_count)
    state.status = ALARM_STATUS[status] if 0 <= status < len(ALARM_STATUS) else str(status)
    state.severity = severity
    secs += EPICS_EPOCH
    state.timestamp_ns = secs * 1_000_000_000 + nsec
    state.timestamp = secs + nsec * 1e-9
    state.has_value = True


def decode_ctrl(data: bytes, dbf: int, count: int, element_count: int) -> tuple[CtrlMeta, int, int, Any]:
    """(metadata, alarm status, severity, value) from the bytes of a DBR_CTRL_<dbf> payload."""
    if dbf == DBF_ENUM:
        status, severity, n = _ENUM_HEAD.unpack_from(data)
        labels = [_text(data[6 + 26 * i : 6 + 26 * (i + 1)]) for i in range(max(0, min(n, 16)))]
        value = decode_elements(data, CTRL_OFFSET[dbf], dbf, count, element_count)
        return CtrlMeta(enum_strings=labels), status, severity, value
    if dbf == DBF_STRING:  # no CTRL form: the TIME payload stands in
        status, severity, _, _ = _HEADER.unpack_from(data)
        return CtrlMeta(), status, severity, decode_elements(data, TIME_OFFSET[dbf], dbf, count, element_count)
    layout, has_precision = _CTRL_NUMERIC[dbf]
    fields = layout.unpack_from(data)
    status, severity = fields[0], fields[1]
    precision = fields[2] if has_precision else None
    units_raw = fields[4] if has_precision else fields[2]
    udl, ldl, _ual, _uwl, _lwl, _lal, ucl, lcl = fields[-8:]
    units = _text(units_raw)
    meta = CtrlMeta(
        units=units or None,
        precision=precision,
        upper_ctrl_limit=float(ucl),
        lower_ctrl_limit=float(lcl),
        upper_disp_limit=float(udl),
        lower_disp_limit=float(ldl),
    )
    return meta, status, severity, decode_elements(data, CTRL_OFFSET[dbf], dbf, count, element_count)


def apply_meta(state: PVState, meta: CtrlMeta, dbf: int, element_count: int) -> None:
    """Copy CTRL metadata into a state (enum labels also relabel the current value)."""
    if dbf == DBF_ENUM:
        state.enum_strings = meta.enum_strings
        labels, index = meta.enum_strings, state.enum_index
        if index is not None and labels and 0 <= index < len(labels):
            state.value = labels[index]
    elif dbf != DBF_STRING:
        state.units = meta.units
        state.precision = meta.precision
        state.upper_ctrl_limit = meta.upper_ctrl_limit
        state.lower_ctrl_limit = meta.lower_ctrl_limit
        state.upper_disp_limit = meta.upper_disp_limit
        state.lower_disp_limit = meta.lower_disp_limit
    state.type = type_name(dbf, element_count)


def apply_ctrl_bytes(state: PVState, data: bytes, dbf: int, count: int, element_count: int) -> CtrlMeta:
    """Decode a DBR_CTRL_<dbf> payload into a state: metadata (apply_meta), and value and alarm while it
    has no value yet; returns the metadata for caching."""
    meta, status, severity, value = decode_ctrl(data, dbf, count, element_count)
    apply_meta(state, meta, dbf, element_count)
    if not state.has_value:
        if dbf == DBF_ENUM and element_count <= 1:
            labels = meta.enum_strings
            state.enum_index = value
            state.value = labels[value] if labels is not None and 0 <= value < len(labels) else str(value)
        else:
            state.value = float(value) if dbf == DBF_FLOAT and element_count <= 1 else value
            state.enum_index = None
        state.status = ALARM_STATUS[status] if 0 <= status < len(ALARM_STATUS) else str(status)
        state.severity = severity
    return meta
