"""How one side (setpoint or readback) of a snapshot value is stored: a compact msgpack array.

msgpack keeps floats as float64, so NaN/±Inf and every bit of a double survive; the EPICS timestamp
is kept as integer nanoseconds. Each side is stored twice: in full, and value-only for compare.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
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


class MissingTally(msgspec.Struct):
    """Per PV: `disconnected` when a side had no connection at capture, else `no_value` when a side was
    connected but no value came; `stale` counts PVs with a value older than the stale limit."""

    disconnected: int = 0
    no_value: int = 0
    stale: int = 0

    @property
    def missing(self) -> int:
        return self.disconnected + self.no_value

    def add(self, gap: int, stale: bool) -> None:
        if gap == DISCONNECTED:
            self.disconnected += 1
        elif gap == NO_VALUE:
            self.no_value += 1
        elif stale:
            self.stale += 1


OK, NO_VALUE, DISCONNECTED = 0, 1, 2  # a side's gap, worst wins per PV


def state_gap(s: PVState | None) -> int:
    if s is None or not s.connected:
        return DISCONNECTED
    return OK if s.has_value else NO_VALUE


def tally_states(
    pvs: Iterable[snap_db.PVRow], lookup: Callable[[str], PVState | None], now: float | None, stale_max_age: float
) -> MissingTally:
    """What `sides_writer` will store, counted: a cache read (`now` set) also counts values older than
    `stale_max_age` (> 0) as stale."""
    tally = MissingTally()
    stale_before = now - stale_max_age if now is not None and stale_max_age > 0 else None
    for row in pvs:
        gap, stale = OK, False
        for address in (row[1], row[2]):
            if address is None:
                continue
            s = lookup(address)
            side = state_gap(s)
            gap = max(gap, side)
            if side == OK and stale_before is not None and s is not None:
                stale = stale or (s.updated_at is not None and s.updated_at < stale_before)
        tally.add(gap, stale)
    return tally


def tally_stored(rows: Iterable[snap_db.StoreRow]) -> MissingTally:
    """The same count for rows already encoded (imports): connected and has-value as they were stored."""
    tally = MissingTally()
    for row in rows:
        gap = OK
        for full in (row[3], row[4]):
            if full is None:
                continue
            side = decode_side(full)
            gap = max(gap, DISCONNECTED if not side.connected else (OK if side.has_value else NO_VALUE))
        tally.add(gap, False)
    return tally


def missing_reasons(t: MissingTally) -> str:
    """ "700 disconnected, 40 no value" (the non-zero ones)."""
    return ", ".join(f"{n:,} {name}" for n, name in ((t.disconnected, "disconnected"), (t.no_value, "no value")) if n)


def missing_text(t: MissingTally) -> str:
    """ "740 without a value: 700 disconnected, 40 no value" ("" when none), then stale if any."""
    parts = []
    if t.missing:
        parts.append(f"{t.missing:,} without a value: {missing_reasons(t)}")
    if t.stale:
        parts.append(f"{t.stale:,} stale")
    return "; ".join(parts)


def missing_warnings(t: MissingTally, count: int, stale_max_age: float) -> list[str]:
    """The job's warnings for a snapshot that does not hold a current value of every PV ([] when clean)."""
    out = []
    if t.missing:
        out.append(f"{t.missing:,} of {count:,} PVs saved without a value: {missing_reasons(t)}")
    if t.stale:
        out.append(f"{t.stale:,} of {count:,} PVs saved with a value older than {stale_max_age:g} s (stale)")
    return out


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
