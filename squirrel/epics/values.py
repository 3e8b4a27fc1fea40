"""Value conversion between libca DBR data and Squirrel's cache/wire values, with full fidelity.

Doubles keep NaN/±Inf (turned into "NaN"/"Infinity"/"-Infinity" only at the JSON edge by `to_wire`),
enums keep index and label, arrays become lists, char waveforms become str up to the first NUL.
Pure functions: no CA calls, so unit-testable without sockets. Raw DBR payloads are decoded in
squirrel.epics.decoders.
"""

from __future__ import annotations

import math
from typing import Any

import msgspec
import numpy as np
from epicscorelibs.ca import dbr

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

# EPICS alarm status names, indexed by the status code (epicsAlarmConditionStrings).
ALARM_STATUS = (
    "NO_ALARM", "READ", "WRITE", "HIHI", "HIGH", "LOLO", "LOW", "STATE", "COS", "COMM", "TIMEOUT",
    "HWLIMIT", "CALC", "SCAN", "LINK", "SOFT", "BAD_SUB", "UDF", "DISABLE", "SIMM", "READ_ACCESS",
    "WRITE_ACCESS",
)  # fmt: skip
SEVERITY_NAMES = ("NO_ALARM", "MINOR", "MAJOR", "INVALID")


def type_name(dbf: int, element_count: int) -> str:
    """The native type name of a channel: double, long, enum, ..., with [] for arrays."""
    base = TYPE_NAMES[dbf] if 0 <= dbf < len(TYPE_NAMES) else "unknown"
    return base + "[]" if element_count > 1 else base


def status_name(status: int) -> str:
    return ALARM_STATUS[status] if 0 <= status < len(ALARM_STATUS) else str(status)


def char_array_to_str(data: Any) -> str:
    """A char waveform as text: bytes up to the first NUL, decoded leniently."""
    raw = bytes(np.asarray(data, dtype=np.uint8).tobytes()) if not isinstance(data, (bytes, bytearray)) else data
    nul = raw.find(b"\0")
    if nul >= 0:
        raw = raw[:nul]
    return raw.decode("utf-8", errors="replace")


def from_ca(raw: Any, dbf: int, element_count: int, enum_strings: list[str] | None) -> tuple[Any, int | None]:
    """(value, enum_index) from an aioca/epicscorelibs value of a channel with native type `dbf`."""
    if element_count > 1:
        if dbf == DBF_CHAR:
            return char_array_to_str(raw), None
        if dbf == DBF_STRING:
            return [str(s) for s in raw], None
        return np.asarray(raw).tolist(), None
    if dbf in (DBF_DOUBLE, DBF_FLOAT):
        return float(raw), None
    if dbf == DBF_ENUM:
        index = int(raw)
        if enum_strings is not None and 0 <= index < len(enum_strings):
            return enum_strings[index], index
        return str(index), index
    if dbf == DBF_STRING:
        return str(raw), None
    return int(raw), None


def _finite_or_str(x: float) -> float | str:
    if math.isfinite(x):
        return x
    if math.isnan(x):
        return "NaN"
    return "Infinity" if x > 0 else "-Infinity"


def to_wire(value: Any) -> Any:
    """The value made valid JSON: non-finite floats as "NaN"/"Infinity"/"-Infinity", also inside lists.

    The one place this rule lives: live entries, snapshot DTOs, exports and restore plans all use it."""
    kind = type(value)
    if kind is float:
        return _finite_or_str(value)
    if kind is list and value:
        if type(value[0]) is float:
            # One C-level sum finds any NaN/Inf in a numeric array; only then pay for a per-element pass.
            try:
                if math.isfinite(sum(value)):
                    return value
            except TypeError:
                pass
        elif not any(type(v) is float for v in value):
            return value
        return [_finite_or_str(v) if type(v) is float else v for v in value]
    return value


_NON_FINITE = {"nan": math.nan, "infinity": math.inf, "inf": math.inf, "-infinity": -math.inf, "-inf": -math.inf}


def parse_float(value: Any) -> float:
    """A float from a number or a string ("NaN", "Infinity", "-Infinity" and numeric text)."""
    if isinstance(value, bool):
        raise ValueError(f"expected a number, got {value!r}")
    if isinstance(value, (int, float, np.integer, np.floating)):
        return float(value)
    if isinstance(value, str):
        special = _NON_FINITE.get(value.strip().lower())
        if special is not None:
            return special
        try:
            return float(value)
        except ValueError:
            raise ValueError(f"expected a number, got {value!r}") from None
    raise ValueError(f"expected a number, got {type(value).__name__}")


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
        w = _finite_or_str(v)
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


class CtrlMeta(msgspec.Struct, frozen=True):
    """The CTRL metadata of a channel (once per connection): what a direct read copies into each state."""

    units: str | None = None
    precision: int | None = None
    upper_ctrl_limit: float | None = None
    lower_ctrl_limit: float | None = None
    upper_disp_limit: float | None = None
    lower_disp_limit: float | None = None
    enum_strings: list[str] | None = None
