"""How one side (setpoint or readback) of a snapshot value is stored: a compact msgpack array.

msgpack keeps floats as float64, so NaN/±Inf and every bit of a double survive; the EPICS timestamp
is kept as integer nanoseconds. Each side is stored twice: in full, and value-only for compare.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import msgspec

from squirrel.db import snapshots as snap_db
from squirrel.epics.cache import PVState


class StoredSide(msgspec.Struct, array_like=True, gc=False):
    """One stored side. `value` is native: floats stay floats (NaN included), enums hold the label."""

    value: Any
    type: str | None
    enum_index: int | None
    connected: bool
    status: str
    severity: int
    timestamp_ns: int | None
    units: str | None = None
    precision: int | None = None
    upper_ctrl_limit: float | None = None
    lower_ctrl_limit: float | None = None
    enum_strings: list[str] | None = None
    age_seconds: float | None = None
    has_value: bool = True
    alarm_message: str | None = None  # PVA alarm.message (CA has none); older rows lack it


class ValueOnly(msgspec.Struct, array_like=True, gc=False):
    """What compare needs of one side. Stored beside the full side as msgpack [value, enum_index] (the
    setpoint_value/readback_value columns): equal bytes mean equal values. `connected` matters for live
    sides only and is not stored."""

    value: Any
    enum_index: int | None = None
    connected: bool = True


Encoded = tuple[bytes, bytes]  # (full side, value-only side)
_encoder = msgspec.msgpack.Encoder()
_encode = _encoder.encode
decode_side = msgspec.msgpack.Decoder(StoredSide).decode
decode_value_only = msgspec.msgpack.Decoder(ValueOnly).decode


def sides_writer(
    lookup: Callable[[str], PVState | None], now: float | None, absent: Encoded
) -> Callable[[bytearray, snap_db.PVRow], None]:
    """Appends both sides of a selected PV as four binary-COPY fields (setpoint full, value-only, readback
    full, value-only), encoded straight into the buffer: the hot loop of a 50K-PV snapshot, one call per
    PV. `now` (epoch s) records the value's age (cache reads)."""
    into = _encoder.encode_into
    pack_into = snap_db.LEN.pack_into
    pack = snap_db.LEN.pack
    null = snap_db.NULL
    nulls = null + null
    absent_fields = pack(len(absent[0])) + absent[0] + pack(len(absent[1])) + absent[1]

    def write(buf: bytearray, row: snap_db.PVRow) -> None:
        for address in (row[1], row[2]):
            if address is None:
                buf += nulls
                continue
            s = lookup(address)
            if s is None:
                buf += absent_fields
                continue
            ts_ns = s.timestamp_ns
            if ts_ns is None and s.timestamp is not None:
                ts_ns = int(s.timestamp * 1e9)
            updated = s.updated_at
            age = None if now is None or updated is None else now - updated
            value, enum_index = s.value, s.enum_index
            full = (
                value, s.type, enum_index, s.connected, s.status, s.severity, ts_ns, s.units, s.precision,
                s.upper_ctrl_limit, s.lower_ctrl_limit, s.enum_strings, age, s.has_value, s.alarm_message,
            )  # fmt: skip
            start = len(buf)
            buf += null  # length prefix, patched once the field is written
            into(full, buf, start + 4)
            middle = len(buf)
            pack_into(buf, start, middle - start - 4)
            buf += null
            into((value, enum_index), buf, middle + 4)
            pack_into(buf, middle, len(buf) - middle - 4)

    return write


def missing_state(reason: str) -> Encoded:
    """A side whose address is not in the cache (e.g. the monitor does not run here): no value."""
    full = _encode((None, None, None, False, reason, 3, None, None, None, None, None, None, None, False))
    return full, _encode((None, None))


def encode_side(side: StoredSide) -> Encoded:
    return _encode(side), _encode((side.value, side.enum_index))


def native_value(value: Any, value_type: str | None) -> Any:
    """The inverse of epics.values.to_wire for float types (strings "NaN", "Infinity" back to floats)."""
    base = (value_type or "").removesuffix("[]")
    if base in ("double", "float"):
        if isinstance(value, str):
            return _parse(value)
        if isinstance(value, list):
            return [_parse(v) if isinstance(v, str) else v for v in value]
    return value


def _parse(text: str) -> Any:
    special = {"nan": math.nan, "infinity": math.inf, "-infinity": -math.inf}.get(text.lower())
    return text if special is None else special


def ns_to_datetime(ns: int | None) -> datetime | None:
    if ns is None:
        return None
    return datetime.fromtimestamp(ns // 1_000_000_000, UTC).replace(microsecond=(ns % 1_000_000_000) // 1000)
