"""How one side (setpoint or readback) of a snapshot value is stored: a compact msgpack array.

msgpack keeps floats as float64, so NaN/±Inf and every bit of a double survive; the EPICS timestamp
is kept as integer nanoseconds. Each side is stored twice: in full, and value-only for compare.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

import msgspec

from squirrel.epics.cache import PVState
from squirrel.model import EpicsValueDTO


class StoredSide(msgspec.Struct, array_like=True):
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


class ValueOnly(msgspec.Struct, array_like=True):
    """What compare needs of one side. Stored beside the full side as msgpack [value, enum_index] (the
    setpoint_value/readback_value columns): equal bytes mean equal values. `connected` matters for live
    sides only and is not stored."""

    value: Any
    enum_index: int | None = None
    connected: bool = True


Encoded = tuple[bytes, bytes]  # (full side, value-only side)
_encode = msgspec.msgpack.Encoder().encode
decode_side = msgspec.msgpack.Decoder(StoredSide).decode
decode_value_only = msgspec.msgpack.Decoder(ValueOnly).decode


def encode_state(state: PVState, now: float | None) -> Encoded:
    """A cache/direct-read state as stored bytes; `now` (epoch s) records the value's age (cache reads)."""
    ts_ns = state.timestamp_ns
    if ts_ns is None and state.timestamp is not None:
        ts_ns = int(state.timestamp * 1e9)
    age = None
    if now is not None and state.updated_at is not None:
        age = now - state.updated_at
    value, enum_index = state.value, state.enum_index
    full = _encode(
        (
            value,
            state.type,
            enum_index,
            state.connected,
            state.status,
            state.severity,
            ts_ns,
            state.units,
            state.precision,
            state.upper_ctrl_limit,
            state.lower_ctrl_limit,
            state.enum_strings,
            age,
            state.has_value,
        )
    )
    return full, _encode((value, enum_index))


def missing_state(reason: str) -> Encoded:
    """A side whose address is not in the cache (e.g. the monitor does not run here): no value."""
    full = _encode((None, None, None, False, reason, 3, None, None, None, None, None, None, None, False))
    return full, _encode((None, None))


def encode_side(side: StoredSide) -> Encoded:
    return _encode(side), _encode((side.value, side.enum_index))


def wire_value(value: Any) -> Any:
    """A value made valid JSON: non-finite floats as "NaN"/"Infinity"/"-Infinity", also inside lists."""
    if isinstance(value, float):
        return value if math.isfinite(value) else _non_finite(value)
    if isinstance(value, list) and any(isinstance(v, float) and not math.isfinite(v) for v in value):
        return [_non_finite(v) if isinstance(v, float) and not math.isfinite(v) else v for v in value]
    return value


def native_value(value: Any, value_type: str | None) -> Any:
    """The inverse of wire_value for float types (strings "NaN", "Infinity" back to floats)."""
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


def _non_finite(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


def ns_to_datetime(ns: int | None) -> datetime | None:
    if ns is None:
        return None
    return datetime.fromtimestamp(ns // 1_000_000_000, UTC).replace(microsecond=(ns % 1_000_000_000) // 1000)


def to_dto(side: StoredSide, timestamp: datetime | msgspec.UnsetType | None = msgspec.UNSET) -> EpicsValueDTO:
    """The wire form of a stored side; pass `timestamp` when already converted (GET shares them)."""
    return EpicsValueDTO(
        value=wire_value(side.value),
        type=side.type,
        enum_index=side.enum_index,
        status=side.status,
        severity=side.severity,
        timestamp=ns_to_datetime(side.timestamp_ns) if timestamp is msgspec.UNSET else timestamp,
        timestamp_ns=side.timestamp_ns,
        units=side.units,
        precision=side.precision,
        upper_ctrl_limit=side.upper_ctrl_limit,
        lower_ctrl_limit=side.lower_ctrl_limit,
        enum_strings=side.enum_strings,
        connected=side.connected,
        age_seconds=side.age_seconds,
    )
