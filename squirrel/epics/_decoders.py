"""Decoders of raw DBR payloads (bytes copied out of a libca callback), one per channel type.

A channel's decoder is picked once, when it connects (`decoder_for(native type, element count)`), so
the hot path (~100K updates/s) runs prebuilt struct unpacks without branching on the type: a scalar's
whole DBR_TIME payload is one unpack. Cheaper than epicscorelibs' own conversions (a numpy scalar
subclass with copied attributes per value). Codes, layouts and offsets come from epicscorelibs' ctypes
structures (db_access.h); bytes are in host order, as libca delivers them. Pure: no CA calls.
"""

from __future__ import annotations

import ctypes
import functools
import struct
from typing import Any

import numpy as np
from epicscorelibs.ca import dbr

from squirrel.epics._values import type_name
from squirrel.pv import ALARM_STATUS, CtrlMeta, PVState

DBR_TIME = dbr.DBR_TIME_STRING  # DBR_TIME_<T> = DBR_TIME + DBF_<T>
DBR_CTRL = dbr.DBR_CTRL_SHORT - dbr.DBR_SHORT  # DBR_CTRL_STRING: strings have no CTRL structure
EPICS_EPOCH = dbr.EPICS_epoch  # seconds from 1970 to the EPICS epoch (1990)
_DBFS = range(dbr.DBR_STRING, dbr.DBR_DOUBLE + 1)
_TIME_TYPES: dict[int, Any] = {dbf: dbr.DbrCodeToType[DBR_TIME + dbf] for dbf in _DBFS}
_CTRL_TYPES: dict[int, Any] = {dbf: dbr.DbrCodeToType[DBR_CTRL + dbf] for dbf in _DBFS if dbf != dbr.DBR_STRING}


def _code(ctype: Any) -> tuple[str, int]:
    """(struct code, values it unpacks to) of a ctypes field type; char arrays are one bytes value."""
    if issubclass(ctype, ctypes.Structure):  # the timestamp: secs, nsec
        parts = [_code(t) for _, t in ctype._fields_]
        return "".join(p for p, _ in parts), sum(n for _, n in parts)
    if issubclass(ctype, ctypes.Array):
        if ctype._type_ in (ctypes.c_char, ctypes.c_byte):
            return f"{ctype._length_}s", 1
        inner, n = _code(ctype._type_)
        return inner * ctype._length_, n * ctype._length_
    return str(ctype._type_), 1


def _head(cls: Any) -> tuple[str, dict[str, int]]:
    """The struct format of a DBR structure's fields before its value (padding skipped), and each
    field's index in the unpacked tuple."""
    fmt, where, n = "=", {}, 0
    for name, ctype in cls._fields_:
        if name == "raw_value":
            break
        part, count = _code(ctype)
        if name.startswith("RISC_pad"):
            fmt += f"{struct.calcsize('=' + part)}x"
            continue
        where[name] = n
        fmt, n = fmt + part, n + count
    return fmt, where


def _element(cls: Any) -> tuple[str, int]:
    """(struct code, size) of one element of a DBR structure's value."""
    ctype = dict(cls._fields_)["raw_value"]._type_
    return _code(ctype)[0], ctypes.sizeof(ctype)


def _text(raw: bytes) -> str:
    nul = raw.find(b"\0")
    return (raw if nul < 0 else raw[:nul]).decode("utf-8", errors="replace")


def _status(status: int) -> str:
    return ALARM_STATUS[status] if 0 <= status < len(ALARM_STATUS) else str(status)


def _stamp(state: PVState, kind: str, status: int, severity: int, secs: int, nsec: int) -> None:
    state.type = kind
    state.status = _status(status)
    state.severity = severity
    secs += EPICS_EPOCH
    state.timestamp_ns = secs * 1_000_000_000 + nsec
    state.timestamp = secs + nsec * 1e-9
    state.has_value = True


class Decoder:
    """DBR_TIME/DBR_CTRL payloads of one channel type; this base: numeric arrays. Stateless, shared."""

    __slots__ = (
        "_ctrl",
        "_ctrl_at",
        "_dtype",
        "_elem",
        "_scalar",
        "_time",
        "ctrl_code",
        "ctrl_offset",
        "dbf",
        "element_count",
        "element_size",
        "time_code",
        "time_offset",
        "type_name",
    )

    def __init__(self, dbf: int, element_count: int) -> None:
        time_cls, ctrl_cls = _TIME_TYPES[dbf], _CTRL_TYPES.get(dbf)
        self.dbf, self.element_count = dbf, element_count
        self.type_name = type_name(dbf, element_count)
        code, self.element_size = _element(time_cls)
        self.time_code = DBR_TIME + dbf
        self.time_offset: int = time_cls.raw_value.offset
        self.ctrl_code = None if ctrl_cls is None else DBR_CTRL + dbf  # None: no CTRL form (strings)
        self.ctrl_offset: int = (ctrl_cls or time_cls).raw_value.offset
        head, _ = _head(time_cls)
        self._time = struct.Struct(head)  # status, severity, secs, nsec
        self._scalar = struct.Struct(head + code)  # ... and the one value
        self._elem = struct.Struct("=" + code)
        ctrl_head, self._ctrl_at = _head(ctrl_cls or time_cls)
        self._ctrl = struct.Struct(ctrl_head)
        self._dtype = np.dtype(time_cls.dtype)

    def time_nbytes(self, count: int) -> int:
        """Bytes of a DBR_TIME payload holding `count` elements."""
        return self.time_offset + max(1, count) * self.element_size

    def ctrl_nbytes(self, count: int) -> int:
        """Bytes of a DBR_CTRL payload holding `count` elements (the TIME one for strings)."""
        return self.ctrl_offset + max(1, count) * self.element_size

    # --- the value -------------------------------------------------------------------------------
    def value(self, data: bytes, offset: int, count: int) -> Any:
        return np.frombuffer(data, dtype=self._dtype, count=count, offset=offset).tolist()

    def store(self, state: PVState, value: Any) -> None:
        state.value = value
        state.enum_index = None

    def apply_time(self, state: PVState, data: bytes, count: int) -> None:
        """Value, alarm and EPICS timestamp (ns kept) from a DBR_TIME payload of `count` elements."""
        status, severity, secs, nsec = self._time.unpack_from(data)
        self.store(state, self.value(data, self.time_offset, count))
        _stamp(state, self.type_name, status, severity, secs, nsec)

    # --- CTRL metadata ---------------------------------------------------------------------------
    def decode_ctrl(self, data: bytes, count: int) -> tuple[CtrlMeta, int, int, Any]:
        """(metadata, alarm status, severity, value) from a DBR_CTRL payload."""
        fields, at = self._ctrl.unpack_from(data), self._ctrl_at
        units = _text(fields[at["units"]])
        meta = CtrlMeta(
            units=units or None,
            precision=fields[at["precision"]] if "precision" in at else None,
            upper_ctrl_limit=float(fields[at["upper_ctrl_limit"]]),
            lower_ctrl_limit=float(fields[at["lower_ctrl_limit"]]),
            upper_disp_limit=float(fields[at["upper_disp_limit"]]),
            lower_disp_limit=float(fields[at["lower_disp_limit"]]),
        )
        return meta, fields[at["status"]], fields[at["severity"]], self.value(data, self.ctrl_offset, count)

    def apply_meta(self, state: PVState, meta: CtrlMeta) -> None:
        """Copy CTRL metadata into a state."""
        state.units = meta.units
        state.precision = meta.precision
        state.upper_ctrl_limit = meta.upper_ctrl_limit
        state.lower_ctrl_limit = meta.lower_ctrl_limit
        state.upper_disp_limit = meta.upper_disp_limit
        state.lower_disp_limit = meta.lower_disp_limit
        state.type = self.type_name

    def apply_ctrl(self, state: PVState, data: bytes, count: int) -> CtrlMeta:
        """Metadata from a DBR_CTRL payload into the state (its value only until a TIME one came)."""
        meta, status, severity, value = self.decode_ctrl(data, count)
        self.apply_meta(state, meta)
        if not state.has_value:
            self.store(state, value)
            state.status = _status(status)
            state.severity = severity
        return meta


class Scalar(Decoder):
    """A numeric scalar: the whole TIME payload in one unpack."""

    __slots__ = ()

    def value(self, data: bytes, offset: int, count: int) -> Any:
        return self._elem.unpack_from(data, offset)[0]

    def apply_time(self, state: PVState, data: bytes, count: int) -> None:
        # The hot path (most PVs, ~100K updates/s): _stamp inlined, one unpack.
        status, severity, secs, nsec, value = self._scalar.unpack_from(data)
        state.value = value
        state.enum_index = None
        state.type = self.type_name
        state.status = ALARM_STATUS[status] if 0 <= status < len(ALARM_STATUS) else str(status)
        state.severity = severity
        secs += EPICS_EPOCH
        state.timestamp_ns = secs * 1_000_000_000 + nsec
        state.timestamp = secs + nsec * 1e-9
        state.has_value = True


def _enum_ctrl(self: Decoder, data: bytes, count: int) -> tuple[CtrlMeta, int, int, Any]:
    fields, at = self._ctrl.unpack_from(data), self._ctrl_at
    first = at["raw_strs"]
    labels = [_text(raw) for raw in fields[first : first + max(0, min(fields[at["no_str"]], dbr.MAX_ENUM_STATES))]]
    value = self.value(data, self.ctrl_offset, count)
    return CtrlMeta(enum_strings=labels), fields[at["status"]], fields[at["severity"]], value


def _enum_meta(self: Decoder, state: PVState, meta: CtrlMeta) -> None:
    """Enum labels; they also relabel the current value."""
    state.enum_strings = labels = meta.enum_strings
    index = state.enum_index
    if index is not None and labels and 0 <= index < len(labels):
        state.value = labels[index]
    state.type = self.type_name


class EnumScalar(Scalar):
    """An enum: index and label (the index stays visible when no label matches)."""

    __slots__ = ()
    decode_ctrl = _enum_ctrl
    apply_meta = _enum_meta

    def store(self, state: PVState, value: Any) -> None:
        labels = state.enum_strings
        state.enum_index = value
        state.value = labels[value] if labels is not None and 0 <= value < len(labels) else str(value)

    def apply_time(self, state: PVState, data: bytes, count: int) -> None:
        status, severity, secs, nsec, value = self._scalar.unpack_from(data)
        labels = state.enum_strings
        state.enum_index = value
        state.value = labels[value] if labels is not None and 0 <= value < len(labels) else str(value)
        _stamp(state, self.type_name, status, severity, secs, nsec)


class EnumArray(Decoder):
    """An enum array: indexes (labels only as metadata)."""

    __slots__ = ()
    decode_ctrl = _enum_ctrl
    apply_meta = _enum_meta


class CharArray(Decoder):
    """A char waveform: text up to the first NUL."""

    __slots__ = ()

    def value(self, data: bytes, offset: int, count: int) -> Any:
        return _text(data[offset : offset + count])


class String(Decoder):
    """A string (40 bytes, NUL-terminated); no CTRL form: the TIME payload stands in."""

    __slots__ = ()

    def value(self, data: bytes, offset: int, count: int) -> Any:
        return _text(self._elem.unpack_from(data, offset)[0])

    def decode_ctrl(self, data: bytes, count: int) -> tuple[CtrlMeta, int, int, Any]:
        status, severity, _, _ = self._time.unpack_from(data)
        return CtrlMeta(), status, severity, self.value(data, self.time_offset, count)

    def apply_meta(self, state: PVState, meta: CtrlMeta) -> None:
        state.type = self.type_name


class StringArray(String):
    __slots__ = ()

    def value(self, data: bytes, offset: int, count: int) -> Any:
        size = self.element_size
        return [_text(data[offset + i * size : offset + (i + 1) * size]) for i in range(count)]


_SCALARS: dict[int, type[Decoder]] = {dbr.DBR_STRING: String, dbr.DBR_ENUM: EnumScalar}
_ARRAYS: dict[int, type[Decoder]] = {dbr.DBR_STRING: StringArray, dbr.DBR_ENUM: EnumArray, dbr.DBR_CHAR: CharArray}


@functools.cache
def decoder_for(dbf: int, element_count: int) -> Decoder | None:
    """The decoder of a channel of native type `dbf` (None: a type Squirrel does not read)."""
    if dbf not in _TIME_TYPES:
        return None
    if element_count <= 1:
        return _SCALARS.get(dbf, Scalar)(dbf, element_count)
    return _ARRAYS.get(dbf, Decoder)(dbf, element_count)


def payload_size(dbr_type: int, count: int) -> int:
    """Bytes of a DBR_TIME_<T> or DBR_CTRL_<T> payload of `count` elements (0: not one of those)."""
    if DBR_TIME <= dbr_type < DBR_TIME + len(_DBFS):
        decoder = decoder_for(dbr_type - DBR_TIME, 1)
        return 0 if decoder is None else decoder.time_nbytes(count)
    if DBR_CTRL < dbr_type < DBR_CTRL + len(_DBFS):
        decoder = decoder_for(dbr_type - DBR_CTRL, 1)
        return 0 if decoder is None else decoder.ctrl_nbytes(count)
    return 0
